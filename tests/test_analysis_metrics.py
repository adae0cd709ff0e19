"""One metric family per fit: top-1 and top-5 (and SQuAD EM and F1) never share a fit."""

from __future__ import annotations

import numpy as np
import pytest

import analysis
from db.schema import T


def mixed_rows(seed: int = 5) -> list[dict]:
    """ImageNet models reporting top-1 (as error or accuracy) and top-5; SQuAD EM and F1."""
    rng = np.random.default_rng(seed)
    rows = []
    for g in range(24):
        for m in range(2):
            lg = rng.uniform(-0.5, 2.5)
            burden = rng.uniform(12, 18)
            common = {"arxiv_id": f"18{g:02d}.{g:05d}", "model": f"net{g}-{m}",
                      "benchmark": "imagenet", "year": 2015 + g % 5, "month": 3,
                      "compute_per_pass": 1e9 * 10**lg, "parameters": None,
                      "hardware": "V100", "chips": 8, "training_hours": 10,
                      "hardware_burden": 1e9 * 10**burden, "compute_imputed": 0}
            top1 = 100 * 10 ** (-0.5 - 0.11 * lg + rng.normal(0, 0.03))
            top5 = 100 * 10 ** (-0.9 - 0.25 * lg + rng.normal(0, 0.03))
            if m == 0:
                rows.append({**common, "metric": "top1_error", "error": top1})
            else:  # the same family stated as accuracy: error is already 100 - accuracy
                rows.append({**common, "metric": "top1_accuracy", "error": top1})
            rows.append({**common, "metric": "top5_error", "error": top5})
        f1 = 100 * 10 ** (0.2 - 0.1 * burden + rng.normal(0, 0.02))
        em = 100 * 10 ** (0.5 - 0.1 * burden + rng.normal(0, 0.02))
        squad = {**common, "benchmark": "squad1.1", "model": f"qa{g}", "compute_per_pass": None}
        rows += [{**squad, "metric": "f1", "error": f1}, {**squad, "metric": "em", "error": em}]
    return rows


@pytest.fixture(scope="module")
def mixed(tmp_path_factory):
    from db import open_store

    tmp = tmp_path_factory.mktemp("mixed")
    rows = mixed_rows()
    store = open_store(tmp / "store.db")
    with store.transaction() as db:
        db[T.papers].insert_all([{"arxiv_id": a} for a in {r["arxiv_id"] for r in rows}],
                                pk="arxiv_id", ignore=True)
        db[T.observations].insert_all(rows)
    result = analysis.analyze(store, out_dir=tmp / "rep", settings={"bootstrap": 50})
    store.close()
    return rows, result


def _slope(rows: list[dict], x: str) -> float:
    return np.polyfit(np.log10([r[x] / 1e9 for r in rows]),
                      np.log10([r["error"] / 100 for r in rows]), 1)[0]


def test_top1_and_top5_never_share_a_fit(mixed):
    rows, result = mixed
    cpp = result.results["compute_per_pass"]
    top1 = [r for r in rows if r["benchmark"] == "imagenet" and r["metric"].startswith("top1")]
    top5 = [r for r in rows if r["metric"] == "top5_error"]
    assert cpp["imagenet"]["metric"] == "top1" and cpp["imagenet/top5"]["metric"] == "top5"
    assert cpp["imagenet"]["polynomial"]["n"] == len(top1) == 48
    assert cpp["imagenet/top5"]["polynomial"]["n"] == len(top5) == 48
    assert cpp["imagenet"]["polynomial"]["coef"]["log10_gflops"] == pytest.approx(
        _slope(top1, "compute_per_pass"), abs=1e-9)
    assert cpp["imagenet/top5"]["polynomial"]["coef"]["log10_gflops"] == pytest.approx(
        _slope(top5, "compute_per_pass"), abs=1e-9)
    burden = result.results["hardware_burden"]
    assert burden["imagenet"]["polynomial"]["coef"]["log10_burden"] == pytest.approx(
        _slope(top1, "hardware_burden"), abs=1e-9)
    assert burden["imagenet/top5"]["n"] == len(top5)


def test_squad_exact_match_and_f1_are_never_pooled(mixed):
    rows, result = mixed
    burden = result.results["hardware_burden"]
    f1 = [r for r in rows if r["metric"] == "f1"]
    em = [r for r in rows if r["metric"] == "em"]
    assert burden["squad1.1"]["metric"] == "f1" and burden["squad1.1"]["n"] == len(f1)
    assert burden["squad1.1/em"]["n"] == len(em)
    assert burden["squad1.1/em"]["polynomial"]["coef"]["log10_burden"] == pytest.approx(
        _slope(em, "hardware_burden"), abs=1e-9)


def test_today_is_the_best_of_the_fitted_metric(mixed):
    rows, result = mixed
    today = next(r for r in result.results["projection"]["rows"]
                 if r["benchmark"] == "imagenet" and r["label"] == "Today")
    best = min((r for r in rows if r["benchmark"] == "imagenet"
                and r["metric"].startswith("top1")), key=lambda r: r["error"])
    assert today["error_percent"] == pytest.approx(best["error"])
    assert best["model"] in today["point"] and best["arxiv_id"] in today["point"]
    assert today["metric"] == "top-1 error"
    assert today["error_percent"] > min(r["error"] for r in rows if r["metric"] == "top5_error")


def test_every_table_and_figure_names_its_metric(mixed):
    _, result = mixed
    html = result.index_html.read_text()
    for title in ("Table 1 (ImageNet, top-1 error)", "Table 1 (ImageNet, top-5 error)",
                  "SQuAD 1.1, 100 - F1", "SQuAD 1.1, 100 - exact match"):
        assert title in html
    tables = result.out_dir / "tables"
    assert (tables / "table1_imagenet_top5.csv").exists()
    svg = (result.out_dir / "figures" / "compute_imagenet_top5.svg").read_text()
    assert "top-5 error" in svg
    counts = result.results["counts"]
    assert counts["imagenet"]["metric"] == "top-1 error"
    assert counts["imagenet/top5"]["n"] == 48
