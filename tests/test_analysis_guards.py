"""What the report may say: guarded projections, flagged observations, inputs it refuses.

Every test here writes a real observations file (or store) and reads what
analyze wrote: results.json, the tables and the page.
"""

from __future__ import annotations

import json

import numpy as np
import pytest
from analysis_helpers import BASE, write_csv

import analysis
from db.schema import T


def burden_rows(bench: str, metric: str, slope: float, *, papers: int, per_paper: int = 1,
                noise: float = 0.01, paper_sd: float = 0.0, seed: int = 0,
                const: float = -0.5) -> list[dict]:
    rng = np.random.default_rng(seed)
    rows = []
    for g in range(papers):
        lb0, effect = rng.uniform(12, 18), rng.normal(0, paper_sd)
        for m in range(per_paper):
            lb = lb0 + rng.uniform(0, 0.3)
            err = 10 ** (const + slope * (lb - 15) + effect + rng.normal(0, noise))
            rows.append({**BASE, "arxiv_id": f"{bench}-{g}", "model": f"{bench}{g}-{m}",
                         "benchmark": bench, "year": 2018, "month": 1, "metric": metric,
                         "error": 100 * err, "hardware_burden": 1e9 * 10**lb,
                         "compute_imputed": "no"})
    return rows


@pytest.fixture(scope="module")
def guarded(tmp_path_factory):
    tmp = tmp_path_factory.mktemp("guards")
    rows = (burden_rows("imagenet", "top1_error", -0.07, papers=15, seed=1)
            # error rises with compute
            + burden_rows("coco", "box_ap", +0.03, papers=15, seed=2)
            # falls a little, lost in the noise
            + burden_rows("squad1.1", "f1", -0.005, papers=12, noise=0.1, seed=7)
            # significant only if the 40 rows of 4 papers were independent
            + burden_rows("conll2003", "f1", -0.02, papers=4, per_paper=10, noise=0.005,
                          paper_sd=0.05, seed=8))
    obs = write_csv(tmp / "obs.csv", rows)
    return analysis.analyze(None, observations=obs, out_dir=tmp / "rep",
                            settings={"bootstrap": 200})


def test_projection_only_from_a_falling_significant_slope(guarded):
    proj = guarded.results["projection"]
    refused = {(r["benchmark"], r["form"]): r["reason"] for r in proj["refused"]}
    assert "not negative" in refused[("coco", "polynomial")]
    assert "not positive" in refused[("coco", "exponential")]
    assert "not significant at 5%" in refused[("squad1.1", "polynomial")]
    assert "clustered by paper" in refused[("conll2003", "polynomial")]
    conll = guarded.results["hardware_burden"]["conll2003"]["polynomial"]
    assert conll["p"]["log10_burden"] < 0.05 <= conll["p_cluster"]["log10_burden"]
    assert not any(b == "imagenet" for b, _ in refused)
    burden = guarded.results["hardware_burden"]
    for row in proj["rows"]:
        fit = burden[row["benchmark"]]
        for form, value, sign in (("polynomial", row["poly_log10_gflops"], -1),
                                  ("exponential", row["exp_log10_gflops"], +1)):
            if value is None:
                assert form in row["note"]
                continue
            b = fit[form]["coef"]["log10_burden"]
            assert b * sign > 0
            assert max(fit[form]["p"]["log10_burden"],
                       fit[form]["p_cluster"]["log10_burden"]) < 0.05


def test_projection_rows_say_why_and_carry_intervals(guarded):
    rows = {(r["benchmark"], r["label"]): r for r in guarded.results["projection"]["rows"]}
    coco = rows[("coco", "Target 1")]
    assert coco["poly_log10_gflops"] is None and "not negative" in coco["note"]
    imagenet = rows[("imagenet", "Target 1")]
    assert imagenet["poly_ci_low"] < imagenet["poly_log10_gflops"]
    assert imagenet["poly_ci_high"] is None or imagenet["poly_ci_high"] > imagenet[
        "poly_log10_gflops"]
    table = (guarded.out_dir / "tables" / "projection.csv").read_text()
    assert "not negative" in table and "not significant at 5%" in table
    html = guarded.index_html.read_text()
    assert "MS COCO, 100 - box AP projection" in html


def test_exponent_intervals_with_and_without_clustering(tmp_path):
    rows = []
    rng = np.random.default_rng(0)
    for g in range(20):
        scale, effect = rng.uniform(0, 2), rng.normal(0, 0.06)
        for m in range(4):
            lg = scale + rng.uniform(0, 0.5)
            rows.append({**BASE, "arxiv_id": f"p{g}", "model": f"m{g}-{m}",
                         "benchmark": "imagenet", "metric": "top1_error", "year": 2018,
                         "error": 100 * 10 ** (-0.5 - 0.1 * lg + effect),
                         "compute_per_pass": 1e9 * 10**lg, "compute_imputed": "false"})
    result = analysis.analyze(None, observations=write_csv(tmp_path / "o.csv", rows),
                              out_dir=tmp_path / "rep", settings={"bootstrap": 100})
    ex = result.results["compute_per_pass"]["imagenet"]["exponent"]
    assert ex["ci_low_cluster"] is not None
    width_plain = (ex["ci_high"] or np.inf) - ex["ci_low"]
    width_cluster = (ex["ci_high_cluster"] or np.inf) - ex["ci_low_cluster"]
    assert width_cluster > width_plain
    table = (result.out_dir / "tables" / "exponent_imagenet.csv").read_text()
    assert "clustered by paper" in table and "Bootstrap over papers" in table


def flagged_store(store, rows: list[dict], flagged: dict[str, str]) -> None:
    with store.transaction() as db:
        db[T.papers].insert_all([{"arxiv_id": a} for a in {r["arxiv_id"] for r in rows}],
                                pk="arxiv_id", ignore=True)
        db[T.observations].insert_all(
            [{**r, "compute_imputed": 0} for r in rows])
        db[T.flags].insert_all([{"key": f"k{i}", "arxiv_id": a, "model": m, "benchmark":
                                 "imagenet", "field": "result:top1_error", "kind": "conflict",
                                 "status": "open", "reason": "two values", "priority": 1}
                                for i, (a, m) in enumerate(flagged.items())])
        db[T.flags].insert({"key": "closed", "arxiv_id": rows[0]["arxiv_id"], "kind": "missing",
                            "status": "closed", "reason": "resolved", "priority": 1})


def test_open_flags_are_listed_with_their_effect_and_reviewed_only_drops_them(tmp_path, store):
    rows = burden_rows("imagenet", "top1_error", -0.07, papers=20, seed=7)
    # Two flagged observations far above the line at the largest burden flatten the slope.
    for r in rows[:2]:
        r["error"], r["hardware_burden"] = 60.0, 1e9 * 10**18
    flagged_store(store, rows, {r["arxiv_id"]: r["model"] for r in rows[:2]})
    full = analysis.analyze(store, out_dir=tmp_path / "all", settings={"bootstrap": 50})
    info = full.results["open_flags"]
    assert info["n_observations_flagged"] == 2
    assert {x["model"] for x in info["listed"]} == {rows[0]["model"], rows[1]["model"]}
    effect = next(e for e in info["effect"] if e["fit"].startswith("imagenet hardware burden"))
    assert effect["n"] == 20 and effect["n_without"] == 18
    clean = [r for r in rows[2:]]
    b_clean = np.polyfit(np.log10([r["hardware_burden"] / 1e9 for r in clean]),
                         np.log10([r["error"] / 100 for r in clean]), 1)[0]
    assert effect["b_without"] == pytest.approx(b_clean, abs=1e-9)
    assert abs(effect["b"] - b_clean) > 0.01
    html = full.index_html.read_text()
    assert "Main fits with and without the flagged observations" in html
    assert "conflict result:top1_error: two values" in html and "resolved" not in html

    strict = analysis.analyze(store, out_dir=tmp_path / "strict",
                              settings={"bootstrap": 50, "reviewed_only": True})
    burden = strict.results["hardware_burden"]["imagenet"]
    assert burden["n"] == 18
    assert burden["polynomial"]["coef"]["log10_burden"] == pytest.approx(b_clean, abs=1e-9)
    assert strict.results["open_flags"]["n_left_out"] == 2


def test_cli_refuses_unknown_benchmarks_and_file_with_reviewed_only(cli_run, tmp_path):
    obs = write_csv(tmp_path / "o.csv", burden_rows("imagenet", "top1_error", -0.07, papers=8))
    r = cli_run("analyze", "--observations", obs, "--benchmark", "imagenett")
    assert r.exit_code == 2
    assert "Unknown benchmark(s) imagenett" in r.output and "imagenet" in r.output
    assert "Traceback" not in r.output
    r = cli_run("analyze", "--observations", obs, "--reviewed-only")
    assert r.exit_code == 2 and "--reviewed-only" in r.output
    r = cli_run("analyze", "--observations", obs, "--best-per-paper", "--bootstrap", "20",
                "--out", tmp_path / "rep")
    assert r.exit_code == 0, r.output
    data = json.loads((tmp_path / "rep" / "results.json").read_text())
    assert data["settings"]["best_per_paper"] is True
    assert data["hardware_burden"]["imagenet"]["best_per_paper"] is True


def test_imputation_settings_come_from_the_config(cli_run, tmp_path):
    rows = []
    for i in range(12):
        lp = 6 + i / 4
        rows.append({**BASE, "arxiv_id": f"p{i}", "model": f"m{i}", "benchmark": "imagenet",
                     "metric": "top1_error", "year": 2018, "error": 30 - i,
                     "parameters": 10**lp, "compute_imputed": "FALSE",
                     "compute_per_pass": 1e9 * 10 ** (lp - 6) if i < 11 else None})
    obs = write_csv(tmp_path / "o.csv", rows)
    (tmp_path / "dlcompute.toml").write_text("[analysis]\nimputation_min_pairs = 12\n")
    r = cli_run("analyze", "--observations", obs, "--bootstrap", "20", "--out", tmp_path / "a")
    assert r.exit_code == 0, r.output
    conv = json.loads((tmp_path / "a" / "results.json").read_text())["conversion"]["imagenet"]
    assert conv["gate"]["passed"] is False and conv["n_imputed"] == 0
    assert "imputation_min_pairs" in r.stderr
    (tmp_path / "dlcompute.toml").write_text("[analysis]\nimputation_min_pairs = 5\n")
    r = cli_run("analyze", "--observations", obs, "--bootstrap", "20", "--out", tmp_path / "b")
    conv = json.loads((tmp_path / "b" / "results.json").read_text())["conversion"]["imagenet"]
    assert conv["gate"]["passed"] is True and conv["n_imputed"] == 1
    (tmp_path / "dlcompute.toml").write_text("[analysis]\nimputation_min_r2 = 2\n")
    r = cli_run("analyze", "--observations", obs, "--out", tmp_path / "c")
    assert r.exit_code == 1 and "imputation_min_r2 = 2 is out of range" in r.output
    with pytest.raises(analysis.AnalysisError, match="imputation_min_r2 must be between 0 and 1"):
        analysis.analyze(None, observations=obs, out_dir=tmp_path / "d",
                         settings={"imputation_min_r2": 2})
