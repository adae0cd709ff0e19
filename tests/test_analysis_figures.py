"""Figures say what they show: the right AlexNet, honest legends, names, equations, thinning."""

from __future__ import annotations

import numpy as np
import pytest
from analysis_helpers import BASE, write_csv

import analysis
from analysis import figures


@pytest.fixture(scope="module")
def report(tmp_path_factory):
    tmp = tmp_path_factory.mktemp("figs")
    rng = np.random.default_rng(2)
    rows = []
    names = ["ResNet50 (ours)", "ResNet500", "VGG16", "DenseNet-201", "MyNet"]
    for i in range(30):
        lg = rng.uniform(0, 2.5)
        rows.append({**BASE, "arxiv_id": f"1{i:03d}.00{i:03d}", "model": names[i % 5] + f" v{i}"
                     if i >= 5 else names[i], "benchmark": "imagenet", "metric": "top1_error",
                     "year": 2014 + i % 6, "month": 5,
                     "error": 100 * 10 ** (-0.5 - 0.1 * lg + rng.normal(0, 0.02)),
                     "compute_per_pass": 1e9 * 10**lg, "parameters": 1e6 * 10**lg,
                     "hardware_burden": 1e9 * 10 ** (13 + lg), "compute_imputed": 0})
    # AlexNet twice: its own 2012 paper gives parameters only (compute imputed), a later
    # paper reports its FLOPs. Figure 2b must normalise to the reported one.
    rows.append({**BASE, "arxiv_id": "1200.00001", "model": "AlexNet", "benchmark": "imagenet",
                 "metric": "top1_error", "year": 2012, "month": 9, "error": 40.0,
                 "parameters": 6e7, "hardware_burden": 1e9 * 10**13, "compute_imputed": 0})
    rows.append({**BASE, "arxiv_id": "1706.00885", "model": "AlexNet (reimplemented)",
                 "benchmark": "imagenet", "metric": "top1_error", "year": 2017, "month": 6,
                 "error": 43.0, "compute_per_pass": 7e8, "compute_imputed": 0})
    obs = write_csv(tmp / "o.csv", rows)
    return analysis.analyze(None, observations=obs, out_dir=tmp / "rep",
                            settings={"bootstrap": 30, "imputation_min_pairs": 5})


def test_figure2b_uses_the_reported_alexnet_and_names_it_by_its_own_paper(report):
    ot = report.results["over_time"]
    ref = ot["compute_per_pass"]["reference_row"]
    assert ref == {"model": "AlexNet (reimplemented)", "arxiv_id": "1706.00885", "year": 2017,
                   "value": 7e8, "imputed": False}
    assert "1706.00885" in ot["compute_per_pass"]["reference"]
    burden_ref = ot["hardware_burden"]["reference_row"]
    assert burden_ref["model"] == "AlexNet" and burden_ref["arxiv_id"] == "1200.00001"
    assert report.results["conversion"]["imagenet"]["n_imputed"] == 1


def test_burden_figures_do_not_speak_of_compute_per_pass(report):
    svg = (report.out_dir / "figures" / "burden_imagenet.svg").read_text()
    assert "models" in svg
    assert "imputed" not in svg and "compute per pass reported" not in svg
    compute = (report.out_dir / "figures" / "compute_imagenet.svg").read_text()
    assert "compute per pass reported" in compute and "imputed from parameters" in compute
    over_time = (report.out_dir / "figures" / "fig2b_hardware_burden.svg").read_text()
    assert "imputed" not in over_time


def test_figures_name_well_known_models_and_print_their_equations(report):
    svg = (report.out_dir / "figures" / "compute_imagenet.svg").read_text()
    assert ">ResNet-50<" in svg and ">VGG-16<" in svg and ">DenseNet-201<" in svg
    assert "MyNet" not in svg
    fit = report.results["compute_per_pass"]["imagenet"]["polynomial"]
    b = fit["coef"]["log10_gflops"]
    assert f"- {abs(b):.3g} log10(GFLOPs)" in svg and f"R2 {fit['r2']:.2f}" in svg
    burden = (report.out_dir / "figures" / "burden_imagenet.svg").read_text()
    assert "1/error = " in burden and "log10(error) = " in burden


@pytest.mark.parametrize(("model", "name"), [
    ("ResNet50 (ours)", "ResNet-50"), ("ResNet-500", None), ("resnet_152", "ResNet-152"),
    ("BERT-Large, cased", "BERT-Large"), ("BERT base", "BERT"), ("AlexNet  7CNNs", "AlexNet"),
    ("Transformer (big)", "Transformer (big)"), ("MyNet", None), (None, None)])
def test_famous_labels(model, name):
    assert figures.famous_label(model) == name


def test_thinning_keeps_a_sample_and_every_labelled_point():
    n = 10_000
    rng = np.random.default_rng(0)
    models = np.array([f"net{i}" for i in range(n)], dtype=object)
    models[[17, 9_999]] = ["AlexNet", "ResNet-50"]
    p = figures.Points(rng.uniform(1, 10, n), rng.uniform(1, 10, n), models,
                       np.zeros(n))
    t = figures.thin(p, seed=1)
    assert len(t.x) == figures.MAX_POINTS and t.n_total == n
    assert {"AlexNet", "ResNet-50"} <= set(t.models)
    assert figures.shown(t) == f"; {figures.MAX_POINTS:,} of {n:,} points drawn (random sample)"
    assert figures.thin(figures.Points(p.x[:10], p.y[:10], models[:10])).n_total == 10
