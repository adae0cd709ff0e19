"""Pairing: one paper's facts -> its own models' observations, each value with its source.

An observation is one of the paper's own models on one benchmark, metric and
split. Its result is a fact the extractor scores as the paper's own; its compute
per pass and parameters come, in this order, from:

1. ``row``: the same table row (facts sharing ``row_id``; in a transposed table,
   where the model is the column, the same model column of the same table);
2. ``name``: a statement for exactly the same named variant elsewhere in the paper
   (curate.names.variant_key; a sentence that names one own model names its facts);
3. ``paper``: a figure that names no model, only when the paper has a single own
   model on one task.

Anything else stays empty; where observations lack a value that unassigned
figures could give, the paper gets ONE question asking which model they belong to.
Facts the extractor attributes to another paper (confidence below ``own_min``,
rows citing others, rows whose facts score low on balance) never become
observation values; their facts stay in the store for the cross-checks. Values
that are not what their column says are dropped first (curate.sanity).

``pair_paper`` is a pure function of one paper's facts, decisions and Papers with
Code rows; curate.build turns its result into observation rows and flags.
"""

from __future__ import annotations

import re
from collections import defaultdict
from collections.abc import Mapping
from dataclasses import dataclass, field

from curate.choose import (
    NOT_REPORTED,
    candidate_record,
    candidate_value,
    decision_unit,
    decision_value,
    snapshot_ids,
)
from curate.entities import (
    TASK_GROUPS,
    Entity,
    OwnFacts,
    collect_entities,
    is_ensemble,
)
from curate.names import size_conflict, variant_key
from curate.sanity import family, result_rejected, unusual
from curate.values import RESULT_PREFIX, Decision, error_percent, model_key

# Fields paired per model (hardware, chips and time are the paper's: curate.build).
PAIRED = ("compute_per_pass", "parameters")


@dataclass
class PairingOptions:
    """What counts as the paper's own, and when candidates conflict."""

    own_min: float = 0.5
    conflict_confidence: float = 0.1
    value_tolerance: float = 0.02


@dataclass
class Source:
    """Where one observation value came from (a row of ``observation_sources``)."""

    column: str
    kind: str  # stated | row | name | paper | review | pwc | catalog | derived
    fact_id: int | None = None
    review_id: int | None = None
    pwc_id: int | None = None
    epoch_id: int | None = None
    detail: str | None = None

    def legacy(self) -> str:
        """The value's entry in the JSON ``observations.sources``: fact:ID, review:ID, ..."""
        if self.review_id is not None:
            return f"review:{self.review_id}"
        if self.fact_id is not None:
            return f"fact:{self.fact_id}"
        if self.pwc_id is not None:
            return f"pwc:{self.pwc_id}"
        return self.detail or self.kind


@dataclass
class Question:
    """One thing to ask a person; ``observations`` are the keys its answer changes."""

    kind: str  # missing | conflict | implausible
    model: str
    benchmark: str
    field: str
    reason: str
    candidates: list[dict]
    observations: set = field(default_factory=set)  # keys (arxiv_id, model, bench, metric, split)
    targets: list = field(default_factory=list)  # the Paired objects, while pairing


@dataclass
class Paired:
    """One observation: a result of one own model with the values paired to it."""

    model: str
    benchmark: str
    metric: str
    split: str
    value: float  # the metric as stated
    error: float
    entity: Entity
    values: dict[str, float] = field(default_factory=dict)
    compute_unit: str | None = None
    sources: dict[str, Source] = field(default_factory=dict)
    held: list[str] = field(default_factory=list)  # why it stays out of the fits

    def key(self, arxiv_id: str) -> tuple[str, str, str, str, str]:
        return (arxiv_id, self.model, self.benchmark, self.metric, self.split)


@dataclass
class PaperPairing:
    observations: list[Paired]
    questions: list[Question]


@dataclass
class PaperInput:
    """Everything pairing reads about one paper."""

    arxiv_id: str
    facts: Mapping[str, list[dict]]  # field -> facts of the latest extraction
    pwc: list[dict] = field(default_factory=list)
    decisions: Mapping[tuple[str, str, str, str], Decision] = field(default_factory=dict)
    facts_by_id: Mapping[int, dict] = field(default_factory=dict)


def settled(d: Decision | None, facts: list[dict]) -> bool:
    """True when a decision was taken with all these facts in view."""
    if d is None:
        return False
    seen = snapshot_ids(d.before) | ({d.fact_id} if d.fact_id else set())
    return all(f["id"] in seen for f in facts)


def _differ(a: float, b: float, tol: float) -> bool:
    return abs(a - b) > tol * max(abs(a), abs(b), 1e-12)


class _Pairer:
    def __init__(self, inp: PaperInput, o: PairingOptions, own: OwnFacts | None = None):
        self.inp, self.o = inp, o
        self.aid = inp.arxiv_id
        self.own = own if own is not None else OwnFacts(inp.facts, o.own_min)
        self.questions: dict[tuple, Question] = {}

    # --- questions ------------------------------------------------------------------
    def ask(self, kind: str, model: str, bench: str, fld: str, reason: str,
            candidates: list[dict], targets: list[Paired]) -> None:
        k = (kind, variant_key(model), bench, fld)
        q = self.questions.setdefault(k, Question(kind, model, bench, fld, reason, candidates))
        q.targets.extend(t for t in targets if all(t is not x for x in q.targets))

    def decision(self, model: str, bench: str, fld: str) -> Decision | None:
        for k in ((self.aid, model_key(model), bench, fld), (self.aid, model_key(model), "", fld)):
            if model_key(model) and k in self.inp.decisions:
                return self.inp.decisions[k]
        return None

    def paper_decision(self, bench: str, fld: str) -> Decision | None:
        for k in ((self.aid, "", bench, fld), (self.aid, "", "", fld)):
            if k in self.inp.decisions:
                return self.inp.decisions[k]
        return None

    # --- results ---------------------------------------------------------------------
    def results(self, entities: list[Entity]) -> list[Paired]:
        out: list[Paired] = []
        for ent in entities:
            groups: dict[tuple, list[dict]] = defaultdict(list)
            for f in ent.results:
                groups[(f["benchmark"], f["metric"], (f.get("split") or "").strip())].append(f)
            for (bench, metric, split), facts in groups.items():
                out.extend(self.result_rows(ent, bench, metric, split, facts))
        return out

    def result_rows(self, ent: Entity, bench: str, metric: str, split: str,
                    facts: list[dict]) -> list[Paired]:
        ranked = sorted(facts, key=lambda f: (-(f.get("confidence") or 0.0), f["id"]))
        if ent.kind == "row":
            # one row, several columns of one metric (resolutions, crops): each a result,
            # told apart by its column header; columns whose headers do not tell them
            # apart (none, or the same) are one result, the leftmost
            rows, heads = [], []
            for f in sorted(facts, key=lambda f: f["id"]):
                head = (f.get("_header") or "").strip().lower()
                if heads and (not head or head in heads):
                    continue
                heads.append(head)
                rows.append(self.result_row(ent, bench, metric, split, f, multi=len(heads) > 1))
            return [r for r in rows if r is not None]
        best = ranked[0]
        rfield = RESULT_PREFIX + metric
        others = [f for f in ranked[1:]
                  if (f.get("confidence") or 0.0) >= (best.get("confidence") or 0.0)
                  - self.o.conflict_confidence
                  and _differ(f["normalized_value"], best["normalized_value"],
                              self.o.value_tolerance)]
        row = self.result_row(ent, bench, metric, split, best)
        if row is not None and others and not self._settled(row.model, bench, rfield,
                                                            [best, *others]):
            self.ask("conflict", row.model, bench, rfield,
                     f"{len(others) + 1} {metric} values for {row.model or 'the paper'} "
                     f"disagree", [candidate_record("result", f) for f in [best, *others]],
                     [row])
        return [row] if row is not None else []

    def _settled(self, model: str, bench: str, fld: str, facts: list[dict]) -> bool:
        d = self.decision(model, bench, fld) or (None if model else
                                                  self.paper_decision(bench, fld))
        return settled(d, facts)

    def result_row(self, ent: Entity, bench: str, metric: str, split: str, f: dict,
                   multi: bool = False) -> Paired | None:
        model = ent.name
        if multi:
            col = (f.get("_header") or "").strip()
            model = f"{model} [{col}]".strip()
        value, src = f["normalized_value"], Source("error", "stated", fact_id=f["id"])
        d = self.decision(model, bench, RESULT_PREFIX + metric)
        if d is not None:
            v = decision_value(RESULT_PREFIX + metric, d, self.inp.facts_by_id)
            if v == NOT_REPORTED:
                return None
            if v is not None:
                value, src = v, Source("error", "review", review_id=d.review_id,
                                       fact_id=d.fact_id)
        error = error_percent(metric, value)
        if src.kind == "stated" and result_rejected(bench, metric, error):
            return None
        p = Paired(model, bench, metric, split, value, error, ent)
        p.sources["error"] = src
        return p

    def pwc_results(self, covered: set[tuple[str, str]]) -> list[Paired]:
        """Results Papers with Code lists for benchmarks the extraction found none on."""
        out = []
        by_key: dict[tuple, list[dict]] = defaultdict(list)
        for r in self.inp.pwc:
            if (r["benchmark"], family(r["metric"])) not in covered:
                by_key[(variant_key(r["model"]), r["benchmark"], r["metric"])].append(r)
        for (_, bench, metric), rows in by_key.items():
            best = sorted(rows, key=lambda r: r["value"],
                          reverse=not metric.endswith("_error"))[0]
            ent = Entity("pwc", ("pwc", variant_key(best["model"])), best["model"] or "")
            p = Paired(ent.name, bench, metric, "", best["value"],
                       error_percent(metric, best["value"]), ent)
            p.sources["error"] = Source("error", "pwc", pwc_id=best["id"])
            if result_rejected(bench, metric, p.error) is None:
                out.append(p)
        return out

    # --- compute and parameters ----------------------------------------------------------
    def pair_values(self, rows: list[Paired], entities: list[Entity]) -> None:
        single = single_own_model(rows)
        unnamed = {fld: self.own.unnamed(fld) for fld in PAIRED}
        for p in rows:
            for fld in PAIRED:
                self.pair_value(p, fld, single, unnamed[fld])
        self.ask_which_model(rows, entities)

    def pair_value(self, p: Paired, fld: str, single: bool, unnamed: list[dict]) -> None:
        got: tuple[dict, str] | None = None
        row = self.own.in_unit(fld, p.entity, p.benchmark)
        if row:
            got = (row[0], "row")
        elif p.entity.specific and not (fld == "compute_per_pass" and other_input(p)):
            named = self.own.named(fld, p.entity.key_name, p.benchmark)
            if named:
                got = (self.pick(p, fld, named, "name"), "name")
        if got is None and single and not is_ensemble(p.entity.name):
            fitting = [f for f in unnamed if self.own.fits(f, p.benchmark)]
            if fitting:
                got = (self.pick(p, fld, fitting, "paper"), "paper")
        if got is not None and fld == "parameters" and size_conflict(
                p.entity.name, got[0]["normalized_value"]):
            got = None  # "T5-3B" is not an 11-billion-parameter model, wherever that is read
        d = self.decision(p.model, p.benchmark, fld)
        if d is None and (got is None or got[1] == "paper"):
            d = self.paper_decision(p.benchmark, fld)
        if d is not None:
            v = decision_value(fld, d, self.inp.facts_by_id)
            if v == NOT_REPORTED:
                return
            if v is not None:
                p.values[fld] = v
                p.sources[fld] = Source(fld, "review", review_id=d.review_id, fact_id=d.fact_id)
                if fld == "compute_per_pass":
                    p.compute_unit = decision_unit(fld, d, self.inp.facts_by_id)
                return
        if got is None:
            return
        fact, kind = got
        p.values[fld] = candidate_value(fld, fact)
        p.sources[fld] = Source(fld, kind, fact_id=fact["id"])
        if fld == "compute_per_pass":
            p.compute_unit = fact.get("normalized_unit") or "flops"
        why = unusual(p.benchmark, fld, p.values[fld])
        if why:
            p.held.append(why)
            self.ask("implausible", p.model, "", fld, why, [candidate_record(fld, fact)], [p])

    def pick(self, p: Paired, fld: str, facts: list[dict], level: str) -> dict:
        """The best of several candidates; a conflict question when close ones differ."""
        ranked = sorted(facts, key=lambda f: (-(f.get("confidence") or 0.0), f["id"]))
        best = ranked[0]
        top = best.get("confidence") or 0.0
        bv = candidate_value(fld, best)
        others = [f for f in ranked[1:]
                  if (f.get("confidence") or 0.0) >= top - self.o.conflict_confidence
                  and _differ(candidate_value(fld, f), bv, self.o.value_tolerance)]
        model = p.model if level == "name" else ""
        if others and not self._settled(model, "", fld, [best, *others]):
            self.ask("conflict", model, "", fld,
                     f"{len(others) + 1} {fld} figures for "
                     f"{p.model if model else 'the paper'} disagree",
                     [candidate_record(fld, f) for f in [best, *others]], [p])
        return best

    def ask_which_model(self, rows: list[Paired], entities: list[Entity]) -> None:
        """One question per paper and field for the observations the fits cannot use
        (neither compute nor parameters): which model do the unassigned figures (naming
        no model, or a model without results) belong to? With no such figure, one
        question asks for the values themselves."""
        lacking = [p for p in rows if not set(PAIRED) & set(p.values)]
        if not lacking:
            return
        used = {s.fact_id for p in rows for s in p.sources.values() if s.fact_id}
        names = {e.key_name for e in entities}
        listed = "; ".join(f"{p.model or '(unnamed)'} {p.benchmark} {p.metric}"
                           for p in lacking[:6]) + (" ..." if len(lacking) > 6 else "")
        asked = False
        for fld in PAIRED:
            cands = self.own.unassigned(fld, used, names)
            if cands:
                self.ask("missing", "", "", fld,
                         f"which model do these {fld} figures belong to? "
                         f"{len(lacking)} observation(s) have no compute measure: {listed}",
                         [candidate_record(fld, f) for f in cands[:12]], lacking)
                asked = True
        if not asked:
            self.ask("missing", "", "", "compute_per_pass",
                     f"no compute per pass or parameters found for {len(lacking)} "
                     f"observation(s): {listed}", [], lacking)


_OTHER_INPUT = re.compile(
    r"\bresolution|\binput\s+(?:size|image)|\bimage\s+size|\b\d{3}\s*(?:px|pixels)\b|"
    r"\b\d{3}\s*[×x]\s*\d{3}\b|↑|\bmulti-?(?:scale|crop)|\b\d+\s*crops?\b|\btest[- ]time", re.I)


def other_input(p: Paired) -> bool:
    """A sentence result that names its input (a resolution, crops, multi-scale testing):
    compute per pass depends on the input, so a figure stated for the bare name is not
    its compute (its parameters still are)."""
    return p.entity.kind == "text" and any(
        _OTHER_INPUT.search(f.get("evidence") or "") for f in p.entity.results)


def single_own_model(rows: list[Paired]) -> bool:
    """One own model: the results name at most one variant and come from at most one
    table row or model column whose label names none (two rows are two models), on one
    task; ensembles aside, Papers with Code's models included."""
    models = set()
    for p in rows:
        if is_ensemble(p.entity.name):
            continue
        if p.entity.specific:
            models.add(p.entity.key_name)
        elif p.entity.kind in ("row", "col"):
            models.add(p.entity.key)
    tasks = {TASK_GROUPS.get(p.benchmark, p.benchmark) for p in rows}
    return len(models) <= 1 and len(tasks) <= 1


def _restates(p: Paired, k: Paired) -> bool:
    """True when ``p`` restates the result ``k`` holds: the same benchmark, metric and
    printed value, compatible splits, no paired value that differs; never two rows of
    one table (those are two models, however alike)."""
    if (k.benchmark, family(k.metric)) != (p.benchmark, family(p.metric)) \
            or abs(k.error - p.error) > 0.005 or (p.split and k.split and p.split != k.split):
        return False
    if p.entity.table and p.entity.table == k.entity.table:
        return False
    return all(abs(k.values[f] - p.values[f]) <= 0.02 * k.values[f]
               for f in PAIRED if f in k.values and f in p.values)


def dedupe(rows: list[Paired], arxiv_id: str) -> tuple[list[Paired], dict[int, Paired]]:
    """One observation per result: the same result restated (a summary table, a
    sentence) merges into the one that carries the most values; names stay unique."""
    order = {"row": 0, "col": 0, "text": 1, "pwc": 2}
    rows = sorted(rows, key=lambda p: (-len(p.values), order.get(p.entity.kind, 3)))
    kept: list[Paired] = []
    merged: dict[int, Paired] = {}  # id() of a restated result -> the observation kept
    for p in rows:
        twin = next((k for k in kept if _restates(p, k)), None)
        if twin is None:
            kept.append(p)
            continue
        merged[id(p)] = twin
        for f in PAIRED:
            if f not in twin.values and f in p.values:
                twin.values[f], twin.sources[f] = p.values[f], p.sources[f]
                if f == "compute_per_pass":
                    twin.compute_unit = p.compute_unit
    seen: dict[tuple, int] = defaultdict(int)
    for p in kept:
        k = p.key(arxiv_id)
        seen[k] += 1
        if seen[k] > 1:
            p.model = f"{p.model} [{p.entity.where}]".strip()
    return kept, merged


def pair_paper(inp: PaperInput, options: PairingOptions | None = None,
               own: OwnFacts | None = None) -> PaperPairing:
    """The paper's own observations, with per-value sources, and the questions they raise.
    ``own``: the paper's facts already sorted by ``OwnFacts`` at ``options.own_min``."""
    o = options or PairingOptions()
    pr = _Pairer(inp, o, own)
    entities = collect_entities(pr.own)
    rows = pr.results(entities)
    covered = {(p.benchmark, family(p.metric)) for p in rows}
    rows += pr.pwc_results(covered)
    pr.pair_values(rows, entities)
    rows, merged = dedupe(rows, inp.arxiv_id)
    questions = []
    for q in pr.questions.values():
        q.observations = {merged.get(id(t), t).key(inp.arxiv_id) for t in q.targets}
        q.targets = []
        if q.observations:
            questions.append(q)
    return PaperPairing(rows, questions)
