"""Table-driven sentence-rule tests: one positive and one negative sentence per rule (spacy.blank).

Tables are read by position (tests/test_extract_tables.py); these are the rules over
running text (extract/rules/regex.jsonl, extract/rules_engine.py).
"""

from __future__ import annotations

import json

import pytest

from extract.nlp import cues, parse_number, regex_rules
from extract.rules_engine import extract_compute_facts
from extract.text import PageText


def facts_of(text: str, field: str) -> list:
    page = PageText(1, text)
    return [f for f in extract_compute_facts([page]) if f.field == field and f.confidence >= 0.5]


def candidates_of(text: str, field: str) -> list:
    """Every candidate of a field, whatever the rule's confidence (the scorer decides)."""
    return [f for f in extract_compute_facts([PageText(1, text)]) if f.field == field]


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
     "The dataset holds 20M images and 5M captions."),
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
     "Our models take 600 TFLOPs-days to train."),
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


# Candidate generation (DIAGNOSIS.md 3.3): ranges, lists, sets, scientific notation, word
# numbers. (rule id, field, sentence, the normalised values it gives, a negative sentence
# and the values it must not give, None for no candidate of the field at all)
GENERATION = [
    ("time-text-v1", "training_time", "Training takes 1-4 hours on a single GPU.", [1, 4],
     "It runs at 30 frames per second on 1-4 GPUs.", None),
    ("time-text-v1", "training_time", "We trained the model for five to six days.", [120, 144],
     "The five to six days of the conference were long.", None),
    ("time-text-v1", "training_time", "Training took 45 minutes on 8 GPUs.", [0.75],
     "We trained it for 12 hours; each epoch takes 3 minutes.", [0.05]),
    ("time-text-v1", "training_time", "The model is trained for 2-3 weeks.", [336, 504],
     "The model is evaluated every 2-3 hours of training time per epoch.", None),
    ("time-text-between-v1", "training_time",
     "Training the model takes between 2 and 3 days on 8 GPUs.", [48, 72],
     "Inference takes between 2 and 3 hours on the test set.", None),
    ("epochs-text-list-v1", "epochs", "The number of epochs in {3, 20} is chosen on the dev set.",
     [3, 20], "The learning rate is searched in {1e-4, 3e-4} for all epochs.", None),
    ("epochs-text-list-v1", "epochs", "Epochs: {1k, 3k}", [1000, 3000],
     "We use kernel sizes in {3, 5} and train for a while.", None),
    ("epochs-text-colon-v1", "epochs", "Training epochs = 300", [300],
     "The number of epochs is tuned on the dev set.", None),
    ("epochs-text-colon-v1", "epochs", "Number of epochs: 3, 5 and 10.", [3, 5, 10],
     "Number of layers: 3, 5 and 10.", None),
    ("params-text-list-v1", "parameters", "We train models with 110M and 340M parameters.",
     [110e6, 340e6], "We train on 110M and 340M tokens.", None),
    ("params-text-sci-v1", "parameters", "The network has 13.6 · 10^6 parameters.", [13.6e6],
     "The corpus has 13.6 · 10^6 tokens.", None),
    ("params-text-after-v1", "parameters", "Number of parameters: 12M for the encoder.", [12e6],
     "The parameters are 12 layers deep.", None),
    ("params-text-between-v1", "parameters",
     "We vary the model size between 10M and 20M parameters.", [10e6, 20e6],
     "We vary the depth between 10 and 20 layers.", None),
    ("compute-text-flops-v1", "compute_per_pass", "The model uses 569 Million mult-adds.",
     [569e6], "The model uses 569 million images.", None),
    ("compute-text-flops-v1", "compute_per_pass", "The model needs 0.6 Billion FLOPs per image.",
     [0.6e9], "Each V100 gives 15.7 TFLOPs per second.", None),
]


def _has(values: list[float], want: float) -> bool:
    return any(abs(v - want) <= 1e-6 * want for v in values)


@pytest.mark.parametrize(("rule_id", "field", "pos", "values", "neg", "not_values"), GENERATION)
def test_candidate_generation(rule_id: str, field: str, pos: str, values: list[float], neg: str,
                              not_values: list[float] | None) -> None:
    got = candidates_of(pos, field)
    mine = [f.normalized_value for f in got if f.rule_id == rule_id]
    for want in values:
        assert _has(mine, want), (want, [(f.rule_id, f.normalized_value) for f in got])
    for f in got:
        # the number as written, with the unit it is in: a list's later members keep their own
        assert f.value is not None and f.evidence and f.page == 1
    bad = [f.normalized_value for f in candidates_of(neg, field)]
    if not_values is None:
        assert not bad, bad
    else:
        assert not any(_has(bad, v) for v in not_values), bad


def test_a_list_member_keeps_its_own_stated_value() -> None:
    got = {(f.value, f.normalized_value) for f in candidates_of(
        "We train models with 110M and 340M parameters.", "parameters")
        if f.rule_id == "params-text-list-v1"}
    assert got == {(110.0, 110e6), (340.0, 340e6)}
    got = {(f.value, f.unit, f.normalized_value) for f in candidates_of(
        "Sizes range between 60 million and 3 billion parameters.", "parameters")
        if f.rule_id == "params-text-between-v1"}
    assert got == {(60.0, "million", 60e6), (3.0, "billion", 3e9)}


@pytest.mark.parametrize(("sentence", "field", "value"), [
    ("Our model has less than 25 million parameters.", "parameters", 25e6),
    ("It matches a 101-layer ResNet with more than 40M parameters.", "parameters", 40e6),
    ("It is 3% more accurate at the cost of 500 MFLOPs.", "compute_per_pass", 500e6),
    ("Our model has up to 5 GFLOPs.", "compute_per_pass", 5e9),
])
def test_bounds_are_candidates_marked_bound(sentence: str, field: str, value: float) -> None:
    got = [f for f in candidates_of(sentence, field) if _has([f.normalized_value], value)]
    assert got and all(f.extra["signals"]["bound"] for f in got)
    plain = sentence.replace("less than ", "").replace("more than ", "").replace(
        "at the cost of ", "").replace("up to ", "")
    same = [f for f in candidates_of(plain, field) if _has([f.normalized_value], value)]
    assert same and not any(f.extra["signals"]["bound"] for f in same)


@pytest.mark.parametrize("sentence", [
    "The V100 offers 125 TFLOPS/GPU peak.",      # a chip's rate
    "The GPU sustains 15 TFLOPS in FP32.",       # tera-scale FLOPS: a rate
    "We reach 120 GFLOPs per GPU.",              # per device
    "It runs at 3.1 GFLOPS/s.",                  # per second
    "Our models take 600 TFLOPs-days to train.",  # a total
])
def test_rates_and_totals_are_not_per_pass_compute(sentence: str) -> None:
    assert not candidates_of(sentence, "compute_per_pass")


def test_peak_context_is_marked() -> None:
    peak = candidates_of("The model needs 4.1 GFLOPs at peak throughput of the GPU.",
                         "compute_per_pass")
    assert peak and all(f.extra["signals"]["peak_context"] for f in peak)
    own = candidates_of("Our model needs 3.8 GFLOPs per image.", "compute_per_pass")
    assert own and not any(f.extra["signals"]["peak_context"] for f in own)


def test_every_regex_rule_has_a_case() -> None:
    ids = {r.id for r in regex_rules()}
    assert ids <= {c[0] for c in CASES} | {c[0] for c in GENERATION}


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


def test_cues_from_jsonl() -> None:
    found = cues("As reported in [4] by Smith et al., we trained it.")
    assert {"CITE_CUE", "TRAIN_CUE", "OWN_CUE"} <= set(found)
    assert "INFER_CUE" not in found


@pytest.mark.parametrize(("s", "v"), [("1,024", 1024), ("25.6", 25.6), ("eight", 8), ("2.5k", 2500)])
def test_parse_number(s: str, v: float) -> None:
    assert parse_number(s) == v


def test_rule_files_have_label_and_id() -> None:
    from extract.nlp import RULES_DIR

    for name in ("cues.jsonl", "regex.jsonl", "columns.jsonl"):
        for line in (RULES_DIR / name).read_text().splitlines():
            d = json.loads(line)
            assert d["id"] and ("label" in d or "field" in d or "kind" in d)


def test_regex_rule_anchors_are_in_every_match() -> None:
    # a rule's anchors let a page without them skip its scan: every match must hold one
    text = ("We train 60 million parameters for 90 epochs (12 hours on 8 GPUs), 4.1 GFLOPs, "
            "600M Mult-Adds, 2 passes through the training data; 1,234,567 weights; "
            "params of 3M; twelve epochs; 300 MACs; 5 multiply-accumulates; 110M and 340M "
            "parameters; 13.6 · 10^6 parameters; parameters: 12M; between 10M and 20M "
            "parameters; epochs in {3, 20}; Epochs: 300; between 2 and 3 days.")
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
