"""Is a value what its column says? Unit and plausibility checks before pairing.

Two verdicts, both plain functions of one fact (or one value):

- ``rejected``: the value is not what the field means at all (a time, a rate, a
  percentage or a memory size read as compute; a change, a margin or a standard
  deviation read as a result; a number outside physical bounds). It never becomes an observation value; the fact stays
  in the store.
- ``implausible``: the value could be right but is unusual for the benchmark (the
  compute of a detector on a classifier, a billion-parameter CIFAR model). It is
  used, flagged, and the observation is held out of the fits until reviewed.

Bounds are curate's own (stages do not import each other); they are wide on
purpose: they catch misreadings, not strong models.
"""

from __future__ import annotations

import functools
import json
import re

# Hard bounds: outside them a value is a misreading, whatever the paper.
HARD = {"parameters": (1e3, 1e13), "compute_per_pass": (1e5, 1e17)}

# Usual ranges per benchmark (FLOPs per pass, parameter count); outside: implausible.
_VISION = {"compute_per_pass": (1e6, 5e12), "parameters": (1e5, 1e11)}
USUAL: dict[str, dict[str, tuple[float, float]]] = {
    "imagenet": _VISION,
    "cifar10": {"compute_per_pass": (1e5, 2e12), "parameters": (1e4, 1e10)},
    "cifar100": {"compute_per_pass": (1e5, 2e12), "parameters": (1e4, 1e10)},
    "coco": {"compute_per_pass": (1e8, 5e13), "parameters": (1e5, 1e11)},
}
_NLP = {"compute_per_pass": (1e5, 1e14), "parameters": (1e5, 1e12)}

# Error (percent) a model on the benchmark can have; outside: not a result of this metric.
ERROR_BOUNDS: dict[tuple[str, str], tuple[float, float]] = {
    ("imagenet", "top1"): (8.0, 80.0), ("imagenet", "top5"): (0.8, 55.0),
    ("cifar10", "top1"): (0.3, 50.0), ("cifar100", "top1"): (2.0, 80.0),
    ("cifar100", "top5"): (0.5, 50.0), ("coco", "box_ap"): (25.0, 95.0),
    ("squad1.1", "f1"): (1.0, 60.0), ("squad1.1", "em"): (3.0, 70.0),
    ("conll2003", "f1"): (1.0, 40.0), ("wmt14-en-de", "bleu"): (50.0, 95.0),
    ("wmt14-en-fr", "bleu"): (40.0, 90.0),
}

# Column headers or stated units that name something other than operations per pass.
_NOT_COMPUTE = re.compile(
    r"/\s*s(?:ec)?\b|\bper\s+(?:second|sec|gpu|chip|core|device|node|epoch|step|iter\w*)\b"
    r"|\b(?:ms|msec|sec|seconds?|hours?|latency|time|speed|throughput|fps|img/s|images?/s)\b"
    r"|\b(?:observed|achieved|sustained|peak|theoretical|utili[sz]\w*|memory|energy)\b"
    r"|\b[MGT]B\b|%|\bepochs?\b|\btotal\b", re.I)
_NOT_COUNT = re.compile(
    r"\b(?:ms|sec|latency|time|speed|throughput|fps|memory|flops?|macs?|mult)\b|%|"
    r"\(ratio\)|\bratio\b|\breduction\b|\bcompression\b|\bper\s+layer\b", re.I)
_NOT_RESULT = re.compile(r"Δ|\bdiff\w*\b|\bgain\b|\bimprov\w*|\bmargin\b|\bstd\b|±|"
                         r"\bchange\b|\brelative\b|\bdrop\b", re.I)
# COCO's box AP is the main AP; AP50, AP75 and the small/medium/large APs are not it.
_SUB_AP = re.compile(r"(?<![\w.])(?:(?-i:[SML])|small|medium|large|0?\.5|0?\.75|50|75)[\s_]+AP\b|"
                     r"\bAP\s*_?\s*(?:[SML]|small|medium|large|50|75|0?\.50?|0?\.75)(?![\w.])|"
                     r"\bAP\s*@", re.I)
# Instance segmentation's AP ("AP_mask", "mask AP"; "Mask R-CNN AP_b" is box AP).
_MASK_AP = re.compile(r"\bAP\s*_?\s*(?:mask|m)\b|\bAP\^?m\b|\bmask\s*AP\b(?!\s*_?\s*\^?b)",
                      re.I)
# Protocols that make a different benchmark of the same data: few-shot, linear probes.
_OTHER_PROTOCOL = re.compile(r"\b\d+-?shot\b|\bfew-?shot\b|\bzero-?shot\b|"
                             r"\blinear\s+(?:probe|probing|eval\w*|classifier)\b|\bk-?NN\b|"
                             r"\bsemi-?supervised\b|\b\d+\s*%\s*(?:of\s+)?(?:the\s+)?labels\b",
                             re.I)
# ImageNet's other test sets and label sets are other benchmarks than ILSVRC-2012 val.
_OTHER_IMAGENET = re.compile(r"\breal\b|\bv2\b|imagenet-?(?:v2|real|[CAR]|sketch)\b|"
                             r"\bsketch\b|\brobust\w*|\bcorrupt\w*|\badversarial\b", re.I)
# Words right before a number that make it a difference, not a level.
_MARGIN_BEFORE = re.compile(
    r"(?:\bby|\bmargin\s+of|\bgains?\s+of|\bimprovements?\s+of|\bincreases?\s+of|"
    r"\bdrops?\s+of|\breductions?\s+of|[+±]|Δ)\s*(?:about|around|roughly|only|nearly|"
    r"approximately|up\s+to|~|≈)?\s*$", re.I)


def extra(fact: dict) -> dict:
    """A fact's ``extra`` as a dict (store rows keep JSON text). Read-only: the parsed
    dict is shared by every caller asking for the same text."""
    raw = fact.get("extra")
    if isinstance(raw, dict):
        return raw
    return _parsed(raw) if isinstance(raw, str) else {}


@functools.lru_cache(maxsize=1 << 14)  # a paper's facts are read many times per build
def _parsed(raw: str) -> dict:
    try:
        value = json.loads(raw or "{}")
    except ValueError:
        return {}
    return value if isinstance(value, dict) else {}


def features(fact: dict) -> dict:
    feats = extra(fact).get("features")
    return feats if isinstance(feats, dict) else {}


def _header(fact: dict) -> str:
    ex = extra(fact)
    return f"{ex.get('column') or ''} {ex.get('header') or ''}".strip()


def _occurrences(text: str, value: float) -> list[int]:
    """Where ``value`` is printed in ``text`` (trailing zeros and commas allowed)."""
    whole, _, frac = f"{value:.6f}".rstrip("0").rstrip(".").partition(".")
    whole_rx = re.sub(r"(\d)(?=(\d{3})+$)", r"\1,?", whole)
    rx = whole_rx + (r"\." + frac + r"0*" if frac else r"(?:\.0+)?")
    return [m.start() for m in re.finditer(r"(?<![\d.,])" + rx + r"(?![\d])", text or "")]


def is_margin(fact: dict) -> bool:
    """True when every place the sentence prints the value calls it a difference
    ("improves top-1 by 0.94%", "a margin of 2.1 points")."""
    text = fact.get("evidence") or ""
    value = fact.get("value")
    if value is None:
        return False
    at = _occurrences(text, float(value))
    return bool(at) and all(_MARGIN_BEFORE.search(text[max(0, i - 40):i]) for i in at)


def _near_value(fact: dict, rx: re.Pattern[str], reach: int = 30) -> bool:
    """True when every place the sentence prints the value has ``rx`` within ``reach``
    characters of it (a sentence may give one result of the protocol and one not)."""
    text = fact.get("evidence") or ""
    value = fact.get("value")
    at = _occurrences(text, float(value)) if value is not None else []
    return bool(at) and all(rx.search(text[max(0, i - reach):i + reach]) for i in at)


def rejected(fact: dict) -> str | None:
    """Why a fact's value is not what its field means, or None when it may be."""
    fld = fact.get("field")
    value = fact.get("normalized_value")
    if fld not in HARD and fld != "result":
        return None  # hardware, time and epochs: the catalog and curate.build check those
    if not isinstance(value, int | float) or value != value:
        return "no numeric value"
    if fld in HARD:
        lo, hi = HARD[fld]
        if not lo <= value <= hi:
            return f"{value:.3g} is outside {lo:.0e}-{hi:.0e}"
        stated = f"{fact.get('unit') or ''} {_header(fact)}"
        if fld == "compute_per_pass":
            if fact.get("normalized_unit") not in ("flops", "multiply-adds"):
                return f"unit {fact.get('normalized_unit')!r} is not operations"
            if _NOT_COMPUTE.search(stated):
                return f"{stated.strip()!r} is not operations per pass"
        elif _NOT_COUNT.search(stated):
            return f"{stated.strip()!r} is not a parameter count"
        return None
    if fld == "result":
        if not 0.0 < value <= 100.0 and fact.get("metric") != "bleu":
            return f"{value:g} is not a percentage"
        if _NOT_RESULT.search(_header(fact)):
            return f"column {_header(fact)!r} is a difference, not a result"
        if (_OTHER_PROTOCOL.search(f"{_header(fact)} {extra(fact).get('caption') or ''}")
                if fact.get("source") == "table" else _near_value(fact, _OTHER_PROTOCOL)):
            return "a few-shot, linear-probe or semi-supervised result, another benchmark"
        if fact.get("benchmark") == "imagenet" and _OTHER_IMAGENET.search(_header(fact)):
            return f"column {_header(fact)!r} is another ImageNet test set, not ILSVRC-2012"
        if fact.get("metric") == "box_ap" and _MASK_AP.search(_header(fact)):
            return f"column {_header(fact)!r} is mask AP, not box AP"
        if fact.get("metric") == "box_ap" and _SUB_AP.search(_header(fact)):
            return f"column {_header(fact)!r} is a partial AP (AP50, AP75, APs/m/l), not box AP"
        if fact.get("source") != "table" and is_margin(fact):
            return "the sentence gives it as a difference (a margin), not a result"
        return None
    return None


def family(metric: str) -> str:
    """top1 | top5 | box_ap | f1 | em | bleu."""
    return metric.split("_")[0] if metric.startswith("top") else metric


def result_rejected(benchmark: str, metric: str, error: float) -> str | None:
    """Why an error (percent) cannot be a ``metric`` result on ``benchmark``, or None."""
    lo, hi = ERROR_BOUNDS.get((benchmark, family(metric)), (0.0, 100.0))
    if not lo <= error <= hi:
        return f"an error of {error:g}% is outside {lo:g}-{hi:g}% for {benchmark} {metric}"
    return None


def unusual(benchmark: str, fld: str, value: float) -> str | None:
    """Why ``value`` is unusual for ``fld`` on ``benchmark`` (held for review), or None."""
    lo, hi = USUAL.get(benchmark, _NLP).get(fld, (0.0, float("inf")))
    if lo <= value <= hi:
        return None
    what = "FLOPs per pass" if fld == "compute_per_pass" else "parameters"
    return (f"{value:.3g} {what} is outside the usual {lo:.0e}-{hi:.0e} for {benchmark} "
            f"models")
