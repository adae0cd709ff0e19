"""Model names as pairing compares them, and unit and plausibility checks (table-driven)."""

from __future__ import annotations

import pytest

from curate.entities import is_ensemble
from curate.names import is_specific, name_size, names_in, size_conflict, variant_key
from curate.sanity import is_margin, rejected, result_rejected, unusual


@pytest.mark.parametrize("a, b", [
    ("ResNet-50", "ResNet50"),
    ("ResNet-50", "resnet 50"),
    ("ResNet-50 [12]", "ResNet-50"),
    ("ResNet-50 (He et al., 2016)", "ResNet-50"),
    ("EfficientNet-B7 (ours)", "EfficientNet-B7"),
    ("SE-ResNet-50*", "SE-ResNet-50"),
    ("0.50 MobileNet-160", "0.5 MobileNet-160"),
    ("1 CNN", "CNN"),
    ("the 152-layer ResNet", "the ResNet-152"),
])
def test_one_variant(a, b):
    assert variant_key(a) == variant_key(b)


@pytest.mark.parametrize("a, b", [
    ("MobileNet-160", "MobileNet-224"),
    ("ResNet-50", "ResNet-101"),
    ("EfficientNet-B0", "EfficientNet-B7"),
    ("0.75 MobileNet-224", "1.0 MobileNet-224"),
    ("Transformer (big)", "Transformer (base)"),
    ("5 CNNs", "CNN"),
])
def test_two_variants(a, b):
    assert variant_key(a) != variant_key(b)


@pytest.mark.parametrize("name, specific", [
    ("ResNet-50", True), ("Transformer (big)", True), ("Ours", False), ("Baseline", False),
    ("(ours)", False), ("224", False), ("top-1 accuracy and FF only achieves a", False),
])
def test_specific_names(name, specific):
    assert is_specific(name) is specific


@pytest.mark.parametrize("name, size", [
    ("T5-3B", 3e9), ("TinyViT-21M", 21e6), ("GPT-2 1.5B", 1.5e9), ("ResNet-50", None),
    ("EfficientNet-B3", None), ("RegNetY-4GF", None),
])
def test_sizes_in_names(name, size):
    assert name_size(name) == size


def test_size_conflicts():
    assert size_conflict("T5-3B", 11e9)
    assert not size_conflict("T5-3B", 2.8e9)
    assert not size_conflict("RepLKNet-31B", 79e6)  # B for Base: no size at all
    assert not size_conflict("ResNet-50", 25.6e6)


@pytest.mark.parametrize("sentence, found", [
    ("Our ResNet-50 has 25.6M parameters.", ["ResNet-50"]),
    ("The ResNet 50 model needs 4.1 GFLOPs.", ["ResNet-50"]),
    ("ResNet-50x2 and ResNet-50-D are wider.", []),
    ("The 101-layer ResNet has 7.6 billion FLOPs.", ["ResNet-101"]),
    ("ResNet-50 and ResNet-101 need 4.1 and 7.8 GFLOPs.", ["ResNet-50", "ResNet-101"]),
])
def test_names_in_sentences(sentence, found):
    assert names_in(sentence, ["ResNet", "ResNet-50", "ResNet-101"]) == found


def fact(field, value, unit="", norm_unit=None, **kw):
    return {"id": 1, "field": field, "value": value, "unit": unit, "normalized_value": value,
            "normalized_unit": norm_unit or {"compute_per_pass": "flops",
                                             "parameters": "count"}.get(field, "percent"),
            "source": kw.pop("source", "text"), **kw}


@pytest.mark.parametrize("f, why", [
    (fact("compute_per_pass", 209e9, "ms"), "not operations"),
    (fact("compute_per_pass", 3e9, "GFLOPs", source="table",
          extra='{"column": "Throughput (images/s)"}'), "not operations"),
    (fact("compute_per_pass", 12e12, "TFLOPS", source="table",
          extra='{"column": "TFLOPS per GPU (observed)"}'), "not operations"),
    (fact("compute_per_pass", 4e9, "GB", norm_unit="count"), "not operations"),
    (fact("compute_per_pass", 61, "FLOPs"), "outside"),
    (fact("parameters", 12e6, "M", source="table", extra='{"column": "Latency (ms)"}'),
     "not a parameter count"),
    (fact("result", 0.94, "%", metric="top1_accuracy", source="table",
          extra='{"header": "Δ top-1"}'), "difference"),
    (fact("result", 40.1, "%", metric="box_ap", source="table", extra='{"header": "AP_75"}'),
     "partial AP"),
    (fact("result", 44.0, "%", metric="box_ap", source="table", extra='{"header": "M AP"}'),
     "partial AP"),
    (fact("result", 0.94, "%", metric="top1_accuracy",
          evidence="SE blocks improve the top-1 accuracy by 0.94% over the baseline."),
     "margin"),
    (fact("result", 83.3, "%", metric="top1_accuracy", benchmark="imagenet", source="table",
          extra='{"header": "acc. on Inet-real"}'), "another ImageNet"),
    (fact("result", 71.0, "%", metric="top1_accuracy", benchmark="imagenet", source="table",
          extra='{"header": "ImageNet-V2 top-1"}'), "another ImageNet"),
    (fact("result", 50.0, "%", metric="top1_accuracy", benchmark="imagenet", source="table",
          extra='{"header": "Linear 5-shot ImageNet accuracy [%]"}'), "few-shot"),
    (fact("result", 36.3, "%", metric="box_ap", source="table", extra='{"header": "AP 0.75"}'),
     "partial AP"),
    (fact("result", 53.3, "%", metric="box_ap", source="table",
          extra='{"header": "AP_mask ViT-L"}'), "mask AP"),
])
def test_rejected(f, why):
    assert why in (rejected(f) or "")


@pytest.mark.parametrize("f", [
    fact("compute_per_pass", 4.1e9, "GFLOPs", source="table", extra='{"column": "FLOPs (G)"}'),
    fact("compute_per_pass", 569e6, "Mult-Adds", norm_unit="multiply-adds"),
    fact("parameters", 25.6e6, "M", source="table", extra='{"column": "#Params (M)"}'),
    fact("result", 76.1, "%", metric="top1_accuracy",
         evidence="ResNet-50 reaches 76.1% top-1 accuracy, up by 0.9 points."),
    fact("result", 41.0, "%", metric="box_ap", source="table", extra='{"header": "AP"}'),
    fact("result", 19.3, "%", metric="box_ap", source="table", extra='{"header": "mAP"}'),
    fact("result", 41.9, "%", metric="box_ap", source="table", extra='{"header": "Mask AP_b"}'),
    fact("result", 81.6, "%", metric="top1_accuracy", benchmark="imagenet", source="table",
         extra='{"header": "Top-1 acc. (%)"}'),
])
def test_accepted(f):
    assert rejected(f) is None


def test_protocol_words_count_only_near_the_value():
    few = fact("result", 84.9, metric="top1_accuracy", benchmark="imagenet",
               evidence="ViT-G reaches 90.45% top-1 accuracy and 84.86% with 10-shot linear "
                        "probes.")
    few["value"] = few["normalized_value"] = 84.86
    full = dict(few, value=90.45, normalized_value=90.45)
    assert "few-shot" in rejected(few) and rejected(full) is None


def test_margin_needs_every_mention_to_be_one():
    f = fact("result", 2.1, metric="top5_error",
             evidence="We reach 2.1% top-5 error, beating the runner-up by 2.1%.")
    assert not is_margin(f)


def test_result_and_size_bounds():
    assert result_rejected("imagenet", "top1_accuracy", 100 - 0.803)  # a fraction
    assert result_rejected("imagenet", "top1_error", 23.4) is None
    assert result_rejected("coco", "box_ap", 100 - 41.0) is None
    assert unusual("imagenet", "compute_per_pass", 2e13)  # a detector's compute
    assert unusual("imagenet", "compute_per_pass", 4.1e9) is None
    assert unusual("coco", "compute_per_pass", 2e11) is None
    assert unusual("cifar10", "parameters", 5e10)


@pytest.mark.parametrize("text, ensemble", [
    ("5 CNNs", True), ("Ensemble of 5 reversed LSTMs", True), ("an ensemble of 2 models", True),
    ("7 CNNs*", True), ("1 CNN", False), ("ResNet-152", False),
    ("We train with 4.5 GFLOPs per image.", False), ("ResNet-50 (15 layers)", False),
])
def test_ensembles(text, ensemble):
    assert is_ensemble(text) is ensemble
