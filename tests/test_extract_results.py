"""Tests for extract/results.py: text rules, table rows, real corpus PDFs."""

from __future__ import annotations

import json

import pytest

from extract.results import (
    CONF_OWN,
    PaperContext,
    extract_results,
    paper_context,
    table_results,
    text_results,
)
from extract.tables import Line, Word, group_lines
from extract.text import PageText


def _pages(*texts: str) -> list[PageText]:
    return [PageText(i + 1, t) for i, t in enumerate(texts)]


def _gold_results(facts) -> dict[tuple[str, str], float]:
    """Best confident value per (benchmark, metric), errors as the scorer sees them."""
    best: dict[tuple[str, str], float] = {}
    for f in facts:
        if f.confidence < 0.5:
            continue
        metric = f.metric.replace("_accuracy", "_error")
        v = f.value if f.metric.endswith("_error") else 100 - f.value
        key = (f.benchmark, metric)
        best[key] = min(best.get(key, 1e9), v)
    return best


# (sentence, expected (benchmark, metric, value) among confident facts or None)
TEXT_CASES = [
    ("We achieve 21.2% top-1 and 5.6% top-5 error on the ILSVRC 2012 validation set.",
     ("imagenet", "top1_error", 21.2)),
    ("We achieve 21.2% top-1 and 5.6% top-5 error on the ILSVRC 2012 validation set.",
     ("imagenet", "top5_error", 5.6)),
    ("Our big model establishes a new state-of-the-art BLEU score of 28.4 on the WMT 2014 "
     "English-to-German translation task.", ("wmt14-en-de", "bleu", 28.4)),
    ("Our model obtains an F1 of 92.2 on the CoNLL-2003 NER task.", ("conll2003", "f1", 92.2)),
    ("On CIFAR-10 our network reaches 3.46% test error.", ("cifar10", "top1_error", 3.46)),
]
NEGATIVE_TEXT = [
    # a cited baseline's number
    "Our model is better than the 26.4 BLEU reported in [12] on WMT 2014 English-to-German.",
    # a delta, not a result
    "On ImageNet our model improves top-1 accuracy by 2.9% over MobileNetV3.",
    # a benchmark we do not track
    "We achieve 81.6% mAP on PASCAL VOC 2007 with models trained on COCO.",
]


@pytest.mark.parametrize(("sentence", "expected"), TEXT_CASES)
def test_text_rule_finds_own_result(sentence, expected):
    pages = _pages(sentence)
    facts = text_results(pages, paper_context(pages))
    got = [(f.benchmark, f.metric, f.value) for f in facts if f.confidence >= 0.5]
    assert expected in got
    fact = next(f for f in facts if (f.benchmark, f.metric, f.value) == expected)
    assert fact.page == 1 and fact.rule_id.startswith("results.text.")
    assert sentence[fact.span_start:fact.span_end] == str(expected[2]).rstrip("0").rstrip(".") \
        or float(sentence[fact.span_start:fact.span_end]) == expected[2]


@pytest.mark.parametrize("sentence", NEGATIVE_TEXT)
def test_text_rule_rejects_baselines_and_deltas(sentence):
    pages = _pages(sentence)
    facts = text_results(pages, paper_context(pages))
    assert [f for f in facts if f.confidence >= 0.5] == []


def _row(y: float, cells: list[tuple[str, float]]) -> list[Word]:
    words = []
    for text, x in cells:
        for part in text.split(" "):
            w = Word(part, x, x + 5.0 * len(part), y, y + 8)
            words.append(w)
            x = w.x1 + 2.5
    return words


def _table(rows: list[list[tuple[str, float]]], caption: str) -> list[Line]:
    words = _row(10, [(caption, 50)])
    for n, cells in enumerate(rows):
        words += _row(30 + 12 * n, cells)
    return group_lines(words)


def test_table_rows_own_vs_cited():
    lines = _table([
        [("Model", 50), ("Top-1 Acc.", 200), ("Top-5 Acc.", 260), ("Params", 320)],
        [("ResNet-50 [12]", 50), ("76.0%", 205), ("93.0%", 265), ("26M", 325)],
        [("GPipe (Huang et al., 2018)", 50), ("84.3%", 205), ("97.0%", 265), ("557M", 325)],
        [("FooNet-B7 (ours)", 50), ("84.1%", 205), ("96.9%", 265), ("66M", 325)],
    ], "Table 2: Results on ImageNet.")
    pages = _pages("Table 2: Results on ImageNet. Top-1 Acc. Top-5 Acc.")
    facts = table_results(pages, PaperContext(), page_lines={1: lines})
    best = _gold_results(facts)
    assert best[("imagenet", "top1_error")] == pytest.approx(100 - 84.1)
    assert best[("imagenet", "top5_error")] == pytest.approx(100 - 96.9)
    own = [f for f in facts if f.model and f.model.startswith("FooNet")]
    assert own and all(f.confidence >= CONF_OWN for f in own)
    cited = [f for f in facts if f.model and f.model.startswith(("ResNet", "GPipe"))]
    assert cited and all(f.confidence < 0.5 for f in cited)
    assert not any(f.value in (26.0, 66.0) for f in facts)  # the Params column is no metric


def test_table_slash_cells_and_benchmark_columns():
    lines = _table([
        [("SQuAD 1.1", 200)],
        [("Model", 50), ("F1 / EM", 200)],
        [("BarLM (ours)", 50), ("94.6 / 88.9", 198)],
    ], "Table 3: Dev set results.")
    facts = table_results(_pages("Table 3 SQuAD F1 EM"), PaperContext(), page_lines={1: lines})
    got = {(f.metric, f.value) for f in facts if f.benchmark == "squad1.1"}
    assert got == {("f1", 94.6), ("em", 88.9)}


def test_table_without_metric_header_gives_nothing():
    lines = _table([
        [("Model", 50), ("Params", 200), ("FLOPs", 260)],
        [("FooNet (ours)", 50), ("25.6", 205), ("4.1", 265)],
    ], "Table 1: Model sizes on ImageNet.")
    assert table_results(_pages("Table 1"), PaperContext(), page_lines={1: lines}) == []


def test_paper_context_names_from_title_and_abstract():
    pages = _pages("EfficientNet: Rethinking Model Scaling\nfor Convolutional Neural Networks\n"
                   "Abstract. We introduce the Dense Convolutional Network (DenseNet), which "
                   "beats ResNet [12].")
    ctx = paper_context(pages)
    assert ctx.is_own_name("EfficientNet-B7") and ctx.is_own_name("DenseNet-BC (k=40)")
    assert not ctx.is_own_name("ResNet-50")


def _dev_gold(shared):
    rows = [json.loads(x) for x in (shared / "gold" / "dev.jsonl").read_text().splitlines() if x]
    return {r["arxiv_id"]: r for r in rows}


@pytest.mark.slow
@pytest.mark.parametrize("arxiv_id", ["1706.03762", "1905.11946", "1909.08053"])
def test_corpus_headline_results(corpus, shared, arxiv_id):
    from extract.results import candidate_pages
    from extract.text import read_layout_lines, read_pages

    path = corpus / f"{arxiv_id}.pdf"
    gold = _dev_gold(shared)[arxiv_id]
    pages, _ = read_pages(path)
    facts = extract_results(pages, tables=read_layout_lines(path, candidate_pages(pages)))
    pred = _gold_results(facts)
    want: dict[tuple[str, str], float] = {}
    for r in gold["results"]:
        metric = r["metric"].replace("_accuracy", "_error")
        v = r["value"] if r["metric"].endswith("_error") else 100 - r["value"]
        want[(r["benchmark"], metric)] = min(want.get((r["benchmark"], metric), 1e9), v)
    hits = [k for k, v in want.items() if k in pred and abs(pred[k] - v) <= 0.1 + 1e-9]
    assert len(hits) >= max(1, len(want) // 2), (want, pred)
    # no benchmark the paper does not report
    assert {b for b, _ in pred} <= set(gold["benchmarks"]) | {"wmt14-en-fr"}


def test_garbled_or_empty_pages_give_nothing():
    assert extract_results([PageText(1, "")]) == []


def test_table_cells_outside_plausible_range_are_dropped():
    lines = _table([
        [("Model", 50), ("Top-1 err.", 200), ("Top-5 err.", 260)],
        [("FooNet (ours)", 50), ("21.2", 205), ("5.6", 265)],
        [("max:", 50), ("0.1", 205), ("0.5", 265)],
    ], "Table 4: Error on the ImageNet validation set.")
    facts = table_results(_pages("Table 4 ImageNet"), PaperContext(), page_lines={1: lines})
    assert {(f.metric, f.value) for f in facts} == {("top1_error", 21.2), ("top5_error", 5.6)}


def test_value_takes_the_benchmark_named_after_it() -> None:
    from extract.results import extract_results
    from extract.text import PageText

    page = PageText(1, "We obtain 3.46% error on CIFAR-10 and 17.18% error on CIFAR-100, and "
                       "the SQuAD v1.1 Test F1 to 93.2 (1.5 point absolute improvement) and SQuAD "
                       "v2.0 Test F1 to 83.1.")
    got = {(f.benchmark, f.value) for f in extract_results([page])}
    assert ("cifar10", 3.46) in got and ("cifar100", 17.18) in got
    assert ("cifar10", 17.18) not in got
    assert ("squad1.1", 93.2) in got  # the name before it; the next one is not "on"


def test_other_dataset_pages_do_not_inherit_the_papers_benchmark() -> None:
    from extract.results import PaperContext, _bench_for_table, load_rules

    rules = load_rules()
    ctx = PaperContext(benches={"coco"})
    voc_page = "Table 7: Results on PASCAL VOC2007 test. YOLO (VGG16) 66.4 21"
    assert _bench_for_table("box_ap", "", voc_page, ctx, rules) is None
    assert _bench_for_table("box_ap", "", "Table 3: detectors compared. Ours 41.2", ctx,
                            rules) == "coco"
    assert rules.other.search("VOC2007") and rules.other.search("VOC 12")


def _line_of(y: float, cells: list[tuple[float, str]]):
    """Words set at x positions (one word per whitespace-separated token, 5pt a char)."""
    from extract.tables import Word

    words = []
    for x, text in cells:
        for tok in text.split():
            words.append(Word(tok, x, x + 5 * len(tok), y, y + 8))
            x += 5 * len(tok) + 3
    return words


def test_table_rows_survive_a_figure_tick_beside_the_table() -> None:
    from extract.results import PaperContext, _page_table_facts, load_rules
    from extract.tables import group_lines

    words = (_line_of(90, [(70, "Model"), (140, "top-1"), (215, "top-5")])
             + _line_of(101, [(310, "25.5")])             # an axis tick of a figure beside it
             + _line_of(110, [(310, "error"), (700, "error")])
             + _line_of(120, [(70, "DenseNet-121"), (132, "25.02 / 23.61"), (205, "7.71 / 6.66")])
             + _line_of(132, [(70, "DenseNet-264"), (132, "22.15 / 20.80"), (205, "6.12 / 5.29")])
             + _line_of(150, [(70, "Table 3: The top-1 and top-5 error rates on ImageNet.")]))
    lines = group_lines(words)
    cells = [c for ln in lines for c in ln.cell_texts()]
    assert "DenseNet-121" in cells and "25.02 / 23.61" in cells  # the name is its own cell
    facts = _page_table_facts(6, lines, "ImageNet", PaperContext(benches={"imagenet"}),
                              load_rules())
    got = {(f.metric, f.value) for f in facts if f.model and f.model.startswith("DenseNet")}
    assert ("top1_error", 20.8) in got and ("top5_error", 5.29) in got


def test_real_and_v2_columns_are_not_imagenet() -> None:
    from extract.results import PaperContext, _page_table_facts, load_rules
    from extract.tables import group_lines

    words = (_line_of(80, [(70, "Model"), (200, "top-1 acc. on ImageNet")])
             + _line_of(92, [(200, "val"), (240, "real [4]"), (300, "v2 [49]")])
             + _line_of(104, [(70, "Ours-B"), (200, "81.8"), (240, "86.7"), (300, "71.5")])
             + _line_of(130, [(70, "Table 2: Results of our models on ImageNet.")]))
    facts = _page_table_facts(7, group_lines(words), "ImageNet", PaperContext(benches={"imagenet"}),
                              load_rules())
    assert {(f.metric, f.value) for f in facts} == {("top1_accuracy", 81.8)}


def test_own_model_with_a_cited_component_is_own() -> None:
    from extract.results import CONF_CITED, PaperContext, _row_confidence, load_rules

    rules = load_rules()
    ctx = PaperContext(names=["shufflenet"])
    assert _row_confidence("ShuffleNet 2x (with SE[13], g = 3)", ctx, rules, False) > CONF_CITED
    assert _row_confidence("ResNet-101 + Cutout [3]", ctx, rules, False) == CONF_CITED
    assert _row_confidence("ShuffleNet v1 [46]", ctx, rules, False) == CONF_CITED


def test_a_caption_and_its_text_are_not_the_next_tables_header() -> None:
    from extract.results import PaperContext, _page_table_facts, load_rules
    from extract.tables import group_lines

    words = (_line_of(100, [(70, "Model"), (160, "F1")])
             + _line_of(112, [(70, "TagLM"), (160, "91.93")])
             + _line_of(130, [(70, "Table 1: Test set F1 comparison on CoNLL 2003")])
             + _line_of(141, [(70, "NER task, using only CoNLL 2003 data and")])
             + _line_of(152, [(70, "unlabeled text.")])
             + _line_of(168, [(70, "Model"), (160, "F1")])
             + _line_of(180, [(70, "TagLM"), (160, "96.37")])
             + _line_of(200, [(70, "Table 2: Test set F1 comparison on CoNLL 2000 Chunking")]))
    facts = _page_table_facts(5, group_lines(words), "CoNLL 2003 CoNLL 2000",
                              PaperContext(benches={"conll2003"}), load_rules())
    assert {(f.benchmark, f.value) for f in facts} == {("conll2003", 91.93)}
