"""Page layout: words with boxes and fonts, grouped into lines and cells.

The first layer of the extractor's data path (layout -> tables and sentences ->
candidates -> scorer -> facts). Words come from pypdfium2's character boxes,
not pdfplumber (an order of magnitude faster, so every page that may hold a
table can be laid out). Each word keeps what the table reader needs beyond its
box: whether it is set in a bold font (a cue for the paper's own or best rows)
and whether it is a raised, smaller glyph run (a superscript such as the "2" of
"224²", which pdfium's text glues to the next cell).
"""

from __future__ import annotations

import logging
import os
import re
from bisect import bisect_left
from dataclasses import dataclass, field
from functools import cached_property, lru_cache
from operator import attrgetter

from extract.text import OpenPages, PdfTextError, open_pdf

log = logging.getLogger(__name__)

#: words closer than this (points) on one line belong to one cell.
CELL_GAP = 4.5
#: words whose tops differ by less than this (points) are on one line.
LINE_TOLERANCE = 2.6
#: a glyph run whose box is at most this share of the word's height, and raised, is a
#: superscript
SUPERSCRIPT_HEIGHT = 0.82


@dataclass(slots=True)
class Word:
    text: str
    x0: float
    x1: float
    top: float
    bottom: float
    bold: bool = False
    sup: bool = False

    @property
    def xc(self) -> float:
        return (self.x0 + self.x1) / 2


@dataclass
class Line:
    """Words on one visual line, left to right, and the cells they form."""

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
_BY_TOP = attrgetter("top")
_BY_X = attrgetter("x0")


def group_lines(words: list[Word], tolerance: float = LINE_TOLERANCE,
                cell_gap: float = CELL_GAP) -> list[Line]:
    """Group positioned words into lines (by top) and each line into cells (by gaps).

    A superscript is raised above its line: it joins the line whose body it overlaps.
    """
    lines: list[Line] = []
    scripts: list[Word] = []
    heights = sorted(w.bottom - w.top for w in words)
    body = heights[len(heights) // 2] if heights else 0.0
    for w in sorted(words, key=_BY_TOP_X):
        if w.sup or (w.bottom - w.top) < SUPERSCRIPT_HEIGHT * body:
            scripts.append(w)  # placed once the lines of full-size words stand
            continue
        if lines and abs(w.top - lines[-1].top) <= tolerance:
            lines[-1].words.append(w)
            lines[-1].bottom = max(lines[-1].bottom, w.bottom)
        else:
            lines.append(Line([w], w.top, w.bottom))
    # a smaller glyph run joins the line it is raised above or hangs below ("224²", "d_model",
    # "AP_50"); one far from every line (a small caption, a footnote) is a line of its own
    tops = [ln.top for ln in lines]
    for w in scripts:
        i = bisect_left(tops, w.top)
        best = None
        for ln in lines[max(0, i - 2):i + 2]:
            if ln.top - 0.6 * (ln.bottom - ln.top) <= (w.top + w.bottom) / 2 <= ln.bottom + 0.6 * (
                    ln.bottom - ln.top) and (best is None or abs(ln.top - w.top) < abs(best.top - w.top)):
                best = ln
        if best is not None:
            best.words.append(w)
        else:
            lines.append(Line([w], w.top, w.bottom))
            lines.sort(key=_BY_TOP)
            tops = [ln.top for ln in lines]
    for line in lines:
        _mark_scripts(line.words)
        line.words = merge_touching(sorted(line.words, key=_BY_X))
        cells: list[list[Word]] = []
        for w in line.words:
            if cells and w.x0 - cells[-1][-1].x1 <= cell_gap and not _starts_cell(
                    cells[-1][-1], w):
                cells[-1].append(w)
            else:
                cells.append([w])
        line.cells = cells
    return lines


def _mark_scripts(words: list[Word]) -> None:
    """Words set clearly smaller than their line and off its baseline are sub- or
    superscripts ("AP" with a ".5" below it, "224" with a "2" above it)."""
    if len(words) < 2:
        return
    heights = sorted(w.bottom - w.top for w in words)
    body = heights[len(heights) // 2]
    bottoms = sorted(w.bottom for w in words)
    base = bottoms[len(bottoms) // 2]
    for w in words:
        h = w.bottom - w.top
        if h < SUPERSCRIPT_HEIGHT * body and abs(w.bottom - base) > 0.2 * body:
            w.sup = True


def _starts_cell(prev: Word, word: Word) -> bool:
    if prev.sup and not word.sup:
        return _starts_cell_text(prev.text + "^", word.text) or _NUMBER.match(word.text) is not None
    return _starts_cell_text(prev.text, word.text)


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
_VERSIONED = re.compile(
    r"(?i)^(?:squad|wmt['’]?|conll|ilsvrc|newstest|v|version|imagenet|coco|voc|top|table|figure)$")


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
        if out and not w.sup and not out[-1].sup and w.x0 - out[-1].x1 < 2.5 and (
                (_ENDS_DIGIT.search(out[-1].text) and _DOT_OR_PCT.match(w.text))
                or (_ENDS_DOT.search(out[-1].text) and _DIGIT.match(w.text)
                    and _ENDS_DIGIT_DOT.search(out[-1].text))):
            p = out[-1]
            out[-1] = Word(p.text + w.text, p.x0, w.x1, min(p.top, w.top),
                           max(p.bottom, w.bottom), p.bold and w.bold)
        else:
            out.append(w)
    return out


# ----------------------------------------------------------------- from pdfium

_PROSE_WORD = re.compile(r"[A-Za-z][a-z]{2,}[,.;:]?")
_ALPHA_WORD = re.compile(r"[A-Za-z][a-z]*[,.;:]?")
#: words of running English that table rows and headers almost never hold
_FUNCTION_WORDS = frozenset(
    ["the", "of", "and", "to", "in", "is", "we", "a", "an", "for", "with", "that", "on", "as",
     "are", "by", "this", "be", "it", "from", "which", "at", "can", "not", "or", "was",
     "were", "has", "have", "its", "their", "these", "than", "when", "while", "into"])
SKIP, WORDS, CHARS, HEAD = 0, 1, 2, 3
#: lines before and after a table-like line (a caption, a line with two values) that are laid out
NEAR_TABLE = (7, 4)
_TABULAR = re.compile(r"^\s*(?:Table|TABLE|Tab\.)\s*[A-Z]?\d|(?:(?<![\w.])[-+]?\d[\d.,]*[%KMGBTkx×]?"
                      r"(?![\w.])[^\n]*){2}", re.MULTILINE)
_NOT_SPACE = re.compile("[^\\s\x00\x02\ufffe]+")


def layout_modes(chars: str):
    """(start, end, mode) for each line of a text page's characters (end past the break).

    mode SKIP: a line of running English (two or more function words among mostly
    lower-case words), which needs no layout and is most of a page's characters;
    mode WORDS: a shorter line of running English (a caption continuation, the other
    column beside a table) whose words are boxed from their end characters; mode
    CHARS: every character boxed where the word's ends disagree, and its font read (lines
    of values and captions); mode HEAD: the same without the font (header lines).
    A line of lower-case column names ("method augmentation crop sizes top-1") has
    no function words, so it is never skipped.
    """
    spans = []
    start = 0
    n = len(chars)
    while start < n:
        end = chars.find("\n", start)
        end = n if end == -1 else end + 1
        spans.append((start, end))
        start = end
    # only lines near a table (a caption, a line of values) need boxes: a header stands a
    # few lines above its values, a wrapped caption a few lines around its first line
    tabular = [bool(_TABULAR.search(chars, a, b)) for a, b in spans]
    near = [False] * len(spans)
    for i, t in enumerate(tabular):
        if t:
            for j in range(max(0, i - NEAR_TABLE[0]), min(len(spans), i + NEAR_TABLE[1] + 1)):
                near[j] = True
    for (start, end), keep, tab in zip(spans, near, tabular, strict=True):
        if not keep:
            yield start, end, SKIP
            continue
        line = chars[start:end]
        words = line.split()
        mode = CHARS if tab else HEAD
        if len(words) >= 6 and not line.lstrip().startswith(("Table", "TABLE")):
            function = sum(1 for w in words if w.lower() in _FUNCTION_WORDS)
            if function >= 2 and sum(1 for w in words if _ALPHA_WORD.fullmatch(w)) > 0.7 * len(words):
                mode = SKIP
            elif sum(1 for w in words if _PROSE_WORD.fullmatch(w)) > 0.7 * len(words):
                mode = WORDS
        yield start, end, mode


_BOLD_FONT = re.compile(r"Bold|Bd\b|CMBX|Medi|Semibold|SemiBold|Black|Heavy|Demi|Md\b", re.I)


class _Fonts:
    """Bold or not, per character, from pdfium's font weight and name (cached by name)."""

    def __init__(self, raw, pdfium_c) -> None:
        import ctypes

        self.raw = raw
        self.weight = pdfium_c.FPDFText_GetFontWeight
        self.info = pdfium_c.FPDFText_GetFontInfo
        self.buf = ctypes.create_string_buffer(128)
        self.flags = ctypes.c_int()
        self.flags_ref = ctypes.byref(self.flags)

    def bold(self, i: int) -> bool:
        w = self.weight(self.raw, i)
        if w >= 600:
            return True
        if w > 0 and w < 500:
            return False
        self.info(self.raw, i, self.buf, 128, self.flags_ref)
        return bool(_BOLD_FONT.search(self.buf.value.decode("latin-1", "replace")))


def page_words(raw, height: float, chars: str, x_tolerance: float, pdfium_c,
               prose: list[tuple[float, float]] | None = None) -> list[Word]:
    """Words (text, box, bold, superscript) from one text page's character boxes.

    The hot loop of the layout pass. A word (a run of characters between spaces,
    which pdfium generates at gaps) is boxed from its first and last characters;
    only a run whose two ends disagree (rotated or stacked text, pieces set out of
    order, a gap wider than its characters, a smaller raised glyph at the end) is
    boxed character by character and split where pdfplumber would split it.
    """
    import ctypes

    rect = pdfium_c.FS_RECTF()
    rect_ref = ctypes.byref(rect)
    loose_box = pdfium_c.FPDFText_GetLooseCharBox
    fonts = _Fonts(raw, pdfium_c)
    words: list[Word] = []
    append = words.append
    finditer = _NOT_SPACE.finditer
    for start, end, mode in layout_modes(chars):
        if mode == SKIP:
            if prose is not None:  # where running text stands tells a two-column page
                m = _NOT_SPACE.search(chars, start, end)
                if m is not None:
                    loose_box(raw, m.start(), rect_ref)
                    x0 = rect.left
                    stop = end - 1
                    while stop > m.start() and chars[stop].isspace():
                        stop -= 1
                    loose_box(raw, stop, rect_ref)
                    prose.append((x0, rect.right))
            continue
        for m in finditer(chars, start, end):
            first, stop = m.span()
            # the loose box spans the glyph's advance and the font's ascent/descent,
            # as pdfplumber's boxes do: tight boxes split "112" into "1" "12"
            loose_box(raw, first, rect_ref)
            x0, x1, t, b = rect.left, rect.right, height - rect.top, height - rect.bottom
            if stop - first > 1:
                loose_box(raw, stop - 1, rect_ref)
                lx0, lx1, lt, lb = rect.left, rect.right, height - rect.top, height - rect.bottom
                if mode >= CHARS and (
                        lx0 < x0 - 1 or (abs(lt - t) > 3 and abs(lb - b) > 3)
                        or lx1 - x0 > (stop - first) * (b - t) * 0.9
                        or (lb - lt) < SUPERSCRIPT_HEIGHT * (b - t)
                        or (b - t) < SUPERSCRIPT_HEIGHT * (lb - lt)):
                    words.extend(run_words(raw, height, chars, first, stop, x_tolerance,
                                           loose_box, rect, fonts if mode == CHARS else None))
                    continue
                if lx1 > x1:
                    x1 = lx1
                if lt < t:
                    t = lt
                if lb > b:
                    b = lb
            append(Word(chars[first:stop], x0, x1, t, b,
                        fonts.bold(first) if mode == CHARS else False))
    return words


def run_words(raw, height: float, chars: str, i0: int, i1: int, x_tolerance: float,
              loose_box, rect, fonts: _Fonts | None = None) -> list[Word]:
    """A run of characters split into words from every character's box.

    A split falls at a gap, a step back, a change of line, and a change between
    full-size and smaller raised glyphs (the superscript of "224²" becomes a word of
    its own, marked `sup`).
    """
    import ctypes

    rect_ref = ctypes.byref(rect)
    out: list[Word] = []
    cur: list[str] = []
    first = i0
    x0w = x1w = tw = bw = 0.0  # the current word's box: x0, x1, top, bottom
    base = 0.0  # the height of the run's full-size glyphs
    sup = False
    boxes = []
    for i in range(i0, i1):
        loose_box(raw, i, rect_ref)
        boxes.append((rect.left, rect.right, height - rect.top, height - rect.bottom))
    base = max(b - t for _, _, t, b in boxes)
    for i, (x0, x1, t, b) in zip(range(i0, i1), boxes, strict=True):
        small = (b - t) < SUPERSCRIPT_HEIGHT * base
        if cur and (x0 - x1w > x_tolerance or x0 < x0w - 1
                    or (abs(t - tw) > 3 and abs(b - bw) > 3 and not (small or sup))
                    or small != sup):
            out.append(Word("".join(cur), x0w, x1w, tw, bw,
                            fonts.bold(first) if fonts else False, sup))
            cur = []
        if not cur:
            x0w, x1w, tw, bw, first, sup = x0, x1, t, b, i, small
        else:
            x1w, tw, bw = max(x1w, x1), min(tw, t), max(bw, b)
        cur.append(chars[i])
    if cur:
        out.append(Word("".join(cur), x0w, x1w, tw, bw, fonts.bold(first) if fonts else False,
                        sup))
    # a "small" run that is not raised (a subscript, or a run set smaller throughout) is
    # ordinary text of its line
    for w in out:
        if w.sup and not any(w.bottom < b - 0.25 * (b - t) for _, _, t, b in boxes
                             if (b - t) >= SUPERSCRIPT_HEIGHT * base):
            w.sup = False
    # small capitals ("PROPOSED" set as a large P and smaller ROPOSED on one baseline) are
    # one word
    merged: list[Word] = []
    for w in out:
        p = merged[-1] if merged else None
        if p is not None and not p.sup and not w.sup and w.x0 - p.x1 <= x_tolerance \
                and abs(w.bottom - p.bottom) < 1.0:
            merged[-1] = Word(p.text + w.text, p.x0, max(p.x1, w.x1), min(p.top, w.top),
                              max(p.bottom, w.bottom), p.bold)
        else:
            merged.append(w)
    return merged


def read_layout_lines(path_or_bytes: str | os.PathLike | bytes | None, page_numbers: list[int],
                      x_tolerance: float = 1.2, opened: OpenPages | None = None) -> dict:
    """Words with positions grouped into lines, for the given 1-based pages.

    The same layout pdfplumber gives with a small x tolerance (so LaTeX-set words
    are not glued together), read from pypdfium2's character boxes. Pages already
    loaded in `opened` (see extract.text.OpenPages) are reused instead of loaded
    again. Returns a PageLines.
    """
    import ctypes

    import pypdfium2 as pdfium
    import pypdfium2.raw as pdfium_c

    out: PageLines = PageLines()
    if not page_numbers:
        return out
    pdf = opened.pdf if opened is not None else None
    own = pdf is None
    if own:
        if path_or_bytes is None:
            return out
        try:
            pdf = open_pdf(path_or_bytes)
        except PdfTextError:
            return out
    try:
        for n in page_numbers:
            if not 1 <= n <= len(pdf):
                continue
            reused = opened.pages.get(n) if opened is not None else None
            page = tp = None
            try:
                if reused is not None:
                    page, tp = reused
                else:
                    page = pdf[n - 1]
                    tp = page.get_textpage()
                raw = tp.raw
                count = pdfium_c.FPDFText_CountChars(raw)
                buf = ctypes.create_string_buffer((count + 1) * 2)
                pdfium_c.FPDFText_GetText(raw, 0, count, ctypes.cast(buf, ctypes.POINTER(ctypes.c_ushort)))
                chars = buf.raw[: count * 2].decode("utf-16-le", errors="replace")
                prose: list[tuple[float, float]] = []
                words = page_words(raw, page.get_height(), chars, x_tolerance, pdfium_c, prose)
                out[n] = group_lines(words)
                out.widths[n] = page.get_width()
                out.prose[n] = prose
            except pdfium.PdfiumError as e:  # one bad page must not lose the others
                log.warning("layout failed on page %d: %s", n, e)
            finally:
                if reused is None:
                    if tp is not None:
                        tp.close()
                    if page is not None:
                        page.close()
    finally:
        if own:
            pdf.close()
    return out


class PageLines(dict):
    """{page number: [Line, ...]}, with each page's width in `widths` and the x-extents
    of its lines of running text in `prose`."""

    def __init__(self, *args, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        self.widths: dict[int, float] = {}
        self.prose: dict[int, list[tuple[float, float]]] = {}
