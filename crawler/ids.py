"""arXiv identifiers: parse every form, and date a paper by its id.

arXiv ids carry the year and month of first submission, which is how the paper
dates its observations:

- old style (1991-2007): ``archive[.SUBJ]/YYMMNNN`` (``hep-th/9901001``,
  ``math.GT/0309136``); bulk mirrors write them without the slash
  (``hep-th9901001.pdf``) and some with an underscore.
- new style, 4-digit serial: ``YYMM.NNNN`` for 0704 to 1412.
- new style, 5-digit serial: ``YYMM.NNNNN`` from 1501 on.

Each may carry a version (``v5``), an ``arXiv:`` prefix, an abs/pdf URL and a
``.pdf`` suffix. Ids are strings everywhere: ``1501.00010`` keeps its zero.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from db.errors import DlcomputeError


class InvalidArxivId(DlcomputeError, ValueError):
    """Text that is not an arXiv identifier."""

    def __init__(self, text: str, reason: str = ""):
        self.text = text
        self.reason = reason
        super().__init__(
            f"{text!r} is not an arXiv id{f' ({reason})' if reason else ''}; expected e.g. "
            f"1811.06965v5, 0704.0001, hep-th/9901001 or arXiv:1501.00010"
        )

    def __reduce__(self):
        return (type(self), (self.text, self.reason))


@dataclass(frozen=True)
class ArxivId:
    """A parsed arXiv id: ``id`` is without version, ``version`` None when absent."""

    id: str
    version: int | None
    year: int
    month: int

    @property
    def old_style(self) -> bool:
        return "/" in self.id

    @property
    def versioned(self) -> str:
        return f"{self.id}v{self.version}" if self.version else self.id

    def __str__(self) -> str:
        return self.versioned


_PREFIX = re.compile(
    r"^(?:https?://[^/]+/|[\w.-]*arxiv\.org/)?(?:abs/|pdf/|html/)?", re.IGNORECASE)
_NEW = re.compile(r"^(\d{2})(\d{2})\.(\d{4,5})(?:v(\d+))?$")
# archive names are lower-case letters and hyphens, an optional .XX subject class
_OLD = re.compile(r"^([a-z][a-z-]*(?:\.[A-Za-z]{2})?)[/_]?(\d{2})(\d{2})(\d{3})(?:v(\d+))?$")


def _strip(text: str) -> str:
    s = text.strip()
    if s.lower().startswith("arxiv:"):
        s = s[6:]
    s = _PREFIX.sub("", s)
    if s.lower().endswith(".pdf"):
        s = s[:-4]
    return s.strip("/")


def parse_arxiv_id(text: str) -> ArxivId:
    """Parse any form of arXiv id; raise InvalidArxivId when ``text`` is none.

    >>> parse_arxiv_id("https://arxiv.org/abs/1811.06965v5")
    ArxivId(id='1811.06965', version=5, year=2018, month=11)
    """
    if not isinstance(text, str):
        raise InvalidArxivId(repr(text), "not text")
    s = _strip(text)
    m = _NEW.match(s)
    if m:
        yy, mm, serial, version = m.groups()
        year, month = 2000 + int(yy), int(mm)
        yymm = int(yy + mm)
        if not 1 <= month <= 12:
            raise InvalidArxivId(text, f"month {mm} does not exist")
        if len(serial) == 4 and not 704 <= yymm <= 1412:
            raise InvalidArxivId(text, "4-digit serials run from 0704 to 1412")
        if len(serial) == 5 and yymm < 1501:
            raise InvalidArxivId(text, "5-digit serials start in 1501")
        return ArxivId(f"{yy}{mm}.{serial}", _version(version), year, month)
    m = _OLD.match(s)
    if m:
        archive, yy, mm, serial, version = m.groups()
        year = (1900 if int(yy) >= 91 else 2000) + int(yy)
        month = int(mm)
        if not 1 <= month <= 12:
            raise InvalidArxivId(text, f"month {mm} does not exist")
        if not (1991 <= year <= 2007):
            raise InvalidArxivId(text, "old-style ids run from 1991 to 2007")
        # the subject class is upper case in canonical ids: math.GT/0309136
        if "." in archive:
            head, _, subj = archive.partition(".")
            archive = f"{head}.{subj.upper()}"
        return ArxivId(f"{archive}/{yy}{mm}{serial}", _version(version), year, month)
    raise InvalidArxivId(text)


def _version(v: str | None) -> int | None:
    return int(v) if v else None


def try_parse_arxiv_id(text: str) -> ArxivId | None:
    """Like parse_arxiv_id, but None instead of an error."""
    try:
        return parse_arxiv_id(text)
    except InvalidArxivId:
        return None


def normalize_id(text: str) -> str:
    """The id without version: ``arXiv:1501.00010v2`` -> ``1501.00010``."""
    return parse_arxiv_id(text).id


def id_year_month(text: str) -> tuple[int, int]:
    """The (year, month) of first submission encoded in the id."""
    a = parse_arxiv_id(text)
    return a.year, a.month
