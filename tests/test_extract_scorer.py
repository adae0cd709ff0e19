"""The learned scorer (extract/scorer.py), its training (extract/train.py, `dlcompute
train-scorer`) and the scoring that mirrors ../shared/tools/score_extraction.py
(extract/evaluate.py)."""

from __future__ import annotations

import json
import logging
import subprocess
import sys
from pathlib import Path

import pytest

from extract import evaluate, scorer, train
from extract.features import FEATURE_VERSION
from extract.model import Fact
from extract.scorer import ScorerModelError

# ------------------------------------------------------------------ the model file


def _model_file(path: Path, **changes) -> Path:
    data = {"format": scorer.FORMAT, "feature_version": FEATURE_VERSION,
            "models": {"parameters": {"intercept": 0.0, "coef": {"own": 1.0}}}} | changes
    path.write_text(json.dumps(data), encoding="utf-8")
    return path


@pytest.mark.parametrize("changes", [{"feature_version": "0"}, {"format": "something/9"}])
def test_a_model_of_another_version_is_refused(tmp_path: Path, changes: dict) -> None:
    path = _model_file(tmp_path / "model.json", **changes)
    with pytest.raises(ScorerModelError, match="retrain: dlcompute train-scorer"):
        scorer.load_model(str(path))
    assert scorer.load_model(str(_model_file(tmp_path / "ok.json")))["models"]


def test_without_a_usable_model_candidates_keep_the_rules_confidence(
        tmp_path: Path, monkeypatch, caplog) -> None:
    monkeypatch.setattr(scorer, "MODEL_PATH", _model_file(tmp_path / "old.json",
                                                          feature_version="0"))
    scorer.load_model.cache_clear()
    scorer._shipped_model.cache_clear()
    try:
        text = Fact(field="parameters", value=1, unit="M", normalized_value=1e6,
                    normalized_unit="count", page=1, span_start=0, span_end=1, evidence="x",
                    rule_id="r", confidence=0.8, source="text")
        cited = Fact(field="parameters", value=1, unit="M", normalized_value=1e6,
                     normalized_unit="count", page=1, span_start=-1, span_end=-1, evidence="x",
                     rule_id="col", confidence=0.5, source="table",
                     extra={"features": {"row_cited": 1.0}})
        with caplog.at_level(logging.WARNING, logger="extract.scorer"):
            scorer.score_facts([text, cited])
        assert "train-scorer" in caplog.text
        assert text.confidence == 0.8 and cited.confidence < 0.5
    finally:
        scorer.load_model.cache_clear()
        scorer._shipped_model.cache_clear()


def test_the_shipped_model_is_usable() -> None:
    data = scorer.load_model()
    assert data is not None and data["feature_version"] == FEATURE_VERSION
    assert set(data["models"]) <= set(scorer.FIELDS)


# ------------------------------------------------------------------- probability

TINY = {"intercept": -1.0, "coef": {"own": 2.0, "cited": -3.0}}


@pytest.mark.parametrize(("features", "p"), [
    ({}, 0.268941),                      # 1 / (1 + e^1)
    ({"own": 1.0}, 0.731059),            # z = 1
    ({"cited": 1.0}, 0.017986),          # z = -4
    ({"own": 1.0, "cited": 1.0}, 0.119203),  # z = -2
    ({"unknown": 5.0}, 0.268941),        # a feature the model does not know adds nothing
    ({"own": 0.5}, 0.5),
])
def test_probability_of_a_hand_made_model(features: dict, p: float) -> None:
    assert scorer.probability(TINY, features) == pytest.approx(p, abs=1e-6)


def test_probability_does_not_overflow() -> None:
    assert scorer.probability(TINY, {"own": 1e9}) == pytest.approx(1.0)
    assert 0.0 < scorer.probability(TINY, {"cited": 1e9}) < 1e-15


def test_score_facts_sets_the_fields_it_decides() -> None:
    model = {"models": {"parameters": TINY}}
    own = Fact(field="parameters", value=1, unit="M", normalized_value=1e6,
               normalized_unit="count", page=1, span_start=0, span_end=1, evidence="x",
               rule_id="r", confidence=0.1, extra={"features": {"own": 1.0}})
    chip = Fact(field="hardware", value=8, unit=None, normalized_value=8, normalized_unit="chips",
                page=1, span_start=0, span_end=1, evidence="x", rule_id="hw", confidence=0.75)
    epochs = Fact(field="epochs", value=90, unit="epochs", normalized_value=90,
                  normalized_unit="epochs", page=1, span_start=0, span_end=1, evidence="x",
                  rule_id="e", confidence=0.75, source="text")
    scorer.score_facts([own, chip, epochs], model)
    assert own.confidence == pytest.approx(0.731, abs=1e-3)
    assert chip.confidence == 0.75  # hardware keeps the catalog rules' confidence
    assert epochs.confidence == 0.75  # no model for the field: the rule's own


# ------------------------------------------------------------------------ training

def _cand(field: str, value: float, label: int | None, **features: float) -> dict:
    return {"field": field, "normalized_value": value, "label": label,
            "extra": {"features": {"bias": 1.0, **features}}}


def _papers(n: int = 6) -> list[train.Paper]:
    """Own rows labelled 1, cited rows 0; a noise feature on both."""
    out = []
    for i in range(n):
        facts = []
        for j in range(4):
            facts.append(_cand("parameters", (i * 10 + j + 1) * 1e6, 1, own=1.0,
                               noise=float(j % 2)))
            facts.append(_cand("parameters", (i * 10 + j + 1) * 3e6, 0, row_cited=1.0,
                               noise=float((j + 1) % 2)))
        facts.append(_cand("parameters", 7e9, None, own=1.0))  # the labels do not tell
        facts.append(_cand("epochs", 90.0 + i, 1, own=1.0))     # one class only
        out.append(train.Paper(f"p{i}", {}, facts))
    return out


def test_fit_learns_the_obvious_direction() -> None:
    models = train.fit(_papers())
    m = models["parameters"]
    assert m["coef"]["own"] > 0 > m["coef"]["row_cited"]
    assert abs(m["coef"].get("noise", 0.0)) < abs(m["coef"]["own"])
    assert m["candidates"] == 48 and m["positives"] == 24  # unlabelled ones left out
    assert scorer.probability(m, {"own": 1.0}) > 0.5 > scorer.probability(m, {"row_cited": 1.0})
    assert "epochs" not in models  # nothing to tell apart


def test_retraining_from_the_same_candidates_gives_the_same_file(tmp_path: Path) -> None:
    labels = {"p0": {"arxiv_id": "p0", "parameters": [{"value": 1e6}]}}
    files = []
    for k in range(2):
        papers = _papers()
        data = train.model_file(train.fit(papers), labels, papers)
        train.write_model(data, tmp_path / f"model{k}.json")
        files.append((tmp_path / f"model{k}.json").read_bytes())
    assert files[0] == files[1]
    data = json.loads(files[0])
    assert data["feature_version"] == FEATURE_VERSION and data["format"] == scorer.FORMAT
    assert data["labels_sha256"] == train.labels_hash(labels) != train.labels_hash({})
    scorer.check_model(data)


@pytest.mark.parametrize(("field", "value", "want"), [
    ("parameters", 25.6e6, 1),
    ("parameters", 25.6e6 * 1.019, 1),   # within 2%
    ("parameters", 25.6e6 * 0.981, 1),
    ("parameters", 25.6e6 * 1.03, 0),
    ("compute_per_pass", 4.1e9, 1),      # from the paper's observation rows
    ("compute_per_pass", 8.2e9, 0),
    ("training_time", 72.0, 1),          # the label is training_time_hours
    ("epochs", 90.0, 0),
    ("hardware", 8.0, None),             # not a field the scorer decides
    ("parameters", None, None),
])
def test_label_fact_numbers(field: str, value: float | None, want: int | None) -> None:
    labels = {"parameters": [{"value": 25.6e6}], "training_time_hours": [{"value": 72.0}],
              "epochs": [{"value": 300}],
              "observations": [{"parameters": None, "compute_per_pass": 4.1e9}]}
    assert train.label_fact({"field": field, "normalized_value": value}, labels) == want


def _result(metric: str, value: float, bench: str = "imagenet") -> dict:
    return {"field": "result", "benchmark": bench, "metric": metric, "normalized_value": value}


@pytest.mark.parametrize(("fact", "want"), [
    (_result("top1_accuracy", 80.05), 1),     # the labelled headline, within 0.1
    (_result("top1_error", 20.0), 1),         # the same result as an error
    (_result("top1_accuracy", 78.0), None),   # weaker, unlabelled: cannot change the headline
    (_result("top1_accuracy", 82.0), 0),      # would beat the labelled best: not the paper's
    (_result("top1_accuracy", 80.0, "cifar10"), 0),  # a benchmark the labels do not report
    (_result("top5_accuracy", 95.0), 0),      # a metric the labels do not report
    (_result("perplexity", 20.0), None),      # not a metric family of the labels
])
def test_label_fact_results_by_headline(fact: dict, want: int | None) -> None:
    labels = {"results": [{"benchmark": "imagenet", "metric": "top1_accuracy", "value": 80.0},
                          {"benchmark": "imagenet", "metric": "top1_accuracy", "value": 76.0}]}
    assert train.label_fact(fact, labels) == want


def test_label_fact_weaker_result_of_a_fully_labelled_paper_is_not_own() -> None:
    # a paper whose own rows are all labelled (observations): an unlabelled row is not own
    labels = {"results": [{"benchmark": "imagenet", "metric": "top1_accuracy", "value": 80.0}],
              "observations": [{"benchmark": "imagenet", "metric": "top1_accuracy",
                                "value": 80.0}]}
    assert train.label_fact(_result("top1_accuracy", 78.0), labels) == 0


# ---------------------------------------------------- scoring as the shared script does

GOLD = [
    {"arxiv_id": "2101.00001",
     "parameters": [{"value": 25.6e6}, {"value": 25.7e6}, {"value": 60e6}],
     "compute_per_pass": [{"value": 4.1e9}],
     "hardware": [{"name": "NVIDIA Tesla V100-SXM2-32GB", "canonical": "V100", "count": 8}],
     "training_time_hours": [{"value": 72}], "epochs": [{"value": 90}, {"value": 300}],
     "results": [{"benchmark": "imagenet", "metric": "top1_accuracy", "value": 79.8},
                 {"benchmark": "imagenet", "metric": "top1_error", "value": 21.0},
                 {"benchmark": "COCO", "metric": "box_ap", "value": 44.0}]},
    {"arxiv_id": "2101.00002", "hardware": [{"name": "TPU v3", "canonical": "TPU v3"}],
     "results": [{"benchmark": "wmt14-en-de", "metric": "bleu", "value": 28.4}],
     "parameters": [], "epochs": [{"value": "n/a"}]},
    {"arxiv_id": "2101.00003", "parameters": [{"value": 1e9}]},
]
PRED = [
    {"arxiv_id": "2101.00001",
     "parameters": [{"value": 25.9e6}, {"value": 61.5e6}, {"value": 5e6}],
     "compute_per_pass": [],
     "hardware": [{"name": "V100", "canonical": "V100", "count": 8},
                  {"name": "GPU", "canonical": "GPU", "count": 8}],
     "training_time_hours": [{"value": 73}], "epochs": [{"value": "90"}, {"value": 91.5}],
     "results": [{"benchmark": "imagenet", "metric": "top1_accuracy", "value": 79.85},
                 {"benchmark": "imagenet", "metric": "top1_accuracy", "value": 75.0},
                 {"benchmark": "coco", "metric": "box_ap", "value": 43.0}]},
    {"arxiv_id": "2101.00002", "hardware": [{"name": "TPU v3", "canonical": "TPU v3",
                                             "count": 16}],
     "results": [{"benchmark": "wmt14-en-de", "metric": "bleu", "value": 28.45},
                 {"benchmark": "wmt14-en-fr", "metric": "bleu", "value": 41.0}]},
    {"arxiv_id": "2101.00004", "parameters": [{"value": 1e9}]},  # not labelled: not scored
]


def test_evaluate_agrees_with_the_shared_script(shared: Path, tmp_path: Path) -> None:
    script = shared / "tools" / "score_extraction.py"
    if not script.is_file():
        pytest.skip(f"{script} is absent")
    gold, pred = tmp_path / "gold.jsonl", tmp_path / "pred.jsonl"
    gold.write_text("".join(json.dumps(g) + "\n" for g in GOLD), encoding="utf-8")
    pred.write_text("".join(json.dumps(p) + "\n" for p in PRED), encoding="utf-8")
    r = subprocess.run([sys.executable, str(script), "--gold", str(gold), "--pred", str(pred),
                        "--json"], capture_output=True, text=True, check=True)
    theirs = json.loads(r.stdout)
    ours = evaluate.score({g["arxiv_id"]: g for g in GOLD}, {p["arxiv_id"]: p for p in PRED})
    assert set(ours) == {*evaluate.FIELDS, "overall"}
    for fld, s in ours.items():
        t = theirs[fld]
        assert (s["predicted"], s["labelled"]) == (t["n_pred"], t["n_gold"]), fld
        for k in ("precision", "recall", "f1"):
            assert s[k] == pytest.approx(t[k]), (fld, k)
    # the pair exercises every field with hits and misses
    assert all(0 < ours[f]["f1"] < 1 for f in ("parameters", "hardware", "results", "overall"))


# ------------------------------------------------------------ `dlcompute train-scorer`

#: three small corpus papers with labels in several fields
TRAIN_PAPERS = ("1409.3215", "1603.01354", "1707.01083")


def _train_cmd(*args: str, cwd: Path) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "dlcompute", "train-scorer", *args], cwd=cwd,
                          capture_output=True, text=True, timeout=600)


def test_train_scorer_end_to_end(shared: Path, corpus: Path, tmp_path: Path) -> None:
    """Fit on three labelled corpus papers, validate leave-one-paper-out, retrain from the
    cached candidates and get the same file (about 30 s)."""
    dev = shared / "gold" / "dev.jsonl"
    if not dev.is_file():
        pytest.skip(f"{dev} is absent")
    labels = [d for d in map(json.loads, dev.read_text(encoding="utf-8").splitlines())
              if d and d["arxiv_id"] in TRAIN_PAPERS]
    if len(labels) < len(TRAIN_PAPERS) or not all((corpus / d["file"]).is_file()
                                                  for d in labels):
        pytest.skip("the three training papers are not all in ../shared")
    gold = tmp_path / "gold"
    gold.mkdir()
    (gold / "dev.jsonl").write_text("".join(json.dumps(d) + "\n" for d in labels),
                                    encoding="utf-8")
    model, lopo, cache = tmp_path / "model.json", tmp_path / "lopo.jsonl", tmp_path / "cache.json"
    r = _train_cmd("--gold", str(gold), "--corpus", str(corpus), "--lopo", str(lopo),
                   "--output", str(model), "--cache", str(cache), "--silent", cwd=tmp_path)
    assert r.returncode == 0, r.stderr
    assert "leave-one-paper-out" in r.stdout and "overall" in r.stdout
    data = json.loads(model.read_text(encoding="utf-8"))
    scorer.check_model(data)
    assert data["papers"] == 3 and data["models"]
    assert data["labels_sha256"] == train.labels_hash(train.load_labels([gold / "dev.jsonl"]))
    preds = [json.loads(ln) for ln in lopo.read_text(encoding="utf-8").splitlines()]
    assert sorted(p["arxiv_id"] for p in preds) == sorted(TRAIN_PAPERS)
    assert all(set(evaluate.FIELDS) <= set(p) for p in preds)
    script = shared / "tools" / "score_extraction.py"
    if script.is_file():  # the official scorer reads the predictions as they are
        s = subprocess.run([sys.executable, str(script), "--gold", str(gold / "dev.jsonl"),
                            "--pred", str(lopo), "--json"], capture_output=True, text=True,
                           check=True)
        assert json.loads(s.stdout)["papers"] == 3
    # the same labels and candidates give the same file
    again = tmp_path / "again.json"
    r = _train_cmd("--gold", str(gold), "--corpus", str(corpus), "--output", str(again),
                   "--cache", str(cache), "--silent", cwd=tmp_path)
    assert r.returncode == 0, r.stderr
    assert again.read_bytes() == model.read_bytes()


@pytest.mark.parametrize(("args", "words"), [
    (["--gold", "no-such-folder"], ["no gold labels at no-such-folder", "--gold"]),
    (["--gold", "empty"], ["no label files", "dev.jsonl", "empty"]),
    (["--gold", "labels", "--corpus", "no-pdfs"], ["no PDF folder at no-pdfs", "--corpus"]),
])
def test_train_scorer_bad_inputs_are_one_line_errors(tmp_path: Path, args: list[str],
                                                     words: list[str]) -> None:
    (tmp_path / "empty").mkdir()
    (tmp_path / "labels").mkdir()
    (tmp_path / "labels" / "dev.jsonl").write_text(json.dumps(GOLD[0]) + "\n", encoding="utf-8")
    r = _train_cmd(*args, "--output", "model.json", cwd=tmp_path)
    assert r.returncode == 1
    assert r.stderr.startswith("Error: ") and r.stderr.strip().count("\n") == 0, r.stderr
    assert "Traceback" not in r.stderr
    for w in words:
        assert w in r.stderr, r.stderr
    assert not (tmp_path / "model.json").exists()
