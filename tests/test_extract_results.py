"""Benchmark results: sentences (extract.results), tables read by position
(extract.tables -> extract.result_tables), the result-only features and the headline
pass (extract.result_features), and real corpus PDFs."""

from __future__ import annotations

import json

import pytest

from extract.candidates import TableContext
from extract.layout import Word, group_lines
from extract.model import Fact
from extract.result_features import headline_pass, peer_index, result_features
from extract.result_tables import result_candidates
from extract.result_text import text_results
from extract.results import (
    PaperContext,
    extract_results,
    load_rules,
    paper_context,
    unspace_caps,
)
from extract.tables import read_tables
from extract.text import PageText


def _pages(*texts: str) -> list[PageText]:
    return [PageText(i + 1, t) for i, t in enumerate(texts)]


def _text_facts(sentence: str) -> set[tuple[str, str, float]]:
    pages = _pages(sentence)
    return {(f.benchmark, f.metric, f.value) for f in text_results(pages, paper_context(pages))}


# --------------------------------------------------------------------- sentences

# (sentence, a (benchmark, metric, value) it states)
TEXT_CASES = [
    ("We achieve 21.2% top-1 and 5.6% top-5 error on the ILSVRC 2012 validation set.",
     ("imagenet", "top1_error", 21.2)),
    ("We achieve 21.2% top-1 and 5.6% top-5 error on the ILSVRC 2012 validation set.",
     ("imagenet", "top5_error", 5.6)),
    ("Our big model establishes a new state-of-the-art BLEU score of 28.4 on the WMT 2014 "
     "English-to-German translation task.", ("wmt14-en-de", "bleu", 28.4)),
    ("Our model obtains an F1 of 92.2 on the CoNLL-2003 NER task.", ("conll2003", "f1", 92.2)),
    ("On CIFAR-10 our network reaches 3.46% test error.", ("cifar10", "top1_error", 3.46)),
    # a benchmark name broken over a line ("CIFAR- 10") is still CIFAR-10, not CIFAR-100
    ("Our network achieves 4.99% test error on CIFAR- 10 and 21.71% test error on CIFAR-100.",
     ("cifar10", "top1_error", 4.99)),
    ("Our network achieves 4.99% test error on CIFAR- 10 and 21.71% test error on CIFAR-100.",
     ("cifar100", "top1_error", 21.71)),
    # the second value of a list takes the first one's metric
    ("On CIFAR-10, our CNN achieved a 13% test error rate without normalization and 11% "
     "with normalization.", ("cifar10", "top1_error", 11.0)),
    # "from X to Y": the value reached
    ("We improve ImageNet top-5 accuracy from 80.3% (i.e. AlexNet-level) with a 4.8MB model "
     "to 86.0% with a 19MB model.", ("imagenet", "top5_accuracy", 86.0)),
]
# sentences that state no result of a tracked benchmark
NEGATIVE_TEXT = [
    "On ImageNet our model improves top-1 accuracy by 2.9% over MobileNetV3.",  # a delta
    "We achieve 81.6% mAP on PASCAL VOC 2007 with models trained on COCO.",  # untracked
    # a downsampled ImageNet is another benchmark
    "On the downsampled ImageNet 32x32 our network reaches a top-1 error of 39.2%.",
]


@pytest.mark.parametrize(("sentence", "expected"), TEXT_CASES)
def test_sentence_states_a_result(sentence: str, expected: tuple) -> None:
    assert expected in _text_facts(sentence)


@pytest.mark.parametrize("sentence", NEGATIVE_TEXT)
def test_sentence_without_a_tracked_result(sentence: str) -> None:
    assert _text_facts(sentence) == set()


def test_f1_continues_the_only_f1_benchmark_of_the_paper() -> None:
    text = ("We evaluate on SQuAD v1.1. Adapters of size 64 attain a best F1 of 90.4%, "
            "while fine-tuning attains 90.7.")
    assert ("squad1.1", "f1", 90.4) in _text_facts(text)
    # with two F1 benchmarks in the paper, a sentence naming neither is not guessed
    two = text + " We also report CoNLL-2003 NER results."
    assert ("squad1.1", "f1", 90.4) not in _text_facts(two)


def test_sentence_keeps_the_words_around_its_number() -> None:
    pages = _pages("The best F1 score of 90.90% on CoNLL 2003 was reported in "
                   "(Passos et al., 2014).")
    (fact,) = text_results(pages, paper_context(pages))
    feats: dict[str, float] = {}
    result_features(fact, feats, [fact])
    assert feats["t_cited_after"] == 1.0 and feats["t_cited"] == 1.0 and not feats["t_we"]


def test_paper_names_its_ablation_dataset() -> None:
    pages = _pages("We propose FooNet. The ablation study is conducted on a subset of "
                   "ImageNet-1K, which we term ImageNet100.")
    assert paper_context(pages).ablation_bench == "other"
    pages = _pages("All ablations are run on CIFAR-10 with the same schedule.")
    assert paper_context(pages).ablation_bench == "cifar10"


@pytest.mark.parametrize(("text", "want"), [
    ("E N -D E", "EN-DE"), ("P ROPOSED + W ORD", "PROPOSED + WORD"),
    ("GN GN", "GN GN"), ("A BERT model", "A BERT model"), ("ResNet-50 (ours)", "ResNet-50 (ours)"),
])
def test_small_capitals_are_joined(text: str, want: str) -> None:
    assert unspace_caps(text) == want


# ------------------------------------------------------------------------ tables

def _words(y: float, cells: list[tuple[float, str]], size: float = 8.0, bold: bool = False
           ) -> list[Word]:
    """Words of one line set at x positions (5 pt a character, 3 pt between words)."""
    out = []
    for x, text in cells:
        for tok in text.split():
            out.append(Word(tok, x, x + 5 * len(tok), y, y + size, bold=bold))
            x += 5 * len(tok) + 3
    return out


def _results(lines_words: list[list[Word]], page_text: str = "",
             ctx: PaperContext | None = None) -> list[Fact]:
    rules = load_rules()
    lines = group_lines([w for ws in lines_words for w in ws])
    out = []
    for t in read_tables(lines, 1, 612.0, two_column=False):
        tc = TableContext(t, ctx or PaperContext(), _benches(page_text, rules), rules)
        out += result_candidates(tc)
    return out


def _benches(text: str, rules) -> tuple[str, ...]:
    from extract.results import benches_on_page

    return benches_on_page(text, rules)


def _got(facts: list[Fact]) -> set[tuple]:
    return {(f.model, f.benchmark, f.metric, f.value) for f in facts}


def test_header_line_printed_as_numbers() -> None:
    """"CIFAR | CIFAR" over "10 | 100": the second header line is numbers, not a row."""
    facts = _results([
        _words(80, [(70, "Model"), (200, "FLOPs"), (260, "CIFAR"), (320, "CIFAR"), (380, "Cars")]),
        _words(92, [(265, "10"), (322, "100")]),
        _words(104, [(70, "ViT-B [3]"), (200, "55.5B"), (260, "98.1"), (320, "87.1"),
                     (380, "89.5")]),
        _words(116, [(70, "FooNet"), (200, "6.0B"), (260, "98.7"), (320, "89.5"), (380, "89.7")]),
        _words(140, [(70, "Table 4: Transfer learning: top-1 accuracy.")]),
    ])
    assert _got(facts) == {
        ("ViT-B [3]", "cifar10", "top1_accuracy", 98.1), ("ViT-B [3]", "cifar100", "top1_accuracy", 87.1),
        ("FooNet", "cifar10", "top1_accuracy", 98.7), ("FooNet", "cifar100", "top1_accuracy", 89.5)}


def test_ap_subscripts_on_their_own_line_are_ap_variants() -> None:
    facts = _results([
        _words(80, [(70, "Backbone"), (200, "AP"), (250, "AP"), (300, "AP"), (350, "AP")]),
        _words(88, [(262, "50"), (312, "75"), (362, "S")], size=6),
        _words(100, [(70, "FooNet-S"), (200, "41.0"), (250, "63.1"), (300, "44.8"), (350, "24.1")]),
        _words(112, [(70, "ResNet-50"), (200, "38.0"), (250, "58.6"), (300, "41.4"), (350, "21.0")]),
        _words(130, [(70, "Table 3: Object detection on COCO val2017.")]),
    ])
    assert {(f.model, f.value) for f in facts} == {("FooNet-S", 41.0), ("ResNet-50", 38.0)}
    assert all(f.metric == "box_ap" and f.benchmark == "coco" for f in facts)


def test_repeated_ap_headers_keep_only_the_first() -> None:
    """Subscripts lost altogether: AP, AP, AP over one group are AP, AP_50, AP_75."""
    facts = _results([
        _words(80, [(70, "Method"), (200, "AP"), (250, "AP"), (300, "AP")]),
        _words(92, [(70, "FooDet"), (200, "44.1"), (250, "65.7"), (300, "48.1")]),
        _words(104, [(70, "BarDet"), (200, "43.2"), (250, "63.9"), (300, "46.2")]),
        _words(124, [(70, "Table 2: COCO detection results.")]),
    ])
    assert {f.value for f in facts} == {44.1, 43.2}


def test_group_headers_centred_over_their_columns() -> None:
    """"POS" over Dev|Test and "NER" over Dev|Test: the POS columns are another task and
    the NER ones keep their split."""
    facts = _results([
        _words(70, [(225, "POS"), (345, "NER")]),
        _words(82, [(200, "Dev"), (250, "Test"), (320, "Dev"), (370, "Test")]),
        _words(94, [(70, "Model"), (200, "Acc."), (250, "Acc."), (320, "F1"), (370, "F1")]),
        _words(106, [(70, "FooTagger"), (200, "97.46"), (250, "97.55"), (320, "94.74"),
                     (370, "91.21")]),
        _words(118, [(70, "BarTagger"), (200, "96.88"), (250, "96.93"), (320, "91.57"),
                     (370, "87.00")]),
        _words(140, [(70, "Table 3: Results on the CoNLL 2003 data.")]),
    ], "CoNLL 2003")
    got = {(f.model, f.split, f.value) for f in facts}
    assert got == {("FooTagger", "dev", 94.74), ("FooTagger", "test", 91.21),
                   ("BarTagger", "dev", 91.57), ("BarTagger", "test", 87.0)}
    assert all(f.benchmark == "conll2003" and f.metric == "f1" for f in facts)


def test_datasets_as_rows_models_as_columns() -> None:
    """A transfer table: rows name benchmarks, columns models (one pre-trained on JFT)."""
    facts = _results([
        _words(80, [(200, "Ours-JFT"), (280, "BiT-L [4]")]),
        _words(92, [(70, "ImageNet"), (200, "88.55"), (280, "87.54")]),
        _words(104, [(70, "CIFAR-10"), (200, "99.50 ± 0.06"), (280, "99.37")]),
        _words(116, [(70, "Oxford Flowers"), (200, "99.68"), (280, "99.63")]),
        _words(136, [(70, "Table 2: Comparison with the state of the art.")]),
    ])
    assert ("Ours-JFT", "cifar10", "top1_accuracy", 99.5) in _got(facts)
    assert ("BiT-L [4]", "imagenet", "top1_accuracy", 87.54) in _got(facts)
    assert not any(f.value in (99.68, 99.63) for f in facts)  # Flowers is not tracked


def test_header_pair_names_one_value_each() -> None:
    """"SQuAD (v1.1/2.0)" over "94.6/89.4": the second value is SQuAD 2.0, not an EM."""
    facts = _results([
        _words(70, [(200, "SQuAD")]),
        _words(80, [(70, "Model"), (260, "MNLI-m")]),
        _words(90, [(195, "(v1.1/2.0)")]),
        _words(104, [(70, "FooBERT"), (200, "94.6/89.4"), (260, "90.2")]),
        _words(116, [(70, "BarBERT"), (200, "93.6/87.3"), (260, "89.0")]),
        _words(136, [(70, "Table 4: Development set results.")]),
    ])
    assert _got(facts) == {("FooBERT", "squad1.1", "f1", 94.6), ("BarBERT", "squad1.1", "f1", 93.6)}


def test_rows_quoting_others_give_nothing() -> None:
    facts = _results([
        _words(80, [(70, "Model"), (200, "Dev"), (260, "Test")]),
        _words(92, [(70, "FooReader (ours)"), (200, "76.7 / 83.7"), (260, "76.9 / 84.0")]),
        _words(104, [(70, "BarQA"), (200, "- / -"), (260, "75.0 / 82.6")]),
        _words(116, [(70, "Human Performance"), (200, "- / -"), (260, "82.3 / 91.2")]),
        _words(128, [(70, "Previous best [7]"), (200, "72.1 / 80.0"), (260, "72.8 / 81.0")]),
        _words(148, [(70, "Table 2: Exact match / F1 on SQuAD.")]),
    ], "SQuAD")
    assert {f.model for f in facts} == {"FooReader (ours)", "BarQA"}
    # "- / -" is no value, and does not cost the Dev column its place
    assert ("FooReader (ours)", "squad1.1", "em", 76.7) in _got(facts)


def test_method_columns_name_the_model() -> None:
    facts = _results([
        _words(80, [(70, "Network"), (200, "BN"), (250, "GN"), (300, "FooNorm")]),
        _words(92, [(70, "ResNet-50"), (200, "76.1"), (250, "75.5"), (300, "76.0")]),
        _words(112, [(70, "Table 4: Top-1 accuracy of normalization methods on ImageNet.")]),
    ])
    assert ("ResNet-50 | FooNorm", "imagenet", "top1_accuracy", 76.0) in _got(facts)


def test_stacked_sub_tables_take_their_group_title() -> None:
    facts = _results([
        _words(80, [(70, "Model"), (200, "BLEU")]),
        _words(92, [(70, "WMT'14 En-De")]),
        _words(104, [(70, "FooMT"), (200, "28.4")]),
        _words(116, [(70, "WMT'14 En-Fr")]),
        _words(128, [(70, "FooMT"), (200, "41.8")]),
        _words(148, [(70, "Table 2: Translation results.")]),
    ], "WMT 2014")
    assert {(f.benchmark, f.value) for f in facts} == {("wmt14-en-de", 28.4), ("wmt14-en-fr", 41.8)}


@pytest.mark.parametrize("caption", [
    "Table 7: Performance stratified by answer types.",
    "Table 5: Results on different subsets of words.",
])
def test_breakdown_tables_give_nothing(caption: str) -> None:
    facts = _results([
        _words(80, [(70, "Type"), (200, "F1")]),
        _words(92, [(70, "Date"), (200, "72.1")]),
        _words(104, [(70, "Person"), (200, "56.2")]),
        _words(124, [(70, caption)]),
    ], "SQuAD")
    assert facts == []


def test_size_columns_and_rows_hold_no_results() -> None:
    facts = _results([
        _words(80, [(70, "Model"), (200, "Params"), (250, "img/sec"), (300, "CIFAR-10")]),
        _words(92, [(70, "FooNet"), (200, "25"), (250, "64"), (300, "96.1")]),
        _words(104, [(70, "BarNet"), (200, "11"), (250, "90"), (300, "95.2")]),
        _words(124, [(70, "Table 1: Results on CIFAR-10.")]),
    ])
    assert {f.value for f in facts} == {96.1, 95.2}


# ---------------------------------------------------------- features and headline

def _fact(value: float, *, metric: str = "top1_accuracy", model: str = "FooNet",
          split: str | None = None, row: str | None = None, source: str = "table",
          conf: float = 0.9, **extra) -> Fact:
    return Fact(field="result", value=value, unit="%", normalized_value=value,
                normalized_unit="percent", page=1, span_start=-1, span_end=-1, evidence="",
                rule_id="t", confidence=conf, source=source, model=model, benchmark="imagenet",
                metric=metric, split=split, row_id=row, extra={"table": "p1.t0", **extra})


def test_standing_among_the_papers_results() -> None:
    ours, theirs, weak = _fact(80.7, model="FooNet (ours)"), _fact(84.2, model="Swin-B [3]"), \
        _fact(79.0, model="FooNet-S (ours)")
    facts = [ours, theirs, weak]
    peers = peer_index(facts, ["foonet"])
    got = {}
    for f in facts:
        feats: dict[str, float] = {}
        result_features(f, feats, facts, ["foonet"], peers)
        got[f.model] = feats
    assert got["Swin-B [3]"]["best_paper"] == 1.0 and got["Swin-B [3]"]["above_own"] == 1.0
    assert got["FooNet (ours)"]["own_best"] == 1.0 and "above_own" not in got["FooNet (ours)"]
    assert got["FooNet-S (ours)"]["rank_log"] > got["FooNet (ours)"]["rank_log"]


def test_headline_pass_sets_aside_quoted_and_dev_values() -> None:
    own = _fact(91.21, metric="f1", split="test", row="r1", features={"own_cue": 1.0})
    dev = _fact(94.74, metric="f1", split="dev", row="r1", features={"own_cue": 1.0})
    cited = _fact(92.5, metric="f1", model="Bar [4]", features={"row_cited": 1.0})
    facts = [own, dev, cited]
    headline_pass(facts)
    assert own.confidence == 0.9
    assert dev.confidence < 0.5 and cited.confidence < 0.5
    # with no own value to compare with, a cited value is left to the scorer
    lone = _fact(92.5, metric="f1", model="Bar [4]", features={"row_cited": 1.0})
    headline_pass([lone])
    assert lone.confidence == 0.9


def test_headline_pass_sets_aside_marginal_results() -> None:
    from extract.result_features import HEADLINE_MIN

    sure, marginal = _fact(80.7, conf=0.9), _fact(84.2, conf=HEADLINE_MIN - 0.05)
    unsure = _fact(70.0, conf=0.3)
    headline_pass([sure, marginal, unsure])
    assert sure.confidence == 0.9 and marginal.confidence < 0.5 and unsure.confidence == 0.3


def test_empty_pages_give_nothing() -> None:
    assert extract_results([PageText(1, "")]) == []


# ------------------------------------------------------------------- real papers

def _gold_best(shared, arxiv_id: str) -> dict[tuple[str, str], float]:
    rows = []
    for name in ("dev.jsonl", "dev-b.jsonl"):
        rows += [json.loads(x) for x in (shared / "gold" / name).read_text().splitlines() if x]
    gold = next(r for r in rows if r["arxiv_id"] == arxiv_id)
    best: dict[tuple[str, str], float] = {}
    for r in gold["results"]:
        metric = r["metric"].replace("_accuracy", "_error")
        v = r["value"] if r["metric"].endswith("_error") else 100 - r["value"]
        best[(r["benchmark"], metric)] = min(best.get((r["benchmark"], metric), 1e9), v)
    return best


# papers whose headline is in a layout the table reader once missed: a header line of
# numbers (CIFAR | 10), long row labels, subscripted AP headers, a caption below its table
@pytest.mark.slow
@pytest.mark.parametrize(("arxiv_id", "bench"), [
    ("2105.03404", "cifar100"), ("1608.03983", "cifar10"), ("2111.11418", "coco"),
    ("1705.00108", "conll2003"), ("2203.06717", "coco"),
])
def test_real_paper_headline_is_a_candidate(shared, corpus, arxiv_id: str, bench: str) -> None:
    from extract.extractor import arxiv_date, extract_pdf

    year, month = arxiv_date(arxiv_id)
    facts = extract_pdf(corpus / f"{arxiv_id}.pdf", year=year, month=month, score=False).facts
    want = {k: v for k, v in _gold_best(shared, arxiv_id).items() if k[0] == bench}
    assert want
    for (b, metric), v in want.items():
        cands = [f for f in facts if f.field == "result" and f.benchmark == b and
                 f.metric.replace("_accuracy", "_error") == metric]
        errs = [f.value if f.metric.endswith("_error") else 100 - f.value for f in cands]
        assert any(abs(e - v) <= 0.1 + 1e-9 for e in errs), (b, metric, v, sorted(errs))
