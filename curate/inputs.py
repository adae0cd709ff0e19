"""What curate decides papers from, read for one batch of papers at a time.

A paper's decision depends on its own rows (facts of its latest extraction,
annotators' decisions on its flags, Papers with Code rows, its date) and on the
hardware catalog. Reading them per batch keeps memory bounded by the batch, not
the store; ``db/triggers.py``'s ``CurateInput`` list names the same tables, so a
change to any of them marks the paper for the next curate.
"""

from __future__ import annotations

import json
from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass, field

from sqlite_utils import Database

from curate.values import Decision
from db import Store
from db.schema import T


@dataclass
class Inputs:
    """One read of the store for a batch of papers."""

    papers: dict[str, dict]  # arxiv_id -> {arxiv_id, year, month}
    facts: dict[str, dict[str, list[dict]]]  # current facts by paper, then field, by id
    facts_by_id: dict[int, dict]  # every fact of these papers, and any a decision names
    pwc: dict[str, list[dict]]  # Papers with Code rows by paper, by id
    decisions: dict[tuple[str, str, str, str], Decision]  # (paper, model key, bench, field)
    flag_decisions: dict[int, Decision]  # flag id -> its decision in force
    reviewed: set[int]  # flags with any review (they are not sampled for double review)
    wanted: set[str]  # papers curate builds: extracted, or with facts
    catalog: dict[str, dict] = field(default_factory=dict)  # chip or alias (lower) -> row
    epoch: dict[str, list[dict]] = field(default_factory=dict)  # Epoch AI rows by paper, by id


def _marks(ids: Sequence) -> str:
    return ",".join("?" * len(ids))


def load_catalog(db: Database) -> dict[str, dict]:
    """Chip names and aliases (lower case) -> hardware row."""
    catalog: dict[str, dict] = {}
    for h in db.query(f"select * from {T.hardware}"):
        catalog[h["chip"].lower()] = h
        try:
            aliases = json.loads(h.get("aliases") or "[]")
        except json.JSONDecodeError:
            aliases = []
        for a in aliases if isinstance(aliases, list) else []:
            catalog.setdefault(str(a).lower(), h)
    return catalog


def load_inputs(store: Store, arxiv_ids: Sequence[str], catalog: dict[str, dict]) -> Inputs:
    """Everything ``Builder.build_paper`` reads for these papers (call inside one read)."""
    db = store.db
    ids = list(arxiv_ids)
    m = _marks(ids)
    papers = {p["arxiv_id"]: p for p in db.query(
        f"select arxiv_id, year, month from {T.papers} where arxiv_id in ({m})", ids)}
    # Only the latest successful extraction of a paper speaks for it: a re-extraction
    # by a newer extractor replaces, not joins, the old facts (decisions may still
    # name old facts, so facts_by_id keeps them all).
    latest = {r["arxiv_id"]: r["id"] for r in db.query(
        f"select arxiv_id, max(id) as id from {T.extractions} where status = 'ok' "
        f"and arxiv_id in ({m}) group by arxiv_id", ids)}
    facts_by_id: dict[int, dict] = {}
    facts: dict[str, dict[str, list[dict]]] = defaultdict(lambda: defaultdict(list))
    for f in db.query(f"select * from {T.facts} where arxiv_id in ({m}) order by id", ids):
        facts_by_id[f["id"]] = f
        if f["extraction_id"] is None or f["extraction_id"] == latest.get(f["arxiv_id"]):
            facts[f["arxiv_id"]][f["field"]].append(f)
    wanted = set(latest) | set(facts)
    pwc: dict[str, list[dict]] = defaultdict(list)
    for r in db.query(f"select * from {T.pwc_results} where arxiv_id in ({m}) order by id",
                      ids):
        pwc[r["arxiv_id"]].append(r)
    epoch: dict[str, list[dict]] = defaultdict(list)
    for r in db.query(f"select * from {T.epoch_models} where arxiv_id in ({m}) order by id",
                      ids):
        epoch[r["arxiv_id"]].append(r)
    # decisions are replayed as the review page shows them (curate.decisions): revisions,
    # double review and adjudication, for this batch's reviewed flags only
    flags = {r["id"]: r for r in db.query(
        f"select f.id, f.arxiv_id, f.model, f.benchmark, f.field from {T.flags} f "
        f"where f.arxiv_id in ({m}) and exists (select 1 from {T.reviews} r "
        f"where r.flag_id = f.id)", ids)}
    from curate.decisions import by_target, decisions_in_force  # it imports curate.build

    flag_decisions = decisions_in_force(store, list(flags)) if flags else {}
    named = sorted({d.fact_id for d in flag_decisions.values()
                    if d.fact_id is not None and d.fact_id not in facts_by_id})
    for start in range(0, len(named), 500):
        chunk = named[start:start + 500]
        for f in db.query(f"select * from {T.facts} where id in ({_marks(chunk)})", chunk):
            facts_by_id[f["id"]] = f
    return Inputs(papers=papers, facts=facts, facts_by_id=facts_by_id, pwc=pwc,
                  decisions=by_target(flag_decisions, flags), flag_decisions=flag_decisions,
                  reviewed=set(flags), wanted=wanted, catalog=catalog, epoch=epoch)
