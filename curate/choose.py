"""Choosing each value an observation uses: decision > best-confidence fact > Papers with Code.

Facts of one paper carry a model name or none. A model-level value (compute,
parameters, hardware, chips, time) for a result of model M comes from, in turn:
facts naming M, facts whose name contains or is contained in M's, facts naming no
model (the paper's), facts whose name shares most words with M's (and with no
other result's more), and facts naming a model that none of the paper's results
names (a compute figure for "our network" serves its results; one for a model
with results of its own does not).
"""

from __future__ import annotations

import functools
import json
from dataclasses import dataclass, field
from typing import Any

from curate.values import (
    RESULT_PREFIX,
    Decision,
    UnitError,
    compute_from_unit,
    count_from_unit,
    hours_from_unit,
    model_key,
    model_similarity,
    models_match,
)

# Token overlap (Jaccard) from which two model names are taken to be one model.
MIN_SIMILARITY = 0.5

NOT_REPORTED = "not_reported"


@dataclass
class Choice:
    """One chosen value with where it came from and what competed with it."""

    value: Any = None  # float, (float, kind) or chip name; None when nothing
    source: str | None = None  # fact:ID | review:ID | pwc:ID
    fact: dict | None = None
    decision: Decision | None = None
    candidates: list[dict] = field(default_factory=list)  # competing facts, best first
    level: str = "model"  # model | paper: where the candidates (and so a flag) belong
    not_reported: bool = False


def candidate_value(fld: str, fact: dict) -> Any:
    """A fact's value in the form curate compares and uses for ``fld``."""
    if fld == "hardware":
        return fact.get("hardware") or fact.get("hardware_name")
    if fld == "chip_count":
        return fact.get("chip_count")
    value = fact.get("normalized_value")
    if value is None:
        return None
    if fld == "compute_per_pass" and fact.get("normalized_unit") == "multiply-adds":
        return value * 2.0  # convention: one multiply-add is two FLOPs
    return value


def candidate_record(fld: str, fact: dict) -> dict:
    """A fact as a flag candidate: what an annotator needs to judge it."""
    return {
        "fact_id": fact["id"],
        "value": candidate_value(fld, fact),
        "stated": f"{fact.get('value') if fact.get('value') is not None else ''} "
                  f"{fact.get('unit') or ''}".strip() or (fact.get("hardware_name") or ""),
        "unit": fact.get("normalized_unit"),
        "model": fact.get("model"),
        "confidence": fact.get("confidence"),
        "evidence": fact.get("evidence"),
        "page": fact.get("page"),
        "rule_id": fact.get("rule_id"),
        "hardware_name": fact.get("hardware_name"),
        "chip_count": fact.get("chip_count"),
    }


def time_kind(fact: dict) -> str:
    """wall_clock or device_hours, from the fact's time_kind or else its unit."""
    if fact.get("time_kind") in ("wall_clock", "device_hours"):
        return fact["time_kind"]
    return "device_hours" if fact.get("normalized_unit") == "device_hours" else "wall_clock"


def differ(a: Any, b: Any, tolerance: float) -> bool:
    if a is None or b is None:
        return False
    if isinstance(a, str) or isinstance(b, str):
        return str(a).strip().lower() != str(b).strip().lower()
    return abs(a - b) > tolerance * max(abs(a), abs(b), 1e-12)


@functools.lru_cache(maxsize=1 << 16)
def closest(name: str | None, models: tuple[str, ...]) -> float:
    """The highest similarity of ``name`` to any of ``models`` (cached: every observation
    of a paper asks it again for the same names)."""
    return max((model_similarity(name, m) for m in models), default=0.0)


def match_candidates(facts: list[dict], model: str, benchmark: str,
                     result_models: list[str]) -> tuple[list[dict], str]:
    """The facts that describe ``model`` on ``benchmark``, and their level."""
    fs = [f for f in facts if not f.get("benchmark") or f["benchmark"] == benchmark]
    mk = model_key(model)
    if mk:
        exact = [f for f in fs if model_key(f.get("model")) == mk]
        if exact:
            return exact, "model"
        fuzzy = [f for f in fs if models_match(f.get("model"), model)]
        if fuzzy:
            return fuzzy, "model"
        # names sharing most of their words ("ResNet-152 ensemble" / "ResNet 152 single"):
        # the most similar name wins, if it is similar enough and no other result owns it
        models = tuple(result_models)
        owned = [f for f in fs if model_key(f.get("model"))
                 and closest(f.get("model"), models) <= model_similarity(f.get("model"), model)]
        scored = [(model_similarity(f.get("model"), model), f) for f in owned]
        top = max((sc for sc, _ in scored), default=0.0)
        if top >= MIN_SIMILARITY:
            return [f for sc, f in scored if sc == top], "model"
    unnamed = [f for f in fs if not model_key(f.get("model"))]
    if unnamed:
        return unnamed, "paper"
    orphans = [f for f in fs if not any(models_match(f.get("model"), m) for m in result_models)]
    return orphans, "paper"


def rank(facts: list[dict], fld: str) -> list[dict]:
    usable = [f for f in facts if candidate_value(fld, f) is not None]
    return sorted(usable, key=lambda f: (-(f.get("confidence") or 0.0), f["id"]))


def conflicting(ranked: list[dict], fld: str, confidence_gap: float,
                value_tolerance: float) -> list[dict]:
    """Candidates close in confidence to the best but with a different value."""
    if len(ranked) < 2:
        return []
    best = ranked[0]
    top = best.get("confidence") or 0.0
    bv = candidate_value(fld, best)
    return [f for f in ranked[1:]
            if (f.get("confidence") or 0.0) >= top - confidence_gap
            and differ(candidate_value(fld, f), bv, value_tolerance)]


def decision_value(fld: str, d: Decision, facts_by_id: dict[int, dict]) -> Any:
    """The value a decision sets for ``fld``, in the form of candidate_value."""
    if d.action == "not_reported":
        return NOT_REPORTED
    fact = facts_by_id.get(d.fact_id) if d.fact_id is not None else None
    if fact is not None:
        if fld == "training_time":
            return (fact.get("normalized_value"), time_kind(fact))
        if fld == "chip_count" and fact.get("chip_count") is None:
            return None
        return candidate_value(fld if not fld.startswith(RESULT_PREFIX) else "result", fact)
    if fld == "hardware":
        return (d.unit or "").strip() or None
    if d.value is None:
        return None
    unit = d.unit or ""
    try:
        if fld == "compute_per_pass":
            value, kind = compute_from_unit(d.value, unit or "FLOPs")
            return value * (2.0 if kind == "multiply-adds" else 1.0)
        if fld == "parameters":
            return count_from_unit(d.value, unit)
        if fld == "training_time":
            return hours_from_unit(d.value, unit or "hours")
    except UnitError:
        return None
    return d.value


def decision_unit(fld: str, d: Decision, facts_by_id: dict[int, dict]) -> str | None:
    """compute_unit of a decided compute value: as the fact or the annotator stated it."""
    fact = facts_by_id.get(d.fact_id) if d.fact_id is not None else None
    if fact is not None:
        return fact.get("normalized_unit")
    try:
        return compute_from_unit(d.value or 0.0, d.unit or "FLOPs")[1]
    except UnitError:
        return None


def snapshot_ids(before: dict) -> set[int]:
    """Fact ids an annotator saw when deciding (from the review's ``before``)."""
    cands = before.get("candidates")
    if isinstance(cands, str):
        try:
            cands = json.loads(cands)
        except json.JSONDecodeError:
            cands = []
    return {c["fact_id"] for c in cands or [] if isinstance(c, dict) and c.get("fact_id")}
