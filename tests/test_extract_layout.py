"""Page layout (extract/layout.py): words boxed from pdfium's characters, lines, scripts.

The corpus tests read real PDFs from ../shared and skip cleanly without it.
"""

from __future__ import annotations

import ctypes
import re
from itertools import pairwise
from pathlib import Path

import pytest

from extract.extractor import table_pages
from extract.layout import (
    CHARS,
    HEAD,
    SKIP,
    WORDS,
    Word,
    group_lines,
    layout_modes,
    read_layout_lines,
    run_words,
)
from extract.tables import read_tables
from extract.text import OpenPages, read_pages


def _corpus_pdfs(corpus: Path, n: int) -> list[Path]:
    pdfs = sorted(corpus.glob("*.pdf"))[:n]
    if not pdfs:
        pytest.skip("no corpus PDFs")
    return pdfs


def _pdf(corpus: Path, name: str) -> Path:
    path = corpus / name
    if not path.is_file():
        pytest.skip(f"{path} is absent")
    return path


# ------------------------------------------------------------ which lines are laid out

def test_layout_modes_skip_prose_and_keep_table_lines() -> None:
    far = "This is a line of running text that we wrote for the test here\n" * 10
    chars = (far
             + "Method Params FLOPs Accuracy Error\n"
             + "ResNet-50 25.6M 4.1G 76.2 93.0\n"
             + "the rows of the table are in it\n"
             + "results of the running text beside the table\n"
             + "Table 3: Results on ImageNet with the models of the paper\n"
             + far)
    modes = [mode for _, _, mode in layout_modes(chars)]
    lines = chars.split("\n")[:-1]
    assert len(modes) == len(lines)
    at = {lines[i]: modes[i] for i in range(10, 15)}
    assert at == {"Method Params FLOPs Accuracy Error": HEAD,     # a header: boxed, no fonts
                  "ResNet-50 25.6M 4.1G 76.2 93.0": CHARS,         # values: fonts read
                  "the rows of the table are in it": SKIP,         # running English
                  "results of the running text beside the table": SKIP,
                  "Table 3: Results on ImageNet with the models of the paper": CHARS}
    # running text far from any table-like line is never laid out
    assert set(modes[:3]) == {SKIP} and set(modes[-3:]) == {SKIP}
    # (start, end) cover the characters line by line, breaks included
    spans = [(a, b) for a, b, _ in layout_modes(chars)]
    assert spans[0][0] == 0 and spans[-1][1] == len(chars)
    assert all(b == c for (_, b), (c, _) in pairwise(spans))


@pytest.mark.parametrize("header", [
    "method augmentation crop sizes top-1 top-5",
    "scale s top-1 top-5 top-1 top-5",
    "model params flops top-1 acc throughput",
])
def test_lower_case_column_names_are_laid_out(header: str) -> None:
    chars = f"{header}\nOurNet 1 2 3 4 5\n"
    modes = [mode for _, _, mode in layout_modes(chars)]
    assert modes[0] != SKIP and modes[1] == CHARS


def test_short_prose_beside_a_table_is_boxed_by_word() -> None:
    chars = "Results demonstrate remarkable improvements across several benchmarks\n1 2 3\n"
    assert next(m for _, _, m in layout_modes(chars)) == WORDS


@pytest.mark.parametrize(("pdf", "page", "header"), [
    ("1409.1556.pdf", 8, "top-1 val top-5 val top-5 test"),
    ("1502.01852.pdf", 8, "scale s top-1 top-5 top-1 top-5"),
])
def test_lower_case_headers_of_corpus_tables_are_laid_out(corpus: Path, pdf: str, page: int,
                                                          header: str) -> None:
    path = _pdf(corpus, pdf)
    assert header in read_pages(path)[0][page - 1].text  # it is there to be laid out
    laid = read_layout_lines(path, [page])
    assert header in [ln.text for ln in laid[page]]


# ------------------------------------------------------------------- word boxes

def test_word_boxes_from_two_ends_match_character_boxes(corpus: Path) -> None:
    """A word boxed from its end characters has the box every character gives."""
    import pypdfium2.raw as pdfium_c

    same = total = 0
    for pdf in _corpus_pdfs(corpus, 5):
        with OpenPages() as opened:
            pages, _ = read_pages(pdf, keep=opened)
            wanted = table_pages(pages)[:3]
            laid = read_layout_lines(None, wanted, opened=opened)
            for n in wanted:
                page, tp = opened.pages[n]
                raw, height = tp.raw, page.get_height()
                count = pdfium_c.FPDFText_CountChars(raw)
                buf = ctypes.create_string_buffer((count + 1) * 2)
                pdfium_c.FPDFText_GetText(raw, 0, count,
                                          ctypes.cast(buf, ctypes.POINTER(ctypes.c_ushort)))
                chars = buf.raw[: count * 2].decode("utf-16-le", errors="replace")
                fast: dict = {}
                for ln in laid[n]:
                    for w in ln.words:
                        fast.setdefault((w.text, round(w.x0, 1)), []).append(w)
                laid_out = [(a, b) for a, b, mode in layout_modes(chars) if mode != SKIP]
                for m in re.finditer(r"[^\s\x00\x02\ufffe]+", chars):
                    if not any(a <= m.start() < b for a, b in laid_out):
                        continue  # running text: not laid out
                    ref = run_words(raw, height, chars, m.start(), m.end(), 1.2,
                                    pdfium_c.FPDFText_GetLooseCharBox, pdfium_c.FS_RECTF())
                    cands = fast.get((ref[0].text, round(ref[0].x0, 1))) if len(ref) == 1 else None
                    if not cands:
                        continue  # split by its characters (kept so), skipped prose, merged number
                    w = min(cands, key=lambda c: abs(c.top - ref[0].top))
                    total += 1
                    # glyphs differ in height by hundredths of a point: far below line spacing
                    same += (abs(w.x1 - ref[0].x1) < 0.01 and abs(w.top - ref[0].top) < 0.5
                             and abs(w.bottom - ref[0].bottom) < 0.5)
    assert total > 500
    assert same / total > 0.99


# ------------------------------------------------------------------ superscripts

def test_glued_superscripts_of_a_corpus_table_are_split_off(corpus: Path) -> None:
    """DeiT's Table 5 prints each image size as "224²" right before the throughput."""
    path = _pdf(corpus, "2012.12877.pdf")
    laid = read_layout_lines(path, [12])
    rows = [ln for ln in laid[12] if ln.words[0].text.startswith(("ResNet-", "EfficientNet-B"))]
    assert len(rows) >= 8
    for ln in rows:
        texts = [w.text for w in ln.words]
        i = next(i for i, w in enumerate(ln.words) if re.fullmatch(r"[1-6]\d\d", w.text))
        size, script, after = ln.words[i:i + 3]
        assert script.sup and script.text == "2" and not size.sup and not after.sup, texts
        assert script.bottom - script.top < size.bottom - size.top
        assert re.fullmatch(r"\d+\.\d", after.text), texts  # the throughput, not "21226.1"
    [t] = [t for t in read_tables(laid[12], 12, laid.widths[12], laid.prose[12])
           if t.caption.startswith("Table 5")]
    row = next(r for r in t.rows if r.label.startswith("ResNet-50"))
    assert [c.text for c in row.cells.values()][:3] == ["25M", "224", "1226.1"]


def test_scripts_glued_to_numbers_are_smaller_and_off_the_baseline(corpus: Path) -> None:
    checked = papers = 0
    for pdf in _corpus_pdfs(corpus, 40):
        with OpenPages() as opened:
            pages, _ = read_pages(pdf, keep=opened)
            laid = read_layout_lines(None, table_pages(pages), opened=opened)
        found = 0
        for lines in laid.values():
            for ln in lines:
                for a, b in pairwise(ln.words):
                    if not (b.sup and not a.sup and re.fullmatch(r"\d+(?:\.\d+)?", a.text)
                            and abs(b.x0 - a.x1) < 1 and b.bottom > b.top):
                        continue
                    h = a.bottom - a.top
                    assert b.bottom - b.top < h, (pdf.name, ln.text)
                    assert abs(b.bottom - a.bottom) > 0.1 * h, (pdf.name, ln.text)
                    found += 1
        checked += found
        papers += found > 0
    assert checked >= 20 and papers >= 5


def test_superscripts_join_the_line_they_are_raised_above() -> None:
    words = [Word("Model", 60, 85, 100, 109), Word("Size", 180, 200, 100, 109),
             Word("OurNet", 60, 90, 112, 121), Word("224", 180, 195, 112, 121),
             Word("2", 195, 198.5, 110.5, 116, sup=True),
             Word("AP", 240, 250, 112, 121), Word("50", 250, 256, 118, 123),  # a subscript
             Word("1", 300, 303, 150, 154)]                                 # a footnote mark
    lines = group_lines(words)
    assert [ln.text for ln in lines] == ["Model Size", "OurNet 224 2 AP 50", "1"]
    row = lines[1]
    assert [w.text for w in row.words if w.sup] == ["2", "50"]
    assert row.cell_texts()[:3] == ["OurNet", "224", "2"]  # "224²" is not "2242"


def test_touching_pieces_of_a_number_are_one_word() -> None:
    words = [Word("88", 100, 110, 100, 109), Word(".", 110.5, 112, 100, 109),
             Word("55", 112.5, 122.5, 100, 109), Word("76", 150, 160, 100, 109),
             Word(".2%", 161, 176, 100, 109)]
    [line] = group_lines(words)
    assert [w.text for w in line.words] == ["88.55", "76.2%"]
