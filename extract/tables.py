"""The table-structure reader: laid-out lines -> tables of rows and columns, by position.

One reader serves every field (parameters, compute, training time, epochs,
results). It works on geometry, not on the wording of any paper's tables:

- a page set in two columns is read three ways (full width, left half, right
  half); a table crossing the gutter is full width, tables that stand side by side
  or beside the other column's text are read in their half;
- a table body is a run of lines holding value cells (extract.cells), with
  short text lines between them (row-group titles, sub-headers, wrapped labels);
- columns come from the x-extents of the value cells, clustered across rows;
- the header is the text stacked above each column; a header cell spanning
  several columns is a group header of all of them ("Dev | Test",
  "ImageNet | COCO");
- each row's label is the text left of the first value column; a label written
  on the line above, or wrapped onto the next, is joined to its row;
- the caption is the nearest "Table N" text above or below.

What a column means (parameters? FLOPs? top-1?) is decided by
extract.columns from the header text, not here.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from itertools import pairwise
from statistics import median

from extract.cells import CellRead, read_cell
from extract.columns import names_a_column
from extract.layout import Line, Word

#: lines further apart than this many median line heights end a table body
BODY_GAP = 2.6
#: the most header lines stacked above a body
MAX_HEADER_LINES = 5
#: a caption is looked for this far (points) above the header or below the body
CAPTION_REACH = (110.0, 70.0)


class Cell:
    """A run of words on one line set apart from its neighbours; what it reads as is
    worked out once and kept (every view of a page shares its cells)."""

    __slots__ = ("_read", "full_text", "text", "words", "x0", "x1", "xc")

    def __init__(self, words: list[Word]) -> None:
        self.words = words
        self.x0, self.x1 = words[0].x0, words[-1].x1
        self.xc = (self.x0 + self.x1) / 2
        # without superscripts (a "224²" glued to the next cell), but a power of ten keeps
        # its exponent ("1.8×10⁹" -> "1.8×10^9")
        parts: list[str] = []
        for w in words:
            if not w.sup:
                parts.append(w.text)
            elif parts and parts[-1].endswith("10") and w.text.lstrip("-−").isdigit():
                parts[-1] += "^" + w.text
        self.text = " ".join(parts) or " ".join(w.text for w in words)
        # all of it, a script joined to its word by "_" ("AP_50", "d_model")
        out = ""
        for w in words:
            out += ("_" if w.sup and out else (" " if out else "")) + w.text
        self.full_text = out
        self._read: CellRead | None = None

    def __repr__(self) -> str:
        return f"Cell({self.full_text!r}, {self.x0:.1f}-{self.x1:.1f})"

    @property
    def bold(self) -> bool:
        body = [w for w in self.words if not w.sup]
        return bool(body) and all(w.bold for w in body)

    def read(self) -> CellRead:
        if self._read is None:
            # a sub- or superscript alone (AP with its ".5") is no value
            self._read = CellRead() if all(w.sup for w in self.words) else read_cell(self.text)
        return self._read


@dataclass
class Segment:
    """One line of a view: the cells of a line in one half of the page (or all of it)."""

    cells: list[Cell]
    top: float
    bottom: float
    line: int  # index of the line on the page

    @property
    def text(self) -> str:
        return " ".join(c.full_text for c in self.cells)

    @property
    def x0(self) -> float:
        return self.cells[0].x0

    @property
    def x1(self) -> float:
        return self.cells[-1].x1


@dataclass
class Column:
    index: int
    x0: float
    x1: float
    #: header text stacked above the column, top to bottom, group headers included
    header: list[str] = field(default_factory=list)
    #: which of `header` span several columns (group headers)
    group: list[bool] = field(default_factory=list)

    @property
    def xc(self) -> float:
        return (self.x0 + self.x1) / 2

    @property
    def header_text(self) -> str:
        return " ".join(self.header)

    @property
    def own_header(self) -> str:
        """The header parts that are this column's alone (not group headers)."""
        own = [h for h, g in zip(self.header, self.group, strict=True) if not g]
        return " ".join(own) or self.header_text

    @property
    def group_header(self) -> str:
        return " ".join(h for h, g in zip(self.header, self.group, strict=True) if g)


@dataclass
class Row:
    index: int
    label: str
    #: column index -> the cell under it
    cells: dict[int, Cell]
    top: float
    text: str
    #: the row-group title above the row ("Transformers", "Ours"), if any
    group: str = ""
    #: text cells between value columns (a backbone name, "✓")
    notes: list[str] = field(default_factory=list)
    label_bold: bool = False
    #: column index -> header parts a sub-header line set for this row and the rows below
    subheader: dict[int, list[str]] = field(default_factory=dict)
    #: text cells right of the label, with their left edge (model names set between value
    #: columns: "CIFAR-10 | NASNet-A 98.0% | FooNet-B0 98.1%")
    inline: list[tuple[float, str]] = field(default_factory=list)

    @property
    def bold(self) -> bool:
        return bool(self.cells) and all(c.bold for c in self.cells.values())


@dataclass
class Table:
    page: int
    index: int
    side: str  # F | L | R
    columns: list[Column]
    rows: list[Row]
    caption: str
    label_header: str
    top: float
    bottom: float
    x0: float
    x1: float
    header_lines: int = 0
    #: indexes of the page's lines the table was read from
    lines: set[int] = field(default_factory=set)
    caption_top: float | None = None

    @property
    def id(self) -> str:
        return f"p{self.page}.t{self.index}"

    def row_id(self, row: Row) -> str:
        return f"{self.id}.r{row.index}"

    def header_of(self, row: Row, col: int) -> list[str]:
        """The header parts of column `col` as they stand at `row` (sub-headers applied)."""
        return row.subheader.get(col) or self.columns[col].header


# ------------------------------------------------------------------- reading

#: a caption starts "Table 3:", "Table 3.", "TABLE III", "Table 3 |", or "Table 3" alone on its
#: line or set in bold; "Table 5 shows ..." is a sentence
_CAPTION = re.compile(r"^\s*(?:Table|TABLE|Tab\.)\s*(?:[A-Z]?\d+[a-z]?|[IVX]+)(?:\s*[:.|]|\s*$|\s{2,})")
_CAPTION_WORD = re.compile(r"^\s*(?:Table|TABLE|Tab\.)\s*(?:[A-Z]?\d+[a-z]?|[IVX]+)\b")
_FIGURE = re.compile(r"^\s*(?:Figure|FIGURE|Fig\.)\s*\d+[a-z]?(?:\s*[:.|]|\s*$|\s{2,})")
_FUNCTION = frozenset(["the", "of", "and", "to", "in", "is", "we", "a", "an", "for", "with",
                       "that", "on", "as", "are", "by", "this", "be", "our", "it", "from",
                       "which", "at", "can", "not", "was", "were", "has", "have", "than"])
_WORDISH = re.compile(r"[A-Za-z]{2,}")
_NAMEISH = re.compile(r"[A-Za-z]{3,}|[A-Za-z]{2,}[-\d]")


def _cells(words: list[list[Word]]) -> list[Cell]:
    return _join_deltas([Cell(ws) for ws in words if ws])


#: a change stated beside a value, set a little apart: "50.2 (+2.1)", "76.3 (↑0.4)"
_DELTA = re.compile(r"^\(\s*[+\-−↑↓]\s*\d+(?:\.\d+)?\s*%?\s*\)$")
#: the most points between a value and the change stated beside it
DELTA_GAP = 12.0


def _join_deltas(cells: list[Cell]) -> list[Cell]:
    """A "(+2.1)" cell right after a value is part of that value's cell, not a column of
    its own (the cell grammar reads "50.2 (+2.1)" as 50.2)."""
    out: list[Cell] = []
    for c in cells:
        prev = out[-1] if out else None
        if prev is not None and _DELTA.match(c.text) and c.x0 - prev.x1 < DELTA_GAP \
                and prev.read().values:
            out[-1] = Cell(prev.words + c.words)
        else:
            out.append(c)
    return out


def _is_prose_cell(cell: Cell) -> bool:
    words = cell.full_text.split()
    if len(words) >= 9:
        return True
    return len(words) >= 5 and sum(1 for w in words if w.lower() in _FUNCTION) >= 2


def _value_cells(seg: Segment) -> list[Cell]:
    return [c for c in seg.cells if c.read().is_value]


def _kind(seg: Segment) -> str:
    """caption | figure | prose | numeric | text."""
    text = seg.text
    first = seg.cells[0]
    if text[:1] in "TF":
        if _CAPTION.match(text) or (_CAPTION_WORD.match(text) and first.words[0].bold):
            return "caption"
        if _FIGURE.match(text) or (text.startswith(("Figure", "Fig.")) and first.words[0].bold):
            return "figure"
    reads = [c.read() for c in seg.cells]
    n_values = sum(1 for r in reads if r.is_value)
    words = text.split()
    if len(words) >= 8 and n_values <= 2 and sum(1 for w in words if w.lower() in _FUNCTION) >= 3:
        return "prose"
    prose = sum(1 for c in seg.cells if _is_prose_cell(c))
    # a long label beside values is a row, if the long cell is not running text
    if prose and (not n_values or len(seg.cells) == 1 or prose > 1):
        return "prose"
    return "numeric" if any(r.values for r in reads) else "text"


def _split(cells: list[Cell], mid: float) -> tuple[list[Cell], list[Cell]] | None:
    """A line's cells left and right of the gutter, or None when a cell crosses it."""
    left, right = [], []
    for c in cells:
        if c.x0 < mid - 1 and c.x1 > mid + 1:
            return None
        (left if c.x1 <= mid + 1 else right).append(c)
    return left, right


def two_columns(pages: dict[int, list[Line]], widths: dict[int, float],
                prose: dict[int, list[tuple[float, float]]]) -> bool:
    """Whether a paper is set in two columns, from the running text of all its laid-out
    pages (a page of tables and figures has too little of its own to tell)."""
    spans = []
    for n, lines in pages.items():
        mid = widths.get(n, 612.0) / 2
        for x0, x1 in [*prose.get(n, []), *((ln.words[0].x0, ln.words[-1].x1) for ln in lines
                                            if len(ln.words) >= 8)]:
            spans.append(x1 < mid + 8 or x0 > mid - 8)
    return len(spans) >= 4 and sum(spans) >= 0.6 * len(spans)


def _two_column(lines: list[Line], width: float, prose: list[tuple[float, float]]) -> bool:
    """Whether the page is set in two columns: its running text keeps to one half."""
    mid = width / 2
    spans = list(prose) + [(ln.words[0].x0, ln.words[-1].x1) for ln in lines
                           if len(ln.words) >= 8 and ln.words]
    if len(spans) < 4:
        return False
    halves = sum(1 for x0, x1 in spans if x1 < mid + 8 or x0 > mid - 8)
    return halves >= 0.6 * len(spans)


def read_tables(lines: list[Line], page: int, width: float | None = None,
                prose: list[tuple[float, float]] | None = None,
                two_column: bool | None = None) -> list[Table]:
    """Every table on a page (lines from extract.layout), read by position.

    `two_column`: whether the paper is set in two columns (see `two_columns`); by
    default judged from this page's own running text."""
    if not lines:
        return []
    if width is None:
        width = max(w.x1 for ln in lines for w in ln.words) + min(
            w.x0 for ln in lines for w in ln.words)
    mid = width / 2
    # one Cell per word group, shared by every view (a cell's reading is kept on it)
    cells = [_cells(ln.cells) for ln in lines]
    full = [Segment(cells[i], ln.top, ln.bottom, i) for i, ln in enumerate(lines) if ln.cells]
    heights = [s.bottom - s.top for s in full if s.bottom > s.top]
    lh = median(heights) if heights else 10.0
    stray = _stray_scripts(full, lh)
    if stray:
        full = [s for s in full if s.line not in stray]
        lines = [ln if i not in stray else Line([], ln.top, ln.bottom) for i, ln in enumerate(lines)]
    known: dict[tuple, str] = {}
    if not (two_column if two_column is not None else _two_column(lines, width, prose or [])):
        found = _find(full, lh, "F", known)
    else:
        left, right = [], []
        crossing: set[int] = set()
        for i, ln in enumerate(lines):
            if i in stray:
                continue
            parts = _split(cells[i], mid) if ln.cells else None
            if parts is None:
                crossing.add(i)
                continue  # a line across the gutter ends both halves' tables
            lc, rc = parts
            if lc:
                left.append(Segment(lc, ln.top, ln.bottom, i))
            if rc:
                right.append(Segment(rc, ln.top, ln.bottom, i))
        halves = _find(left, lh, "L", known) + _find(right, lh, "R", known)
        # the full-width reading can only win where a line crosses the gutter or a half
        # holds a table without names of its own (the right columns of a wide table)
        if crossing or not all(_self_sufficient(h) for h in halves):
            found = _choose(_find(full, lh, "F", known), halves, crossing)
        else:
            found = halves
    _own_captions(found)
    found.sort(key=lambda t: (t.top, t.x0))
    for n, t in enumerate(found):
        t.page, t.index = page, n
    return found


def _stray_scripts(segs: list[Segment], lh: float) -> set[int]:
    """Lines that are only a sub- or superscript set apart from its line (the "1" of "F_1"
    in a caption): one or two characters right against a longer line that spans them.
    They would break a caption from its continuation lines or read as a row."""
    out = set()
    for k, s in enumerate(segs):
        if len(s.cells) != 1 or len(s.text.strip()) > 2:
            continue
        for q in (k - 1, k + 1):
            if 0 <= q < len(segs) and len(segs[q].text) > 8 \
                    and abs(segs[q].top - s.top) < 0.6 * lh \
                    and segs[q].x0 < s.x0 and s.x1 < segs[q].x1:
                out.add(s.line)
                break
    return out


def _self_sufficient(t: Table) -> bool:
    """A table whose rows carry names of their own (labels, or names between its value
    columns): one half of a side-by-side pair, not the right-hand columns of a table set
    across the page (whose rows hold values and marks such as "1x")."""
    named = sum(1 for r in t.rows if _NAMEISH.search(r.label)
                or any(_NAMEISH.search(n) for n in r.notes))
    return named >= max(1, len(t.rows) // 2)


def _choose(full: list[Table], halves: list[Table], crossing: set[int]) -> list[Table]:
    """Full-width readings against half-page readings of the same lines.

    A table with a cell across the gutter is set across the page: its full-width
    reading stands. Otherwise its halves stand when only one half holds a table (a
    table beside the other column's text), or when both do and each carries its own
    row names (tables side by side); a half without names is the rest of a
    full-width table.
    """
    out: list[Table] = []
    used: set[int] = set()
    for t in full:
        parts = [i for i, h in enumerate(halves) if set(h.lines) & set(t.lines)]
        sides = {halves[i].side for i in parts}
        if not t.lines & crossing and (len(sides) < 2 or all(
                _self_sufficient(halves[i]) for i in parts)):
            # the halves read it: a table in one half (beside the other half's text), or
            # two tables side by side, each with its own row names
            continue
        out.append(t)
        used.update(parts)
    out += [h for i, h in enumerate(halves) if i not in used]
    return out


def _section_line(seg: Segment) -> bool:
    """A line of one short phrase that is no sentence: inside a table, the title of the rows
    below it ("Single models (leaderboard as of <date>)", "Ensembles")."""
    words = seg.text.split()
    return len(seg.cells) == 1 and 2 <= len(words) <= 14 and not seg.text.rstrip().endswith(
        (".", ":")) and not _CAPTION_WORD.match(seg.text) and not _FIGURE.match(seg.text)


def _aligned_values(seg: Segment, other: Segment) -> bool:
    """Whether every value cell of `seg` stands over a value cell of `other` (two rows of
    one table)."""
    vals = _value_cells(seg)
    others = _value_cells(other)
    return bool(vals) and all(any(d.x0 < c.x1 and d.x1 > c.x0 for d in others) for c in vals)


def _beside_text(segs: list[Segment], k: int) -> bool:
    """A header line with running text set beside the table (a caption or the other
    column's prose to its right): two or more short cells over the rows below, the prose
    cells all right of them. The prose cells are dropped from the line."""
    seg, below = segs[k], segs[k + 1]
    prose = [c for c in seg.cells if _is_prose_cell(c)]
    short = [c for c in seg.cells if not _is_prose_cell(c)]
    if not prose or len(short) < 2 or any(c.x0 < below.x1 + 5 for c in prose):
        return False
    if not all(c.x0 < below.x1 for c in short):
        return False
    seg.cells = short
    return True


def _in_table_titles(segs: list[Segment], kinds: list[str], gap: float) -> None:
    """Lines read as prose that belong to a table: a short phrase set between a table's
    lines (its header or rows above, its rows right below) titles the rows below it; a
    long row label whose values stand in the columns of the next or previous row is a
    row."""
    for k in range(len(segs)):
        if kinds[k] != "prose":
            continue
        if k + 1 < len(segs) and kinds[k + 1] == "numeric" \
                and segs[k + 1].top - segs[k].bottom <= gap and _beside_text(segs, k):
            kinds[k] = "text"
            continue
        near = [q for q in (k - 1, k + 1) if 0 <= q < len(segs)
                and abs(segs[q].top - segs[k].top) <= gap + (segs[k].bottom - segs[k].top)]
        if any(kinds[q] == "numeric" and _aligned_values(segs[k], segs[q]) for q in near) \
                and segs[k].cells[-1].read().values and len(_value_cells(segs[k])) >= 2:
            kinds[k] = "numeric"
        elif 0 < k < len(segs) - 1 and kinds[k + 1] == "numeric" and kinds[k - 1] in (
                "numeric", "text") and _section_line(segs[k]) \
                and segs[k + 1].top - segs[k].bottom <= gap \
                and segs[k].top - segs[k - 1].bottom <= gap:
            kinds[k] = "text"


#: words of a label column's own header ("Method", "Backbone", "Model data")
_LABEL_HEAD = re.compile(r"^(?:(?:methods?|models?|backbones?|networks?|arch(?:itecture)?s?|"
                         r"approach(?:es)?|systems?|data(?:sets?)?|detectors?|frameworks?|"
                         r"encoders?|names?|settings?|type|#)\s*)+$", re.I)
#: a header cell printed as a number: a dataset's size ("CIFAR | 100"), a subscript line
#: ("AP | 50 75"), thresholds and counts ("IoU 0.5 0.75", "#Dets 1 10 100")
_HEADERISH_VALUE = re.compile(r"^(?:\d{1,4}|0?\.\d{1,2}(?::0?\.\d{1,2})?|[SMLsml])$")
_DECIMAL = re.compile(r"\d\.\d")


def _header_row(seg: Segment, below: list[Segment]) -> bool:
    """A first body line that is the header's last line: numbers such as the "10 | 100" of
    "CIFAR-10 | CIFAR-100" headers broken over two lines, or the subscripts of "AP_50 AP_75"
    on a line of their own. Its cells are all short integers, thresholds or size letters,
    the rows below hold decimals in the same columns, and it has no row label of its own
    (or only the label column's header words)."""
    cells = list(seg.cells)
    label = []
    while cells and not _HEADERISH_VALUE.match(cells[0].text.strip()):
        label.append(cells.pop(0).text)
    vals = [c for c in cells if c.read().is_value]
    if not vals or len(below) < 2 or (label and not _LABEL_HEAD.match(" ".join(label))):
        return False
    if not all(_HEADERISH_VALUE.match(c.text.strip()) or (
            not c.read().is_value and re.fullmatch(r"[A-Za-z]{1,4}", c.text.strip()))
            for c in cells):
        return False
    under = [d for s in below for d in s.cells for c in vals
             if d.x0 < c.x1 + 2 and d.x1 > c.x0 - 2 and d.read().values]
    decimals = sum(1 for d in under if _DECIMAL.search(d.text))
    return len(under) >= 2 and decimals >= 0.75 * len(under)


def _find(segs: list[Segment], lh: float, side: str,
          known: dict[tuple, str] | None = None) -> list[Table]:
    """Tables in one view's segments. `known`: kinds of segments already judged in another
    view, by their cells (a line wholly in one half reads the same in both views)."""
    known = {} if known is None else known
    kinds = []
    for seg in segs:
        key = tuple(map(id, seg.cells))
        if key not in known:
            known[key] = _kind(seg)
        kinds.append(known[key])
    gap = BODY_GAP * lh + 2
    _in_table_titles(segs, kinds, gap)
    tables: list[Table] = []
    i = 0
    n = len(segs)
    while i < n:
        if kinds[i] != "numeric":
            i += 1
            continue
        # the body: numeric lines with at most three text lines between them
        j = i
        k = i + 1
        texts = 0
        while k < n and segs[k].top - segs[k - 1].bottom <= gap:
            if kinds[k] == "numeric":
                j, texts = k, 0
            elif kinds[k] == "text" and texts < 3:
                texts += 1
            else:
                break
            k += 1
        body = list(range(i, j + 1))
        # the header: text lines right above the body
        h = i - 1
        head: list[int] = []
        while h >= 0 and len(head) < MAX_HEADER_LINES and kinds[h] == "text" \
                and segs[h + 1].top - segs[h].bottom <= gap:
            head.insert(0, h)
            h -= 1
        numeric = [k for k in body if kinds[k] == "numeric"]
        if head and len(numeric) >= 3 and _header_row(segs[i], [segs[k] for k in numeric[1:4]]):
            head, body = [*head, i], body[1:]  # the header's last line, printed as numbers
            while body and kinds[body[0]] != "numeric":
                head.append(body.pop(0))
        head = _below_caption(segs, kinds, head, lh)
        caption, caption_top = _caption(segs, kinds, head[0] if head else i, j)
        if caption != FIGURE_MARK:
            parts = []
            for lo, hi in _side_by_side(segs, kinds, head, body):
                if (lo, hi) == _ALL:
                    parts.append(_build(segs, kinds, head, body, side))
                    continue
                # one part of side-by-side tables: its lines clipped to its range
                clipped, ckinds = list(segs), list(kinds)
                for k in (*head, *body):
                    clipped[k] = _clip(segs[k], lo, hi)
                    ckinds[k] = _kind(clipped[k]) if clipped[k].cells else "text"
                parts.append(_build(clipped, ckinds, head, body, side))
            if len(parts) > 1 and not all(t is not None and _self_sufficient(t) for t in parts):
                # a part without row names of its own continues the one on its left (a header
                # repeated under "Dev | Test"), not a table set beside it
                parts = [_build(segs, kinds, head, body, side)]
            for t in parts:
                if t is not None:
                    t.caption, t.caption_top = caption, caption_top
                    if _valid(t):
                        tables.append(t)
        i = j + 1
    return tables


def _caption_distance(t: Table) -> float:
    """How far a table is from its caption; a caption below counts half again as far, as
    the next table's caption often sits right under a table."""
    if t.caption_top is None:
        return 1e9
    if t.caption_top <= t.top:
        return t.top - t.caption_top
    return 1.5 * (t.caption_top - t.bottom)


def _own_captions(tables: list[Table]) -> None:
    """A caption belongs to the one table nearest it (with the side-by-side parts of that
    table's block); another table that took it (a figure under a table's caption, the
    table above the next one's caption) is left without."""
    by_caption: dict[tuple, list[Table]] = {}
    for t in tables:
        if t.caption:
            by_caption.setdefault((t.caption[:60], t.caption_top), []).append(t)
    for ts in by_caption.values():
        keep = min(ts, key=_caption_distance)
        for t in ts:
            if abs(t.top - keep.top) > 5:
                t.caption, t.caption_top = "", None


FIGURE_MARK = "\x00figure"
_SPREAD = re.compile(r"^\(?\s*(?:±|\+/-|\+-)\s*\d+(?:\.\d+)?\s*\)?$")


def _axis(values: list[float]) -> bool:
    """Three or more values evenly or geometrically spaced: a plot axis's ticks."""
    if len(values) < 3:
        return False
    steps = {round(b - a, 6) for a, b in pairwise(values)}
    ratios = {round(b / a, 4) for a, b in pairwise(values) if a}
    return (len(steps) == 1 and 0 not in steps) or (len(ratios) == 1 and 1 not in ratios)


def _below_caption(segs: list[Segment], kinds: list[str], head: list[int], lh: float) -> list[int]:
    """Header lines without the caption's own continuation lines above them (a caption
    paragraph's lines start where the caption starts and follow it closely)."""
    if not head:
        return head

    def follows(k: int) -> bool:  # line k continues the line above it
        return segs[k].top - segs[k - 1].bottom < 0.8 * lh and abs(segs[k].x0 - segs[k - 1].x0) < 3

    k = head[0]
    while k > 0 and kinds[k - 1] != "caption" and kinds[k - 1] in ("prose", "text") and follows(k):
        k -= 1
    if k == 0 or kinds[k - 1] != "caption" or not follows(k):
        return head
    keep = list(head)
    while keep and (keep[0] == k or follows(keep[0])) and abs(segs[keep[0]].x0 - segs[k - 1].x0) < 3:
        keep.pop(0)
    return keep


def _prose_label(label: str) -> bool:
    words = label.split()
    return len(words) >= 8 and sum(1 for w in words if w.lower() in _FUNCTION) >= 3


def _valid(t: Table) -> bool:
    """A block that reads as a table: not running text, not a figure's ticks and labels."""
    rows = t.rows
    if sum(1 for r in rows if _prose_label(r.label)) > len(rows) / 2:
        return False
    ncols = len(t.columns)
    density = sum(len(r.cells) for r in rows) / (len(rows) * ncols)
    if ncols >= 6 and density < 0.35:
        return False  # scattered numbers: a plot's ticks and point labels
    labelled = sum(1 for r in rows if _WORDISH.search(r.label))
    headed = any(c.header for c in t.columns)
    if not labelled and not headed:
        return False  # bare numbers: axis ticks, a bar chart's values
    named = sum(1 for r in rows if re.search(r"[A-Za-z]{4}|[A-Za-z]+[-\d]", r.label))
    axes = 0
    for col in t.columns:
        vals = [c.read().values[0].value for r in rows if (c := r.cells.get(col.index))
                and c.read().values]
        axes += _axis(vals)
    if axes >= 2 and named < len(rows) / 2:
        return False  # a plot: ticks stepping evenly down its axes, no row names
    return len(rows) >= 2 or (headed and len(rows[0].cells) >= 2)


def _caption(segs: list[Segment], kinds: list[str], first: int,
             last: int) -> tuple[str, float | None]:
    """The nearest caption's text and top, above or below the block first..last."""
    top, bottom = segs[first].top, segs[last].bottom
    best, dist = None, None
    for k, s in enumerate(segs):
        if kinds[k] not in ("caption", "figure"):
            continue
        above = s.bottom <= top
        d = top - s.bottom if above else s.top - bottom
        reach = CAPTION_REACH[0] if above else CAPTION_REACH[1]
        if d < -2 or d > reach:
            continue
        if not above:
            d *= 1.5  # the next table's caption often sits right under this one
        if dist is None or d < dist:
            best, dist = k, d
    if best is None:
        return "", None
    if kinds[best] == "figure":
        return FIGURE_MARK, None  # the block is a figure's text (ticks, labels, legends)
    parts = [segs[best].text]
    for k in range(best + 1, min(best + 4, len(segs))):
        if kinds[k] in ("prose", "text") and segs[k].top - segs[k - 1].bottom < 6 \
                and not (first <= k <= last):
            parts.append(segs[k].text)
        else:
            break
    return " ".join(parts), segs[best].top


_ALL = (-1e9, 1e9)


def _clip(seg: Segment, lo: float, hi: float) -> Segment:
    return Segment([c for c in seg.cells if c.x0 >= lo and c.x1 <= hi], seg.top, seg.bottom,
                   seg.line)


_HEAD_WORD = re.compile(r"[A-Za-z#][A-Za-z0-9#.\-]*")


def _side_by_side(segs: list[Segment], kinds: list[str], head: list[int],
                  body: list[int]) -> list[tuple[float, float]]:
    """X-ranges of sub-tables set side by side in one block ("(a) | (b) | (c)"): where a run
    of column headers repeats ("Params MAdds Top-1 ... Params MAdds Top-1"), the block is cut
    at the clean vertical gap after each run."""
    rows = [k for k in body if kinds[k] == "numeric"]
    spans = _columns(segs, rows)
    if len(spans) < 4 or not head:
        return [_ALL]
    lines = [segs[k] for k in [*head, *body]]
    names = []
    for x0, x1 in spans:
        words = [w.lower() for k in head for c in segs[k].cells
                 if x0 - 3 <= c.xc <= x1 + 3 for w in _HEAD_WORD.findall(c.text)]
        names.append(" ".join(words))
    best: list[int] = []
    for k in range(len(names) // 2, 1, -1):
        for i in range(len(names) - k + 1):
            run = names[i:i + k]
            if not all(run):
                continue
            starts = [j for j in range(i, len(names) - k + 1) if names[j:j + k] == run]
            picked = []
            for j in starts:
                if not picked or j >= picked[-1] + k:
                    picked.append(j)
            if len(picked) >= 2:
                best = [j + k - 1 for j in picked[:-1]]
                break
        if best:
            break
    cuts = []
    for e in best:
        if e + 1 >= len(spans):
            continue
        # just right of the run's last column: the next part's labels may fill the gap
        x = min(spans[e][1] + 3, (spans[e][1] + spans[e + 1][0]) / 2)
        if not any(c.x0 < x < c.x1 for s in lines for c in s.cells):
            cuts.append(x)
    if not cuts:
        return [_ALL]
    edges = [-1e9, *cuts, 1e9]
    return list(pairwise(edges))


def _columns(segs: list[Segment], body: list[int]) -> list[tuple[float, float]]:
    """Value columns from the x-extents of value cells across the body's rows."""
    spans = []
    for r, k in enumerate(body):
        for c in segs[k].cells:
            if c.read().is_value:
                spans.append((c.x0, c.x1, r))
    if not spans:
        return []
    spans.sort()
    clusters: list[list[tuple[float, float, int]]] = []
    for s in spans:
        if clusters and s[0] <= max(x1 for _, x1, _ in clusters[-1]) + 0.5:
            clusters[-1].append(s)
        else:
            clusters.append([s])
    out: list[tuple[float, float]] = []
    for cl in clusters:
        per_row: dict[int, int] = {}
        for _, _, r in cl:
            per_row[r] = per_row.get(r, 0) + 1
        k = max(per_row.values())
        if k == 1:
            out.append((min(x0 for x0, _, _ in cl), max(x1 for _, x1, _ in cl)))
            continue
        # two columns whose cells touch: split at the k-1 widest gaps between centres
        cl.sort(key=lambda s: (s[0] + s[1]) / 2)
        centres = [(s[0] + s[1]) / 2 for s in cl]
        gaps = sorted(range(1, len(cl)), key=lambda g: centres[g] - centres[g - 1],
                      reverse=True)[:k - 1]
        cuts = sorted(gaps)
        prev = 0
        for g in [*cuts, len(cl)]:
            part = cl[prev:g]
            if part:
                out.append((min(x0 for x0, _, _ in part), max(x1 for _, x1, _ in part)))
            prev = g
    return sorted(out)


def _value_spans(segs: list[Segment], rows: list[int],
                 spans: list[tuple[float, float]]) -> list[tuple[float, float]]:
    """The spans under which more rows hold a value than text (a "column" of stray values
    where most rows hold text, such as a "40%" in one name of a label column, is text)."""
    boxes = [[(c.x0, c.x1, c.read().is_value) for c in segs[k].cells] for k in rows]
    out = []
    for lo, hi in spans:
        values = texts = 0
        for row in boxes:
            hit = [v for x0, x1, v in row if x0 < hi and x1 > lo]
            values += any(hit)
            texts += not all(hit)
        if values > texts:
            out.append((lo, hi))
    return out


def _col_of(cell: Cell, cols: list[tuple[float, float]]) -> int | None:
    best, score = None, 0.0
    for n, (x0, x1) in enumerate(cols):
        ov = min(cell.x1, x1) - max(cell.x0, x0)
        if ov > score:
            best, score = n, ov
    if best is None:
        for n, (x0, x1) in enumerate(cols):
            d = max(x0 - cell.x1, cell.x0 - x1)
            if d < 3 and (best is None or d < score):
                best, score = n, d
    return best


def _build(segs: list[Segment], kinds: list[str], head: list[int], body: list[int],
           side: str) -> Table | None:
    numeric = [k for k in body if kinds[k] == "numeric"]
    if not numeric:
        return None
    spans = _columns(segs, [k for k in body if kinds[k] == "numeric"])
    # a "column" of stray values where most rows hold text (a label column with a "40%"
    # in one of its names) is text
    spans = _value_spans(segs, numeric, spans)
    if not spans:
        return None
    # cells left of every value column are row labels; a numeric column left of the
    # labels is part of them ("0.75 MobileNet-224")
    first_x = spans[0][0]
    labelled = any(c.x1 <= first_x + 1 for k in numeric for c in segs[k].cells)
    if not labelled and len(spans) > 1:
        texts_after = [c for k in numeric for c in segs[k].cells
                       if spans[0][1] < c.x0 < spans[1][0] and not c.read().is_value]
        if len(texts_after) >= len(numeric) // 2 + 1:
            spans = spans[1:]
            first_x = spans[0][0]
    if len(numeric) < 2 and len(spans) < 2:
        return None
    cols = [Column(n, x0, x1) for n, (x0, x1) in enumerate(spans)]
    group = ""
    if len(head) >= 2 and _group_title(segs[head[-1]]) and len(segs[head[-2]].cells) >= 2:
        group = segs[head[-1]].text  # a row-group title right under the header
        head = head[:-1]
    label_header = _header(segs, head, cols, first_x)
    rows: list[Row] = []
    pending_label = ""
    sub: dict[int, list[str]] = {}
    stacking = False  # the line above was a sub-header line too
    block: list[list[Cell]] = []
    for k in body:
        seg = segs[k]
        if not seg.cells:
            continue
        if kinds[k] != "numeric":
            if all(_SPREAD.match(c.full_text) for c in seg.cells):
                continue  # the spreads of the row above ("± 0.04") set on a line of their own
            over = [c for c in seg.cells if c.x1 > first_x + 1]
            if len(over) >= 2:
                # a line over the value columns: a sub-header for the rows below
                if not stacking:
                    block = []
                block.append(over)
                sub = _sub_header(block, cols)
                stacking = True
                continue
            stacking = False
            text = seg.text
            nxt = next((q for q in body if q > k), None)
            nxt_has_label = nxt is not None and kinds[nxt] == "numeric" and any(
                c.x1 <= first_x + 1 and not c.read().is_value for c in segs[nxt].cells)
            if rows and (text[:1].islower() or text[:1] in "(+[×*/,") and nxt_has_label:
                rows[-1].label = f"{rows[-1].label} {text}".strip()  # a wrapped label
            elif nxt is not None and not nxt_has_label and kinds[nxt] == "numeric":
                pending_label = text  # the label on the line above its values
            else:
                group = text
            continue
        if stacking and _header_row(seg, [segs[q] for q in body if q > k
                                          and kinds[q] == "numeric"][:3]):
            block.append(seg.cells)  # the sub-header's subscripts ("AP" over "50 75")
            sub = _sub_header(block, cols)
            continue
        stacking = False
        label_parts, cells, notes, inline = [], {}, [], []
        for c in seg.cells:
            if c.x1 <= first_x + 1:
                label_parts.append(c)
                continue
            if not c.read().is_value:
                inline.append((c.x0, c.full_text))
            n = _col_of(c, spans)
            if n is None:
                continue
            if c.read().is_value:
                if n not in cells:
                    cells[n] = c
            else:
                notes.append(c.full_text)
        label = " ".join(c.text for c in label_parts)
        if pending_label and not label:
            label = pending_label
        pending_label = ""
        if not cells:
            continue
        rows.append(Row(len(rows), " ".join(label.split()), cells, seg.top, seg.text,
                        group=group, notes=notes,
                        label_bold=bool(label_parts) and all(c.bold for c in label_parts),
                        subheader={n: list(v) for n, v in sub.items()}, inline=inline))
    if not rows:
        return None
    x0 = min(segs[k].x0 for k in body if segs[k].cells)
    x1 = max(segs[k].x1 for k in body if segs[k].cells)
    return Table(page=0, index=0, side=side, columns=cols, rows=rows, caption="",
                 label_header=label_header, top=segs[head[0] if head else body[0]].top,
                 bottom=segs[body[-1]].bottom, x0=x0, x1=x1, header_lines=len(head),
                 lines={segs[k].line for k in [*head, *body]})


def _sub_header(block: list[list[Cell]], cols: list[Column]) -> dict[int, list[str]]:
    """The header parts of each column under sub-header lines set between rows. A block
    naming columns ("EM F1 ...", "Params Top-1") is a new header for the rows below
    (stacked sub-tables); one that names none adds to the table's header."""
    names = any(names_a_column(c.full_text) for line in block for c in line)
    sub = {} if names else {n: list(c.header) for n, c in enumerate(cols)}
    for line in block:
        for c in line:
            for n in _covered(c, cols):
                sub.setdefault(n, []).append(c.full_text)
    return sub


def _group_title(seg: Segment) -> bool:
    """A line of one short name: the title of the rows below it ("Transformers", "Ours")."""
    return len(seg.cells) == 1 and bool(_WORDISH.search(seg.text)) and not seg.text.startswith("(")


def _covered(cell: Cell, cols: list[Column], upper: bool = False) -> list[int]:
    """The columns a header cell stands over: those whose centre it spans, else the one
    it overlaps most, else the nearest within a few points."""
    inside = [c.index for c in cols if cell.x0 - 2 <= c.xc <= cell.x1 + 2]
    if inside:
        return inside
    for a, b in pairwise(cols) if upper else ():
        if a.x1 <= cell.xc <= b.x0 and cell.x0 < b.x0 and cell.x1 > a.x1:
            return [a.index, b.index]  # a short group header centred over two columns
    best = max(cols, key=lambda c: min(cell.x1, c.x1) - max(cell.x0, c.x0))
    if min(cell.x1, best.x1) - max(cell.x0, best.x0) > 0:
        return [best.index]
    near = min(cols, key=lambda c: abs(c.xc - cell.xc))
    return [near.index] if abs(near.xc - cell.xc) < 18 else []


def _centred(cell: Cell, cols: list[Column], a: int, b: int) -> float | None:
    """How far `cell` stands from the centre of columns a..b, or None when it is not
    centred over them."""
    left, right = cols[a], cols[b]
    off = abs((left.x0 + right.x1) / 2 - cell.xc)
    return off if off <= max(6.0, 0.15 * (right.x1 - left.x0)) else None


def _centred_groups(cells: list[Cell], cols: list[Column], top: bool = False
                    ) -> dict[int, list[int]]:
    """Group headers narrower than the columns they span ("POS" over "Dev | Test", "NER"
    over the six columns after): on an upper header line with fewer cells than columns,
    each cell takes a run of adjacent columns it stands centred over, runs in the cells'
    order and not overlapping, covering as many columns as can be (then as centred as can
    be). A lone cell on the header's top line, centred over three or more columns and
    naming no column kind, titles them all. Keyed by id(cell); empty when the line is not
    so set (a cell centred over no run), which leaves each cell over the columns it
    overlaps."""
    n = len(cols)
    if len(cells) == 1:
        if top and n >= 3 and not names_a_column(cells[0].full_text) \
                and _centred(cells[0], cols, 0, n - 1) is not None:
            return {id(cells[0]): [c.index for c in cols]}  # a title over the whole table
        return {}
    if len(cells) >= n:
        return {}
    # best[i][j]: (columns covered, -offset, runs) placing cells[:i] within cols[:j]
    best: list[list[tuple | None]] = [[None] * (n + 1) for _ in range(len(cells) + 1)]
    best[0] = [(0, 0.0, ())] * (n + 1)
    for i, cell in enumerate(cells, 1):
        for j in range(1, n + 1):
            cand = best[i][j - 1]
            for a in range(j):
                prev = best[i - 1][a]
                off = _centred(cell, cols, a, j - 1)
                if prev is None or off is None:
                    continue
                got = (prev[0] + j - a, prev[1] - off, (*prev[2], (a, j - 1)))
                if cand is None or got[:2] > cand[:2]:
                    cand = got
            best[i][j] = cand
    done = best[len(cells)][n]
    if done is None:
        return {}
    return {id(c): list(range(a, b + 1)) for c, (a, b) in zip(cells, done[2], strict=True)}


def _header(segs: list[Segment], head: list[int], cols: list[Column], first_x: float) -> str:
    """Stack the header lines above each column; returns the label column's header."""
    label_parts = []
    for level, k in enumerate(head):
        lowest = level == len(head) - 1
        centred = {} if lowest else _centred_groups(
            [c for c in segs[k].cells if c.x1 > first_x + 1], cols, top=level == 0)
        for cell in segs[k].cells:
            if cell.x1 <= first_x + 1:
                label_parts.append(cell.full_text)
                continue
            covered = centred.get(id(cell)) or _covered(cell, cols, upper=not lowest)
            if len(covered) > 1 and len(cell.words) >= len(covered):
                # a header line set tight: its words may name the columns one by one
                near = [min(covered, key=lambda n, w=w: abs(cols[n].xc - w.xc))
                        for w in cell.words]
                one_each = sorted(set(near)) == covered and near == sorted(near)
                parts = [" ".join(w.text for w, m in zip(cell.words, near, strict=True) if m == n)
                         for n in covered]
                # each part names a column of its own ("FLOPs | Throughput"); "Exact Match"
                # over "Dev | Test" is one name spanning both
                named = all(names_a_column(p) for p in parts)
                if one_each and (named or (lowest and not names_a_column(cell.full_text))):
                    for n, part in zip(covered, parts, strict=True):
                        cols[n].header.append(part)
                        cols[n].group.append(False)
                    continue
            for n in covered:
                cols[n].header.append(cell.full_text)
                cols[n].group.append(len(covered) > 1)
    return " ".join(label_parts)
