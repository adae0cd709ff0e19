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
    decision_unit,
    decision_value,
    match_candidates,
    rank,
    snapshot_ids,
    time_kind,
)
from curate.inputs import Inputs
from curate.values import (
    ERROR_METRICS,
    RESULT_PREFIX,
    Decision,
    error_percent,
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


def settled(d: Decision | None, facts: list[dict]) -> bool:
    """True when a decision was taken with all these facts in view."""
    if d is None:
        return False
    seen = snapshot_ids(d.before) | ({d.fact_id} if d.fact_id else set())
    return all(f["id"] in seen for f in facts)


class Builder:
    """Observation rows and the flags they raise, for the papers of one ``Inputs``.

    ``build_paper`` reads only ``inputs`` (that paper's facts, decisions and Papers with
    Code rows, and the catalog): a paper's decision is a function of its own inputs.
    """

    def __init__(self, inputs: Inputs, options: BuildOptions):
        self.o = options
        self.flags: dict[str, FlagSpec] = {}
        self.papers = inputs.papers
        self.facts = inputs.facts
        self.facts_by_id = inputs.facts_by_id
        self.pwc = inputs.pwc
        self.decisions = inputs.decisions
        self.catalog = inputs.catalog

    # --- flags -----------------------------------------------------------------
    def flag(self, kind: str, arxiv_id: str, model: str, benchmark: str, fld: str,
             reason: str, candidates: list[dict], obs: tuple | None,
             pwc_value: float | None = None) -> None:
        spec = FlagSpec(kind, arxiv_id, model, benchmark, fld, reason, candidates, pwc_value)
        spec = self.flags.setdefault(spec.key, spec)
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
        facts = self.facts[arxiv_id].get(fact_field or fld, [])
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
    def result_groups(self, arxiv_id: str) -> list[dict]:
        """One group per (model, benchmark, metric): the facts or PwC rows reporting it."""
        groups: dict[tuple, dict] = {}
        for f in self.facts[arxiv_id].get("result", []):
            if not f.get("benchmark") or not f.get("metric") or f.get("normalized_value") is None:
                continue
            k = (model_key(f.get("model")), f["benchmark"], f["metric"])
            g = groups.setdefault(k, {"model": f.get("model") or "", "facts": [], "pwc": []})
            g["facts"].append(f)
        have = {(b, m) for _, b, m in groups}
        for r in self.pwc.get(arxiv_id, []):
            if (r["benchmark"], r["metric"]) in have:
                continue
            k = (model_key(r["model"]), r["benchmark"], r["metric"])
            g = groups.setdefault(k, {"model": r["model"] or "", "facts": [], "pwc": []})
            g["pwc"].append(r)
        out = []
        for (_, bench, metric), g in groups.items():
            g["benchmark"], g["metric"] = bench, metric
            if g["facts"]:
                g["model"] = rank(g["facts"], "result")[0].get("model") or ""
            out.append(g)
        return out

    def build_paper(self, arxiv_id: str) -> list[dict]:
        paper = self.papers.get(arxiv_id)
        if paper is None:
            return []
        groups = self.result_groups(arxiv_id)
        models = sorted({g["model"] for g in groups if g["model"]})
        rows = []
        for g in groups:
            row = self.build_observation(arxiv_id, paper, g, models)
            if row is not None:
                rows.append(row)
        return rows

    def build_observation(self, arxiv_id: str, paper: dict, g: dict,
                          models: list[str]) -> dict | None:
        model, bench, metric = g["model"], g["benchmark"], g["metric"]
        obs = (arxiv_id, model_key(model), bench, metric)
        rfield = RESULT_PREFIX + metric
        sources: dict[str, str] = {}
        ranked = rank(g["facts"], "result")
        cands = [candidate_record("result", f) for f in ranked]
        value = None
        d = self.decision_for(arxiv_id, model, bench, rfield, "model")
        if d is not None:
            v = decision_value(rfield, d, self.facts_by_id)
            if v == NOT_REPORTED:
                return None
            if v is not None:
                value, sources["error"] = v, f"review:{d.review_id}"
        if ranked:
            others = conflicting(ranked, "result", self.o.conflict_confidence,
                                 self.o.value_tolerance)
            if others and not settled(d, [ranked[0], *others]):
                self.flag("conflict", arxiv_id, model, bench, rfield,
                          f"{len(others) + 1} {metric} values with close confidence disagree",
                          cands, obs)
            if value is None:
                value, sources["error"] = ranked[0]["normalized_value"], f"fact:{ranked[0]['id']}"
        if value is None and g["pwc"]:
            best = sorted(g["pwc"], key=lambda r: r["value"],
                          reverse=not metric.endswith("_error"))[0]
            value, sources["error"] = best["value"], f"pwc:{best['id']}"
        if value is None:
            return None
        error = error_percent(metric, value)
        row: dict[str, Any] = {
            "arxiv_id": arxiv_id, "model": model, "benchmark": bench, "year": paper["year"],
            "month": paper["month"], "metric": metric, "error": error, "compute_imputed": 0,
        }
        if sources["error"].startswith("fact:"):
            if not BOUNDS["error"][0] <= error <= BOUNDS["error"][1]:
                self.flag("implausible", arxiv_id, model, bench, rfield,
                          f"{metric} {value:g} gives an error of {error:g}%, outside 0-100",
                          cands, obs)
            elif metric not in ERROR_METRICS and metric != "bleu" and value < 1.0:
                # no model on these benchmarks scores below 1%: a fraction read as percent
                self.flag("implausible", arxiv_id, model, bench, rfield,
                          f"{metric} {value:g} looks like a fraction, not a percentage",
                          cands, obs)

        ch = self.choose(arxiv_id, "compute_per_pass", model, bench, models, obs)
        if ch.value is not None:
            row["compute_per_pass"] = ch.value
            sources["compute_per_pass"] = ch.source
            row["compute_unit"] = (decision_unit("compute_per_pass", ch.decision, self.facts_by_id)
                                   if ch.fact is None and ch.decision else
                                   (ch.fact or {}).get("normalized_unit") or "flops")
        cp = self.choose(arxiv_id, "parameters", model, bench, models, obs)
        if cp.value is not None:
            row["parameters"], sources["parameters"] = cp.value, cp.source
        self.check_bounds(row, ch, cp, obs)

        hw = self.choose(arxiv_id, "hardware", model, bench, models, obs)
        chip = self.resolve_chip(hw.value) if hw.value is not None else None
        if hw.value is not None:
            row["hardware"] = chip["chip"] if chip else hw.value
            sources["hardware"] = hw.source
        cc = self.choose(arxiv_id, "chip_count", model, bench, models, obs, fact_field="hardware")
        if cc.decision is None and hw.fact is not None and hw.fact.get("chip_count") is not None:
            # the chip count written with the chosen chip belongs with it
            row["chips"], sources["chips"] = hw.fact["chip_count"], f"fact:{hw.fact['id']}"
        elif cc.value is not None:
            row["chips"], sources["chips"] = cc.value, cc.source
        chips = row.get("chips")
        lo, hi = BOUNDS["chips"]
        if chips is not None and cc.decision is None and (
                not lo <= chips <= hi or not float(chips).is_integer()):
            self.flag("implausible", arxiv_id, model if cc.level == "model" else "", "",
                      "chip_count", f"chip count {chips:g} is not a whole number in "
                      f"{lo:g}-{hi:g}", cc.candidates, obs)
        tt = self.choose(arxiv_id, "training_time", model, bench, models, obs)
        self.hardware_burden(row, sources, chip, tt, obs, hw)
        row["sources"] = json.dumps(sources, sort_keys=True)
        self.check_missing(row, hw, cc, tt, ch, cp, obs)
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
        sources["training_hours"] = tt.source
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
            self.flag("implausible", row["arxiv_id"], row["model"] if tt.level == "model" else "",
                      "", "training_time", f"training time {th:g} hours is outside "
                      f"{lo:g}-{hi:g} hours", tt.candidates, obs)
        if chip is None or device_hours is None:
            return
        peak, col = self.peak(chip)
        if peak is None:
            return
        row["hardware_burden"] = device_hours * 3600.0 * peak * 1e9
        sources["hardware_burden"] = "derived"
        sources["peak"] = f"hardware:{chip['chip']}.{col}"
        self.check_release(row, chip, hw, obs)

    def check_release(self, row: dict, chip: dict, hw: Choice, obs: tuple) -> None:
        released = (chip.get("release_date") or "")[:7]
        if not released or hw.decision is not None or not row.get("year"):
            return
        written = f"{row['year']:04d}-{(row.get('month') or 12):02d}"
        if released > written:
            self.flag("implausible", row["arxiv_id"], row["model"] if hw.level == "model" else "",
                      "", "hardware", f"{chip['chip']} was released {released}, after the "
                      f"paper ({written})", hw.candidates, obs)

    def check_bounds(self, row: dict, ch: Choice, cp: Choice, obs: tuple) -> None:
        for name, choice in (("compute_per_pass", ch), ("parameters", cp)):
            v = row.get(name)
            lo, hi = BOUNDS[name]
            if v is not None and choice.decision is None and not lo <= v <= hi:
                self.flag("implausible", row["arxiv_id"],
                          row["model"] if choice.level == "model" else "", "", name,
                          f"{name} {v:.3g} is outside {lo:.0e}-{hi:.0e}", choice.candidates, obs)

    def check_missing(self, row: dict, hw: Choice, cc: Choice, tt: Choice, ch: Choice,
                      cp: Choice, obs: tuple) -> None:
        a, m = row["arxiv_id"], row["model"]
        if (row.get("compute_per_pass") is None and row.get("parameters") is None
                and row.get("hardware_burden") is None and not ch.not_reported):
            self.flag("missing", a, m, "", "compute_per_pass",
                      "a result without any compute measure (FLOPs, parameters or hardware "
                      "burden)", [], obs)
        if row.get("hardware_burden") is not None:
            return  # the burden is known (e.g. from device-hours): nothing more is needed
        if row.get("hardware") and row.get("chips") is None and not cc.not_reported:
            self.flag("missing", a, m, "", "chip_count",
                      f"hardware {row['hardware']} without a chip count", hw.candidates, obs)
        if row.get("hardware") and tt.value is None and not tt.not_reported:
            self.flag("missing", a, m, "", "training_time",
                      f"hardware {row['hardware']} without a training time", [], obs)
