"""Whose facts are these? The paper's own facts, and the models its results belong to.

Facts from one table row describe one model (``row_id``); in a transposed table
the model is the column, so its facts share the table and the model name. Such
a unit is the paper's own when the extractor says so on balance: no citation in
the row, and the mean confidence of its compute and parameters (of its results
when it has neither) at least
``own_min``. A single fact is own when it is itself scored at least ``own_min``,
its unit is own, and curate.sanity does not reject it. The extractor scores a
result for being the paper's headline, compute and parameters for whose they
are: so a row is judged by its compute and parameters when it has them, and a
result below ``own_min`` is still its model's when its row's sizes are own (the
analysis wants every own model, not only the headline).

Sentences rarely carry a model name of their own; one that names exactly one of
the paper's own models speaks of that model, one that names another paper's
model (a cited row's label) speaks of that one.
"""

from __future__ import annotations

import re
from collections import defaultdict
from collections.abc import Mapping
from dataclasses import dataclass, field

from curate.names import clean_name, is_specific, names_in, size_conflict, variant_key
from curate.sanity import extra, features, rejected

FIELDS = ("result", "compute_per_pass", "parameters")
# a citation in a row's text: "[20]", "[3, 7]", "(He et al., 2016)"
_ROW_CITE = re.compile(r"\[\d+(?:\s*[,–-]\s*\d+)*\]|\bet\s+al\.?,?\s*\(?\d{4}")
# Benchmarks on which one model is one network (its compute and size carry over).
TASK_GROUPS = {"imagenet": "imagenet", "cifar10": "cifar", "cifar100": "cifar",
               "coco": "coco", "squad1.1": "squad", "conll2003": "conll",
               "wmt14-en-de": "wmt", "wmt14-en-fr": "wmt"}
# Words that tie a caption or sentence to a task group (to keep a detector's or a
# keypoint model's figures off an ImageNet classifier of the same name).
_TASK_WORDS = {
    "imagenet": re.compile(r"\bImageNet|\bILSVRC|\bIN-?1[kK]\b", re.I),
    "cifar": re.compile(r"\bCIFAR", re.I),
    "coco": re.compile(r"\bCOCO\b|\bdetect(?:ion|or)s?\b|\bsegmentation\b|\bkey-?points?\b|"
                       r"\bpose\b|\bR-?CNN\b|\bRetinaNet\b|\bYOLO|\bSSD\b|\bVOC\b", re.I),
    "squad": re.compile(r"\bSQuAD\b", re.I),
    "conll": re.compile(r"\bCoNLL|\bNER\b|\bnamed[- ]entity", re.I),
    "wmt": re.compile(r"\bWMT|\bEn-?(?:De|Fr)\b|\btranslation\b|\bBLEU\b", re.I),
    # tasks dlcompute does not track, whose figures still sit beside tracked ones
    "other": re.compile(r"\bADE-?20[kK]|\bCityscapes|\bmIoU\b|\bKinetics|\bPascal\b|"
                        r"\bLVIS\b", re.I),
}
# What a sentence comparing several models speaks of: none of them in particular.
SEVERAL = "several models"
_ENSEMBLE = re.compile(r"\bensembles?\b|(?<![\d.])(?:[2-9]|[1-9]\d+)\s*(?:x\s*)?"
                       r"(?:models|nets|networks|CNNs|ConvNets|LSTMs|RNNs)\b", re.I)


def is_ensemble(name: str | None) -> bool:
    """An ensemble ("5 CNNs", "ensemble of 2 models") is not one model: paper-level
    figures of a single network do not describe it."""
    return bool(_ENSEMBLE.search(name or ""))


@dataclass
class Entity:
    """One own model that has results: a table row, a table column, or a sentence's name."""

    kind: str  # row | col | text | pwc
    key: tuple
    name: str
    results: list[dict] = field(default_factory=list)
    where: str = ""  # p4.t1.r17, p4.t1, p7: where its results are printed

    @property
    def table(self) -> str:
        """The table its results are printed in ("p4.t1"), "" for a sentence."""
        return self.where.rsplit(".", 1)[0] if self.kind == "row" else (
            self.where if self.kind == "col" else "")

    @property
    def key_name(self) -> str:
        return variant_key(self.name)

    @property
    def specific(self) -> bool:
        return is_specific(self.name)


def column_tasks(f: dict) -> set[str]:
    """Task groups a table fact's column header names ("ADE20K Params": other)."""
    head = str(extra(f).get("column") or "")
    return {t for t, rx in _TASK_WORDS.items() if rx.search(head)}


def unit_of(f: dict) -> tuple | None:
    """The table row (or transposed model column) a fact was read from; None for text."""
    if f.get("source") != "table" or not f.get("row_id"):
        return None
    ex = extra(f)
    if ex.get("layout") == "transposed":
        return ("col", str(ex.get("table") or f["row_id"].rsplit(".", 1)[0]),
                variant_key(f.get("model")))
    return ("row", f["row_id"])


def _shortest_first(names: set[str]) -> list[str]:
    """Names by length, then alphabetically: the same order in every process (a set's
    order of strings is not)."""
    return sorted(names, key=lambda n: (len(n), n))


class OwnFacts:
    """The paper's facts, sorted into own and others', with the names they carry."""

    def __init__(self, facts: Mapping[str, list[dict]], own_min: float):
        self.own_min = own_min
        self._verdicts: dict[int, bool] = {}  # fact id -> is_own
        self.units: dict[tuple, list[dict]] = defaultdict(list)
        for fld in FIELDS:
            for f in facts.get(fld, []):
                u = unit_of(f)
                if u is not None:
                    self.units[u].append(f)
        self.foreign_units = {u for u, fs in self.units.items() if self._foreign(fs)}
        self.facts = {fld: [f for f in facts.get(fld, []) if self.is_own(f)] for fld in FIELDS}
        labels = {u: (fs[0].get("model") or "") for u, fs in self.units.items()}
        self.own_names = _shortest_first({clean_name(n) for u, n in labels.items()
                                          if u not in self.foreign_units and is_specific(n)})
        own_keys = {variant_key(m) for m in self.own_names}
        self.other_names = _shortest_first({clean_name(n) for u, n in labels.items()
                                            if u in self.foreign_units and is_specific(n)
                                            and variant_key(n) not in own_keys})
        self._names: dict[int, str | None] = {}
        self._other_keys = {variant_key(n) for n in self.other_names}

    def is_own(self, f: dict) -> bool:
        """A fact of any field the extractor attributes to this paper (its own score and,
        for a table fact, its row's)."""
        fid = f.get("id")
        if fid is None:
            return self._own(f)
        if fid not in self._verdicts:
            self._verdicts[fid] = self._own(f)
        return self._verdicts[fid]

    def is_others(self, name: str | None) -> bool:
        """True when ``name`` is another paper's model (a cited or foreign row's label)."""
        return bool(name) and variant_key(name) in self._other_keys

    def _foreign(self, fs: list[dict]) -> bool:
        if any(features(f).get("row_cited") for f in fs):
            return True
        if fs[0].get("source") == "table" and not any((f.get("model") or "").strip() for f in fs) \
                and any(_ROW_CITE.search(f.get("evidence") or "") for f in fs):
            return True  # a row whose label was not read still shows its citation
        # compute and parameters are scored for whose they are; a result is scored for
        # being the paper's headline, so a row with sizes is judged by its sizes
        sized = [f for f in fs if f.get("field") != "result"]
        conf = [f.get("confidence") or 0.0 for f in sized or fs]
        return sum(conf) / len(conf) < self.own_min

    def _sized_own(self, u: tuple) -> bool:
        """A row whose compute or parameters the extractor attributes to the paper."""
        return u not in self.foreign_units and any(
            f.get("field") != "result" and (f.get("confidence") or 0.0) >= self.own_min
            for f in self.units[u])

    def _own(self, f: dict) -> bool:
        if rejected(f) is not None:
            return False
        u = unit_of(f)
        if (f.get("confidence") or 0.0) < self.own_min:
            # a result that is not the paper's headline is still its own model's when its
            # row's compute or parameters are the paper's (the analysis wants every model)
            return f.get("field") == "result" and u is not None and self._sized_own(u)
        if u is not None and features(f).get("row_layer") and not any(
                x.get("field") == "result" for x in self.units[u]):
            return False  # a layer's count in an architecture table, not a model's
        return u is None or u not in self.foreign_units

    def name(self, f: dict) -> str | None:
        """The model a fact speaks of: its own name, else the one model its sentence
        names (own or another paper's), else None."""
        if f["id"] in self._names:
            return self._names[f["id"]]
        name = f.get("model") or None
        if not name and f.get("source") != "table":
            found = names_in(f.get("evidence") or "", self.own_names + self.other_names)
            keys = {variant_key(n) for n in found}
            if len(keys) == 1:
                name = found[0]
            elif not found and is_ensemble(f.get("evidence")):
                name = "ensemble"
            elif len(keys) > 1:
                name = SEVERAL  # not one model's figure
            if f.get("field") == "parameters" and size_conflict(name, f["normalized_value"]):
                name = SEVERAL  # "our T5-3B ... scaling to 11 billion parameters": not T5-3B's
        self._names[f["id"]] = name
        return name

    def in_unit(self, fld: str, ent: Entity, benchmark: str) -> list[dict]:
        """Own facts of ``fld`` from the entity's own table row (or model column), best
        first: a column naming the result's task, then columns naming none, left to right;
        never a column naming another task ("ADE20K FLOPs" beside ImageNet top-1)."""
        if ent.kind not in ("row", "col"):
            return []
        task = TASK_GROUPS.get(benchmark, benchmark)
        ranked = []
        for f in self.facts[fld]:
            if unit_of(f) != ent.key:
                continue
            named = column_tasks(f)
            if named and task not in named:
                continue
            ranked.append((0 if task in named else 1, f["id"], f))
        return [f for *_, f in sorted(ranked, key=lambda t: t[:2])]

    def tasks(self, f: dict) -> set[str]:
        """Task groups a fact's context speaks of: the results printed in its table, the
        tasks its caption (or, for text, its sentence) names; empty when it names none."""
        ex = extra(f)
        table = str(ex.get("table") or "")
        found = {TASK_GROUPS.get(r["benchmark"], r["benchmark"])
                 for fs in self.units.values() for r in fs
                 if table and r.get("field") == "result" and r.get("benchmark")
                 and str(extra(r).get("table") or "") == table}
        text = ex.get("caption") or "" if f.get("source") == "table" else f.get("evidence") or ""
        return found | {task for task, rx in _TASK_WORDS.items() if rx.search(text)}

    def fits(self, f: dict, benchmark: str) -> bool:
        """False when the fact's context is about another task than ``benchmark``'s: its
        column's header when that names a task, else its table or sentence."""
        task = TASK_GROUPS.get(benchmark, benchmark)
        named = column_tasks(f)
        if named:
            return task in named
        tasks = self.tasks(f)
        return not tasks or task in tasks

    def named(self, fld: str, key_name: str, benchmark: str) -> list[dict]:
        """Own facts of ``fld`` stated for exactly this variant, not in a table of
        another benchmark's results (a detector's compute is not its backbone's)."""
        return [f for f in self.facts[fld]
                if variant_key(self.name(f)) == key_name and self.fits(f, benchmark)]

    def unnamed(self, fld: str, benchmark: str | None = None) -> list[dict]:
        """Own figures of ``fld`` that name no model (the paper's, if it has one model),
        not about another task than ``benchmark``'s."""
        return [f for f in self.facts[fld] if not self.name(f)
                and (benchmark is None or self.fits(f, benchmark))]

    def unassigned(self, fld: str, used: set[int], result_names: set[str]) -> list[dict]:
        """Own figures of ``fld`` no observation took: naming no model, or a model of
        its own that has no results here (not another paper's), best first."""
        out = []
        for f in self.facts[fld]:
            if f["id"] in used:
                continue
            name = self.name(f)
            key = variant_key(name)
            if name and (name == SEVERAL or not is_specific(name) or key in result_names
                         or key in self._other_keys):
                continue
            out.append(f)
        return sorted(out, key=lambda f: (-(f.get("confidence") or 0.0), f["id"]))


def collect_entities(own: OwnFacts) -> list[Entity]:
    """The own models that have own results, in the order the paper prints them."""
    ents: dict[tuple, Entity] = {}
    for f in sorted(own.facts["result"], key=lambda f: (f.get("page") or 0, f["id"])):
        if not f.get("benchmark") or not f.get("metric") or f.get("normalized_value") is None:
            continue
        u = unit_of(f)
        if u is not None:
            kind, where = u[0], (f["row_id"] if u[0] == "row" else u[1])
            name = (f.get("model") or "").strip()
        else:
            name = own.name(f) or ""
            if name == SEVERAL or own.is_others(name):
                continue  # a sentence comparing models, or about another paper's model
            kind, where, u = "text", f"p{f.get('page')}", ("text", variant_key(name))
        ent = ents.setdefault(u, Entity(kind, u, name, where=where))
        ent.results.append({**f, "_header": extra(f).get("header") or ""})
    return list(ents.values())
