"""Each flag kind, their keys, priorities, closing and reopening."""

from __future__ import annotations

import json

from test_curate_support import add_fact, add_hardware, add_paper, resnet_paper

from curate import curate
from db.schema import T


def flags(store, **where) -> list[dict]:
    sql = f"select * from {T.flags}"
    if where:
        sql += " where " + " and ".join(f"{k} = ?" for k in where)
    return list(store.db.query(sql + " order by id", list(where.values())))


def result(store, ex, arxiv_id, model="Net", value=75.0, metric="top1_accuracy",
           bench="imagenet", **kw):
    return add_fact(store, ex, arxiv_id, "result", model=model, benchmark=bench, metric=metric,
                    value=value, normalized_value=value, normalized_unit="percent", **kw)


def review(store, flag_id, action, **kw):
    flag = store.db[T.flags].get(flag_id)
    row = {"flag_id": flag_id, "annotator": kw.pop("annotator", "ann"), "action": action,
           "before": json.dumps({"candidates": json.loads(flag["candidates"] or "[]")}),
           "after": "{}", "created_at": "2026-01-01T00:00:00Z", **kw}
    rid = store.db[T.reviews].insert(row).last_pk
    if action != "skip":
        store.db[T.flags].update(flag_id, {"status": "closed", "resolution": f"review:{rid}"})
    return rid


def test_clean_paper_raises_no_flags(store):
    add_hardware(store)
    resnet_paper(store)
    curate(store)
    assert flags(store) == []


def test_missing_compute_chips_and_time(store):
    add_hardware(store)
    ex = add_paper(store, "1706.03762", 2017, 6)
    result(store, ex, "1706.03762", model="Transformer (big)", value=28.4, metric="bleu",
           bench="wmt14-en-de")
    result(store, ex, "1706.03762", model="Transformer (big)", value=41.8, metric="bleu",
           bench="wmt14-en-fr")
    ex2 = add_paper(store, "1512.00567", 2015, 12)
    result(store, ex2, "1512.00567", model="Inception-v3")
    add_fact(store, ex2, "1512.00567", "hardware", hardware_name="Tesla K80", hardware="K80")
    curate(store)
    (m,) = flags(store, kind="missing", arxiv_id="1706.03762")
    assert m["field"] == "compute_per_pass" and m["status"] == "open"
    # asked once per paper, listing every observation the answer changes
    assert m["key"] == "missing|1706.03762|||compute_per_pass"
    assert m["priority"] == 2  # both benchmarks' observations wait for it
    assert store.count(T.flag_observations, "flag_id = ?", [m["id"]]) == 2
    fields = {f["field"] for f in flags(store, kind="missing", arxiv_id="1512.00567")}
    assert fields == {"compute_per_pass", "chip_count", "training_time"}


def test_conflict_close_confidence(store):
    ex = add_paper(store, "1608.06993", 2016, 8)
    result(store, ex, "1608.06993", model="DenseNet")
    a = add_fact(store, ex, "1608.06993", "parameters", value=25.6, unit="M",
                 normalized_value=25.6e6, normalized_unit="count", confidence=0.8)
    b = add_fact(store, ex, "1608.06993", "parameters", value=15.3, unit="M",
                 normalized_value=15.3e6, normalized_unit="count", confidence=0.75)
    curate(store)
    (c,) = flags(store, kind="conflict")
    assert c["field"] == "parameters"
    assert {x["fact_id"] for x in json.loads(c["candidates"])} == {a, b}
    assert json.loads(c["candidates"])[0]["evidence"]
    # far apart in confidence: no conflict
    store.db[T.facts].update(b, {"confidence": 0.3})
    s = curate(store)
    assert s.flags_closed_now == 1 and flags(store, kind="conflict")[0]["status"] == "closed"


def test_implausible_bounds_ratio_and_release(store):
    add_hardware(store)
    ex = add_paper(store, "1404.5997", 2014, 4, "One weird trick")
    result(store, ex, "1404.5997", model="AlexNet")
    add_fact(store, ex, "1404.5997", "parameters", value=61, unit="M", normalized_value=61e6,
             normalized_unit="count")
    # 61 MFLOPs read as 61 FLOPs: not a compute per pass at all, never used
    add_fact(store, ex, "1404.5997", "compute_per_pass", value=61, unit="FLOPs",
             normalized_value=61, normalized_unit="flops", confidence=0.9)
    # a detector-sized figure on an ImageNet classifier: used, flagged, held
    add_fact(store, ex, "1404.5997", "compute_per_pass", value=20, unit="TFLOPs",
             normalized_value=2e13, normalized_unit="flops", confidence=0.7)
    # a 2017 GPU in a 2014 paper, with an absurd chip count and time
    add_fact(store, ex, "1404.5997", "hardware", hardware_name="V100", hardware="V100",
             chip_count=2.5)
    add_fact(store, ex, "1404.5997", "training_time", value=90, unit="years",
             normalized_value=90 * 8760.0, normalized_unit="hours", time_kind="wall_clock")
    curate(store)
    got = {(f["field"], f["kind"]) for f in flags(store, kind="implausible")}
    assert ("compute_per_pass", "implausible") in got
    assert ("hardware", "implausible") in got
    assert ("training_time", "implausible") in got
    assert ("chip_count", "implausible") in got
    reasons = " ".join(f["reason"] for f in flags(store, kind="implausible"))
    assert "released 2017-06" in reasons and "usual" in reasons
    (o,) = store.db.query(f"select * from {T.observations}")
    assert o["compute_per_pass"] == 2e13 and o["status"] == "held"
    assert "usual" in o["status_reason"]


def test_flops_params_fit_on_store_pairs(store):
    # ten models on the relation FLOPs = 300 x params, one 10^4 times off
    for i in range(10):
        aid = f"1901.{i:05d}"
        ex = add_paper(store, aid, 2019, 1)
        result(store, ex, aid, model=f"Net{i}")
        p = 10 ** (6 + i * 0.3)
        add_fact(store, ex, aid, "parameters", value=p, normalized_value=p,
                 normalized_unit="count")
        f = p * 300 * (1e4 if i == 4 else 1)
        add_fact(store, ex, aid, "compute_per_pass", value=f, normalized_value=f,
                 normalized_unit="flops")
    s = curate(store, fit_min_pairs=8)
    assert s.fit["pairs"] == 10 and 0.7 < s.fit["slope"] < 1.6
    (f,) = flags(store, kind="implausible")
    assert f["arxiv_id"] == "1901.00004" and "fit" in f["reason"]


def test_unknown_hardware(store):
    add_hardware(store)
    ex = add_paper(store, "1502.03167", 2015, 2)
    result(store, ex, "1502.03167", model="BN-Inception")
    add_fact(store, ex, "1502.03167", "hardware", hardware_name="GeForce Quantum 9000",
             hardware=None, chip_count=4)
    curate(store)
    (u,) = flags(store, kind="unknown_hardware")
    assert u["field"] == "hardware" and "GeForce Quantum 9000" in u["reason"]
    assert u["priority"] == 1


def test_pwc_mismatch(store, tmp_path):
    ex = add_paper(store, "1512.03385", 2015, 12)
    result(store, ex, "1512.03385", model="ResNet-152", value=80.6)
    add_fact(store, ex, "1512.03385", "compute_per_pass", value=11.3, normalized_value=22.6e9,
             normalized_unit="flops")
    dump = tmp_path / "lb.json"
    dump.write_text(json.dumps([{"arxiv_id": "1512.03385v1", "tables": [{"records": [
        {"task": "Image Classification", "dataset": "ImageNet", "metric": "Top 1 Accuracy",
         "model": "ResNet-152", "value": "78.57"}]}]}]))
    curate(store, pwc_paths=[dump])
    (m,) = flags(store, kind="pwc_mismatch")
    assert m["pwc_value"] == 78.57 and m["field"] == "result:top1_accuracy"
    assert any(c.get("pwc_id") for c in json.loads(m["candidates"]))
    # within tolerance: closed
    curate(store, pwc_tolerance=3.0)
    assert flags(store, kind="pwc_mismatch")[0]["status"] == "closed"


def test_pwc_compares_like_with_like(store, tmp_path):
    ex = add_paper(store, "1905.11946", 2019, 5)
    for model, acc in (("EfficientNet-B0", 77.1), ("EfficientNet-B7", 84.3)):
        result(store, ex, "1905.11946", model=model, value=acc)
    dump = tmp_path / "lb.json"

    def records(*recs):
        dump.write_text(json.dumps([{"arxiv_id": "1905.11946", "tables": [{"records": [
            {"task": "Image Classification", "dataset": "ImageNet",
             "metric": "Top 1 Accuracy", "model": m, "value": v} for m, v in recs]}]}]))

    # PwC's only row names none of the paper's models: best against best, which agree;
    # B0's 77.1 is not compared with anything
    records(("EfficientNet", "84.4"))
    curate(store, pwc_paths=[dump])
    assert flags(store, kind="pwc_mismatch") == []
    # the same model on both sides: compared with each other, whatever the best says
    store.db.execute(f"delete from {T.pwc_results}")
    records(("EfficientNet-B0", "76.3"), ("EfficientNet-B7", "84.4"))
    curate(store, pwc_paths=[dump])
    (m,) = flags(store, kind="pwc_mismatch", status="open")
    assert m["model"] == "EfficientNet-B0" and m["pwc_value"] == 76.3


def densenet_conflict(store) -> tuple[int, int]:
    """DenseNet with two parameter counts of equal confidence (a conflict flag): the
    extraction's id and the first count's fact id."""
    ex = add_paper(store, "1608.06993", 2016, 8)
    result(store, ex, "1608.06993", model="DenseNet")
    a = add_fact(store, ex, "1608.06993", "parameters", value=25.6, unit="M",
                 normalized_value=25.6e6, normalized_unit="count", confidence=0.8)
    add_fact(store, ex, "1608.06993", "parameters", value=15.3, unit="M",
             normalized_value=15.3e6, normalized_unit="count", confidence=0.8)
    return ex, a


def test_rerun_is_idempotent_and_reopens_on_new_evidence(store):
    ex, a = densenet_conflict(store)
    curate(store)
    before = flags(store)
    s = curate(store)
    assert flags(store) == before and s.flags_new == 0 and s.flags_reopened == 0
    (c,) = before
    review(store, c["id"], "accept", fact_id=a, value=25.6e6)
    curate(store)
    assert flags(store)[0]["status"] == "closed"  # the decision holds
    (o,) = store.db.query(f"select * from {T.observations}")
    assert o["parameters"] == 25.6e6 and json.loads(o["sources"])["parameters"].startswith(
        "review:")
    # the same value again is no news; a different one reopens the flag
    add_fact(store, ex, "1608.06993", "parameters", value=25.6, unit="M",
             normalized_value=25.6e6, normalized_unit="count", confidence=0.8)
    curate(store)
    assert flags(store)[0]["status"] == "closed"
    new = add_fact(store, ex, "1608.06993", "parameters", value=40, unit="M",
                   normalized_value=40e6, normalized_unit="count", confidence=0.85)
    s = curate(store)
    (c,) = flags(store)
    assert s.flags_reopened == 1 and c["status"] == "open" and str(new) in c["reason"]


def test_double_review_sample(store):
    for i in range(40):
        aid = f"1701.{i:05d}"
        ex = add_paper(store, aid, 2017, 1)
        result(store, ex, aid)
    curate(store, double_review_fraction=0.5)
    n = sum(f["double_review"] for f in flags(store))
    assert 8 <= n <= 32
    curate(store, double_review_fraction=0.0)
    assert sum(f["double_review"] for f in flags(store)) == 0


def test_values_that_are_not_what_their_column_says(store):
    ex = add_paper(store, "1611.05431", 2016, 11)
    # a fraction read as a percentage, a margin read as a result: rejected, kept as facts
    result(store, ex, "1611.05431", model="ResNeXt-101", value=0.803)
    result(store, ex, "1611.05431", model="ResNeXt-101 (64x4d)", value=0.94,
           evidence="It improves the top-1 accuracy by 0.94% over ResNet-101.")
    result(store, ex, "1611.05431", model="ResNeXt-101 (32x4d)", value=78.8)
    add_fact(store, ex, "1611.05431", "compute_per_pass", value=209, unit="ms",
             normalized_value=209e9, normalized_unit="flops", model="ResNeXt-101 (32x4d)")
    add_fact(store, ex, "1611.05431", "compute_per_pass", value=8, normalized_value=16e9,
             normalized_unit="flops", model="ResNeXt-101 (32x4d)", confidence=0.6)
    # a malformed fact (text where a number belongs) is skipped, not fatal
    add_fact(store, ex, "1611.05431", "parameters", value=1, normalized_value="lots",
             normalized_unit="count")
    s = curate(store)
    assert not s.errors
    (o,) = store.db.query(f"select * from {T.observations}")
    assert o["model"] == "ResNeXt-101 (32x4d)" and o["compute_per_pass"] == 16e9
    assert store.count(T.facts, "arxiv_id = '1611.05431'") == 6
