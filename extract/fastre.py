"""Faster scanning for long regex alternations, with the same matches.

Python's `re` tries every branch of an alternation such as
`\\bVOC\\b|\\bPASCAL\\b|...` at every position of the text. Prefixing the pattern
with a lookahead on the characters a match can start with, `(?=[VPS...])`,
lets the engine reject almost every position with one character test: 5-7x
faster on whole pages, and the matches are identical (the lookahead only
states what the pattern already requires).
"""

from __future__ import annotations

import re

try:  # the parser `re` itself uses; private, so fall back to the plain pattern
    from re import _constants as _c
    from re import _parser as _p
except ImportError:  # pragma: no cover - other Python versions
    _c = _p = None


_CATEGORIES = {"CATEGORY_DIGIT": r"\d", "CATEGORY_SPACE": r"\s"}


def _first_chars(items, ci: bool = False) -> tuple[set[str], set[str]] | None:
    """Class items a match of the parsed items can start with, as (case-sensitive,
    case-insensitive) sets of escaped characters or `\\d`; None when unknown.
    `ci`: inside a `(?i:...)` group of a pattern compiled without IGNORECASE."""
    for op, av in items:
        if op is _c.AT or op in (_c.ASSERT, _c.ASSERT_NOT):
            continue  # \b, ^, lookarounds: zero-width, the first character comes after
        if op is _c.LITERAL:
            return (set(), {re.escape(chr(av))}) if ci else ({re.escape(chr(av))}, set())
        if op is _c.IN:
            found: set[str] = set()
            for o, a in av:
                if o is _c.LITERAL:
                    found.add(re.escape(chr(a)))
                elif o is _c.RANGE and a[1] - a[0] < 64:
                    found.update(re.escape(chr(c)) for c in range(a[0], a[1] + 1))
                elif o is _c.CATEGORY and str(a) in _CATEGORIES:
                    found.add(_CATEGORIES[str(a)])
                else:
                    return None
            return (set(), found) if ci else (found, set())
        if op is _c.BRANCH:
            cs: set[str] = set()
            ins: set[str] = set()
            for branch in av[1]:
                f = _first_chars(branch.data, ci)
                if f is None:
                    return None
                cs |= f[0]
                ins |= f[1]
            return cs, ins
        if op is _c.SUBPATTERN:
            add_flags, del_flags = av[1], av[2]
            if del_flags & re.IGNORECASE:
                return None  # rare; a case-sensitive part inside an IGNORECASE pattern
            return _first_chars(av[-1].data, ci or bool(add_flags & re.IGNORECASE))
        if op in (_c.MAX_REPEAT, _c.MIN_REPEAT) and av[0] >= 1:
            return _first_chars(av[2].data, ci)
        return None
    return None


def with_first_chars(rx: re.Pattern) -> re.Pattern:
    """`rx` prefixed by a lookahead on its possible first characters (same matches).

    Returned unchanged when the first characters cannot be worked out (a pattern
    starting with `.`, `\\w`, an optional part ...) or when it is a bytes pattern.
    Flags are kept, so IGNORECASE also applies to the lookahead; characters from a
    `(?i:...)` group are tested case-insensitively.
    """
    if _p is None or not isinstance(rx.pattern, str):
        return rx
    try:
        first = _first_chars(_p.parse(rx.pattern, rx.flags).data)
    except (re.error, TypeError, ValueError, AttributeError):
        return rx
    if first is None or not (first[0] or first[1]) or len(first[0]) + len(first[1]) > 60:
        return rx
    alts = []
    if first[0]:
        alts.append("[" + "".join(sorted(first[0])) + "]")
    if first[1]:
        alts.append("(?i:[" + "".join(sorted(first[1])) + "])")
    return re.compile(f"(?={'|'.join(alts)})(?:{rx.pattern})", rx.flags)


def _leading_literals(items, ci: bool) -> tuple[str, ...]:
    """Literals one of which every match of the parsed items starts with (after \b, ^);
    () when unknown. A leading group of alternatives gives one literal per alternative."""
    out = []
    for op, av in items:
        if op is _c.AT and not out:
            continue
        if op is _c.LITERAL:
            out.append(chr(av))
            continue
        inner: tuple[str, ...] = ()
        if op is _c.SUBPATTERN and not (av[1] | av[2]) & re.IGNORECASE:
            inner = _leading_literals(av[-1].data, ci)
        elif op is _c.BRANCH:  # re's parser factors a common prefix out: C(?:oNLL|ONLL)
            alts = [_leading_literals(b.data, ci) for b in av[1]]
            inner = tuple(lit for a in alts for lit in a) if all(alts) else ()
        if inner:
            head = "".join(out)
            return tuple((head.lower() if ci else head) + lit for lit in inner)
        break
    s = "".join(out)
    return ((s.lower() if ci else s),) if s else ()


class GatedPattern:
    """A long top-level alternation that only tries the branches a text can match.

    Each branch must start with a literal ("\\bVOC\\b", "ImageNet[- ]?V2", "(?:CoNLL|CONLL)"); a text
    that does not contain a branch's literal cannot match that branch, so the branch
    is dropped before the scan. The reduced pattern finds exactly the matches of
    the whole one (for each set of present branches it is compiled once and cached).
    Short texts (table cells) skip the gate: the plain pattern is faster there.
    """

    SHORT = 300
    #: reduced patterns kept compiled (one per set of branches present)
    MAX_CACHED = 512

    def __init__(self, rx: re.Pattern) -> None:
        self.full = with_first_chars(rx)
        self.pattern, self.flags = rx.pattern, rx.flags
        self._ci = bool(rx.flags & re.IGNORECASE)
        self._branches: list[tuple[tuple[str, ...], str]] = []
        self._cache: dict[tuple[int, ...], re.Pattern] = {}
        self._last: tuple = (None, None)  # the last long text and its reduced pattern
        parts = _top_branches(rx)
        if parts is None:
            return
        for src, items in parts:
            lits = _leading_literals(items, self._ci)
            if not lits:
                self._branches = []
                return
            self._branches.append((lits, src))

    def _for(self, text: str) -> re.Pattern | None:
        if not self._branches or len(text) < self.SHORT:
            return self.full
        if text is self._last[0]:
            return self._last[1]
        hay = lowered(text) if self._ci else text
        present = tuple(i for i, (lits, _) in enumerate(self._branches)
                        if any(lit in hay for lit in lits))
        if not present:
            self._last = (text, None)
            return None
        rx = self._cache.get(present)
        if rx is None:
            if len(self._cache) >= self.MAX_CACHED:
                self._cache.clear()  # a worker reading many papers must not grow forever
            src = "|".join(self._branches[i][1] for i in present)
            rx = self._cache[present] = with_first_chars(re.compile(src, self.flags))
        self._last = (text, rx)
        return rx

    def finditer(self, text: str):
        rx = self._for(text)
        return iter(()) if rx is None else rx.finditer(text)

    def findall(self, text: str) -> list:
        rx = self._for(text)
        return [] if rx is None else rx.findall(text)

    def search(self, text: str, *args):
        if len(text) < self.SHORT:
            return self.full.search(text, *args)
        rx = self._for(text)
        return None if rx is None else rx.search(text, *args)


_last_lowered: list = [None, ""]


def lowered(text: str) -> str:
    """text.lower(), remembered for the last text: gated patterns scan one page in turn."""
    if _last_lowered[0] is not text:
        _last_lowered[0], _last_lowered[1] = text, text.lower()
    return _last_lowered[1]


def _top_branches(rx: re.Pattern) -> list[tuple[str, list]] | None:
    """The source text and parsed items of each top-level branch of `rx`, or None.

    The source is split at top-level '|' (outside groups, classes and escapes) and
    each piece parsed on its own, so the pieces join back to the same pattern."""
    if _p is None or not isinstance(rx.pattern, str):
        return None
    src, pieces, depth, cls, start, i = rx.pattern, [], 0, False, 0, 0
    while i < len(src):
        ch = src[i]
        if ch == "\\":
            i += 2
            continue
        if cls:
            cls = ch != "]"
        elif ch == "[":
            cls = True
            if src[i + 1:i + 2] == "]" or src[i + 1:i + 3] == "^]":
                i += 2 if src[i + 1] == "]" else 3
                continue
        elif ch == "(":
            depth += 1
        elif ch == ")":
            depth -= 1
        elif ch == "|" and depth == 0:
            pieces.append(src[start:i])
            start = i + 1
        i += 1
    pieces.append(src[start:])
    try:
        return [(piece, list(_p.parse(piece, rx.flags).data)) for piece in pieces]
    except (re.error, TypeError, ValueError, AttributeError):
        return None
