"""Observations from facts, decisions and Papers with Code, and the flags they raise."""

from __future__ import annotations

import json
import logging
from dataclasses import dataclass, field
from typing import Any

from curate.choose import (
    NOT_REPORTED,
    Choice,
    candidate_record,
    candidate_value,
    conflicting,
    decision_value,
    match_candidates,
    rank,
    time_kind,
)
from curate.entities import OwnFacts
from curate.inputs import Inputs
from curate.pairing import Paired, PairingOptions, PaperInput, Source, pair_paper, settled
from curate.values import (
    Decision,
    model_key,
)

log = logging.getLogger(__name__)

PEAK_COLUMNS = {"fp32_base": "fp32_base_gflops", "fp32_boost": "fp32_boost_gflops",
                "tensor": "tensor_gflops"}

# Physical and historical bounds; a value outside them is flagged "implausible".
BOUNDS = {
    "parameters": (1e3, 1e13),
    "compute_per_pass": (1e3, 1e17),
    "training_hours": (1 / 60, 24 * 365 * 2),
    "chips": (1, 100_000),
    "error": (0.0, 100.0),
}
# FLOPs per pass over parameters when too few pairs exist to fit: conv nets on large
# images reach ~1e4, transformers ~2 per token times the sequence length.
RATIO_BAND = (0.5, 1e5)


@dataclass
class BuildOptions:
    """How curate chooses and flags; every field is a [curate] setting."""

    peak: str = "fp32_base"
    conflict_confidence: float = 0.1
    value_tolerance: float = 0.02
    pwc_tolerance: float = 0.5
    fit_min_pairs: int = 8
    fit_max_residual: float = 1.5  # decades, or 3 residual SDs if larger
    own_min: float = 0.5  # a fact scored below this is another paper's: never a value
    epoch_tolerance: float = 0.1  # relative difference from Epoch AI that raises a flag

    def __post_init__(self) -> None:
        if self.peak not in PEAK_COLUMNS:
            raise ValueError(f"peak {self.peak!r}: choose one of {', '.join(PEAK_COLUMNS)}")


@dataclass
class FlagSpec:
    kind: str
    arxiv_id: str
    model: str
    benchmark: str
    field: str
    reason: str
    candidates: list[dict]
    pwc_value: float | None = None
    observations: set = field(default_factory=set)

    @property
    def key(self) -> str:
        return "|".join([self.kind, self.arxiv_id, model_key(self.model), self.benchmark,
                         self.field])


class Builder:
    """Observation rows and the flags they raise, for the papers of one ``Inputs``.

    ``build_paper`` reads only ``inputs`` (that paper's facts, decisions and Papers with
    Code rows, and the catalog): a paper's decision is a function of its own inputs.
    """

    def __init__(self, inputs: Inputs, options: BuildOptions):
        self.o = options
        self.flags: dict[str, FlagSpec] = {}
        self._own: dict[str, OwnFacts] = {}
        self.papers = inputs.papers
        self.facts = inputs.facts
        self.facts_by_id = inputs.facts_by_id
        self.pwc = inputs.pwc
        self.decisions = inputs.decisions
        self.catalog = inputs.catalog
        self.epoch = inputs.epoch

    # --- flags -----------------------------------------------------------------
    def flag(self, kind: str, arxiv_id: str, model: str, benchmark: str, fld: str,
             reason: str, candidates: list[dict], obs: tuple | None,
             pwc_value: float | None = None) -> None:
        spec = FlagSpec(kind, arxiv_id, model, benchmark, fld, reason, candidates, pwc_value)
        spec = self.flags.setdefault(spec.key, spec)
        if reason not in spec.reason:
            spec.reason = f"{spec.reason}; {reason}"  # one question, every reason for it
        if obs is not None:
            spec.observations.add(obs)

    # --- choosing ----------------------------------------------------------------
    def decision_for(self, arxiv_id: str, model: str, benchmark: str, fld: str,
                     level: str) -> Decision | None:
        mk = model_key(model)
        keys = [(arxiv_id, mk, benchmark, fld), (arxiv_id, mk, "", fld)]
        if level == "paper" or not mk:
            keys += [(arxiv_id, "", benchmark, fld), (arxiv_id, "", "", fld)]
        for k in keys:
            if k in self.decisions:
                return self.decisions[k]
        return None

    def choose(self, arxiv_id: str, fld: str, model: str, benchmark: str,
               models: list[str], obs: tuple, fact_field: str | None = None) -> Choice:
        facts = self.own_facts(arxiv_id, fact_field or fld)
        matched, level = match_candidates(facts, model, benchmark, models)
        ranked = rank(matched, fld)
        choice = Choice(candidates=[candidate_record(fld, f) for f in ranked], level=level)
        flag_model = model if level == "model" else ""
        d = self.decision_for(arxiv_id, model, benchmark, fld, level)
        if d is not None:
            value = decision_value(fld, d, self.facts_by_id)
            if value == NOT_REPORTED:
                return Choice(candidates=choice.candidates, level=level, decision=d,
                              source=f"review:{d.review_id}", not_reported=True)
            if value is not None:
                choice.value, choice.decision = value, d
                choice.source = f"review:{d.review_id}"
                choice.fact = self.facts_by_id.get(d.fact_id) if d.fact_id else None
        if ranked:
            others = conflicting(ranked, fld, self.o.conflict_confidence, self.o.value_tolerance)
            if others and not settled(d, [ranked[0], *others]):
                self.flag("conflict", arxiv_id, flag_model, "", fld,
                          f"{len(others) + 1} candidates with close confidence disagree on "
                          f"{fld}", choice.candidates, obs)
            if choice.value is None:
                best = ranked[0]
                choice.fact = best
                choice.value = (candidate_value(fld, best) if fld != "training_time" else
                                (best["normalized_value"], time_kind(best)))
                choice.source = f"fact:{best['id']}"
        return choice

    # --- observations ----------------------------------------------------------------
    def owned(self, arxiv_id: str) -> OwnFacts:
        """The paper's facts sorted into its own and others' (once per paper)."""
        if arxiv_id not in self._own:
            self._own[arxiv_id] = OwnFacts(self.facts[arxiv_id], self.o.own_min)
        return self._own[arxiv_id]

    def own_facts(self, arxiv_id: str, fld: str) -> list[dict]:
        """Facts of ``fld`` the extractor attributes to the paper: scored as its own, not
        read from a row that cites another paper or scores low on balance."""
        own = self.owned(arxiv_id)
        return [f for f in self.facts[arxiv_id].get(fld, []) if own.is_own(f)]

    def build_paper(self, arxiv_id: str) -> list[dict]:
        """The paper's observation rows (curate.pairing), with hardware, and their flags."""
        paper = self.papers.get(arxiv_id)
        if paper is None:
            return []
        paired = pair_paper(
            PaperInput(arxiv_id, self.facts[arxiv_id], self.pwc.get(arxiv_id, []),
                       self.decisions, self.facts_by_id),
            PairingOptions(self.o.own_min, self.o.conflict_confidence, self.o.value_tolerance),
            own=self.owned(arxiv_id))
        rows = [self.build_observation(arxiv_id, paper, p) for p in paired.observations]
        # a hardware burden is a compute measure too: nothing is missing for those rows
        burdened = {p.key(arxiv_id) for p, r in zip(paired.observations, rows, strict=True)
                    if r.get("hardware_burden") is not None}
        for q in paired.questions:
            keys = q.observations - burdened if q.kind == "missing" else q.observations
            for key in sorted(keys):
                self.flag(q.kind, arxiv_id, q.model, q.benchmark, q.field, q.reason,
                          q.candidates, key)
        return rows

    def build_observation(self, arxiv_id: str, paper: dict, p: Paired) -> dict:
        obs = p.key(arxiv_id)
        row: dict[str, Any] = {
            "arxiv_id": arxiv_id, "model": p.model, "benchmark": p.benchmark,
            "year": paper["year"], "month": paper["month"], "metric": p.metric,
            "split": p.split, "error": p.error, "compute_imputed": 0,
            "compute_per_pass": p.values.get("compute_per_pass"),
            "compute_unit": p.compute_unit if "compute_per_pass" in p.values else None,
            "parameters": p.values.get("parameters"),
        }
        sources: dict[str, Source] = dict(p.sources)
        # hardware, chips and training time: the paper's own figures (sentences name no
        # model), unless an annotator decided them for this model
        models = [p.model]
        hw = self.choose(arxiv_id, "hardware", p.model, p.benchmark, models, obs)
        chip = self.resolve_chip(hw.value) if hw.value is not None else None
        if hw.value is not None:
            row["hardware"] = chip["chip"] if chip else hw.value
            sources["hardware"] = _source("hardware", hw)
        cc = self.choose(arxiv_id, "chip_count", p.model, p.benchmark, models, obs,
                         fact_field="hardware")
        if cc.decision is None and hw.fact is not None and hw.fact.get("chip_count") is not None:
            # the chip count written with the chosen chip belongs with it
            row["chips"] = hw.fact["chip_count"]
            sources["chips"] = Source("chips", "paper", fact_id=hw.fact["id"])
        elif cc.value is not None:
            row["chips"], sources["chips"] = cc.value, _source("chips", cc)
        chips = row.get("chips")
        lo, hi = BOUNDS["chips"]
        if chips is not None and cc.decision is None and (
                not lo <= chips <= hi or not float(chips).is_integer()):
            self.flag("implausible", arxiv_id, "", "", "chip_count",
                      f"chip count {chips:g} is not a whole number in {lo:g}-{hi:g}",
                      cc.candidates, obs)
        tt = self.choose(arxiv_id, "training_time", p.model, p.benchmark, models, obs)
        self.hardware_burden(row, sources, chip, tt, obs, hw)
        self.check_missing(row, hw, cc, tt, obs)
        held = list(p.held)
        row["status"] = "held" if held else "ok"
        row["status_reason"] = "; ".join(held) or None
        row["sources"] = json.dumps({c: s.legacy() for c, s in sources.items()}, sort_keys=True)
        row["_sources"] = list(sources.values())
        return row

    def resolve_chip(self, name: str) -> dict | None:
        return self.catalog.get(str(name).strip().lower())

    def peak(self, chip: dict) -> tuple[float | None, str | None]:
        """Peak GFLOPS of a catalog chip by the [curate] peak convention, with fallbacks.

        TPUs have no FP32 peak in the catalog; their tensor figure (or whatever
        the catalog gives) stands in, and observations.sources records which column.
        """
        order = [PEAK_COLUMNS[self.o.peak]] + [c for c in PEAK_COLUMNS.values()
                                               if c != PEAK_COLUMNS[self.o.peak]]
        for col in order:
            if chip.get(col):
                return float(chip[col]), col
        return None, None

    def hardware_burden(self, row: dict, sources: dict, chip: dict | None, tt: Choice,
                        obs: tuple, hw: Choice) -> None:
        if tt.value is None:
            return
        hours, kind = tt.value
        if hours is None:
            return
        sources["training_hours"] = _source("training_hours", tt)
        chips = row.get("chips")
        if kind == "device_hours":
            device_hours = hours
            row["training_hours"] = hours / chips if chips else None
        else:
            row["training_hours"] = hours
            device_hours = hours * chips if chips else None
        th = row.get("training_hours")
        lo, hi = BOUNDS["training_hours"]
        if th is not None and not lo <= th <= hi and tt.decision is None:
            self.flag("implausible", row["arxiv_id"], "", "", "training_time",
                      f"training time {th:g} hours is outside "
                      f"{lo:g}-{hi:g} hours", tt.candidates, obs)
        if chip is None or device_hours is None:
            return
        peak, col = self.peak(chip)
        if peak is None:
            return
        row["hardware_burden"] = device_hours * 3600.0 * peak * 1e9
        sources["hardware_burden"] = Source("hardware_burden", "derived", detail="derived")
        sources["peak"] = Source("peak", "catalog", detail=f"hardware:{chip['chip']}.{col}")
        self.check_release(row, chip, hw, obs)

    def check_release(self, row: dict, chip: dict, hw: Choice, obs: tuple) -> None:
        released = (chip.get("release_date") or "")[:7]
        if not released or hw.decision is not None or not row.get("year"):
            return
        written = f"{row['year']:04d}-{(row.get('month') or 12):02d}"
        if released > written:
            self.flag("implausible", row["arxiv_id"], "", "", "hardware",
                      f"{chip['chip']} was released {released}, after the "
                      f"paper ({written})", hw.candidates, obs)

    def check_missing(self, row: dict, hw: Choice, cc: Choice, tt: Choice, obs: tuple) -> None:
        """Hardware without a chip count or a training time: asked once per paper."""
        if row.get("hardware_burden") is not None:
            return  # the burden is known (e.g. from device-hours): nothing more is needed
        a = row["arxiv_id"]
        if row.get("hardware") and row.get("chips") is None and not cc.not_reported:
            self.flag("missing", a, "", "", "chip_count",
                      f"hardware {row['hardware']} without a chip count", hw.candidates, obs)
        if row.get("hardware") and tt.value is None and not tt.not_reported:
            self.flag("missing", a, "", "", "training_time",
                      f"hardware {row['hardware']} without a training time", [], obs)


def _source(column: str, ch: Choice) -> Source:
    """Where a value chosen among the paper's facts (or decided) came from."""
    if ch.decision is not None and ch.source and ch.source.startswith("review:"):
        return Source(column, "review", review_id=ch.decision.review_id,
                      fact_id=ch.decision.fact_id)
    return Source(column, "paper" if ch.level == "paper" else "name",
                  fact_id=ch.fact["id"] if ch.fact else None)
