"""Features only results have: where their benchmark came from, how they are printed, and
how they stand against the paper's other results on the same benchmark and metric.

The scorer keeps the best own value per benchmark and metric as the paper's headline,
so a result's standing among its peers matters as much as whose it is.
"""

from __future__ import annotations

from extract.model import Fact


def result_features(f: Fact, feats: dict[str, float], results: list[Fact]) -> None:
    """Add the result-only features of `f` (one of `results`, the paper's result facts)."""
    ex = f.extra
    if f.source == "table":
        feats[f"bench_{ex.get('bench_source') or 'header'}"] = 1.0
        feats["spread"] = float(bool(ex.get("spread")))
