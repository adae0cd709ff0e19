"""A local evaluator of arXiv's fielded query syntax, for harvested and ingested metadata.

``harvest`` and ``ingest --metadata`` get papers without asking the search API,
so they match the benchmark terms themselves. Supported, as arXiv reads them:

- fields ``ti:`` (title), ``abs:`` (abstract), ``au:`` (authors), ``co:``
  (comment), ``jr:`` (journal ref), ``cat:`` (category; ``cat:cs.*`` matches a
  prefix), ``all:`` (title, abstract, authors, comment); a bare term is ``all:``;
- a word or a ``"quoted phrase"``; matching is case-insensitive on whole
  words: text is split into runs of letters and digits, so ``"CIFAR-10"``
  matches "CIFAR-10" and "cifar 10" but not "CIFAR-100"; a trailing ``*``
  matches a word prefix;
- ``AND``, ``OR``, ``ANDNOT`` and parentheses; terms side by side mean AND.
  AND and ANDNOT bind tighter than OR; all are left-associative.
- ``submittedDate:[A TO B]`` is true when no date is given, else compares
  the YYYYMMDDHHMM submission time.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass, field

from db.errors import DlcomputeError


class QuerySyntaxError(DlcomputeError, ValueError):
    """A search term that is not valid arXiv query syntax."""


FIELDS = {"ti", "abs", "au", "co", "jr", "cat", "all", "id", "rn"}

_TOKEN = re.compile(
    r'\s*(?:(?P<lpar>\()|(?P<rpar>\))'
    r'|(?P<date>submittedDate:\[\s*(?P<d1>\d{8,12})\s+TO\s+(?P<d2>\d{8,12})\s*\])'
    r'|(?:(?P<field>[A-Za-z]+):)?(?:"(?P<phrase>[^"]*)"|(?P<word>[^\s()"]+)))')

_WORD = re.compile(r"[^\W_]+")


def words(text: str) -> list[str]:
    """Lower-case runs of letters and digits."""
    return _WORD.findall(text.lower())


@dataclass
class Document:
    """The parts of a paper a query can look at."""

    title: str = ""
    abstract: str = ""
    authors: str = ""
    comment: str = ""
    journal_ref: str = ""
    categories: list[str] = field(default_factory=list)
    submitted: str | None = None  # YYYYMMDDHHMM
    _cache: dict[str, list[str]] = field(default_factory=dict, repr=False)

    def tokens(self, fld: str) -> list[str]:
        if fld not in self._cache:
            text = {
                "ti": self.title, "abs": self.abstract, "au": self.authors,
                "co": self.comment, "jr": self.journal_ref,
                "all": " \n ".join([self.title, self.abstract, self.authors, self.comment]),
            }.get(fld, "")
            self._cache[fld] = words(text or "")
        return self._cache[fld]


Matcher = Callable[[Document], bool]


def _term(fld: str, text: str) -> Matcher:
    fld = fld.lower()
    if fld not in FIELDS:
        raise QuerySyntaxError(
            f"unknown field {fld}:; use one of {', '.join(sorted(FIELDS))}")
    if fld == "cat":
        want = text.strip().lower()
        if want.endswith("*"):
            return lambda d: any(c.lower().startswith(want[:-1]) for c in d.categories)
        return lambda d: any(c.lower() == want for c in d.categories)
    prefix = text.endswith("*")
    needle = words(text)
    if not needle:
        raise QuerySyntaxError(f"empty term {fld}:{text!r}")
    n = len(needle)

    def match(d: Document) -> bool:
        hay = d.tokens(fld)
        for i in range(len(hay) - n + 1):
            if hay[i:i + n - 1] == needle[:-1] and (
                    hay[i + n - 1].startswith(needle[-1]) if prefix
                    else hay[i + n - 1] == needle[-1]):
                return True
        return False

    return match


def _date(d1: str, d2: str) -> Matcher:
    lo, hi = d1.ljust(12, "0"), d2.ljust(12, "9")
    return lambda d: d.submitted is None or lo <= d.submitted <= hi


class _Parser:
    def __init__(self, query: str):
        self.query = query
        self.tokens: list[tuple[str, object]] = []
        pos = 0
        while pos < len(query):
            if query[pos:].strip() == "":
                break
            m = _TOKEN.match(query, pos)
            if not m or m.end() == pos:
                raise QuerySyntaxError(f"cannot read {query[pos:]!r} in query {query!r}")
            pos = m.end()
            if m["lpar"]:
                self.tokens.append(("(", None))
            elif m["rpar"]:
                self.tokens.append((")", None))
            elif m["date"]:
                self.tokens.append(("term", _date(m["d1"], m["d2"])))
            elif m["field"] is None and m["word"] in ("AND", "OR", "ANDNOT"):
                self.tokens.append((m["word"], None))
            else:
                text = m["phrase"] if m["phrase"] is not None else m["word"]
                if text.endswith(":"):
                    raise QuerySyntaxError(f"{text} has no term after it in query {query!r}")
                self.tokens.append(("term", _term(m["field"] or "all", text)))
        self.i = 0

    def peek(self) -> str | None:
        return self.tokens[self.i][0] if self.i < len(self.tokens) else None

    def parse(self) -> Matcher:
        if not self.tokens:
            raise QuerySyntaxError(f"empty query {self.query!r}")
        m = self.or_expr()
        if self.peek() is not None:
            raise QuerySyntaxError(f"unexpected {self.peek()} in query {self.query!r}")
        return m

    def or_expr(self) -> Matcher:
        left = self.and_expr()
        while self.peek() == "OR":
            self.i += 1
            right = self.and_expr()
            left = (lambda a, b: lambda d: a(d) or b(d))(left, right)
        return left

    def and_expr(self) -> Matcher:
        left = self.atom()
        while self.peek() in ("AND", "ANDNOT", "term", "("):
            op = self.peek()
            if op in ("AND", "ANDNOT"):
                self.i += 1
            right = self.atom()
            if op == "ANDNOT":
                left = (lambda a, b: lambda d: a(d) and not b(d))(left, right)
            else:
                left = (lambda a, b: lambda d: a(d) and b(d))(left, right)
        return left

    def atom(self) -> Matcher:
        kind = self.peek()
        if kind == "(":
            self.i += 1
            inner = self.or_expr()
            if self.peek() != ")":
                raise QuerySyntaxError(f"missing ) in query {self.query!r}")
            self.i += 1
            return inner
        if kind == "term":
            fn = self.tokens[self.i][1]
            self.i += 1
            return fn  # type: ignore[return-value]
        raise QuerySyntaxError(
            f"expected a term but found {kind or 'the end'} in query {self.query!r}")


def parse_query(query: str) -> Matcher:
    """Compile an arXiv query into a function Document -> bool."""
    return _Parser(query).parse()


def matches(query: str, doc: Document) -> bool:
    return parse_query(query)(doc)
