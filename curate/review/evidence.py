"""What a review page shows beside the question: the observations an answer changes,
where the extractor looked, the paper's local PDF and its title.

The observations an answer changes follow curate's own matching (curate.choose):
a flag naming a model reaches that model's observations; a paper-level flag (no
model) reaches the observations whose value for the field comes from the paper's
unnamed figures. The page lists them and the decision stores the list, so curate
applies the answer to exactly those observations (curate.values.Decision.applies_to).
"""

from __future__ import annotations

import hashlib
import json
import logging
from dataclasses import dataclass
from pathlib import Path

from curate.choose import candidate_record, match_candidates
from curate.values import RESULT_PREFIX, model_key, model_similarity
from db import Store
from db.schema import T

log = logging.getLogger(__name__)

# The observation column a flag's field fills, and the facts' field it is chosen from.
COLUMN = {"compute_per_pass": "compute_per_pass", "parameters": "parameters",
          "hardware": "hardware", "chip_count": "chips", "training_time": "training_hours"}
FACT_FIELD = {"chip_count": "hardware"}
# Statements of these fields often carry the one asked about ("4 GPUs, 2-3 weeks").
RELATED = {"training_time": {"hardware", "epochs"}, "chip_count": {"training_time"},
           "hardware": {"training_time"}, "compute_per_pass": {"parameters"},
           "parameters": {"compute_per_pass"}}
EVIDENCE_LIMIT = 6


def column_of(fld: str) -> str:
    return "error" if fld.startswith(RESULT_PREFIX) else COLUMN.get(fld, fld)


def latest_facts(store: Store, arxiv_id: str, fld: str | None = None) -> list[dict]:
    """The paper's facts from its latest successful extraction (the ones curate reads)."""
    where, params = "", [arxiv_id, arxiv_id]
    if fld is not None:
        where, params = " and f.field = ?", [*params, fld]
    return list(store.db.query(
        f"""select f.* from {T.facts} f where f.arxiv_id = ? and (f.extraction_id is null
            or f.extraction_id = (select max(id) from {T.extractions}
                                  where arxiv_id = ? and status = 'ok')){where}
            order by f.id""", params))


def affected_observations(store: Store, flag: dict) -> list[dict]:
    """The observations an answer to ``flag`` changes, each with its current value: those
    curate listed for the flag (``flag_observations``), else curate's own matching."""
    if flag.get("id") is not None:
        listed = list(store.db.query(
            f"select o.* from {T.flag_observations} l join {T.observations} o "
            f"on o.id = l.observation_id where l.flag_id = ? "
            f"order by o.benchmark, o.model, o.metric", [flag["id"]]))
        if listed:
            return listed
    fld, arxiv_id = flag["field"], flag["arxiv_id"]
    every = list(store.db.query(
        f"select * from {T.observations} where arxiv_id = ? order by benchmark, model, metric",
        [arxiv_id]))
    rows = every
    if fld.startswith(RESULT_PREFIX):
        rows = [o for o in rows if o["metric"] == fld[len(RESULT_PREFIX):]]
    if flag.get("benchmark"):
        rows = [o for o in rows if o["benchmark"] == flag["benchmark"]]
    mk = model_key(flag.get("model"))
    if mk:
        return [o for o in rows if model_key(o["model"]) == mk]
    facts = latest_facts(store, arxiv_id, FACT_FIELD.get(fld, fld.split(":")[0]
                                                         if fld.startswith(RESULT_PREFIX)
                                                         else fld))
    models = sorted({o["model"] for o in every if o["model"]})
    return [o for o in rows if not model_key(o["model"])
            or match_candidates(facts, o["model"], o["benchmark"], models)[1] == "paper"]


def listed_result_pages(store: Store, flag_id: int, limit: int = 4) -> list[int]:
    """Pages printing the results of the observations curate listed for a flag: where a
    paper-level question's models are."""
    return [r["page"] for r in store.db.query(
        f"select distinct f.page from {T.flag_observations} l join {T.observation_sources} s "
        f"on s.observation_id = l.observation_id and s.column = 'error' join {T.facts} f "
        f"on f.id = s.fact_id where l.flag_id = ? and f.page is not null order by f.page "
        f"limit ?", [flag_id, limit])]


def observation_keys(rows: list[dict]) -> list[tuple[str, str, str, str]]:
    return [(o["arxiv_id"], o["model"] or "", o["benchmark"], o["metric"]) for o in rows]


def listing_digest(keys: list[tuple[str, str, str, str]]) -> str:
    """A short digest of a listing: the form carries it, the decision checks it."""
    return hashlib.sha256(json.dumps(sorted(keys)).encode()).hexdigest()[:16]


@dataclass
class Nearby:
    """A fact of the paper near the question, and why it is shown."""

    why: str
    fact: dict
    record: dict


def _fact_field(fld: str) -> tuple[str, str | None]:
    if fld.startswith(RESULT_PREFIX):
        return "result", fld[len(RESULT_PREFIX):]
    return FACT_FIELD.get(fld, fld), None


def closest_facts(store: Store, flag: dict, limit: int = EVIDENCE_LIMIT) -> list[Nearby]:
    """Where the extractor came closest to the answer: the paper's facts of this field,
    of related fields, and of this model (its result rows show where the model is),
    nearest first."""
    want_field, metric = _fact_field(flag["field"])
    model = flag.get("model") or ""
    scored = []
    for f in latest_facts(store, flag["arxiv_id"]):
        same_field = f["field"] == want_field and (metric is None or f["metric"] == metric)
        sim = 1.0 if model and model_key(f["model"]) == model_key(model) else \
            model_similarity(f["model"], model) if model else 0.0
        same_model = sim >= 0.5
        related = f["field"] in RELATED.get(flag["field"], set()) and (
            same_model or not model_key(f["model"]))
        if same_field and same_model:
            rank, why = 0, "this field, this model"
        elif same_field:
            rank, why = 1, "this field" + (f", another model ({f['model']})" if f["model"]
                                           else ", no model named")
        elif related:
            rank, why = 2, f"a {f['field']} statement, which often says this too"
        elif same_model:
            rank, why = 3, f"this model's {f['field']}"
        else:
            continue
        scored.append((rank, -sim, -(f["confidence"] or 0.0), f["id"], why, f))
    scored.sort(key=lambda t: t[:4])
    return [Nearby(why, f, candidate_record(f["field"], f)) for *_, why, f in scored[:limit]]


def extraction_summary(store: Store, arxiv_id: str) -> dict | None:
    """The paper's latest extraction: pages and characters read, status, extractor."""
    rows = list(store.db.query(
        f"select * from {T.extractions} where arxiv_id = ? order by id desc limit 1",
        [arxiv_id]))
    return rows[0] if rows else None


def pdf_path(store: Store, arxiv_id: str, data_dir: Path,
             extraction_id: int | None = None) -> Path | None:
    """The paper's PDF in the local cache (the one the extraction read, if known)."""
    rows = []
    if extraction_id is not None:
        rows = list(store.db.query(
            f"select p.path from {T.pdfs} p join {T.extractions} e on e.pdf_sha256 = p.sha256 "
            f"where e.id = ? and p.status = 'ok'", [extraction_id]))
    rows = rows or list(store.db.query(
        f"select path from {T.pdfs} where arxiv_id = ? and status = 'ok' "
        f"order by version desc", [arxiv_id]))
    for r in rows:
        p = Path(r["path"] or "")
        p = p if p.is_absolute() else data_dir / p
        if p.is_file():
            return p
    return None
