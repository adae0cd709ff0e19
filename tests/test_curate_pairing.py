"""Pairing as a pure function: one paper's facts -> its own models' observations.

Facts are shaped as extractor 0.4.0 writes them (row_id, extra with features,
table, caption, layout; confidence = the scorer's probability that the fact is
the paper's own); values follow real papers (MobileNet, EfficientNet, ResNet).
"""

from __future__ import annotations

import itertools
import json
from collections import defaultdict

from curate.pairing import PaperInput, pair_paper
from curate.values import Decision

_ids = itertools.count(1)


def row(table: str, n: int, label: str, *, conf: float = 0.9, cited: bool = False,
        result: tuple | None = None, flops: float | None = None, params: float | None = None,
        unit: str = "flops", caption: str = "", layout: str = "rows", page: int = 5,
        split: str | None = None, header: str = "Top-1 (%)") -> list[dict]:
    """The facts of one table row: a result (benchmark, metric, value), compute, params."""
    rid = f"{table}.r{n}"
    feats = {"row_cited": 1.0} if cited else {}
    ex = {"table": table, "caption": caption, "layout": layout, "features": feats}
    out = []
    common = {"row_id": rid, "model": label, "source": "table", "page": page,
              "evidence": f"{label} ...", "confidence": conf}
    if result:
        bench, metric, value = result
        out.append({"id": next(_ids), "field": "result", "benchmark": bench, "metric": metric,
                    "value": value, "normalized_value": value, "normalized_unit": "percent",
                    "split": split, "extra": json.dumps({**ex, "header": header}), **common})
    if flops is not None:
        out.append({"id": next(_ids), "field": "compute_per_pass", "value": flops / 1e9,
                    "normalized_value": flops, "normalized_unit": unit,
                    "extra": json.dumps({**ex, "column": "FLOPs (G)"}), **common})
    if params is not None:
        out.append({"id": next(_ids), "field": "parameters", "value": params / 1e6,
                    "normalized_value": params, "normalized_unit": "count",
                    "extra": json.dumps({**ex, "column": "Params (M)"}), **common})
    return out


def text(field: str, value: float, sentence: str, *, conf: float = 0.8, page: int = 2,
         **kw) -> dict:
    units = {"compute_per_pass": "flops", "parameters": "count", "result": "percent"}
    return {"id": next(_ids), "field": field, "value": value, "normalized_value": value,
            "normalized_unit": units[field], "source": "text", "page": page,
            "evidence": sentence, "confidence": conf, "extra": "{}", **kw}


def paper(*facts, decisions=None, pwc=None, arxiv_id="1905.11946"):
    by = defaultdict(list)
    for f in facts:
        for x in (f if isinstance(f, list) else [f]):
            by[x["field"]].append(x)
    all_facts = {x["id"]: x for fs in by.values() for x in fs}
    return pair_paper(PaperInput(arxiv_id, by, pwc or [], decisions or {}, all_facts))


def table(res) -> dict:
    return {(p.model, p.metric, p.split): p for p in res.observations}


def test_compute_and_parameters_from_the_same_row():
    res = paper(
        row("p6.t0", 0, "EfficientNet-B0", result=("imagenet", "top1_accuracy", 77.1),
            flops=0.39e9, params=5.3e6),
        row("p6.t0", 1, "EfficientNet-B1", result=("imagenet", "top1_accuracy", 79.1),
            flops=0.70e9, params=7.8e6))
    obs = table(res)
    b0 = obs[("EfficientNet-B0", "top1_accuracy", "")]
    assert (b0.values["compute_per_pass"], b0.values["parameters"]) == (0.39e9, 5.3e6)
    assert {s.kind for c, s in b0.sources.items() if c != "error"} == {"row"}
    assert obs[("EfficientNet-B1", "top1_accuracy", "")].values["compute_per_pass"] == 0.70e9
    assert res.questions == []


def test_a_row_with_figures_for_two_tasks_gives_the_results_task():
    facts = row("p10.t0", 3, "ConvNeXt-Tiny 31-29-27-13", result=("imagenet", "top1_accuracy",
                                                                 81.6))
    ex = {k: v for k, v in json.loads(facts[0]["extra"]).items() if k != "header"}

    def size(fld, value, column, conf):
        return {"id": next(_ids), "field": fld, "value": value, "normalized_value": value,
                "normalized_unit": "flops" if fld == "compute_per_pass" else "count",
                "row_id": "p10.t0.r3", "model": "ConvNeXt-Tiny 31-29-27-13",
                "source": "table", "page": 10, "evidence": "...", "confidence": conf,
                "extra": json.dumps({**ex, "column": column})}

    facts += [size("parameters", 32e6, "ImageNet Params", 0.7),
              size("compute_per_pass", 6.1e9, "FLOPs", 0.78),
              size("parameters", 64e6, "ADE20K Params", 0.9),
              size("compute_per_pass", 973e9, "FLOPs", 0.97)]
    (p,) = paper(facts).observations
    # the ImageNet column, and of two plain FLOPs columns the left one
    assert (p.values["parameters"], p.values["compute_per_pass"]) == (32e6, 6.1e9)
    # with only the ADE20K count in the row, the ImageNet result has none
    (p,) = paper([f for f in facts if f["value"] != 32e6]).observations
    assert "parameters" not in p.values


def test_copied_baselines_never_become_observations():
    res = paper(
        row("p6.t0", 0, "EfficientNet-B0", result=("imagenet", "top1_accuracy", 77.1),
            flops=0.39e9, params=5.3e6),
        # a row citing another paper, its result scored as own by mistake
        row("p6.t0", 1, "ResNet-50 (He et al., 2016)", cited=True, conf=0.56,
            result=("imagenet", "top1_accuracy", 76.0), flops=4.1e9, params=26e6),
        # a row the extractor scores as another paper's on balance
        row("p6.t0", 2, "DenseNet-169", conf=0.3, result=("imagenet", "top1_accuracy", 76.2),
            flops=3.5e9, params=14e6),
        # a sentence about another model, scored low
        text("result", 74.8, "MobileNetV2 achieves 74.8% top-1 accuracy.", conf=0.2,
             benchmark="imagenet", metric="top1_accuracy"))
    assert [p.model for p in res.observations] == ["EfficientNet-B0"]
    used = {s.fact_id for p in res.observations for s in p.sources.values()}
    assert len(used) == 3  # the own row's result, compute and parameters only


def test_a_row_scored_own_on_balance_keeps_only_its_own_facts():
    # the row is own (mean confidence 0.6), but its compute cell is scored 0.3
    facts = row("p5.t1", 0, "MobileNet-160", result=("imagenet", "top1_accuracy", 67.2),
                flops=290e6, params=4.2e6)
    facts[1]["confidence"] = 0.3
    facts[0]["confidence"], facts[2]["confidence"] = 0.7, 0.8
    (p,) = paper(facts).observations
    assert "compute_per_pass" not in p.values and p.values["parameters"] == 4.2e6


def test_a_result_that_is_no_headline_is_kept_for_its_own_row():
    # the extractor scores results for being the paper's headline: a smaller variant's
    # result scores low, but its row's compute and parameters are scored own
    own = row("p6.t0", 1, "EfficientNet-B1", result=("imagenet", "top1_accuracy", 79.1),
              flops=0.70e9, params=7.8e6)
    own[0]["confidence"] = 0.2
    # the same on a row the extractor gives to another paper: nothing
    other = row("p6.t0", 2, "DenseNet-169", result=("imagenet", "top1_accuracy", 76.2),
                flops=3.5e9, params=14e6, conf=0.3)
    cited = row("p6.t0", 3, "ResNet-50 [12]", cited=True, result=("imagenet",
                "top1_accuracy", 76.0), flops=4.1e9, params=26e6)
    cited[0]["confidence"] = 0.2
    res = paper(own, other, cited)
    assert [(p.model, p.values["compute_per_pass"]) for p in res.observations] == [
        ("EfficientNet-B1", 0.70e9)]
    # a low result on a row with no sizes stays out: nothing says it is the paper's
    alone = row("p7.t0", 0, "EfficientNet-B2", result=("imagenet", "top1_accuracy", 80.1))
    alone[0]["confidence"] = 0.2
    assert paper(alone).observations == []


def test_a_row_whose_label_was_not_read_still_shows_its_citation():
    facts = row("p8.t0", 1, "", result=("imagenet", "top1_error", 29.0), flops=1.5e9)
    for f in facts:
        f["evidence"] = "GoogLeNet [20] 29% 9.2% 1.5"
    facts[0]["confidence"] = 0.07
    assert paper(facts).observations == []
    for f in facts:
        f["evidence"] = "Ours-S 29% 9.2% 1.5"
    assert [p.values["compute_per_pass"] for p in paper(facts).observations] == [1.5e9]


def test_exactly_named_variant_elsewhere():
    res = paper(
        # Table 1: sizes only; Table 3: results only
        row("p4.t0", 0, "MobileNet-224", flops=569e6, params=4.2e6, caption="Sizes"),
        row("p4.t0", 1, "MobileNet-160", flops=290e6, params=4.2e6, caption="Sizes"),
        row("p6.t0", 0, "MobileNet 224", result=("imagenet", "top1_accuracy", 70.6)),
        row("p6.t0", 1, "MobileNet-192", result=("imagenet", "top1_accuracy", 69.1)))
    obs = table(res)
    m224 = obs[("MobileNet 224", "top1_accuracy", "")]
    assert m224.values["compute_per_pass"] == 569e6
    assert m224.sources["compute_per_pass"].kind == "name"
    # MobileNet-192 is not MobileNet-160 or MobileNet-224
    assert obs[("MobileNet-192", "top1_accuracy", "")].values == {}


def test_a_sentence_naming_one_own_model_speaks_of_it():
    res = paper(
        row("p6.t0", 0, "EfficientNet-B7", result=("imagenet", "top1_accuracy", 84.3)),
        row("p6.t0", 1, "EfficientNet-B0", result=("imagenet", "top1_accuracy", 77.1)),
        text("parameters", 66e6, "Our EfficientNet-B7 has 66M parameters and 37B FLOPs."),
        text("compute_per_pass", 37e9, "Our EfficientNet-B7 has 66M parameters and 37B FLOPs."),
        # a sentence naming two models belongs to neither
        text("parameters", 5.3e6, "EfficientNet-B0 (5.3M) is smaller than EfficientNet-B7."))
    obs = table(res)
    b7 = obs[("EfficientNet-B7", "top1_accuracy", "")]
    assert (b7.values["parameters"], b7.values["compute_per_pass"]) == (66e6, 37e9)
    assert obs[("EfficientNet-B0", "top1_accuracy", "")].values == {}


def test_a_size_in_the_name_overrules_the_sentence():
    res = paper(
        row("p8.t0", 0, "T5-3B", result=("squad1.1", "em", 88.5)),
        row("p8.t0", 1, "T5-11B", result=("squad1.1", "em", 91.3)),
        text("parameters", 11e9, "Our T5-3B model did well, but scaling the model to 11 "
                                 "billion parameters was the most important ingredient."))
    assert all(not p.values for p in res.observations)


def test_paper_level_figure_only_for_a_single_own_model():
    single = paper(
        text("result", 57.5, "SqueezeNet achieves 57.5% top-1 accuracy.",
             benchmark="imagenet", metric="top1_accuracy", model="SqueezeNet"),
        text("result", 80.3, "and 80.3% top-5 accuracy.", benchmark="imagenet",
             metric="top5_accuracy", model="SqueezeNet"),
        text("parameters", 1.25e6, "The network has 1.25M parameters in total."),
        arxiv_id="1602.07360")
    assert {p.values.get("parameters") for p in single.observations} == {1.25e6}
    assert {p.sources["parameters"].kind for p in single.observations} == {"paper"}
    # The ResNet paper: a figure stated without a name is not copied to every model
    many = paper(
        row("p6.t1", 0, "ResNet-34", result=("imagenet", "top1_error", 26.7)),
        row("p6.t1", 1, "ResNet-50", result=("imagenet", "top1_error", 24.0)),
        row("p6.t1", 2, "ResNet-152", result=("imagenet", "top1_error", 21.4)),
        text("compute_per_pass", 3.6e9, "Our 34-layer baseline has 3.6 billion FLOPs."),
        arxiv_id="1512.03385")
    assert all("compute_per_pass" not in p.values for p in many.observations)
    (q,) = many.questions
    assert (q.kind, q.model, q.field) == ("missing", "", "compute_per_pass")
    assert "which model" in q.reason and [c["value"] for c in q.candidates] == [3.6e9]
    assert len(q.observations) == 3  # one question, every observation it would change


def test_rows_without_names_are_models_of_their_own():
    # garbled labels ("H", "w"): several rows are several models, not one paper model
    res = paper(row("p5.t0", 0, "H", result=("imagenet", "top1_accuracy", 50.0)),
                row("p5.t0", 1, "w", result=("imagenet", "top1_accuracy", 47.0)),
                text("compute_per_pass", 382.8e9, "The largest model needs 382.8 GFLOPs."))
    assert all(not p.values for p in res.observations)


def test_columns_of_one_metric_need_headers_to_be_two_results():
    facts = row("p4.t0", 11, "ResMLP-S12", result=("imagenet", "top1_accuracy", 76.6),
                flops=3e9, header="")
    more = [dict(facts[0], id=next(_ids), value=v, normalized_value=v) for v in (84.6, 60.2)]
    (p,) = paper(facts + more).observations
    assert p.value == 76.6  # the leftmost: columns without headers cannot be told apart
    named = row("p4.t1", 0, "Net", result=("imagenet", "top1_accuracy", 80.1),
                header="Top-1 (224)")
    named.append(dict(named[0], id=next(_ids), value=81.5, normalized_value=81.5,
                      extra=json.dumps({"table": "p4.t1", "header": "Top-1 (384)",
                                        "features": {}})))
    assert sorted(p.model for p in paper(named).observations) == ["Net", "Net [Top-1 (384)]"]


def test_a_single_model_on_two_tasks_is_two_models():
    res = paper(
        text("result", 77.3, "It reaches 77.3% top-1 accuracy on ImageNet.",
             benchmark="imagenet", metric="top1_accuracy", model="Net"),
        text("result", 40.1, "As a detector backbone it reaches 40.1 AP on COCO.",
             benchmark="coco", metric="box_ap", model="Net"),
        text("compute_per_pass", 4.1e9, "The network needs 4.1 GFLOPs per image."))
    assert all(not p.values for p in res.observations)


def test_detector_table_figures_do_not_go_to_the_classifier():
    res = paper(
        row("p6.t0", 0, "MobileNetV3-Small", result=("imagenet", "top1_accuracy", 67.4)),
        row("p6.t0", 1, "MobileNetV3-Large", result=("imagenet", "top1_accuracy", 75.2)),
        row("p8.t0", 6, "MobileNetV3-Small", flops=5.4e9, params=1.1e6,
            caption="Table 10. Keypoint detection results on COCO validation set."))
    (small,) = [p for p in res.observations if p.model == "MobileNetV3-Small"]
    assert small.values == {}


def test_transposed_table_pairs_by_model_column():
    cap = "Table 2. Comparison: rows are metrics, columns are our models."
    res = paper(
        row("p6.t1", 0, "ViT-L/16", layout="transposed", caption=cap,
            result=("imagenet", "top1_accuracy", 87.76)),
        row("p6.t1", 1, "ViT-L/16", layout="transposed", caption=cap, params=307e6),
        row("p6.t1", 0, "ViT-H/14", layout="transposed", caption=cap,
            result=("imagenet", "top1_accuracy", 88.55)),
        row("p6.t1", 1, "ViT-H/14", layout="transposed", caption=cap, params=632e6))
    obs = table(res)
    assert obs[("ViT-L/16", "top1_accuracy", "")].values["parameters"] == 307e6
    assert obs[("ViT-H/14", "top1_accuracy", "")].values["parameters"] == 632e6


def test_restated_results_merge_and_rows_of_one_table_do_not():
    res = paper(
        row("p5.t0", 1, "MobileNet", result=("imagenet", "top1_accuracy", 70.6),
            flops=1.138e9, params=4.2e6),
        row("p6.t2", 0, "1.0 MobileNet-224", result=("imagenet", "top1_accuracy", 70.6),
            flops=1.138e9, params=4.2e6),
        text("result", 70.6, "MobileNet reaches 70.6% top-1 accuracy.", benchmark="imagenet",
             metric="top1_accuracy"),
        # two ablation rows of one table with the same numbers are two models
        row("p7.t0", 0, "T = 50", result=("cifar10", "top1_error", 4.07), params=36.5e6),
        row("p7.t0", 1, "T = 100", result=("cifar10", "top1_error", 4.07), params=36.5e6))
    models = sorted(p.model for p in res.observations)
    assert models == ["MobileNet", "T = 100", "T = 50"]


def test_same_name_twice_gets_told_apart_and_splits_are_kept():
    res = paper(
        row("p5.t0", 0, "ResNet-50", result=("imagenet", "top1_accuracy", 76.1), flops=4.1e9),
        row("p9.t1", 0, "ResNet-50", result=("imagenet", "top1_accuracy", 78.4), flops=4.1e9),
        row("p7.t0", 0, "Ours", result=("coco", "box_ap", 41.0), split="val"),
        row("p7.t0", 1, "Ours", result=("coco", "box_ap", 41.3), split="test-dev"))
    keys = sorted((p.model, p.split) for p in res.observations)
    assert keys == [("Ours", "test-dev"), ("Ours", "val"), ("ResNet-50", ""),
                    ("ResNet-50 [p9.t1.r0]", "")]


def test_implausible_value_is_used_held_and_asked_once():
    res = paper(row("p6.t0", 0, "Net-L", result=("imagenet", "top1_accuracy", 80.0),
                    flops=2e13, params=50e6))
    (p,) = res.observations
    assert p.values["compute_per_pass"] == 2e13 and p.held
    (q,) = res.questions
    assert (q.kind, q.model, q.field) == ("implausible", "Net-L", "compute_per_pass")


def decision(review_id, action="correct", value=None, unit=None, fact_id=None):
    return Decision(review_id, 100 + review_id, action, value, unit, fact_id, "ann", {})


def test_decisions_model_level_override_paper_level_fills_only_the_listed():
    facts = [row("p6.t1", 0, "ResNet-34", result=("imagenet", "top1_error", 26.7),
                 flops=3.6e9),
             row("p6.t1", 1, "ResNet-50", result=("imagenet", "top1_error", 24.0)),
             row("p6.t1", 2, "ResNet-152", result=("imagenet", "top1_error", 21.4))]
    aid = "1512.03385"
    decisions = {
        (aid, "resnet152", "", "compute_per_pass"): decision(1, value=11.3, unit="GFLOPs"),
        (aid, "", "", "compute_per_pass"): decision(2, value=3.8, unit="GFLOPs"),
    }
    obs = table(paper(*facts, decisions=decisions, arxiv_id=aid))
    r152, r50, r34 = (obs[(m, "top1_error", "")] for m in ("ResNet-152", "ResNet-50",
                                                             "ResNet-34"))
    assert r152.values["compute_per_pass"] == 11.3e9
    assert r152.sources["compute_per_pass"].review_id == 1
    # the paper-level answer reaches only the observation it was asked for ...
    assert r50.values["compute_per_pass"] == 3.8e9
    # ... never one whose own row states its compute
    assert r34.values["compute_per_pass"] == 3.6e9
    assert r34.sources["compute_per_pass"].kind == "row"


def test_not_reported_result_drops_the_observation():
    aid = "1409.1556"
    res = paper(text("result", 7.3, "VGG-16 reaches 7.3% top-5 error.", benchmark="imagenet",
                     metric="top5_error", model="VGG-16"),
                decisions={(aid, "vgg16", "imagenet", "result:top5_error"):
                           decision(3, action="not_reported")}, arxiv_id=aid)
    assert res.observations == []


def test_papers_with_code_fills_a_benchmark_the_extraction_missed():
    pwc = [{"id": 9, "benchmark": "imagenet", "metric": "top1_accuracy", "value": 77.85,
            "model": "DenseNet-264"}]
    res = paper(row("p4.t0", 0, "DenseNet-264", params=33.3e6, caption="ImageNet models"),
                row("p4.t0", 1, "DenseNet-121", params=8e6, caption="ImageNet models"),
                pwc=pwc, arxiv_id="1608.06993")
    (p,) = res.observations
    assert p.sources["error"].pwc_id == 9 and abs(p.error - 22.15) < 1e-9
    assert p.values["parameters"] == 33.3e6 and p.sources["parameters"].kind == "name"


def test_papers_with_code_models_count_as_the_papers_models():
    # T5: results only from Papers with Code, five sizes; a paper-level "11 billion
    # parameters" is not every size's
    pwc = [{"id": i, "benchmark": "squad1.1", "metric": "f1", "value": v, "model": m}
           for i, (m, v) in enumerate((("T5-Small", 87.2), ("T5-Base", 92.1),
                                       ("T5-11B", 95.6)))]
    res = paper(text("parameters", 11e9, "Our largest model has 11 billion parameters."),
                pwc=pwc, arxiv_id="1910.10683")
    assert {p.model: p.values.get("parameters") for p in res.observations} == {
        "T5-Small": None, "T5-Base": None, "T5-11B": None}


def test_own_names_come_in_one_order_in_every_process():
    # names of one length in a set come out in an order that changes with the hash seed;
    # the sentence matcher takes the first that fits, so the order must not
    from curate.entities import OwnFacts

    facts = [f for n, label in enumerate(["NetB-1", "NetA-1", "NetC-1"])
             for f in row("p5.t0", n, label, result=("imagenet", "top1_accuracy", 70.0 + n),
                          flops=1e9 * (n + 1))]
    by = defaultdict(list)
    for f in facts:
        by[f["field"]].append(f)
    assert OwnFacts(by, 0.5).own_names == ["NetA-1", "NetB-1", "NetC-1"]
