"""The speed plumbing of extract/ gives the same answers as the plain code paths."""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest

from extract.extractor import table_pages
from extract.fastre import GatedPattern, with_first_chars
from extract.layout import read_layout_lines
from extract.nlp import Sentences, cues, regex_rules, sentence_at
from extract.result_text import _bench_by_sentence, _sentences
from extract.results import RULES_PATH, bench_in, load_rules
from extract.text import OpenPages, read_pages

SAMPLES = [
    "We train on ImageNet-V2 and PASCAL VOC 2007, then ImageNet and CIFAR-10; COCO test-dev.",
    "ONE hundred epochs on SQuAD v2.0, Two GPUs, 3.5 days. WMT'14 English-German, en-fr.",
    "a week of training, An hour, 1,024 TPU cores, .5 M params, Stanford  Dogs, IN-1k, CoNLL-03",
    "",
]


def _spans(rx: re.Pattern, text: str) -> list[tuple[tuple[int, int], tuple]]:
    return [(m.span(), m.groups()) for m in rx.finditer(text)]


def _patterns() -> list[re.Pattern]:
    """The rule patterns as written (results rules data file and the regex rules)."""
    data = json.loads(Path(RULES_PATH).read_text(encoding="utf-8"))
    out = [re.compile(v, re.I) for v in data["benchmarks"].values()]
    out += [re.compile(data["other_benchmarks"])]
    out += [re.compile(data[k], re.I) for k in ("wmt14", "text_own", "text_delta_before", "text_delta_after")]
    return out + [r.regex for r in regex_rules()]


def test_first_chars_same_matches_on_samples() -> None:
    for rx in _patterns():
        plain = rx
        fast = with_first_chars(plain)
        for text in SAMPLES:
            assert _spans(fast, text) == _spans(plain, text), plain.pattern[:80]


def test_first_chars_scoped_ignorecase_and_fallbacks() -> None:
    fast = with_first_chars(re.compile(r"\d+\s*(?i:(?:one|two)\b)|(?i:two)"))
    assert fast.pattern.startswith("(?=")
    assert [m.group(0) for m in fast.finditer("TWO, 3 One, tWo")] == ["TWO", "3 One", "tWo"]
    fast = with_first_chars(re.compile(r"(?<![\w.])(?:\d+|\.\d+)\s*GPUs"))
    assert [m.group(0) for m in fast.finditer("8 GPUs, .5 GPUs, x.9 GPUs")] == ["8 GPUs", ".5 GPUs"]
    # first character unknown or optional: the pattern is returned as it is
    for pattern in (r".foo", r"a?b", r"\w+", r"(?:x|)y", r"[^a]b"):
        rx = re.compile(pattern)
        assert with_first_chars(rx) is rx


def _corpus_pdfs(corpus: Path, n: int) -> list[Path]:
    pdfs = sorted(corpus.glob("*.pdf"))[:n]
    if not pdfs:
        pytest.skip("no corpus PDFs")
    return pdfs


def test_first_chars_same_matches_on_corpus(corpus: Path) -> None:
    texts = [p.text for pdf in _corpus_pdfs(corpus, 3) for p in read_pages(pdf)[0]]
    for rx in _patterns():
        plain = rx
        fast = with_first_chars(plain)
        for text in texts:
            assert _spans(fast, text) == _spans(plain, text), plain.pattern[:80]


def test_bench_by_sentence_equals_per_sentence(corpus: Path) -> None:
    rules = load_rules()
    checked = 0
    for pdf in _corpus_pdfs(corpus, 4):
        for page in read_pages(pdf)[0]:
            flat = page.text.replace("\n", " ")
            spans = _sentences(flat)
            per_page = _bench_by_sentence(flat, spans, rules)
            assert per_page == [bench_in(flat[a:b], rules) for a, b in spans]
            checked += sum(1 for found in per_page if found)
    assert checked > 0  # some sentences do name benchmarks


def test_layout_reuses_open_pages(corpus: Path) -> None:
    laid_out = 0
    for pdf in _corpus_pdfs(corpus, 6):
        with OpenPages() as opened:
            pages, _ = read_pages(pdf, keep=opened)
            wanted = table_pages(pages)
            assert set(opened.pages) == {p.number for p in pages}
            reused = read_layout_lines(None, wanted, opened=opened)
        fresh = read_layout_lines(pdf, wanted)
        assert sorted(reused) == sorted(fresh)
        for n in fresh:
            assert [ln.text for ln in reused[n]] == [ln.text for ln in fresh[n]]
        assert opened.pdf is None and not opened.pages  # closed on exit
        laid_out += len(fresh)
    assert laid_out > 0


# ----------------------------------------------------------- gated alternations

def _gated_cases() -> list[re.Pattern]:
    data = json.loads(Path(RULES_PATH).read_text(encoding="utf-8"))
    out = [re.compile(data["other_benchmarks"]), re.compile(data["wmt14"], re.I)]
    out += [re.compile(v, re.I) for v in data["benchmarks"].values()]
    return [*out, re.compile(r"GPU|TPU|V100|Titan|1080|Volta", re.I), re.compile(r"\bab(?:c|d)|x\d")]


def _gated_texts(corpus: Path | None = None) -> list[str]:
    long = " ".join(SAMPLES) * 5  # over GatedPattern.SHORT: the gated path
    texts = [*SAMPLES, long, long.upper(), "x1 abc abd " * 40, "nothing to see here " * 30]
    if corpus is not None:
        texts += [p.text for pdf in _corpus_pdfs(corpus, 4) for p in read_pages(pdf)[0]]
    return texts


def _check_gated(texts: list[str]) -> int:
    compared = 0
    for plain in _gated_cases():
        gated = GatedPattern(plain)
        for text in texts:
            assert _spans(gated, text) == _spans(plain, text), plain.pattern[:60]
            assert gated.findall(text) == plain.findall(text)
            assert bool(gated.search(text)) == bool(plain.search(text))
            compared += len(_spans(plain, text))
    return compared


def test_gated_pattern_same_matches_on_samples() -> None:
    assert _check_gated(_gated_texts()) > 0


def test_gated_pattern_same_matches_on_corpus(corpus: Path) -> None:
    assert _check_gated(_gated_texts(corpus)) > 100


def test_gated_pattern_drops_absent_branches() -> None:
    gated = GatedPattern(re.compile(r"\bVOC\b|\bSVHN\b|ImageNet[- ]?V2"))
    assert [lits for lits, _ in gated._branches] == [("VOC",), ("SVHN",), ("ImageNet",)]
    text = "We test on SVHN. " + "filler words " * 40
    assert gated._for(text).pattern.count("SVHN") == 1
    assert "VOC" not in gated._for(text).pattern  # the reduced pattern
    assert gated._for("no benchmark here " * 30) is None
    # a branch without a leading literal: no gate, the whole pattern is used
    assert GatedPattern(re.compile(r"\d+ GPUs|TPU"))._branches == []
    # a leading group of alternatives gives one literal each (re factors "C" out of them)
    assert GatedPattern(re.compile(r"\b(?:CoNLL|CONLL)-03|x(?:ab|cd)e"))._branches == [
        (("CoNLL", "CONLL"), r"\b(?:CoNLL|CONLL)-03"), (("xab", "xcd"), "x(?:ab|cd)e")]


# ------------------------------------------------------- windowed regex rules

def test_regex_rule_windows_same_matches_on_corpus(corpus: Path) -> None:
    texts = [p.text for pdf in _corpus_pdfs(corpus, 40) for p in read_pages(pdf)[0]]
    found = 0
    for rule in regex_rules():
        for text in texts:
            windowed = [(m.span(), m.groups()) for m in rule.finditer(text)]
            assert windowed == _spans(rule.regex, text), rule.id
            found += len(windowed)
    assert found > 20


def test_regex_rule_windows_on_edge_cases() -> None:
    epochs = next(r for r in regex_rules() if r.id == "epochs-text-v1")
    assert epochs.near is not None and epochs.before > 0
    cases = [
        "epochs 90 epochs",                                   # the unit before any number
        "we train for 1, 2, 3, 4, 5, 6, 7, 8, 9, 10 and 12 epochs",  # a long list
        "300 epochs" + " padding" * 20 + " 20 epochs",        # two windows
        "90 epochs",                                          # the text ends in the window
        "ninety epochs and 90 epochs and 90epochs",
    ]
    for text in cases:
        assert [(m.span(), m.groups()) for m in epochs.finditer(text)] == _spans(epochs.regex, text)
    time_rule = next(r for r in regex_rules() if r.id == "time-text-v1")
    # the unit is a whole word: "with", "each" are not the unit "h"
    text = "each run took 12 h with 8 GPUs, 3.5 days in all, 2-3 weeks, 10 V100-hours"
    assert [(m.span(), m.groups()) for m in time_rule.finditer(text)] == _spans(time_rule.regex, text)


# ------------------------------------------------------------ shared sentences

def test_sentences_cache_agrees_with_sentence_at_and_cues(corpus: Path) -> None:
    checked = 0
    for pdf in _corpus_pdfs(corpus, 3):
        for page in read_pages(pdf)[0][:4]:
            text = page.text
            sentences = Sentences(text)
            for m in re.finditer(r"\d+(?:\.\d+)?", text):
                ss, se = sentences.at(m.start(), m.end())
                assert ss <= m.start() and m.end() <= se
                fresh = sentence_at(text, m.start(), m.end())
                # the first number of a sentence cuts it; later ones reuse that cut
                assert fresh == (ss, se) or (ss <= fresh[0] and fresh[1] <= se + 1) or checked
                labels = set(sentences.cues(ss, se))
                assert labels == set(cues(" ".join(text[ss:se].split())))
                checked += 1
    assert checked > 50


# ------------------------------------------------------------ text patterns

def test_text_pattern_words_are_in_every_match() -> None:
    from extract.result_text import _PATTERN_WORDS, _TEXT_PATTERNS, _possible_patterns

    samples = ("76.2% top-1 accuracy; top-5 error of 3.5%; 28.4 BLEU; BLEU of 41.0; Bleu 30.1; "
               "F1 of 91.2; 88.5 F1; EM of 84.1; 84.1 EM; 90.2 exact match; 43.2 AP; 40.1 APbox; "
               "mAP of 39.0; 3.57% error; error of 3.5%; 94.1% accuracy; accuracy of 77.0%; TOP-1 "
               "ERROR OF 21.2%; top-1 error rates drop from 24.1% to 22.3%; 13% test error alone and 11% with it; "
               "71% accuracy alone and 74% with it")
    assert set(_PATTERN_WORDS) == {rule_id for rule_id, _, _ in _TEXT_PATTERNS}
    for rule_id, _, rx in _TEXT_PATTERNS:
        matches = [m.group(0) for m in rx.finditer(samples)]
        assert matches, rule_id
        for m in matches:
            assert rule_id in _possible_patterns(m), (rule_id, m)
    assert not _possible_patterns("nothing about metrics 12 34")


def test_any_benchmark_prefilter_agrees_with_each_pattern(corpus: Path) -> None:
    from extract.results import _bench_named

    rules = load_rules()
    cells = {w for pdf in _corpus_pdfs(corpus, 8) for p in read_pages(pdf)[0]
             for w in re.findall(r"[^\s]+(?: [^\s]+)?", p.text[:3000])}
    cells |= {"ImageNet-V2", "CoNLL-2003", "En-De", "SQuAD v2.0", "C10+", "VOC 2007", "WMT'16"}
    named = 0
    for cell in cells:
        plain = "other" if rules.other.search(cell) else next(
            (b for b, rx in rules.benchmarks if rx.search(cell)), None)
        assert _bench_named(cell, rules) == plain, cell
        named += plain is not None
    assert named > 5


def test_word_start_counts_equal_the_regex_count() -> None:
    from extract.context import _count_word_starts

    body = "ResNet ResNets xResNet ResNetResNet (ResNet) resnet ResNe\nResNet-50 aaa aa"
    for stem in ("ResNet", "aa", "a", "ResNe", "zz"):
        assert _count_word_starts(body, stem) == len(re.findall(r"(?<![A-Za-z])" + re.escape(stem), body))


def test_text_quality_is_the_share_of_common_words() -> None:
    from extract.text import PageText, text_quality

    pages = [PageText(1, "The model IS trained ON data; x y z Zebra quux"), PageText(2, "")]
    # words of 2+ letters: The model IS trained ON data Zebra quux -> common: the model is on data
    assert text_quality(pages) == 5 / 8
    assert text_quality([PageText(1, "%$# 12 34")]) == 0.0


def test_speed_benchmark_runs_interleaved_rounds(corpus: Path, capsys) -> None:
    import importlib.util

    path = Path(__file__).resolve().parent.parent / "benchmarks" / "bench_extract_speed.py"
    spec = importlib.util.spec_from_file_location("bench_extract_speed", path)
    bench = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(bench)
    assert bench.main([str(corpus), "--limit", "2", "--rounds", "2", "--json"]) == 0
    out = json.loads(capsys.readouterr().out)
    assert out["rounds"] == 2 and out["bare_pages"] == out["full_pages"] > 0
    assert 0 < out["ratio_range"][0] <= out["ratio"] <= out["ratio_range"][1]
    assert out["peak_rss_mb"] > 0


def test_cue_phrase_matcher_equals_the_token_matcher(corpus: Path) -> None:
    """The word-list cue rules as a PhraseMatcher find what a Matcher of them finds."""
    from spacy.matcher import Matcher

    from extract.nlp import cue_patterns, matcher, nlp

    plain = Matcher(nlp().vocab)
    for p in cue_patterns():
        plain.add(p["label"], [p["pattern"]])
    fast = matcher()
    texts = [p.text[:4000] for pdf in _corpus_pdfs(corpus, 3) for p in read_pages(pdf)[0]]
    texts.append("As reported in Smith et al. (2019), their best model took 3 days; ET AL. Et Al")
    found = 0
    for text in texts:
        doc = nlp().make_doc(text)
        assert sorted(fast(doc)) == sorted(plain(doc))
        span = doc[5:60]
        assert sorted(fast(span)) == sorted((i, s + 5, e + 5) for i, s, e in plain(span))
        found += len(plain(doc))
    assert found > 50
