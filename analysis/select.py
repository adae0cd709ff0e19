"""Which rows a fit may use: one metric family per benchmark, papers, best model per paper.

A metric family is a metric without its direction: top-1 accuracy and top-1
error are one family (``observations.error`` is already percent error), top-5
is another, and on SQuAD EM and F1 never meet. Each benchmark's fits run
once per family; the family the paper used (ImageNet top-1, COCO box AP,
SQuAD and CoNLL F1, WMT BLEU) is the benchmark's main one.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

# The metric of the paper's Tables 1-4 for each benchmark.
PRIMARY_FAMILY: dict[str, str] = {
    "imagenet": "top1", "coco": "box_ap", "squad1.1": "f1", "conll2003": "f1",
    "wmt14-en-fr": "bleu", "wmt14-en-de": "bleu", "cifar10": "top1", "cifar100": "top1",
}
FAMILY_LABELS: dict[str, str] = {
    "top1": "top-1 error", "top5": "top-5 error", "box_ap": "100 - box AP",
    "f1": "100 - F1", "em": "100 - exact match", "bleu": "100 - BLEU",
}
NO_METRIC = "unspecified"
_DIRECTIONS = ("_error", "_accuracy", "_acc", "_err")


def metric_family(metric: object) -> str:
    """``top1_error`` and ``top1_accuracy`` -> ``top1``; ``box_ap`` stays; empty -> unspecified."""
    text = str(metric).strip().lower() if metric is not None and metric == metric else ""
    for suffix in _DIRECTIONS:
        if text.endswith(suffix) and len(text) > len(suffix):
            return text[: -len(suffix)]
    return text or NO_METRIC


def family_label(family: str) -> str:
    if family == NO_METRIC:
        return "error (metric not given)"
    return FAMILY_LABELS.get(family, f"{family} error")


def families(bench: str, fams: pd.Series) -> list[str]:
    """A benchmark's metric families, its main one first, then by number of rows."""
    counts = fams.value_counts()
    order = [f for f in counts.index if counts[f] > 0]
    main = PRIMARY_FAMILY.get(bench)
    if main in order:
        order.remove(main)
        order.insert(0, main)
    return order


def paper_ids(frame: pd.DataFrame) -> np.ndarray:
    """The paper of each row for clustering: its arXiv id; a row without one stands alone."""
    ids = frame["arxiv_id"].astype(object).to_numpy()
    missing = pd.isna(ids) | (ids == "")
    if missing.any():
        ids = ids.copy()
        ids[missing] = [f"(row {i})" for i in np.flatnonzero(missing)]
    return ids


def best_per_paper(rows: pd.DataFrame) -> pd.DataFrame:
    """The lowest-error row of each paper (the paper's best model), as Tables 3-4 did."""
    if rows.empty:
        return rows
    keyed = rows.assign(_paper=paper_ids(rows))
    best = keyed.sort_values("error", kind="stable").drop_duplicates("_paper")
    return best.sort_index().drop(columns="_paper")
