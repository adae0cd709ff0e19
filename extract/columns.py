"""What a table column holds, from its stacked header text and the table's caption.

The vocabulary is data (rules/columns.jsonl for compute-side columns; the metric,
benchmark and split words of results_rules.json for result columns), matched
case-insensitively on the column's own header first and its group headers after.
Exclusions come first: a throughput, latency, memory, total-training-compute,
ratio or shape column is never read as per-pass compute or parameters, whatever
else its header says. Units and scales are read from the whole header ("(M)",
"(in millions)", "×10^9", a scale letter glued to the unit as in "GFLOPs") and,
where the header has none, from the caption.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass
from functools import lru_cache

from extract.nlp import RULES_DIR

#: column kind -> the fact field it gives
FIELD_OF = {"params": "parameters", "flops": "compute_per_pass", "macs": "compute_per_pass",
            "time": "training_time", "device_time": "training_time", "epochs": "epochs"}


@dataclass(frozen=True)
class ColumnRule:
    id: str
    kind: str
    regex: re.Pattern


@lru_cache(maxsize=1)
def column_rules() -> tuple[ColumnRule, ...]:
    out = []
    for line in (RULES_DIR / "columns.jsonl").read_text(encoding="utf-8").splitlines():
        if line.strip():
            d = json.loads(line)
            out.append(ColumnRule(d["id"], d["kind"], re.compile(d["regex"], re.I)))
    return tuple(out)


@dataclass(frozen=True)
class ColumnKind:
    """What one column holds."""

    kind: str | None  # params | flops | macs | time | device_time | epochs | exclude | None
    rule_id: str | None = None
    #: multiplier to absolute units (params: count, compute: operations), or hours per
    #: unit for time columns; None when the header and caption give none
    scale: float | None = None
    scale_source: str | None = None  # header | caption | None
    #: the kind came from a group header (a header spanning several columns)
    from_group: bool = False

    @property
    def field(self) -> str | None:
        return FIELD_OF.get(self.kind or "")


_SCALE_WORDS = {"k": 1e3, "thousand": 1e3, "thousands": 1e3, "m": 1e6, "million": 1e6,
                "millions": 1e6, "mil": 1e6, "b": 1e9, "g": 1e9, "billion": 1e9,
                "billions": 1e9, "t": 1e12, "trillion": 1e12, "trillions": 1e12}
#: "(M)", "[M]", "(in millions)", "(millions)", "(x10^6)", "(10^9)", "(×1e9)"
_PAREN_SCALE = re.compile(
    r"[(\[]\s*(?:in\s+)?(?P<w>[KMGBT]|thousands?|millions?|billions?|trillions?|mil)\s*\.?\s*[)\]]"
    r"|\b(?:in\s+)(?P<w2>thousands|millions|billions|trillions)\b"
    r"|[(\[]?\s*[x×·*]?\s*10\s*[\^_]?\s*(?P<e>\d{1,2})\s*[)\]]?"
    r"|[(\[]\s*[x×]?\s*1e(?P<e2>\d{1,2})\s*[)\]]", re.I)
#: a scale letter or word glued to the unit: GFLOPs, MFLOPs, B FLOPs, GMACs, Mult-Adds (M)
_PREFIX = re.compile(r"(?<![A-Za-z])(?P<p>[KMGTB]|giga|mega|tera|kilo)[- ]?(?:flops?|macs?|mult|madds?)\b",
                     re.I)
_PREFIX_SCALE = {"k": 1e3, "kilo": 1e3, "m": 1e6, "mega": 1e6, "g": 1e9, "giga": 1e9,
                 "b": 1e9, "t": 1e12, "tera": 1e12}
_WORD_SCALE = re.compile(r"\b(?P<w>millions?|billions?|thousands?|trillions?)\b", re.I)
_TIME_UNIT = re.compile(r"\b(?P<u>hours?|hrs?|h|days?|d|weeks?|minutes|mins?)\b", re.I)
_TIME_HOURS = {"hour": 1.0, "hours": 1.0, "hr": 1.0, "hrs": 1.0, "h": 1.0, "day": 24.0, "days": 24.0,
               "d": 24.0, "week": 168.0, "weeks": 168.0, "minutes": 1 / 60, "min": 1 / 60,
               "mins": 1 / 60}


def header_scale(text: str, kind: str) -> float | None:
    """The multiplier a header gives its values (params/compute), or hours per unit (time)."""
    if kind in ("time", "device_time"):
        m = _TIME_UNIT.search(text)
        return _TIME_HOURS.get(m.group("u").lower()) if m else None
    if kind in ("flops", "macs"):
        m = _PREFIX.search(text)
        if m:
            return _PREFIX_SCALE.get(m.group("p").lower())
    m = _PAREN_SCALE.search(text)
    if m:
        if m.group("e") or m.group("e2"):
            return 10.0 ** int(m.group("e") or m.group("e2"))
        return _SCALE_WORDS.get((m.group("w") or m.group("w2")).lower().rstrip("."))
    m = _WORD_SCALE.search(text)
    if m:
        return _SCALE_WORDS.get(m.group("w").lower())
    return None


_CAPTION_UNIT = re.compile(
    r"(?P<what>param\w*|flops?|mult-?adds|madds|macs|operations)\b[^.;]{0,40}?"
    r"\b(?:in|are|is|given\s+in|reported\s+in|measured\s+in)\s+(?:the\s+)?(?:units?\s+of\s+)?"
    r"(?P<w>thousands|millions|billions|[KMGB]\b)", re.I)


def caption_scale(caption: str, kind: str) -> float | None:
    """A scale the caption states for this kind of column ("FLOPs are in billions")."""
    for m in _CAPTION_UNIT.finditer(caption):
        what = m.group("what").lower()
        k = "params" if what.startswith("param") else "flops"
        if (k == "params") == (kind == "params"):
            return _SCALE_WORDS.get(m.group("w").lower())
    m = re.search(r"\(\s*in\s+(millions|billions)\s*\)", caption, re.I)
    if m and kind in ("params", "flops", "macs"):
        return _SCALE_WORDS[m.group(1).lower()]
    return None


#: exclusions a group header passes to the columns under it
_GROUP_VETO = frozenset(["col.exclude.rate", "col.exclude.total", "col.exclude.memory"])


#: exclusions read only outside parentheses: "#Param (ratio)" is a parameter column
_OUTSIDE_PARENS = frozenset(["col.exclude.relative", "col.exclude.shape"])
_PARENS = re.compile(r"\([^()]*\)|\[[^\[\]]*\]")


@lru_cache(maxsize=1 << 14)  # header texts repeat across rows, tables and papers
def _match(text: str) -> tuple[str, str] | None:
    bare = _PARENS.sub(" ", text)
    for rule in column_rules():
        if rule.regex.search(bare if rule.id in _OUTSIDE_PARENS else text):
            return rule.kind, rule.id
    return None


def classify(own: str, group: str = "", caption: str = "") -> ColumnKind:
    """The kind of a column from its own header, its group headers and the caption."""
    hit = _match(own) if own.strip() else None
    from_group = False
    if hit is None and group.strip():
        hit = _match(group)
        from_group = hit is not None
    if hit is None:
        return ColumnKind(None)
    kind, rid = hit
    if kind == "exclude":
        return ColumnKind("exclude", rid)
    if group.strip() and not from_group and kind in ("params", "flops", "macs"):
        veto = _match(group)
        if veto is not None and veto[0] == "exclude" and veto[1] in _GROUP_VETO:
            return ColumnKind("exclude", veto[1])  # "Training cost" over "FLOPs"
    text = f"{group} {own}"
    scale = header_scale(own, kind)
    if scale is None and group:
        scale = header_scale(group, kind)
    source = "header" if scale is not None else None
    if scale is None and caption:
        scale = caption_scale(caption, kind)
        source = "caption" if scale is not None else None
    if kind == "time" and re.search(r"\b(?:gpu|tpu|core|chip|device)", text, re.I):
        kind = "device_time"
    return ColumnKind(kind, rid, scale, source, from_group)


_ROW_KIND = re.compile(r"^\W{0,2}(?P<head>[A-Za-z#.\- ]{1,40}?)\s*(?:[(\[].*)?$")


def row_kind(label: str, caption: str = "") -> ColumnKind:
    """A transposed table's row label naming what the row holds ("#Params (M)", "FLOPs",
    "Number of parameters"): a short label that is the kind's name, nothing more."""
    words = _PARENS.sub(" ", label).split()
    if not words or len(words) > 4:
        return ColumnKind(None)
    k = classify(label, "", caption)
    if k.kind in (None, "exclude"):
        return k
    # the kind word must lead the label: "All parameters" or "F Params" is no size row
    first = next((r for r in column_rules() if r.kind == k.kind or
                  (k.kind == "device_time" and r.kind == "time")), None)
    m = first.regex.search(" ".join(words)) if first else None
    if m is None or (m.start() > 3 and len(words) > 1):
        return ColumnKind(None)
    return k


@lru_cache(maxsize=1 << 14)
def names_a_column(text: str) -> bool:
    """Whether a header word or phrase names a column on its own (a size, compute, time or
    epoch column, an excluded one, a metric or a benchmark): "FLOPs", "Throughput", "Top-1";
    not "Exact" or "Match" alone."""
    from extract.results import header_bench, header_metrics, load_rules

    if _match(text) is not None:
        return True
    rules = load_rules()
    return bool(header_metrics(text, rules) or header_bench(text, rules))
