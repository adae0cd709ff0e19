"""Table 1 and Tables 3-4 on the authors' ImageNet data, and the same checks on synthetic data.

The authors' file is not redistributable (see tests/authors_data.py); its tests
skip with the reason when it is absent. The synthetic tests build data with
known coefficients and several models per paper sharing a paper effect, so
the properties the real data shows (clustered errors wider than plain ones,
the best model per paper recovering the frontier slope) are tested always.
"""

from __future__ import annotations

import numpy as np
import pytest
from analysis_helpers import write_csv
from authors_data import ENV, SOURCE, authors_file, convert

import analysis
from analysis.regress import ols


@pytest.fixture(scope="module")
def authors(tmp_path_factory):
    raw = authors_file()
    if raw is None:
        pytest.skip(f"the authors' ImageNet data has no licence to redistribute; download "
                    f"{SOURCE} and set {ENV} to its path")
    tmp = tmp_path_factory.mktemp("authors")
    obs = write_csv(tmp / "authors.csv", convert(raw))
    run = {bpp: analysis.analyze(None, observations=obs, out_dir=tmp / f"rep{bpp}",
                                 settings={"bootstrap": 300, "best_per_paper": bpp})
           for bpp in (False, True)}
    return run


def test_authors_table1_is_the_reported_fit_with_its_clustered_se(authors):
    res = authors[False].results["compute_per_pass"]["imagenet"]
    assert res["metric"] == "top1"
    reported = next(e for e in res["robustness"] if e["variant"] == "without imputed compute")
    assert reported["n"] == 110
    assert reported["b"] == pytest.approx(-0.107, abs=5e-4)
    assert reported["r2"] == pytest.approx(0.46, abs=5e-3)
    # Rows of one paper are not independent: the clustered SE is about 1.7x the plain one.
    assert reported["se_cluster"] / reported["se"] == pytest.approx(1.7, abs=0.1)
    # Imputing the 7 models that report only (real) parameters barely moves it; the 8
    # "parameter counts" that are multiply-adds are listed and not imputed from.
    main = res["polynomial"]
    assert main["coef"]["log10_gflops"] == pytest.approx(-0.107, abs=0.005)
    assert main["se_cluster"]["log10_gflops"] > 1.5 * main["se"]["log10_gflops"]
    conv = authors[False].results["conversion"]["imagenet"]
    suspects = {s["model"] for s in conv["suspect_parameters"]}
    assert {"PolyNet", "NASNetA", "AmoebaNetA (N=6, F=448)"} <= suspects
    assert conv["n_suspect_parameters"] == 8
    html = authors[False].index_html.read_text()
    assert "clustered by paper" in html and "AmoebaNetA (N=6, F=448)" in html


def test_authors_top5_never_enters_table1(authors):
    results = authors[False].results["compute_per_pass"]
    assert results["imagenet/top5"]["metric"] == "top5"
    assert results["imagenet"]["polynomial"]["n"] + results["imagenet/top5"]["polynomial"][
        "n"] == 117 + 110


def test_authors_best_model_per_paper_reproduces_tables_3_and_4(authors):
    burden = authors[True].results["hardware_burden"]["imagenet"]
    assert 12 <= burden["n"] <= 13 and burden["papers"] == burden["n"]
    assert burden["polynomial"]["coef"]["log10_burden"] == pytest.approx(-0.07, abs=0.01)
    assert burden["exponential"]["coef"]["log10_burden"] == pytest.approx(0.87, abs=0.05)
    rows = {r["label"]: r for r in authors[True].results["projection"]["rows"]
            if r["benchmark"] == "imagenet"}
    # Figure 4 as published: 10^14 today, 10^19 and 10^28 (polynomial), 10^120 (exponential).
    assert abs(rows["Today"]["poly_log10_gflops"] - 14) < 1
    assert abs(rows["Target 1"]["poly_log10_gflops"] - 19) < 1
    assert abs(rows["Target 2"]["poly_log10_gflops"] - 28) < 1
    assert abs(rows["Target 2"]["exp_log10_gflops"] - 120) < 3
    assert rows["Today"]["point"].startswith("NoisyStudent") and "1911.04252" in rows[
        "Today"]["point"]


def test_authors_all_models_burden_slope_is_not_projected(authors):
    """Every model of every paper: b = -0.04, significant only if rows were independent."""
    burden = authors[False].results["hardware_burden"]["imagenet"]["polynomial"]
    assert burden["p"]["log10_burden"] < 0.01 < 0.05 < burden["p_cluster"]["log10_burden"]
    refused = {r["form"]: r["reason"] for r in authors[False].results["projection"]["refused"]}
    assert "not significant" in refused["polynomial"]
    assert all(r["poly_log10_gflops"] is None
               for r in authors[False].results["projection"]["rows"])


# --- synthetic data with the same structure -------------------------------------------

TRUE_CONST, TRUE_SLOPE = -0.51, -0.107


def clustered_imagenet(seed: int, papers: int = 30, paper_sd: float = 0.08) -> list[dict]:
    """Papers at their own compute scale with 1-8 models each and a shared paper effect."""
    rng = np.random.default_rng(seed)
    rows = []
    for g in range(papers):
        scale, effect = rng.uniform(-0.5, 2.0), rng.normal(0, paper_sd)
        for m in range(rng.integers(1, 9)):
            lg = scale + rng.uniform(0, 0.6)
            err = 10 ** (TRUE_CONST + TRUE_SLOPE * lg + effect + rng.normal(0, 0.03))
            rows.append({"arxiv_id": f"19{g:02d}.{g:05d}", "model": f"net{g}-{m}",
                         "benchmark": "imagenet", "year": 2015 + g % 5, "month": 6,
                         "metric": "top1_error", "error": 100 * err,
                         "compute_per_pass": 1e9 * 10**lg, "parameters": None,
                         "hardware": None, "chips": None, "training_hours": None,
                         "hardware_burden": None, "compute_imputed": 0})
    return rows


def test_clustered_intervals_cover_the_true_slope_where_plain_ones_do_not():
    """Monte Carlo: with a paper effect, plain 95% intervals are too narrow."""
    plain = clustered = 0
    sims = 120
    for seed in range(sims):
        rows = clustered_imagenet(seed)
        x = np.log10([r["compute_per_pass"] / 1e9 for r in rows])
        y = np.log10([r["error"] / 100 for r in rows])
        fit = ols(y, x, ["x"], name="t", formula="", groups=[r["arxiv_id"] for r in rows])
        plain += fit.ci_low["x"] <= TRUE_SLOPE <= fit.ci_high["x"]
        clustered += fit.ci_low_cluster["x"] <= TRUE_SLOPE <= fit.ci_high_cluster["x"]
    assert plain / sims < 0.85
    assert clustered / sims > 0.88


def best_per_paper_burden(seed: int = 4, papers: int = 13) -> list[dict]:
    """Each paper's best model on the known line; its other models worse at the same burden."""
    rng = np.random.default_rng(seed)
    rows = []
    for g in range(papers):
        lb = rng.uniform(12, 18)
        best = 0.10 - 0.07 * lb + rng.normal(0, 0.02)
        for m in range(1 + rng.integers(0, 6)):
            worse = 0.0 if m == 0 else rng.uniform(0.02, 0.25)
            rows.append({"arxiv_id": f"20{g:02d}.{g:05d}", "model": f"net{g}-{m}",
                         "benchmark": "imagenet", "year": 2016, "month": 1,
                         "metric": "top1_accuracy" if m % 2 else "top1_error",
                         "error": 100 * 10 ** (best + worse), "compute_per_pass": None,
                         "parameters": None, "hardware": "V100", "chips": 8,
                         "training_hours": 10, "hardware_burden": 1e9 * 10**lb,
                         "compute_imputed": 0})
    return rows


def test_best_model_per_paper_recovers_the_frontier_slope(tmp_path):
    rows = best_per_paper_burden()
    obs = write_csv(tmp_path / "o.csv", rows)
    best = analysis.analyze(None, observations=obs, out_dir=tmp_path / "b",
                            settings={"bootstrap": 50, "best_per_paper": True})
    every = analysis.analyze(None, observations=obs, out_dir=tmp_path / "e",
                             settings={"bootstrap": 50})
    fit = best.results["hardware_burden"]["imagenet"]
    assert fit["n"] == 13 and fit["best_per_paper"]
    kept = [r for r in rows if r["model"].endswith("-0")]
    b, _ = np.polyfit(np.log10([r["hardware_burden"] / 1e9 for r in kept]),
                      np.log10([r["error"] / 100 for r in kept]), 1)
    assert fit["polynomial"]["coef"]["log10_burden"] == pytest.approx(b, abs=1e-9)
    assert b == pytest.approx(-0.07, abs=0.01)
    assert every.results["hardware_burden"]["imagenet"]["n"] == len(rows)
    robust = {e["variant"]: e for e in every.results["hardware_burden"]["imagenet"]["robustness"]}
    assert robust["best model per paper"]["b"] == pytest.approx(b, abs=1e-9)
