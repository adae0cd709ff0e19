"""Table layout from PDF pages: words with positions grouped into lines and cells.

pdfplumber is slow (tens of milliseconds per page), so callers run it only on
pages whose plain text already looks like it holds a results table. Words are
read with a small x tolerance so LaTeX-set words are not glued together, then
grouped into lines by their vertical position. Cells are runs of words whose
horizontal gap is small.
"""

from __future__ import annotations

import logging
import os
import re
from dataclasses import dataclass, field
from functools import cached_property, lru_cache
from operator import attrgetter

log = logging.getLogger(__name__)

#: words closer than this (points) on one line belong to one cell.
CELL_GAP = 4.5
#: words whose tops differ by less than this (points) are on one line.
LINE_TOLERANCE = 2.6


@dataclass(slots=True)
class Word:
    text: str
    x0: float
    x1: float
    top: float
    bottom: float

    @property
    def xc(self) -> float:
        return (self.x0 + self.x1) / 2


@dataclass
class Line:
    """Words on one visual line, left to right."""

    words: list[Word]
    top: float
    bottom: float
    cells: list[list[Word]] = field(default_factory=list)

    @cached_property
    def text(self) -> str:
        # cached: read many times per row; words are only changed while lines are grouped
        return " ".join(w.text for w in self.words)

    def cell_texts(self) -> list[str]:
        return [" ".join(w.text for w in c) for c in self.cells]




_BY_TOP_X = attrgetter("top", "x0")
_BY_X = attrgetter("x0")


def group_lines(words: list[Word], tolerance: float = LINE_TOLERANCE,
                cell_gap: float = CELL_GAP) -> list[Line]:
    """Group positioned words into lines (by top) and each line into cells (by gaps)."""
    lines: list[Line] = []
    for w in sorted(words, key=_BY_TOP_X):
        if lines and abs(w.top - lines[-1].top) <= tolerance:
            lines[-1].words.append(w)
            lines[-1].bottom = max(lines[-1].bottom, w.bottom)
        else:
            lines.append(Line([w], w.top, w.bottom))
    for line in lines:
        line.words = merge_touching(sorted(line.words, key=_BY_X))
        cells: list[list[Word]] = []
        for w in line.words:
            if cells and w.x0 - cells[-1][-1].x1 <= cell_gap and not _starts_cell_text(
                    cells[-1][-1].text, w.text):
                cells[-1].append(w)
            else:
                cells.append([w])
        line.cells = cells
    return lines


_NUMBER = re.compile(r"^\(?[+-]?\d+(?:\.\d+)?%?\)?[*†‡∗]?$")
_JOINERS = re.compile(r"(?:/|±|\(|=|:|×|x|-|\+)$")
#: a header word that starts a new column even when set tight against the previous one
_HEAD_START = re.compile(r"^(?:m?AP|Top-?[15]|top-?[15]|EM|F1|BLEU|Params|#|FLOPs|MACs|Acc|Err)")


_YEAR = re.compile(r"\(?(?:19|20)\d\d[a-z]?\)?[,;.]?")
_ENDS_WORD = re.compile(r"[A-Za-z%)]$")
_SIZED_NAME = re.compile(r"[A-Za-z][A-Za-z0-9]*[A-Za-z]-\d+")
_DECIMAL = re.compile(r"\d+\.\d+%?")
_NOT_HEAD_BEFORE = re.compile(r"box|Box|val|test|dev|.*/")
#: words a number belongs to: "SQuAD 1.1", "WMT 2014", "Top 1" (a header, not two columns)
_VERSIONED = re.compile(r"(?i)^(?:squad|wmt['’]?|conll|ilsvrc|newstest|v|version|imagenet|coco|voc|top)$")


@lru_cache(maxsize=1 << 16)  # word pairs repeat across rows and pages
def _starts_cell_text(prev: str, word: str) -> bool:
    """Tight tables leave column gaps no wider than word spaces: numbers start new cells."""
    if _VERSIONED.match(prev) or _YEAR.fullmatch(word):
        return False  # "SQuAD 1.1", "WMT 2014", "Lin and Wu (2009)"
    if _NUMBER.match(word) and not _JOINERS.search(prev) and (
            _NUMBER.match(prev) or not prev.endswith(("=", "(", "/"))):
        # "DenseNet-121 25.02": a model name ending in its size, then a decimal value
        return bool(_NUMBER.match(prev) or _ENDS_WORD.search(prev)
                    or (_SIZED_NAME.fullmatch(prev) and _DECIMAL.fullmatch(word)))
    return bool(_HEAD_START.match(word) and not _NOT_HEAD_BEFORE.fullmatch(prev))


_ENDS_DIGIT = re.compile(r"\d$")
_ENDS_DOT = re.compile(r"\d\.$|\.$")
_ENDS_DIGIT_DOT = re.compile(r"\d\.?$")
_DOT_OR_PCT = re.compile(r"\.\d|\.$|%")
_DIGIT = re.compile(r"\d")


def merge_touching(words: list[Word]) -> list[Word]:
    """Join touching pieces of one number ("88" "." "55" -> "88.55"): LaTeX spacing splits them."""
    out: list[Word] = []
    for w in words:
        if out and w.x0 - out[-1].x1 < 2.5 and (
                (_ENDS_DIGIT.search(out[-1].text) and _DOT_OR_PCT.match(w.text))
                or (_ENDS_DOT.search(out[-1].text) and _DIGIT.match(w.text)
                    and _ENDS_DIGIT_DOT.search(out[-1].text))):
            p = out[-1]
            out[-1] = Word(p.text + w.text, p.x0, w.x1, min(p.top, w.top),
                           max(p.bottom, w.bottom))
        else:
            out.append(w)
    return out


def read_page_lines(pdf_path: str | os.PathLike | bytes, page_numbers: list[int]) -> dict[int, list[Line]]:
    """Lines of the given 1-based pages, read with pdfplumber. Unreadable pages are skipped."""
    import io

    import pdfplumber

    out: dict[int, list[Line]] = {}
    if not page_numbers:
        return out
    src = io.BytesIO(pdf_path) if isinstance(pdf_path, bytes | bytearray) else os.fspath(pdf_path)
    try:
        pdf = pdfplumber.open(src)
    except Exception as e:  # pdfminer raises many types on damaged files
        log.warning("pdfplumber cannot open %s: %s", "<bytes>" if isinstance(src, io.BytesIO) else src, e)
        return out
    with pdf:
        for n in page_numbers:
            if not 1 <= n <= len(pdf.pages):
                continue
            try:
                raw = pdf.pages[n - 1].extract_words(
                    x_tolerance=1.2, y_tolerance=2, keep_blank_chars=False,
                    extra_attrs=["fontname"])
            except Exception as e:  # one bad page must not lose the others
                log.warning("pdfplumber failed on page %d: %s", n, e)
                continue
            words = [Word(w["text"], float(w["x0"]), float(w["x1"]), float(w["top"]),
                          float(w["bottom"]))
                     for w in raw]
            out[n] = group_lines(words)
    return out
