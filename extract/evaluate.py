"""Scoring predictions against field labels, the way ../shared/tools/score_extraction.py does.

Used by `dlcompute train-scorer` to print its leave-one-paper-out figures; the
official figure is that script's, run on the predictions file the command writes
(`--lopo FILE`). Same rules: numbers de-duplicated and matched within 2%,
hardware by chip name and count, results as headlines (the best value per
benchmark and metric, within 0.1).
"""

from __future__ import annotations

import re

NUMERIC = ("parameters", "compute_per_pass", "training_time_hours", "epochs")
FIELDS = (*NUMERIC, "hardware", "results")
_DROP = re.compile(r"\b(nvidia|tesla|geforce|gtx|rtx|quadro|google|cloud|gpus?|chips?|cards?|"
                   r"accelerators?)\b")
_FORM = re.compile(r"(sxm\d?|pcie|\d+\s*gb|\(.*?\))")


def _close(a: float, b: float) -> bool:
    return abs(a - b) <= 0.02 * max(abs(a), abs(b), 1e-12)


def _numbers(items: list) -> list[float]:
    out: list[float] = []
    for it in items or []:
        try:
            v = float(it.get("value") if isinstance(it, dict) else it)
        except (TypeError, ValueError):
            continue
        if not any(_close(v, u) for u in out):
            out.append(v)
    return out


def _chip(name: str | None) -> str:
    s = _DROP.sub(" ", _FORM.sub(" ", (name or "").lower()))
    return re.sub(r"[^a-z0-9]", "", s) or "gpu"


def _hardware(items: list) -> list[tuple]:
    seen: list[tuple] = []
    for it in items or []:
        key = (_chip(it.get("canonical") or it.get("name")), it.get("count"))
        if key not in seen:
            seen.append(key)
    return seen


def _headlines(items: list) -> list[tuple[str, str, float]]:
    best: dict[tuple[str, str], float] = {}
    for it in items or []:
        try:
            v = float(it["value"])
        except (KeyError, TypeError, ValueError):
            continue
        b = str(it.get("benchmark", "")).lower().replace(" ", "")
        m = str(it.get("metric", "")).lower()
        key = (b, m) if m.endswith("_error") else (b, m.replace("_accuracy", "_error"))
        err = v if m.endswith("_error") else 100.0 - v
        if key not in best or err < best[key]:
            best[key] = err
    return [(b, m, v) for (b, m), v in best.items()]


def _count(pred: list, gold: list, same) -> tuple[int, int, int, int]:
    return (len(pred), len(gold), sum(1 for p in pred if any(same(p, g) for g in gold)),
            sum(1 for g in gold if any(same(p, g) for p in pred)))


def score_paper(gold: dict, pred: dict) -> dict[str, tuple[int, int, int, int]]:
    """Per field: (predicted, labelled, predicted that match, labelled that are matched)."""
    out = {f: _count(_numbers(pred.get(f)), _numbers(gold.get(f)), _close) for f in NUMERIC}
    out["hardware"] = _count(_hardware(pred.get("hardware")), _hardware(gold.get("hardware")),
                             lambda a, b: a[0] == b[0] and (a[1] is None or b[1] is None
                                                            or a[1] == b[1]))
    out["results"] = _count(_headlines(pred.get("results")), _headlines(gold.get("results")),
                            lambda a, b: a[:2] == b[:2] and abs(a[2] - b[2]) <= 0.1 + 1e-9)
    return out


def score(gold: dict[str, dict], pred: dict[str, dict]) -> dict[str, dict[str, float]]:
    """Precision, recall and F1 per field and overall, over the papers of `gold`."""
    totals = {f: [0, 0, 0, 0] for f in FIELDS}
    for aid, g in gold.items():
        for f, counts in score_paper(g, pred.get(aid, {})).items():
            totals[f] = [a + b for a, b in zip(totals[f], counts, strict=True)]
    totals["overall"] = [sum(totals[f][i] for f in FIELDS) for i in range(4)]
    out = {}
    for f, (npred, ngold, tp_p, tp_g) in totals.items():
        p = tp_p / npred if npred else (1.0 if not ngold else 0.0)
        r = tp_g / ngold if ngold else 1.0
        out[f] = {"precision": p, "recall": r, "f1": 2 * p * r / (p + r) if p + r else 0.0,
                  "labelled": ngold, "predicted": npred}
    return out
