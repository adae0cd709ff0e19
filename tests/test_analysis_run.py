"""End to end: synthetic observations with known coefficients -> analyze -> every output."""

from __future__ import annotations

import json

import numpy as np
import pytest
from analysis_helpers import write_csv

import analysis
from analysis.data import REQUIRED_COLUMNS
from db.schema import T

# Known truths the synthetic data is drawn from (error as a fraction, GFLOPs).
COMPUTE = (-0.51, -0.11)  # Table 1 (2), ImageNet
BURDEN = {"imagenet": (0.10, -0.07), "coco": (-0.002, -0.02), "squad1.1": (0.35, -0.13)}
CONVERSION = (-6.0, 1.0)  # log10(GFLOPs) = -6 + log10(parameters)
BURDEN_METRIC = {"imagenet": "top1_error", "coco": "box_ap", "squad1.1": "f1"}


def make_rows(seed: int = 7) -> list[dict]:
    rng = np.random.default_rng(seed)
    rows = []
    for i in range(40):
        lg = rng.uniform(-0.5, 2.5)
        params = 10 ** (lg - CONVERSION[0] + rng.normal(0, 0.05))
        err = 10 ** (COMPUTE[0] + COMPUTE[1] * lg + rng.normal(0, 0.02))
        rows.append({"arxiv_id": f"17{i:02d}.0{i:04d}",
                     "model": "AlexNet" if i == 0 else f"net{i}",
                     "benchmark": "imagenet", "year": 2012 + i % 8, "month": 1 + i % 12,
                     "metric": "top1_error", "error": 100 * err,
                     # every fifth model reports parameters only: imputed
                     "compute_per_pass": "" if i % 5 == 4 else 10**lg * 1e9,
                     "parameters": params, "hardware": "V100" if i % 2 else "GTX 1080 Ti",
                     "chips": 8, "training_hours": 24 * (1 + i % 5),
                     "hardware_burden": "", "compute_imputed": 0})
    for bench, (a, b) in BURDEN.items():
        for i in range(15):
            lb = rng.uniform(11, 18)
            rows.append({"arxiv_id": f"18{i:02d}.1{i:04d}", "model": f"{bench}-{i}",
                         "benchmark": bench, "year": 2015 + i % 5, "month": 6,
                         "metric": BURDEN_METRIC[bench],
                         "error": 100 * 10 ** (a + b * lb + rng.normal(0, 0.01)),
                         "compute_per_pass": "", "parameters": "", "hardware": "V100",
                         "chips": 4, "training_hours": 10, "hardware_burden": 10**lb * 1e9,
                         "compute_imputed": 0})
    # Hardware burden for ImageNet too, AlexNet included.
    for i, r in enumerate(rows[:40]):
        r["hardware_burden"] = 10 ** (12 + i / 10) * 1e9
    # A benchmark that cannot be fitted, and a row with an impossible error.
    rows.append({**rows[45], "benchmark": "conll2003", "arxiv_id": "1900.00001"})
    rows.append({**rows[46], "benchmark": "conll2003", "arxiv_id": "1900.00002"})
    rows.append({**rows[3], "error": -1, "arxiv_id": "1900.00003", "model": "broken"})
    return rows




@pytest.fixture(scope="module")
def report(tmp_path_factory):
    tmp = tmp_path_factory.mktemp("analysis")
    rows = make_rows()
    obs = write_csv(tmp / "obs.csv", rows)
    result = analysis.analyze(None, observations=obs, out_dir=tmp / "report",
                              settings={"bootstrap": 200}, version="9.9.9-test")
    return rows, result


def _lstsq(x, y):
    design = np.column_stack([np.ones_like(x), x])
    return np.linalg.lstsq(design, y, rcond=None)[0]


def test_conversion_and_imputation_match_independent_least_squares(report):
    rows, result = report
    both = [r for r in rows if r["compute_per_pass"] != "" and r["parameters"] != ""
            and r["error"] > 0]
    a, b = _lstsq(np.log10([r["parameters"] for r in both]),
                  np.log10([r["compute_per_pass"] / 1e9 for r in both]))
    conv = result.results["conversion"]["imagenet"]
    fit = conv["fit"]
    assert fit["coef"]["const"] == pytest.approx(a, abs=1e-9)
    assert fit["coef"]["log10_parameters"] == pytest.approx(b, abs=1e-9)
    assert abs(b - CONVERSION[1]) < 0.05
    assert conv["n_imputed"] == 8 and conv["gate"]["passed"]
    assert result.results["compute_per_pass"]["imagenet"]["counts"]["n_imputed"] == 8


def test_table1_equals_numpy_on_the_same_data(report):
    rows, result = report
    fit = result.results["conversion"]["imagenet"]["fit"]["coef"]
    imagenet = [r for r in rows if r["benchmark"] == "imagenet" and r["error"] > 0
                and (r["compute_per_pass"] != "" or r["parameters"] != "")]
    lg = np.array([np.log10(r["compute_per_pass"] / 1e9) if r["compute_per_pass"] != ""
                   else fit["const"] + fit["log10_parameters"] * np.log10(r["parameters"])
                   for r in imagenet])
    err = np.array([r["error"] / 100 for r in imagenet])
    res = result.results["compute_per_pass"]["imagenet"]
    a, b = _lstsq(lg, np.log10(err))
    assert res["polynomial"]["coef"]["const"] == pytest.approx(a, abs=1e-9)
    assert res["polynomial"]["coef"]["log10_gflops"] == pytest.approx(b, abs=1e-9)
    a, b = _lstsq(lg, err)
    assert res["exponential"]["coef"]["log10_gflops"] == pytest.approx(b, abs=1e-9)
    assert res["polynomial"]["coef"]["log10_gflops"] == pytest.approx(COMPUTE[1], abs=0.02)
    assert res["exponent"]["exponent"] == pytest.approx(-1 / res["polynomial"]["coef"][
        "log10_gflops"])
    for key in ("r2", "adj_r2", "f_stat", "resid_se", "n", "ci_low", "se", "p"):
        assert res["polynomial"][key] is not None
    assert res["year_trend"]["terms"] == ["const", "log10_gflops", "year"]
    assert res["bootstrap"]["n_boot"] == 200 and res["bootstrap"]["resamples"] == "papers"
    assert res["polynomial"]["n_clusters"] == 40 and res["polynomial"]["se_cluster"]
    assert res["metric"] == "top1"
    assert res["quantile"]["method"].startswith("QuantReg")


def test_burden_tables_match_numpy_and_recover_known_slopes(report):
    rows, result = report
    for bench in ("coco", "squad1.1"):
        sel = [r for r in rows if r["benchmark"] == bench]
        x = np.log10([r["hardware_burden"] / 1e9 for r in sel])
        err = np.array([r["error"] / 100 for r in sel])
        got = result.results["hardware_burden"][bench]
        a, b = _lstsq(x, np.log10(err))
        assert got["polynomial"]["coef"]["log10_burden"] == pytest.approx(b, abs=1e-9)
        assert b == pytest.approx(BURDEN[bench][1], abs=0.01)
        a, b = _lstsq(x, 1 / err)
        assert got["exponential"]["coef"]["log10_burden"] == pytest.approx(b, abs=1e-9)
        assert got["exponential"]["coef"]["const"] == pytest.approx(a, abs=1e-9)


def test_projection_uses_the_fitted_coefficients(report):
    _, result = report
    coco = result.results["hardware_burden"]["coco"]["polynomial"]["coef"]
    row = next(r for r in result.results["projection"]["rows"]
               if r["benchmark"] == "coco" and r["label"] == "Target 1")
    assert row["error_percent"] == 30.0
    assert row["poly_log10_gflops"] == pytest.approx(
        (np.log10(0.30) - coco["const"]) / coco["log10_burden"])


def test_unsupported_parts_are_skipped_with_reasons(report):
    _, result = report
    reasons = {s["what"]: s["reason"] for s in result.skipped}
    assert any("CoNLL 2003" in w and "only 2 observation" in r for w, r in reasons.items())
    assert any("non-positive" in r for r in reasons.values())
    assert "peak-FLOPS conventions" in reasons
    html = result.index_html.read_text()
    assert "only 2 observation" in html and "Skipped" in html


def test_outputs_exist_and_page_is_self_contained(report):
    _, result = report
    out = result.out_dir
    for name in ("table1_imagenet", "table2_imagenet", "table3_burden_polynomial",
                 "table4_burden_exponential", "projection", "projection_paper",
                 "conversion_imagenet", "imputation", "robustness_imagenet",
                 "robustness_burden"):
        for ext in ("csv", "md", "tex"):
            assert (out / "tables" / f"{name}.{ext}").stat().st_size > 0
    for name in ("compute_imagenet", "burden_coco", "fig3_burden_panel",
                 "fig7_conversion_imagenet", "fig2b_hardware_burden"):
        assert (out / "figures" / f"{name}.png").read_bytes()[:4] == b"\x89PNG"
        assert b"<svg" in (out / "figures" / f"{name}.svg").read_bytes()[:2000]
    html = result.index_html.read_text()
    assert "data:image/png;base64," in html and "9.9.9-test" in html
    assert 'src="http' not in html and "<script" not in html
    data = json.loads(result.results_json.read_text())
    assert data["dlcompute_version"] == "9.9.9-test"
    assert data["compute_per_pass"]["imagenet"]["polynomial"]["n"] == 40


def test_figure2b_normalises_to_alexnet(report):
    rows, result = report
    ref = result.results["over_time"]["hardware_burden"]["reference_row"]
    assert ref["model"] == "AlexNet" and ref["arxiv_id"] == rows[0]["arxiv_id"]


def test_store_run_flags_and_peak_conventions(tmp_path, store):
    rows = [r for r in make_rows() if r["error"] > 0]
    with store.transaction() as db:
        db[T.papers].insert_all([{"arxiv_id": a} for a in {r["arxiv_id"] for r in rows}],
                                pk="arxiv_id", ignore=True)
        db[T.observations].insert_all(
            [{k: (None if v == "" else v) for k, v in r.items()} for r in rows])
        db[T.hardware].insert_all([
            {"chip": "V100", "fp32_base_gflops": 13435, "fp32_boost_gflops": 15700,
             "tensor_gflops": 125000},
            {"chip": "GTX 1080 Ti", "fp32_base_gflops": 10609, "fp32_boost_gflops": 11340,
             "tensor_gflops": None}])
        db[T.flags].insert({"key": "k1", "arxiv_id": rows[1]["arxiv_id"], "kind": "missing",
                            "field": "compute_per_pass", "status": "open",
                            "reason": "no FLOPs found", "priority": 3})
    result = analysis.analyze(store, out_dir=tmp_path / "rep", settings={"bootstrap": 50},
                              version="1.0")
    run = next(iter(store.db.query(f"select * from {T.analysis_runs}")))
    assert run["status"] == "done" and run["dlcompute_version"] == "1.0"
    assert json.loads(run["results"]) == json.loads(result.results_json.read_text())
    assert json.loads(run["settings"])["kind"] == "analyze"
    flags = result.results["open_flags"]
    assert flags["n_observations_flagged"] == 1
    assert flags["listed"][0]["arxiv_id"] == rows[1]["arxiv_id"]
    assert "no FLOPs found" in flags["listed"][0]["flag"]
    assert "no FLOPs found" in result.index_html.read_text()
    conv = result.results["peak_conventions"]
    imagenet = next(s for s in conv["slopes"] if s["benchmark"] == "imagenet")
    assert set(imagenet) >= {"fp32_base", "fp32_boost", "tensor_utilised"}
    assert imagenet["n"] == sum(r["benchmark"] == "imagenet" for r in rows)
    assert imagenet["fp32_base"]["slope"] != imagenet["tensor_utilised"]["slope"]


def test_cli_analyze_and_its_errors(cli_run, tmp_path):
    obs = write_csv(tmp_path / "obs.csv", make_rows())
    r = cli_run("analyze", "--observations", obs, "--out", tmp_path / "cli",
                "--benchmark", "coco", "--benchmark", "cifar10", "--bootstrap", "50")
    assert r.exit_code == 0, r.output
    assert (tmp_path / "cli" / "index.html").exists()
    assert "CIFAR-10" in r.stderr and "no usable observations" in r.stderr
    data = json.loads((tmp_path / "cli" / "results.json").read_text())
    assert list(data["counts"]) == ["coco"]
    bad = tmp_path / "bad.csv"
    lines = obs.read_text().splitlines()
    fields = lines[2].split(",")
    fields[REQUIRED_COLUMNS.index("year")] = "20xx"
    lines[2] = ",".join(fields)
    bad.write_text("\n".join(lines) + "\n")
    r = cli_run("analyze", "--observations", bad, "--out", tmp_path / "bad")
    assert r.exit_code == 1
    assert "bad.csv, line 3, column year" in r.output
    r = cli_run("analyze", "--observations", obs, "--since", "2019", "--until", "2015")
    assert r.exit_code == 2


def test_tiny_and_degenerate_data_still_produce_a_report(tmp_path):
    base = {c: "" for c in REQUIRED_COLUMNS}
    rows = [{**base, "arxiv_id": f"2001.0000{i}", "model": f"m{i}", "benchmark": "imagenet",
             "metric": "top1_error", "year": 2020, "error": e, "compute_per_pass": c, "hardware_burden": c * 1e6,
             "compute_imputed": 0}
            for i, (e, c) in enumerate([(30.0, 1e9), (20.0, 1e10), (15.0, 1e11)])]
    # Same compute everywhere: no variance in the regressor.
    rows += [{**base, "arxiv_id": f"2002.0000{i}", "model": f"s{i}", "benchmark": "squad1.1",
              "metric": "f1", "year": 2020, "error": 10.0 + i, "compute_per_pass": 1e9, "compute_imputed": 0}
             for i in range(4)]
    rows.append({**base, "arxiv_id": "2003.00001", "model": "nan", "benchmark": "coco",
                 "error": "nan", "compute_imputed": 0})
    result = analysis.analyze(None, observations=write_csv(tmp_path / "o.csv", rows),
                              out_dir=tmp_path / "rep", settings={"bootstrap": 20},
                              version="t")
    poly = result.results["compute_per_pass"]["imagenet"]["polynomial"]
    assert poly["n"] == 3 and poly["df_resid"] == 1
    assert result.results["compute_per_pass"]["squad1.1"]["polynomial"] is None
    reasons = " ".join(s["reason"] for s in result.skipped)
    assert "no variance" in reasons and "error missing" in reasons
    assert result.index_html.exists() and (tmp_path / "rep" / "results.json").exists()
