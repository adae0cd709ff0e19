"""Records of extraction: Fact, PaperExtraction, and the gold-file shape."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

EXTRACTOR_VERSION = "0.4.0"

#: Fact.field -> gold field name.
GOLD_FIELDS = {
    "parameters": "parameters",
    "compute_per_pass": "compute_per_pass",
    "hardware": "hardware",
    "training_time": "training_time_hours",
    "epochs": "epochs",
    "result": "results",
}

#: facts below this confidence stay in the store but are not put in gold shape.
GOLD_MIN_CONFIDENCE = 0.5


@dataclass
class Fact:
    """One candidate fact with its evidence; attribute names == `facts` columns."""

    field: str
    value: float | None
    unit: str | None
    normalized_value: float | None
    normalized_unit: str | None
    page: int
    span_start: int
    span_end: int
    evidence: str
    rule_id: str
    confidence: float
    source: str = "text"
    model: str | None = None
    benchmark: str | None = None
    metric: str | None = None
    split: str | None = None
    hardware_name: str | None = None
    hardware: str | None = None
    chip_count: float | None = None
    time_kind: str | None = None
    #: the table row the fact was read from ("p4.t1.r17"): facts of one row describe one model
    row_id: str | None = None
    extractor_version: str = EXTRACTOR_VERSION
    extra: dict = field(default_factory=dict)


@dataclass
class PaperExtraction:
    """What extract_pdf found in one PDF (status ok | no_text | failed | encrypted | ...)."""

    status: str
    error: str | None
    pages: int
    chars: int
    seconds: float
    facts: list[Fact]
    sha256: str | None = None


def _item(f: dict[str, Any]) -> dict[str, Any]:
    return {
        "page": f.get("page"),
        "quote": f.get("evidence"),
        "rule_id": f.get("rule_id"),
        "confidence": f.get("confidence"),
        "model": f.get("model"),
        "unit": f.get("unit"),
        "row_id": f.get("row_id"),
    }


def to_gold_shape(arxiv_id: str, facts: list[dict], *, min_confidence: float = GOLD_MIN_CONFIDENCE) -> dict:
    """Facts (Fact.__dict__ or `facts` rows) -> one object shaped like the gold labels.

    Facts below `min_confidence` (e.g. numbers attributed to cited work) are left out.
    """
    out: dict[str, Any] = {"arxiv_id": arxiv_id, "parameters": [], "compute_per_pass": [],
                           "hardware": [], "training_time_hours": [], "epochs": [], "results": []}
    for f in facts:
        if not isinstance(f, dict):
            f = f.__dict__
        conf = f.get("confidence")
        if conf is not None and conf < min_confidence:
            continue
        name = GOLD_FIELDS.get(f.get("field") or "")
        if not name:
            continue
        item = _item(f)
        if name == "hardware":
            item.update(name=f.get("hardware_name"), canonical=f.get("hardware"),
                        count=_count((f.get("extra") or {}).get("devices", f.get("chip_count"))))
        elif name == "results":
            item.update(benchmark=f.get("benchmark"), metric=f.get("metric"),
                        value=f.get("normalized_value", f.get("value")), split=f.get("split"))
        elif name == "compute_per_pass":
            item.update(value=f.get("normalized_value"), unit=f.get("normalized_unit"),
                        stated_unit=f.get("unit"))
        elif name == "training_time_hours":
            item.update(value=f.get("normalized_value"), time_kind=f.get("time_kind"))
        else:
            item["value"] = f.get("normalized_value")
        out[name].append(item)
    return out


def _count(c: Any) -> float | int | None:
    if c is None:
        return None
    c = float(c)
    return int(c) if c.is_integer() else c
