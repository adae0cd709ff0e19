"""The speed plumbing of extract/ gives the same answers as the plain code paths."""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest

from extract.fastre import with_first_chars
from extract.nlp import regex_rules
from extract.results import (
    RULES_PATH,
    _bench_by_sentence,
    _bench_in,
    _sentences,
    candidate_pages,
    load_rules,
)
from extract.text import OpenPages, read_layout_lines, read_pages

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
    out += [re.compile(data[k], re.I) for k in ("wmt14", "own", "text_own", "text_delta_before")]
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
            assert per_page == [_bench_in(flat[a:b], rules) for a, b in spans]
            checked += sum(1 for found in per_page if found)
    assert checked > 0  # some sentences do name benchmarks


def test_layout_reuses_open_pages(corpus: Path) -> None:
    laid_out = 0
    for pdf in _corpus_pdfs(corpus, 6):
        with OpenPages() as opened:
            pages, _ = read_pages(pdf, keep=opened)
            wanted = candidate_pages(pages)
            assert set(opened.pages) == {p.number for p in pages}
            reused = read_layout_lines(None, wanted, opened=opened)
        fresh = read_layout_lines(pdf, wanted)
        assert sorted(reused) == sorted(fresh)
        for n in fresh:
            assert [ln.text for ln in reused[n]] == [ln.text for ln in fresh[n]]
        assert opened.pdf is None and not opened.pages  # closed on exit
        laid_out += len(fresh)
    assert laid_out > 0
