"""Value choice: annotator decision > best-confidence fact > Papers with Code."""

from __future__ import annotations

import json

from test_curate_support import add_fact, add_hardware, add_paper, resnet_paper

from curate import curate
from db.schema import T


def obs(store, arxiv_id: str) -> list[dict]:
    return list(store.db.query(f"select * from {T.observations} where arxiv_id = ? "
                               f"order by id", [arxiv_id]))


def flags(store, **where) -> list[dict]:
    sql = f"select * from {T.flags}"
    if where:
        sql += " where " + " and ".join(f"{k} = ?" for k in where)
    return list(store.db.query(sql, list(where.values())))


def test_observation_from_best_facts_with_burden(store):
    add_hardware(store)
    ids = resnet_paper(store)
    summary = curate(store)
    assert summary.observations == 1
    (o,) = obs(store, "1512.03385")
    assert o["model"] == "ResNet-152" and o["benchmark"] == "imagenet"
    assert o["year"] == 2015 and o["month"] == 12
    assert o["metric"] == "top5_error" and o["error"] == 3.57
    # multiply-adds count as two FLOPs, and the stated unit is kept
    assert o["compute_per_pass"] == 2 * 11.3e9 and o["compute_unit"] == "multiply-adds"
    assert o["parameters"] == 60.2e6
    assert o["hardware"] == "K80" and o["chips"] == 8 and o["training_hours"] == 336.0
    assert o["hardware_burden"] == 8 * 5611.0 * 1e9 * 336.0 * 3600
    src = json.loads(o["sources"])
    assert src["error"] == f"fact:{ids['result']}"
    assert src["compute_per_pass"] == f"fact:{ids['compute']}"
    assert src["peak"] == "hardware:K80.fp32_base_gflops"
    assert o["compute_imputed"] == 0


def test_peak_setting_and_tpu_fallback(store):
    add_hardware(store)
    ex = add_paper(store, "1810.04805", 2018, 10)
    add_fact(store, ex, "1810.04805", "result", model="BERT-Large", benchmark="squad1.1",
             metric="f1", value=93.2, unit="", normalized_value=93.2, normalized_unit="percent")
    add_fact(store, ex, "1810.04805", "hardware", hardware_name="Cloud TPU v3",
             hardware="TPU v3", chip_count=16)
    add_fact(store, ex, "1810.04805", "training_time", value=4, unit="days",
             normalized_value=96.0, normalized_unit="hours", time_kind="wall_clock")
    curate(store, peak="fp32_boost")
    (o,) = obs(store, "1810.04805")
    assert abs(o["error"] - 6.8) < 1e-9
    # no FP32 figure for a TPU: the catalog's tensor column stands in, and says so
    assert o["hardware_burden"] == 16 * 123000.0 * 1e9 * 96 * 3600
    assert json.loads(o["sources"])["peak"] == "hardware:TPU v3.tensor_gflops"


def test_best_confidence_fact_wins_and_decision_overrides(store):
    add_hardware(store)
    ex = add_paper(store, "1409.1556", 2014, 9)
    low = add_fact(store, ex, "1409.1556", "result", model="VGG-16", benchmark="imagenet",
                   metric="top1_error", value=28.1, normalized_value=28.1,
                   normalized_unit="percent", confidence=0.4)
    high = add_fact(store, ex, "1409.1556", "result", model="VGG-16", benchmark="imagenet",
                    metric="top1_error", value=24.4, normalized_value=24.4,
                    normalized_unit="percent", confidence=0.9)
    add_fact(store, ex, "1409.1556", "compute_per_pass", value=15.5, unit="GMACs",
             normalized_value=15.5e9, normalized_unit="multiply-adds")
    curate(store)
    (o,) = obs(store, "1409.1556")
    assert o["error"] == 24.4
    assert json.loads(o["sources"])["error"] == f"fact:{high}"
    assert not flags(store, kind="conflict")  # confidences far apart
    # an annotator's decision beats the best fact
    fid = store.db[T.flags].insert({"key": "conflict|1409.1556|vgg16|imagenet|result:top1_error",
                                    "arxiv_id": "1409.1556", "model": "VGG-16",
                                    "benchmark": "imagenet", "field": "result:top1_error",
                                    "kind": "conflict", "status": "closed",
                                    "candidates": "[]"}).last_pk
    rid = store.db[T.reviews].insert({"flag_id": fid, "annotator": "ann", "action": "accept",
                                      "fact_id": low, "value": 28.1, "unit": "%",
                                      "before": "{}", "after": "{}",
                                      "created_at": "2026-01-01T00:00:00Z"}).last_pk
    curate(store)
    (o,) = obs(store, "1409.1556")
    assert o["error"] == 28.1 and json.loads(o["sources"])["error"] == f"review:{rid}"
    # undo it: the fact wins again (reviews are append-only)
    store.db[T.reviews].insert({"flag_id": fid, "annotator": "ann", "action": "undo",
                                "undoes": rid, "created_at": "2026-01-01T00:01:00Z"})
    curate(store)
    (o,) = obs(store, "1409.1556")
    assert o["error"] == 24.4


def test_pwc_fills_results_only_when_no_fact(store, tmp_path):
    ex = add_paper(store, "1608.06993", 2016, 8)
    add_fact(store, ex, "1608.06993", "parameters", value=25.6, unit="M",
             normalized_value=25.6e6, normalized_unit="count")
    dump = tmp_path / "evaluation-tables.json"
    dump.write_text(json.dumps([{"task": "Image Classification", "datasets": [{
        "dataset": "ImageNet", "sota": {"metrics": ["Top 1 Accuracy"], "rows": [
            {"model_name": "DenseNet-264", "paper_url": "https://arxiv.org/abs/1608.06993v5",
             "metrics": {"Top 1 Accuracy": "77.85%"}},
            {"model_name": "Other", "paper_url": "https://example.org/x",
             "metrics": {"Top 1 Accuracy": "70.0"}}]}}], "subtasks": []}]))
    s = curate(store, pwc_paths=[dump])
    assert s.pwc_loaded == 1
    (o,) = obs(store, "1608.06993")
    assert o["model"] == "DenseNet-264" and abs(o["error"] - 22.15) < 1e-9
    assert json.loads(o["sources"])["error"].startswith("pwc:")
    assert o["parameters"] == 25.6e6  # the single-model paper's unnamed facts apply
    # loading again adds nothing and the run is idempotent
    s2 = curate(store, pwc_paths=[dump])
    assert s2.pwc_loaded == 0 and s2.observations_added == 0 and s2.observations_updated == 0
    assert s2.flags_new == 0
    # a fact for that result now takes precedence over Papers with Code
    add_fact(store, ex, "1608.06993", "result", model="DenseNet-264", benchmark="imagenet",
             metric="top1_accuracy", value=77.0, normalized_value=77.0,
             normalized_unit="percent")
    curate(store)
    (o,) = obs(store, "1608.06993")
    assert json.loads(o["sources"])["error"].startswith("fact:") and o["error"] == 23.0


def test_model_matching_of_compute_facts(store):
    ex = add_paper(store, "1905.11946", 2019, 5)
    for model, acc in (("EfficientNet-B0", 77.1), ("EfficientNet-B7", 84.3),
                       ("EfficientNet-B3", 81.6)):
        add_fact(store, ex, "1905.11946", "result", model=model, benchmark="imagenet",
                 metric="top1_accuracy", value=acc, normalized_value=acc,
                 normalized_unit="percent")
    for model, flops in (("EfficientNetB0", 0.39), ("efficientnet b7", 37)):
        add_fact(store, ex, "1905.11946", "compute_per_pass", model=model, value=flops,
                 unit="B FLOPs", normalized_value=flops * 1e9, normalized_unit="flops")
    # a figure naming no model, and one for a variant without results
    add_fact(store, ex, "1905.11946", "parameters", value=66, unit="M", normalized_value=66e6,
             normalized_unit="count", model=None)
    add_fact(store, ex, "1905.11946", "compute_per_pass", model="EfficientNet-B1", value=0.7,
             unit="B FLOPs", normalized_value=0.7e9, normalized_unit="flops")
    curate(store)
    rows = {o["model"]: o for o in obs(store, "1905.11946")}
    # one variant, three spellings; B1's figure is not B0's, B3's or B7's
    assert rows["EfficientNet-B0"]["compute_per_pass"] == 0.39e9
    assert rows["EfficientNet-B7"]["compute_per_pass"] == 37e9
    assert rows["EfficientNet-B3"]["compute_per_pass"] is None
    # a figure naming no model does not serve a paper with three models ...
    assert {o["parameters"] for o in rows.values()} == {None}
    # ... it is asked once, about the observation the fits cannot use
    (q,) = flags(store, arxiv_id="1905.11946", kind="missing", field="parameters")
    assert q["model"] == ""
    assert sorted(c["value"] for c in json.loads(q["candidates"])) == [66e6]
    (qc,) = flags(store, arxiv_id="1905.11946", kind="missing", field="compute_per_pass")
    assert [c["value"] for c in json.loads(qc["candidates"])] == [0.7e9]
    for flag in (q, qc):
        listed = [o["model"] for o in store.db.query(
            f"select o.model from {T.flag_observations} l join {T.observations} o "
            f"on o.id = l.observation_id where l.flag_id = ?", [flag["id"]])]
        assert listed == ["EfficientNet-B3"] and flag["priority"] == 1


def test_paper_level_figure_serves_a_single_model(store):
    ex = add_paper(store, "1602.07360", 2016, 2)
    for metric, value in (("top1_accuracy", 57.5), ("top5_accuracy", 80.3)):
        add_fact(store, ex, "1602.07360", "result", model="SqueezeNet", benchmark="imagenet",
                 metric=metric, value=value, normalized_value=value, normalized_unit="percent")
    add_fact(store, ex, "1602.07360", "result", model="SqueezeNet ensemble of 4",
             benchmark="imagenet", metric="top1_accuracy", value=60.1, normalized_value=60.1,
             normalized_unit="percent")
    pid = add_fact(store, ex, "1602.07360", "parameters", value=1.25, unit="M",
                   normalized_value=1.25e6, normalized_unit="count", model=None)
    curate(store)
    rows = {(o["model"], o["metric"]): o for o in obs(store, "1602.07360")}
    assert rows[("SqueezeNet", "top1_accuracy")]["parameters"] == 1.25e6
    assert rows[("SqueezeNet", "top5_accuracy")]["parameters"] == 1.25e6
    src = list(store.db.query(f"select * from {T.observation_sources} where column = "
                              f"'parameters'"))
    assert {(s["kind"], s["fact_id"]) for s in src} == {("paper", pid)}
    # an ensemble is not the single network the figure describes
    assert rows[("SqueezeNet ensemble of 4", "top1_accuracy")]["parameters"] is None


def test_only_the_latest_extraction_counts(store):
    old = add_paper(store, "1602.07261", 2016, 2)
    add_fact(store, old, "1602.07261", "result", model="Inception-v4", benchmark="imagenet",
             metric="top1_error", value=21.0, normalized_value=21.0, normalized_unit="percent")
    new = store.db[T.extractions].insert({
        "arxiv_id": "1602.07261", "pdf_sha256": "sha-v2", "extractor_version": "test-2",
        "status": "ok", "created_at": "2026-02-01T00:00:00Z"}).last_pk
    add_fact(store, new, "1602.07261", "result", model="Inception-v4", benchmark="imagenet",
             metric="top1_error", value=20.0, normalized_value=20.0, normalized_unit="percent")
    curate(store)
    (o,) = obs(store, "1602.07261")
    assert o["error"] == 20.0
    assert store.count(T.flags, "kind = 'conflict'") == 0


def test_figures_of_models_without_results_are_asked_not_spread(store):
    # Sutskever et al. state 384M parameters for "deep LSTM (4 layers)"; results name
    # an ensemble and a single LSTM: the named figure stays with its model, and the
    # orphan is offered in one question instead of being copied to every result.
    ex = add_paper(store, "1409.3215", 2014, 9)
    for model, bleu in (("Ensemble of 5 reversed LSTMs", 34.81), ("Single reversed LSTM", 30.59)):
        add_fact(store, ex, "1409.3215", "result", model=model, benchmark="wmt14-en-fr",
                 metric="bleu", value=bleu, normalized_value=bleu, normalized_unit="bleu")
    orphan = add_fact(store, ex, "1409.3215", "parameters", model="deep LSTM (4 layers)",
                      value=384, unit="M", normalized_value=384e6, normalized_unit="count")
    add_fact(store, ex, "1409.3215", "parameters", model="Single reversed LSTM",
             value=380, unit="M", normalized_value=380e6, normalized_unit="count")
    curate(store)
    rows = {o["model"]: o for o in obs(store, "1409.3215")}
    assert rows["Ensemble of 5 reversed LSTMs"]["parameters"] is None
    assert rows["Single reversed LSTM"]["parameters"] == 380e6
    assert abs(rows["Single reversed LSTM"]["error"] - (100 - 30.59)) < 1e-9
    (q,) = flags(store, arxiv_id="1409.3215")
    assert (q["kind"], q["field"], q["model"]) == ("missing", "parameters", "")
    assert [c["fact_id"] for c in json.loads(q["candidates"])] == [orphan]
    assert "Ensemble of 5 reversed LSTMs" in q["reason"]


def test_burden_from_device_hours(store):
    add_hardware(store)
    ex = add_paper(store, "1804.09541", 2018, 4)
    add_fact(store, ex, "1804.09541", "result", model="QANet", benchmark="squad1.1",
             metric="em", value=76.2, normalized_value=76.2, normalized_unit="percent")
    add_fact(store, ex, "1804.09541", "hardware", hardware_name="Tesla V100", hardware="V100")
    add_fact(store, ex, "1804.09541", "training_time", value=300, unit="GPU hours",
             normalized_value=300.0, normalized_unit="device_hours")
    curate(store)
    (o,) = obs(store, "1804.09541")
    # device-hours x peak, whatever the chip count; no wall-clock hours without chips
    assert o["hardware_burden"] == 300.0 * 3600 * 13435.0 * 1e9
    assert o["training_hours"] is None and o["chips"] is None
    assert store.count(T.flags, "status = 'open'") == 0  # burden known: nothing missing
