"""Model names as pairing compares them: one variant, one key.

Pairing takes a value from elsewhere in a paper only for exactly the same named
variant. ``variant_key`` keeps everything that tells variants apart (sizes,
resolutions, width multipliers: "MobileNet-160" is not "MobileNet-224",
"ResNet-50" is not "ResNet-101") and drops only what does not: case, spacing,
hyphens, citations ("[18]", "(He et al., 2016)"), ownership marks ("ours",
"*", "†") and trailing zeros of decimals ("0.50" = "0.5"). So "ResNet-50",
"ResNet50" and "resnet 50" are one key.
"""

from __future__ import annotations

import functools
import re

_CITATION = re.compile(
    r"\[\s*[\d,\s\-–]+\]"  # [18], [3, 4]
    r"|\((?:[^()]*?\bet\s+al\.?|[A-Z][A-Za-z\-]+(?:\s*(?:&|and)\s*[A-Z][A-Za-z\-]+)?)"
    r",?\s*(?:19|20)\d\d[a-z]?\)"  # (He et al., 2016), (Chollet, 2017)
    r"|\bet\s+al\.?")
_OWN_MARK = re.compile(r"\(\s*ours\s*\)|\bours\b|[*†‡§¶]+", re.I)
_DECIMAL = re.compile(r"(\d+)\.(\d*?)0+\b")
# "the 152-layer ResNet" names ResNet-152 (older papers name depth variants this way).
_DEPTH_FIRST = re.compile(r"\b(\d+)[-\s]layers?\s+([A-Z][\w]*[A-Za-z])(?![\w-])")
# A count of one is the model itself: "1 CNN" = "CNN", "ResNet-50 (single model)".
_ONE = re.compile(r"^(?:1|one|single)\s+(?=[A-Za-z])|\(?\bsingle[-\s]model\)?", re.I)
# Names that say whose model it is, not which: they never identify a variant.
GENERIC = frozenset({
    "", "ours", "our", "model", "ourmodel", "ourmodels", "proposed", "proposedmodel",
    "baseline", "baselines", "method", "ourmethod", "network", "ournetwork", "net",
    "single", "singlemodel", "ensemble", "full", "fullmodel", "base", "large", "small",
    "total", "average", "mean", "best",
})


def depth_last(text: str) -> str:
    """ "the 152-layer ResNet" -> "the ResNet-152": the depth where names put it."""
    return _DEPTH_FIRST.sub(lambda m: f"{m.group(2)}-{m.group(1)}", text or "")


@functools.lru_cache(maxsize=1 << 16)  # names repeat across a paper's facts and rows
def clean_name(name: str | None) -> str:
    """A model name without citations and ownership marks, spaces collapsed."""
    text = _CITATION.sub(" ", depth_last(name or ""))
    text = _ONE.sub(" ", _OWN_MARK.sub(" ", text).strip())
    return " ".join(text.split()).strip(" ,;:-")


@functools.lru_cache(maxsize=1 << 16)
def variant_key(name: str | None) -> str:
    """The key two names of one variant share: "ResNet-50 [12]" -> "resnet50"."""
    text = _DECIMAL.sub(lambda m: m.group(1) + ("." + m.group(2) if m.group(2) else ""),
                        clean_name(name).lower())
    return re.sub(r"[^a-z0-9.]+", "", text).strip(".")


def is_specific(name: str | None) -> bool:
    """True when a name can identify one variant: not "Ours", "Baseline" or "Model",
    and not a phrase (a row label that swallowed a line of prose has many plain words)."""
    key = variant_key(name)
    if len(key) < 3 or key in GENERIC or key.replace(".", "").isdigit():
        return False
    return len(re.findall(r"(?<![\w-])[a-z]{3,}(?![\w-])", clean_name(name))) <= 3


def name_pattern(name: str) -> re.Pattern[str] | None:
    """A pattern finding ``name`` in a sentence as a whole variant name.

    Its words may be joined by spaces, hyphens or nothing ("ResNet-50", "ResNet 50",
    "ResNet50"); it must not continue into a longer name ("ResNet-50" does not match
    "ResNet-50x2" or "ResNet-50-D").
    """
    tokens = re.findall(r"[A-Za-z]+|\d+(?:\.\d+)?", clean_name(name))
    if not tokens or not is_specific(name):
        return None
    body = r"[\s\-_/]?".join(re.escape(t) for t in tokens)
    return re.compile(r"(?<![A-Za-z0-9])" + body + r"(?![A-Za-z0-9]|[\-/.]\w)", re.I)


_SIZE = re.compile(r"(?<![\w.])(\d+(?:\.\d+)?)\s?([KMB])(?![A-Za-z])")
_SIZE_SCALE = {"K": 1e3, "M": 1e6, "B": 1e9}


def name_size(name: str | None) -> float | None:
    """The parameter count a name carries ("T5-3B" -> 3e9, "TinyViT-21M" -> 21e6), if any."""
    m = _SIZE.search(clean_name(name))
    return float(m.group(1)) * _SIZE_SCALE[m.group(2)] if m else None


def size_conflict(name: str | None, parameters: float) -> bool:
    """True when ``name`` carries a parameter count that ``parameters`` contradicts
    ("T5-3B" with 11 billion). A "size" two decades off is no size at all: the B of
    "RepLKNet-31B" (79M parameters) means Base."""
    size = name_size(name)
    if not size or parameters <= 0:
        return False
    ratio = parameters / size
    return 0.01 <= ratio <= 100 and not 0.67 <= ratio <= 1.5


def names_in(sentence: str, names: list[str]) -> list[str]:
    """The names (of ``names``) that ``sentence`` mentions, each as a whole variant name.

    A name found only inside a longer one that is also listed ("ResNet" inside
    "ResNet-50") is dropped: the sentence speaks of the longer one.
    """
    found: list[tuple[int, int, str]] = []
    sentence = depth_last(sentence or "")
    for n in names:
        rx = name_pattern(n)
        if rx is None:
            continue
        for m in rx.finditer(sentence):
            found.append((m.start(), m.end(), n))
    keep = {n for s, e, n in found
            if not any(s2 <= s and e <= e2 and (e2 - s2) > (e - s) for s2, e2, _ in found)}
    # by position; names found at one place (their words match alike) in one fixed order
    return sorted(keep, key=lambda n: (min(s for s, _, m in found if m == n), -len(n), n))
