"""Table-driven rule tests: one positive and one negative sentence per rule (spacy.blank)."""

from __future__ import annotations

import json

import pytest

from extract.nlp import cues, parse_number, regex_rules
from extract.rules_engine import extract_compute_facts
from extract.table_rules import table_facts
from extract.text import PageText


def facts_of(text: str, field: str) -> list:
    page = PageText(1, text)
    return [f for f in extract_compute_facts([page]) if f.field == field and f.confidence >= 0.5]


# (rule id, field, positive sentence, expected normalised value, negative sentence)
CASES = [
    ("params-text-scaled-v1", "parameters",
     "Our network has 60 million parameters and is trained end to end.", 60e6,
     "The learning rate of the parameters is 0.1 for all layers."),
    ("params-text-scaled-v1", "parameters",
     "The resulting LSTM has 384M parameters in total.", 384e6,
     "A larger model of 340M parameters was reported by Smith et al. [12]."),
    ("params-text-scaled-v1", "parameters",
     "A DenseNet-201 with 20M parameters yields a similar error.", 20e6,
     "It matches a 101-layer ResNet with more than 40M parameters."),
    ("params-text-large-v1", "parameters",
     "The model has 1,200,000 trainable parameters.", 1.2e6,
     "We use 1,200,000 training images."),
    ("params-text-of-v1", "parameters",
     "This yields a total number of parameters of 25.6M for the final model.", 25.6e6,
     "The number of parameters grows with depth."),
    ("compute-text-flops-v1", "compute_per_pass",
     "Our model needs 3.8 GFLOPs per image.", 3.8e9,
     "The GPU sustains 39 TeraFLOPs per second in training."),
    ("compute-text-flops-v1", "compute_per_pass",
     "The network keeps a budget of 1.5 billion multiply-adds at inference.", 1.5e9,
     "Doubling the width increases FLOPs by four times."),
    ("compute-text-flops-v1", "compute_per_pass",
     "The compact variant runs at 524 MFLOPs per image.", 524e6,
     "Prior work does not report tiny models (e.g. complexity less than 150 MFLOPs)."),
    ("compute-text-flops-v1", "compute_per_pass",
     "Our model needs 1.3 GMACs for one forward pass.", 1.3e9,
     "It is 3% more accurate at the cost of 500 MFLOPs."),
    ("epochs-text-v1", "epochs",
     "We trained our models for a total of 7.5 epochs.", 7.5,
     "The learning rate is divided by 10 every 30 epochs."),
    ("epochs-text-v1", "epochs",
     "After tuning, we trained the final model for 90 epochs.", 90,
     "After 5 epochs, we began halving the learning rate every half epoch."),
    ("epochs-text-v1", "epochs",
     "We finetune the model for 30 epochs.", 30,
     "We use a cosine learning rate scheduler with 5-epoch warm up."),
    ("time-text-v1", "training_time",
     "Our single best model took three weeks to train on 32 GPUs.", 504,
     "Their single best model took three weeks to train on 32 GPUs."),
    ("epochs-text-cycles-v1", "epochs",
     "We trained the network for roughly 90 cycles through the training set.", 90,
     "Each layer cycles through the feature maps twice."),
    ("time-text-v1", "training_time",
     "Training took 3.5 days on 8 P100 GPUs.", 84,
     "Inference takes 3 hours on the test set with a CPU."),
    ("time-text-v1", "training_time",
     "The whole model can be trained in two weeks.", 336,
     "Each image is processed in 20 ms per batch."),
]


@pytest.mark.parametrize(("rule_id", "field", "pos", "value", "neg"), CASES)
def test_rule(rule_id: str, field: str, pos: str, value: float, neg: str) -> None:
    got = facts_of(pos, field)
    assert any(f.rule_id == rule_id and abs(f.normalized_value - value) <= 1e-6 * value for f in got), got
    assert all(f.evidence for f in got) and all(f.page == 1 for f in got)
    assert not facts_of(neg, field)


def test_every_regex_rule_has_a_case() -> None:
    ids = {r.id for r in regex_rules()}
    assert ids <= {c[0] for c in CASES}


def test_span_points_at_the_number() -> None:
    text = "Intro words. Our network has 60 million parameters overall."
    f = facts_of(text, "parameters")[0]
    assert text[f.span_start:f.span_end] == "60"


def test_training_time_kinds() -> None:
    wall = facts_of("It takes around 6 days to train a basic model.", "training_time")
    dev = facts_of("Our method takes 140.0 GPU days to pretrain the model.", "training_time")
    assert [f.time_kind for f in wall] == ["wall_clock"] and wall[0].normalized_value == 144
    assert dev and dev[0].time_kind == "device_hours" and dev[0].normalized_value == 3360


HW_CASES = [
    ("We trained our models on one machine with 8 NVIDIA P100 GPUs.", "P100", 8),
    ("Training took five days on two NVIDIA GTX 580 3GB GPUs.", "GTX 580", 2),
    ("We pretrain our model using 1024 V100 GPUs for one day.", "V100", 1024),
    ("The model was trained on 2048 TPU v3 cores for a week.", "TPU v3", 1024),
    ("We use a batch size of 64 per GPU and train on 32 GPUs.", "GPU", 32),
]
HW_NEG = [
    "Inference latency is measured on a single V100 GPU with batch size 1.",
    "Experiments on the PASCAL VOC dataset use the standard split.",
    "Our method takes 92 GPU days to store the teacher logits.",
]


@pytest.mark.parametrize(("sentence", "chip", "count"), HW_CASES)
def test_hardware_positive(sentence: str, chip: str, count: float) -> None:
    got = facts_of(sentence, "hardware")
    assert any(f.hardware == chip and f.chip_count == count for f in got), got


@pytest.mark.parametrize("sentence", HW_NEG)
def test_hardware_negative(sentence: str) -> None:
    assert not facts_of(sentence, "hardware")


def test_table_rows_own_vs_cited() -> None:
    text = ("Table 2. Results.\nModel Top-1 Params FLOPs\n"
            "ResNet-50 [12] 76.1 25.6M 4.1G\nOurNet-S 79.8 21.0M 3.2G\nOurNet-B 81.2 45.3M 7.9G\n"
            "This paragraph of prose explains the table in detail and ends here with words.")
    got = [f for f in table_facts(PageText(3, text)) if f.confidence >= 0.5]
    params = sorted(f.normalized_value for f in got if f.field == "parameters")
    flops = sorted(f.normalized_value for f in got if f.field == "compute_per_pass")
    assert params == [21e6, 45.3e6] and flops == [3.2e9, 7.9e9]
    assert all(f.source == "table" and f.model.startswith("OurNet") for f in got)


def test_table_header_scale_words() -> None:
    text = ("Model ImageNet Million Million\nAccuracy Mult-Adds Parameters\n"
            "Conv Net 71.7% 4866 29.3\nSmall Net 70.6% 569 4.2\n")
    got = table_facts(PageText(1, text))
    vals = {(f.field, f.normalized_value) for f in got}
    assert ("compute_per_pass", 569e6) in vals and ("parameters", 4.2e6) in vals
    assert all(f.normalized_unit in ("count", "multiply-adds") for f in got)


def test_cues_from_jsonl() -> None:
    found = cues("As reported in [4] by Smith et al., we trained it.")
    assert {"CITE_CUE", "TRAIN_CUE", "OWN_CUE"} <= set(found)
    assert "INFER_CUE" not in found


@pytest.mark.parametrize(("s", "v"), [("1,024", 1024), ("25.6", 25.6), ("eight", 8), ("2.5k", 2500)])
def test_parse_number(s: str, v: float) -> None:
    assert parse_number(s) == v


def test_rule_files_have_label_and_id() -> None:
    from extract.nlp import RULES_DIR

    for name in ("cues.jsonl", "regex.jsonl", "table_headers.jsonl"):
        for line in (RULES_DIR / name).read_text().splitlines():
            d = json.loads(line)
            assert d["id"] and ("label" in d or "field" in d or "kind" in d)


def test_table_header_abbreviated_and_wrapped() -> None:
    # "Top-1 Acc." ends in a full stop but is a header; "FLOPs" / "(G)" wrap one cell per line
    text = ("Table 3. Scaling up.\nModel FLOPS Top-1 Acc.\nOurNet wide (w=2) 2.2B 74.2%\n"
            "Backbone\nParam\n(M)\nFLOPs\n(G)\nOurNet-L 112 1170\n")
    got = {(f.field, f.normalized_value) for f in table_facts(PageText(1, text))}
    assert ("compute_per_pass", 2.2e9) in got and ("compute_per_pass", 1170e9) in got
    assert ("parameters", 112e6) in got
    # a sentence ending in a full stop is not a header
    prose = "The FLOPs of the model are low.\nOurNet 112 1170\n"
    assert not table_facts(PageText(1, prose))


def test_table_header_spelled_units() -> None:
    text = ("teraflop/s-days Experiment Epochs gigaflops/img\nOurNet-50 118.6 8 3.86\n"
            "Model BFLOPs FPS\nOurNet-53 52 66\n")
    got = {(f.field, f.normalized_value) for f in table_facts(PageText(1, text))}
    assert got == {("compute_per_pass", 3.86e9), ("compute_per_pass", 52e9)}


def test_table_own_rows_by_ours_marker_and_caption() -> None:
    # no own names known: "(ours)" rows are own, other named rows are baselines
    text = ("Model Params(M) FLOPs(B) Top-1(%)\nSwin-T 29 4.5 81.3\nsNet-T (ours) 24.1 5.0 81.9\n")
    got = [f for f in table_facts(PageText(1, text), []) if f.confidence >= 0.5]
    assert sorted(f.normalized_value for f in got) == [24.1e6, 5.0e9]
    # the caption names the paper's own model family
    text = ("Network #Param MAdds Top-1\nResNet-18 11.1M 1.81G 70.4\nXY-ResNet-18 42.7M 1.85G 72.7\n"
            "Table 8. ImageNet classification results of XY-CNNs. The\n")
    got = [f for f in table_facts(PageText(1, text), ["Other"]) if f.confidence >= 0.5]
    assert sorted(f.normalized_value for f in got) == [42.7e6, 1.85e9]
    # a caption comparing "with" a baseline does not make it own
    text = text.replace("results of XY-CNNs", "comparison with XY-CNNs")
    got = [f for f in table_facts(PageText(1, text), ["Other"]) if f.confidence >= 0.5]
    assert len(got) == 4


def test_table_caption_continuation_and_row_settings() -> None:
    # the caption goes on over a line naming MACs: that line is not the header
    text = ("Table 4: Our performance compared to state-of-the-art\n"
            "models. MACs (multiply-accumulate operations) and Throughput are measured\n"
            "with a V100 GPU and batch size 64.\n"
            "Model Top-1 #Params MACs Throughput Input (%) (M) (G) (images/s)\n"
            "5-10M #Params\n"
            "OurNet-5M 79.1 5.4 1.3 3,060 224\n")
    got = {(f.field, f.normalized_value) for f in table_facts(PageText(1, text))}
    assert got == {("parameters", 5.4e6), ("compute_per_pass", 1.3e9)}
    # "w=3.8" settings in a row label are not cells
    text = "Model FLOPS Top-1 Acc.\nScale by width (w=3.8) 2.2B 74.2%\nw=3.8 w=5.0\n"
    got = [f.normalized_value for f in table_facts(PageText(1, text))]
    assert got == [2.2e9]


def test_table_abbreviated_params_column() -> None:
    text = "N Top-1 (%) Top-5 (%) Para. (M) FLOPs (B)\n1 56.7 82.0 6.5 1.3\n3 79.6 94.1 18 3.6\n"
    got = sorted((f.field, f.normalized_value) for f in table_facts(PageText(1, text)))
    assert got == [("compute_per_pass", 1.3e9), ("compute_per_pass", 3.6e9),
                   ("parameters", 6.5e6), ("parameters", 18e6)]
    # "Para." in a sentence is not a column
    assert not [f for f in table_facts(PageText(1, "See Para. 3 for FLOPs.\n1 56.7 82.0\n"))
                if f.field == "parameters"]


def test_epoch_axis_labels_are_not_a_row() -> None:
    from extract.table_rules import row_facts
    assert not row_facts(PageText(1, "Epoch-8 Epoch-9 Epoch-10 Epoch-11\n"))
    assert [f.normalized_value for f in row_facts(PageText(1, "# Epochs 300 400\n"))] == [300, 400]


def test_table_prefixed_rows_are_the_papers_method() -> None:
    text = ("Networks #Param MAdds AP\nResNet-18 10.6M 1.77G 67.0\nXY-ResNet-18 42.2M 1.81G 68.6\n"
            "MobileNetV2 2.2M 292.6M 64.7\nXY-MobileNetV2 9.8M 305.3M 67.6\n"
            "OtherNet-S 1.1M 62.7M 57.1\n")
    got = [f for f in table_facts(PageText(1, text), ["OtherNet"]) if f.confidence >= 0.5]
    assert sorted(f.normalized_value for f in got if f.field == "parameters") == [1.1e6, 9.8e6, 42.2e6]
    # a single prefixed pair is not enough to call the prefix the paper's own
    one = "\n".join(ln for ln in text.split("\n") if "MobileNetV2" not in ln)
    got = [f for f in table_facts(PageText(1, one), ["OtherNet"]) if f.confidence >= 0.5]
    assert sorted(f.normalized_value for f in got if f.field == "parameters") == [1.1e6]


def test_figure_axis_ticks_are_not_table_rows() -> None:
    head = "Model Params FLOPs\n"
    assert not table_facts(PageText(1, head + "101 102 103\n20M 40M 80M\n"))
    got = table_facts(PageText(1, head + "OurNet 21.7 4.1\n"))
    assert sorted(round(f.normalized_value) for f in got) == [21.7e6, 4.1e9]


def test_transposed_size_rows() -> None:
    from extract.table_rules import row_facts
    got = row_facts(PageText(1, "FC 1000 1000 1000\nComplexity 143M 140M 137M\n#Params (M) 3.4 5.4\n"))
    assert sorted((f.field, f.normalized_value) for f in got) == [
        ("compute_per_pass", 137e6), ("compute_per_pass", 140e6), ("compute_per_pass", 143e6),
        ("parameters", 3.4e6), ("parameters", 5.4e6)]
    # unscaled cells, cited rows and prose are left alone
    assert not row_facts(PageText(1, "FLOPs 4 5 6\nParams [12] 3.4M 5.4M\nFLOPs of 3.4M and 5.4M\n"))


def test_regex_rule_anchors_are_in_every_match() -> None:
    # a rule's anchors let a page without them skip its scan: every match must hold one
    text = ("We train 60 million parameters for 90 epochs (12 hours on 8 GPUs), 4.1 GFLOPs, "
            "600M Mult-Adds, 2 passes through the training data; 1,234,567 weights; "
            "params of 3M; twelve epochs; 300 MACs; 5 multiply-accumulates.")
    for rule in regex_rules():
        matches = [m.group(0) for m in rule.regex.finditer(text)]
        assert matches or not rule.anchors, rule.id
        for m in matches:
            assert rule.may_match(m), (rule.id, m)
    assert not next(r for r in regex_rules() if r.id == "epochs-text-v1").may_match("no such word")


def test_software_citations_do_not_make_hardware_cited() -> None:
    from extract.rules_engine import _hardware_facts
    from extract.text import PageText

    own = PageText(1, "The implementation is based on the mmdetection [4] codebase and the "
                      "experiments are run on 8 NVIDIA A100 GPUs.")
    facts = _hardware_facts(own, 2021, 6)
    assert [(f.hardware, f.chip_count) for f in facts] == [("A100", 8.0)]
    assert facts[0].confidence >= 0.5
    cited = PageText(1, "ResNet [12] was trained on 8 NVIDIA V100 GPUs for two weeks.")
    assert all(f.confidence < 0.5 for f in _hardware_facts(cited, 2021, 6))


def test_hardware_timed_on_one_image_is_not_training_hardware() -> None:
    from extract.rules_engine import _hardware_facts
    from extract.text import PageText

    page = PageText(1, "Our network with 6 scales takes around 2 secs on a K20x GPU to process one image.")
    assert _hardware_facts(page, 2013, 12) == []
    page = PageText(1, "Our network takes five days to train on a K20x GPU.")
    assert [f.hardware for f in _hardware_facts(page, 2013, 12)] == ["K20X"]


def test_estimated_training_times_are_below_the_cut() -> None:
    from extract.rules_engine import extract_compute_facts
    from extract.text import PageText

    def times(text: str) -> list[tuple[float, float]]:
        return [(f.normalized_value, f.confidence) for f in
                extract_compute_facts([PageText(1, text)], year=2019, month=1)
                if f.field == "training_time"]

    est = times("A rough estimate suggests that the network could be trained to convergence "
                "within a week.")
    assert est and all(c < 0.5 for _, c in est)
    stated = times("It could be trained using a standard cloud TPUv3 with 8 cores in "
                   "approximately 30 days.")
    assert stated == [(720.0, 0.7)]
