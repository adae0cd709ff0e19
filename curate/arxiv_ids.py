"""arXiv identifiers in paper URLs (a small parser of our own: stages never import crawler)."""

from __future__ import annotations

import re

# New style (0704.0001 onwards, 4 or 5 digits after the dot) and old style (hep-th/9901001).
_NEW = re.compile(r"(?<![\d.])(\d{4}\.\d{4,5})(?:v\d+)?(?![\d])")
_OLD = re.compile(r"([a-z][a-z\-]*(?:\.[A-Z]{2})?/\d{7})(?:v\d+)?")
_HOSTS = ("arxiv.org/abs/", "arxiv.org/pdf/", "export.arxiv.org/abs/", "arxiv.org/html/")


def parse_arxiv_id(text: str | None) -> str | None:
    """The arXiv id without version in a URL or bare id, or None.

    Accepts ``https://arxiv.org/abs/1512.03385v1``, ``http://arxiv.org/pdf/1512.03385.pdf``,
    ``1512.03385v2``, ``arxiv.org/abs/hep-th/9901001``. Other URLs give None.
    """
    if not text:
        return None
    s = text.strip()
    low = s.lower()
    if "://" in low or low.startswith(("arxiv.org", "www.arxiv.org")):
        at = next((low.index(h) + len(h) for h in _HOSTS if h in low), None)
        if at is None:
            return None
        s = s[at:]
    m = _NEW.match(s)
    if m:
        return m.group(1)
    m = _OLD.match(s)
    if m:
        return m.group(1)
    return None
