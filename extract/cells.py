"""The grammar of a table cell: what value(s) a cell holds and how they are marked.

Cells are read one way for every field. A cell may hold one value ("76.3",
"76.3%", "25.6M", "3.6×10^9", "1,024"), a value with its spread ("76.3 ± 0.2",
"76.3 (±0.2)", "76.3 (76.1±0.2)": the first number is the one the paper
reports), two values of two metrics ("84.1/90.9" under "EM/F1"), a range
("2-3"), a time with its unit ("3.5 days", "12h") or nothing ("-", "n/a").
Values that are bounds or approximations ("<5", "~3") are marked, not dropped:
whether they count is the scorer's decision.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from functools import lru_cache

#: scale letters and words a cell or header may carry
SCALE_SUFFIX = {"K": 1e3, "k": 1e3, "M": 1e6, "G": 1e9, "B": 1e9, "T": 1e12}
TIME_UNITS = {"h": 1.0, "hr": 1.0, "hrs": 1.0, "hour": 1.0, "hours": 1.0, "d": 24.0, "day": 24.0,
              "days": 24.0, "w": 168.0, "week": 168.0, "weeks": 168.0, "min": 1 / 60,
              "mins": 1 / 60, "minutes": 1 / 60, "m": 1 / 60, "s": 1 / 3600, "sec": 1 / 3600}


@dataclass
class CellValue:
    """One value read from a cell."""

    value: float
    raw: str
    #: a scale the cell itself states (25.6M -> 1e6, 3.6x10^9 -> 1e9), else None
    scale: float | None = None
    percent: bool = False
    #: "<5", "~3", "≈2": a bound or an approximation
    approx: bool = False
    #: the spread stated beside it ("± 0.2"), if any
    spread: float | None = None
    #: a time unit written in the cell ("3.5 days") as hours per unit
    hours_per_unit: float | None = None
    #: this value is one of several of the cell ("a/b", "a-b"): its position
    part: int = 0
    parts: int = 1
    range_: bool = False
    marks: str = ""


@dataclass
class CellRead:
    """What a cell holds: its values (empty for a placeholder such as "-")."""

    values: list[CellValue] = field(default_factory=list)
    placeholder: bool = False

    @property
    def is_value(self) -> bool:
        return bool(self.values) or self.placeholder


_MARKS = "*†‡§¶∗♯⋆♮♭#✝"
_PLACEHOLDER = re.compile(r"^(?:[-–—‐−]+|n/?a|N/?A|\?|×|✗|✓|x|X|—|-|/|\.\.\.|…|TBD|OOM|oom|N\.A\.)$")
_NUM = r"\d{1,3}(?:,\d{3})+(?:\.\d+)?|\d+(?:\.\d+)?|\.\d+"
_SCALE = r"(?:[KkMGBT](?![a-z])|\s?(?:million|billion|thousand|M|B|G|K)\b)"
#: "3.6×10^9", "3.6 x 10^9", "3.6x109" (a superscript read in line), "3.6e9", "3.6E+09"
_SCI = re.compile(r"^(?P<m>\d+(?:\.\d+)?)\s*(?:[x×*·]\s*10\s*\^?\s*(?P<e>[-−]?\d{1,2})|[eE](?P<e2>[+-]?\d{1,2}))$")
_ONE = re.compile(
    rf"^(?P<approx>[~∼≈<>≤≥]|about\s)?\s*\(?\s*(?P<sign>[-−+])?(?P<n>{_NUM})\s*"
    rf"(?P<scale>{_SCALE})?\s*(?P<pct>%)?\s*\)?\s*(?P<marks>[{re.escape(_MARKS)}]*)$")
_TIME = re.compile(rf"^(?P<n>{_NUM})\s*(?P<unit>h|hrs?|hours?|d|days?|w|weeks?|mins?|minutes|s|sec)\.?$",
                   re.I)
#: "76.3 ± 0.2", "76.3±0.2", "76.3 (± 0.2)", "76.3 (0.2)", "76.3 (76.1 ± 0.2)", "76.3 (+1.2)"
_WITH_PAREN = re.compile(r"^(?P<main>[^()±]+?)\s*\(\s*(?P<inner>[^()]*)\)\s*(?P<marks>[" + re.escape(_MARKS) + r"]*)$")
_PM = re.compile(r"^(?P<main>.+?)\s*(?:±|\+/-|\+-)\s*(?P<sd>\d+(?:\.\d+)?)\s*%?\s*(?P<marks>[" + re.escape(_MARKS) + r"]*)$")
_RANGE = re.compile(rf"^(?P<a>{_NUM})\s*[-–~]\s*(?P<b>{_NUM})\s*(?P<rest>[A-Za-z%]*)$")
_CITE_ONLY = re.compile(r"^\[\d+(?:\s*[,–-]\s*\d+)*\]$|^\((?:19|20)\d\d[a-z]?\)$")


def _scale_of(s: str | None) -> float | None:
    if not s:
        return None
    s = s.strip()
    return {"million": 1e6, "billion": 1e9, "thousand": 1e3}.get(s.lower(), SCALE_SUFFIX.get(s))


def _number(text: str) -> float | None:
    try:
        return float(text.replace(",", "").replace("−", "-"))
    except ValueError:
        return None


def _one(text: str) -> CellValue | None:
    text = text.strip()
    m = _SCI.match(text)
    if m:
        e = m.group("e") or m.group("e2")
        return CellValue(float(m.group("m")), text, scale=10.0 ** int(e.replace("−", "-")))
    m = _TIME.match(text)
    if m:
        v = _number(m.group("n"))
        if v is None:
            return None
        return CellValue(v, text, hours_per_unit=_time_unit(m.group("unit")))
    m = _ONE.match(text)
    if not m:
        return None
    v = _number(m.group("n"))
    if v is None:
        return None
    if m.group("sign") in ("-", "−"):
        v = -v
    return CellValue(v, text, scale=_scale_of(m.group("scale")), percent=bool(m.group("pct")),
                     approx=bool(m.group("approx")), marks=m.group("marks") or "")


def _time_unit(unit: str) -> float:
    u = unit.lower().rstrip(".")
    return TIME_UNITS.get(u, TIME_UNITS.get(u.rstrip("s"), 1.0))


@lru_cache(maxsize=1 << 15)
def read_cell(text: str) -> CellRead:
    """Parse one cell's text (superscripts already removed by the layout)."""
    t = " ".join(text.split())
    if not t:
        return CellRead()
    t = t.replace("−", "-").replace("–", "-") if any(c in t for c in "−–") else t
    if _PLACEHOLDER.match(t) or (" / " in t and all(_PLACEHOLDER.match(p) for p in t.split(" / "))):
        return CellRead(placeholder=True)  # "- / -": no value for either of a pair
    if _CITE_ONLY.match(t):
        return CellRead()
    one = _one(t)
    if one is not None:
        return CellRead([one])
    m = _PM.match(t)
    if m:
        base = _one(m.group("main"))
        if base is not None:
            base.spread = float(m.group("sd"))
            base.raw = t
            base.marks += m.group("marks") or ""
            return CellRead([base])
    m = _WITH_PAREN.match(t)
    if m:
        base = _one(m.group("main"))
        if base is not None:
            inner = m.group("inner").strip()
            pm = re.match(r"^(?:(?P<mean>[\d.]+)\s*)?(?:±|\+/-)\s*(?P<sd>[\d.]+)", inner)
            if pm:
                base.spread = _number(pm.group("sd"))
            base.raw = t
            return CellRead([base])
    if "/" in t and t.count("/") <= 3:
        parts = [p.strip() for p in t.split("/")]
        vals = [_one(p) for p in parts]
        if all(v is not None for v in vals) and len(vals) >= 2:
            for i, v in enumerate(vals):
                v.part, v.parts = i, len(vals)
            return CellRead(vals)
    m = _RANGE.match(t)
    if m and not t.startswith("-"):
        a, b = _number(m.group("a")), _number(m.group("b"))
        rest = m.group("rest")
        if a is not None and b is not None and a < b:
            hours = _time_unit(rest) if rest and _TIME.match("1" + rest) else None
            scale = _scale_of(rest) if rest in SCALE_SUFFIX else None
            return CellRead([CellValue(a, t, scale=scale, hours_per_unit=hours, part=0, parts=2,
                                       range_=True),
                             CellValue(b, t, scale=scale, hours_per_unit=hours, part=1, parts=2,
                                       range_=True)])
    return CellRead()
