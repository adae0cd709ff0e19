"""Agreement between two annotators on doubly reviewed flags: Cohen's kappa per field,
with a bootstrap confidence interval over flags.

Two decisions agree when they say the same thing (curate.decisions.decision_label:
the same value to three significant digits, the same chip, or both "not reported"),
whether one accepted a candidate and the other typed it.
"""

from __future__ import annotations

from collections import Counter, defaultdict

import numpy as np

from curate.decisions import replay_flags
from db import Store
from db.schema import T

RESAMPLES = 2000
LEVEL = 0.95


def cohen_kappa(pairs: list[tuple[str, str]]) -> float:
    """Cohen's kappa of paired labels; 1.0 when both always agree on one label."""
    n = len(pairs)
    if n == 0:
        return float("nan")
    observed = sum(a == b for a, b in pairs) / n
    ca, cb = Counter(a for a, _ in pairs), Counter(b for _, b in pairs)
    expected = sum(ca[k] * cb.get(k, 0) for k in ca) / (n * n)
    if expected >= 1.0:
        return 1.0
    return (observed - expected) / (1.0 - expected)


def kappa_interval(pairs: list[tuple[str, str]], level: float = LEVEL,
                   resamples: int = RESAMPLES, seed: int = 0) -> tuple[float, float]:
    """Percentile bootstrap interval of kappa, resampling flags (the same seed, the same
    interval). Degenerate (a point) with fewer than two pairs."""
    n = len(pairs)
    if n < 2:
        k = cohen_kappa(pairs)
        return k, k
    codes = {lab: i for i, lab in enumerate(sorted({x for p in pairs for x in p}))}
    a = np.array([codes[x] for x, _ in pairs])
    b = np.array([codes[y] for _, y in pairs])
    k = len(codes)
    rng = np.random.default_rng(seed)
    stats = np.empty(resamples)
    for i in range(resamples):
        idx = rng.integers(0, n, n)
        ai, bi = a[idx], b[idx]
        observed = float(np.mean(ai == bi))
        expected = float(np.dot(np.bincount(ai, minlength=k), np.bincount(bi, minlength=k))) \
            / (n * n)
        stats[i] = 1.0 if expected >= 1.0 else (observed - expected) / (1.0 - expected)
    tail = (1.0 - level) / 2 * 100
    lo, hi = np.percentile(stats, [tail, 100 - tail])
    return float(lo), float(hi)


def agreement_pairs(store: Store) -> dict[str, list[tuple[str, str]]]:
    """field -> (label, label) of the two annotators on each doubly reviewed flag."""
    ids = [r["id"] for r in store.db.query(f"select id from {T.flags} where double_review = 1")]
    out: dict[str, list[tuple[str, str]]] = defaultdict(list)
    for fr in replay_flags(store, ids).values():
        deciders = fr.deciders
        if len(deciders) >= 2:
            first, second = (deciders[name] for name in sorted(deciders)[:2])
            out[fr.field].append((fr.labels[first["id"]], fr.labels[second["id"]]))
    return out


def agreement(store: Store) -> dict[str, dict[str, dict[str, float]]]:
    """{"agreement": {field: {"percent", "kappa", "kappa_low", "kappa_high", "n"}}}."""
    out = {}
    for fld, pairs in sorted(agreement_pairs(store).items()):
        lo, hi = kappa_interval(pairs)
        out[fld] = {"percent": 100.0 * sum(a == b for a, b in pairs) / len(pairs),
                    "kappa": round(cohen_kappa(pairs), 4), "kappa_low": round(lo, 4),
                    "kappa_high": round(hi, 4), "n": len(pairs)}
    return {"agreement": out}
