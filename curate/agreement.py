"""Agreement between two annotators on doubly reviewed flags (Cohen's kappa per field)."""

from __future__ import annotations

from collections import Counter, defaultdict

from curate.values import DECISION_ACTIONS
from db import Store
from db.schema import T


def _label(r: dict) -> str:
    """What a decision says, as a category: the fact chosen, the value entered, or none."""
    if r["action"] == "not_reported":
        return "not_reported"
    if r["fact_id"] is not None:
        return f"fact:{r['fact_id']}"
    value = r["value"]
    return f"value:{value:.6g}:{(r['unit'] or '').strip().lower()}" if value is not None else \
        f"value::{(r['unit'] or '').strip().lower()}"


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


def agreement(store: Store) -> dict[str, dict[str, dict[str, float]]]:
    """{"agreement": {field: {"percent", "kappa", "n"}}} over flags two annotators decided."""
    undone = {r["undoes"] for r in store.db.query(
        f"select undoes from {T.reviews} where action = 'undo' and undoes is not null")}
    latest: dict[int, dict[str, dict]] = defaultdict(dict)
    fields: dict[int, str] = {}
    marks = ",".join("?" * len(DECISION_ACTIONS))
    for r in store.db.query(
            f"select r.*, f.field from {T.reviews} r join {T.flags} f on f.id = r.flag_id "
            f"where r.action in ({marks}) order by r.id", list(DECISION_ACTIONS)):
        if r["id"] in undone:
            continue
        latest[r["flag_id"]][r["annotator"] or ""] = r
        fields[r["flag_id"]] = r["field"]
    by_field: dict[str, list[tuple[str, str]]] = defaultdict(list)
    for flag_id, per in latest.items():
        if len(per) >= 2:
            a, b = (per[k] for k in sorted(per)[:2])
            by_field[fields[flag_id]].append((_label(a), _label(b)))
    out = {}
    for fld, pairs in sorted(by_field.items()):
        kappa = cohen_kappa(pairs)
        out[fld] = {"percent": 100.0 * sum(a == b for a, b in pairs) / len(pairs),
                    "kappa": round(kappa, 4), "n": len(pairs)}
    return {"agreement": out}


