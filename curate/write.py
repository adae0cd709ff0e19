"""Writing papers' decisions: observations, flags and fit pairs, in place of the old ones.

Called inside curate's write transaction for one batch: existing rows are read
there (fresh), compared with the decisions, and only what differs is written.
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass

from sqlite_utils import Database

from curate.build import FlagSpec
from curate.choose import decision_value, differ, snapshot_ids
from curate.decide import PaperDecision
from curate.inputs import Inputs
from curate.provenance import OBS_KEY, delete_observation, obs_key, write_sources
from curate.values import Decision
from db.schema import T

OBS_COLUMNS = ("year", "month", "error", "compute_per_pass", "parameters", "hardware", "chips",
               "training_hours", "hardware_burden", "compute_imputed", "compute_unit", "sources",
               "status", "status_reason")
REOPENED = "; reopened: "
FLAG_CONTENT = ("arxiv_id", "model", "benchmark", "field", "kind", "reason", "candidates",
                "pwc_value", "priority")


@dataclass
class Changes:
    """What the writes of one run changed (CurateSummary adds these up)."""

    observations_added: int = 0
    observations_updated: int = 0
    observations_removed: int = 0
    flags_new: int = 0
    flags_reopened: int = 0
    flags_closed_now: int = 0


def sampled(key: str, fraction: float) -> int:
    """Deterministic sample of flags for double review: the same flags on every run."""
    if fraction <= 0:
        return 0
    h = int(hashlib.sha256(key.encode()).hexdigest()[:8], 16) / 0xFFFFFFFF
    return int(h < fraction)


def _marks(ids: list) -> str:
    return ",".join("?" * len(ids))


def _update(db: Database, table: str, row_id: int, changes: dict) -> None:
    cols = list(changes)
    db.execute(f"update {table} set {', '.join(f'[{c}] = ?' for c in cols)} where id = ?",
               [changes[c] for c in cols] + [row_id])


def write_observations(db: Database, decided: list[PaperDecision], now: str,
                       changes: Changes) -> None:
    """These papers' observations in place of their old ones, each with its source rows
    (``observation_sources``); only what differs is written."""
    ids = [d.arxiv_id for d in decided]
    existing = {obs_key(r): r for r in db.query(
        f"select * from {T.observations} where arxiv_id in ({_marks(ids)})", ids)}
    seen = set()
    cols = (*OBS_KEY, *OBS_COLUMNS, "updated_at")
    insert = (f"insert into {T.observations} ({', '.join(cols)}) "
              f"values ({_marks(list(cols))})")
    for d in decided:
        for row in d.rows:
            k = obs_key(row)
            if k in seen:
                continue  # two spellings of one model: the first (best) wins
            seen.add(k)
            full = {c: row.get(c) for c in OBS_COLUMNS}
            old = existing.get(k)
            if old is None:
                oid = db.execute(insert, [*k, *full.values(), now]).lastrowid
                changes.observations_added += 1
            else:
                oid = old["id"]
                if any(old[c] != full[c] for c in OBS_COLUMNS):
                    _update(db, T.observations, oid, {**full, "updated_at": now})
                    changes.observations_updated += 1
            write_sources(db, oid, row.get("_sources", ()))
    for k, old in existing.items():
        if k not in seen:
            delete_observation(db, old["id"])
            changes.observations_removed += 1


def new_evidence(spec: FlagSpec, d: Decision, facts_by_id: dict[int, dict],
                 tolerance: float) -> list[dict]:
    """Candidates the annotator did not see whose value contradicts the decision."""
    seen = snapshot_ids(d.before)
    decided = decision_value(spec.field, d, facts_by_id)
    if isinstance(decided, tuple):
        decided = decided[0]
    out = []
    for c in spec.candidates:
        if c.get("fact_id") is None or c["fact_id"] in seen or c["fact_id"] == d.fact_id:
            continue
        if decided == "not_reported" or decided is None or differ(c.get("value"), decided,
                                                                  tolerance):
            out.append(c)
    return out


def sync_flags(db: Database, decided: list[PaperDecision], inputs: Inputs, tolerance: float,
               fraction: float | None, now: str, changes: Changes) -> None:
    """Open new flags, update changed ones, reopen decided ones on new evidence, close gone ones.

    Idempotent: the same decisions again change nothing (a flag reopened on new evidence
    keeps saying so).

    ``fraction`` (None: leave as is) samples these papers' open, unreviewed flags for a
    second annotator.
    """
    ids = [d.arxiv_id for d in decided]
    existing = {f["key"]: f for f in db.query(
        f"select * from {T.flags} where arxiv_id in ({_marks(ids)})", ids)}
    specs: dict[str, FlagSpec] = {}
    for d in decided:
        specs.update(d.flags)
    inserts = []
    for key, spec in specs.items():
        content = {
            "arxiv_id": spec.arxiv_id, "model": spec.model, "benchmark": spec.benchmark,
            "field": spec.field, "kind": spec.kind, "reason": spec.reason,
            "candidates": json.dumps(spec.candidates, sort_keys=True),
            "pwc_value": spec.pwc_value, "priority": len(spec.observations),
        }
        old = existing.get(key)
        if old is None:
            inserts.append([key, *content.values(), "open", sampled(key, fraction or 0.0),
                            now, now])
            changes.flags_new += 1
            continue
        update = {c: v for c, v in content.items() if old[c] != v}
        if (old["reason"] or "").startswith(spec.reason + REOPENED):
            del update["reason"]  # the reason it was reopened stays while it holds
        if old["status"] == "closed":
            dec = inputs.flag_decisions.get(old["id"])
            fresh = new_evidence(spec, dec, inputs.facts_by_id, tolerance) if dec else None
            if dec is None or fresh:
                update.update(status="open", resolution=None, closed_at=None)
                if fresh:
                    update["reason"] = (f"{spec.reason}{REOPENED}new evidence "
                                        f"(fact {', '.join(str(c['fact_id']) for c in fresh)})"
                                        f" contradicts review {dec.review_id}")
                changes.flags_reopened += 1
        if fraction is not None and old["id"] not in inputs.reviewed and (
                update.get("status", old["status"]) == "open"):
            dr = sampled(key, fraction)
            if dr != old["double_review"]:
                update["double_review"] = dr
        if update:
            _update(db, T.flags, old["id"], {**update, "updated_at": now})
    cols = ("key", *FLAG_CONTENT, "status", "double_review", "created_at", "updated_at")
    db.conn.executemany(f"insert into {T.flags} ({', '.join(cols)}) "
                        f"values ({_marks(list(cols))})", inserts)
    for key, old in existing.items():
        if key not in specs and old["status"] == "open":
            _update(db, T.flags, old["id"], {
                "status": "closed", "resolution": "auto: no longer detected", "closed_at": now,
                "updated_at": now, "lease_annotator": None, "lease_expires": None})
            changes.flags_closed_now += 1


def reword_fit_flags(db: Database, reasons: list[tuple[str, str, str, str]], now: str) -> None:
    """A fit that moved changes only the figures in its flags' reasons: write the new ones.

    (key, arxiv_id, old reason, new reason); a flag whose reason is not the fit's (another
    check raised it first) is left as it is, as deciding its paper again would. The
    observations the fit holds out of the analysis say why in ``status_reason``: the
    same words change there.
    """
    db.conn.executemany(
        f"update {T.flags} set reason = ?, updated_at = ? where key = ? and (reason = ? "
        f"or substr(reason, 1, ?) = ?)",
        [(new, now, key, old, len(old) + len(REOPENED), old + REOPENED)
         for key, _aid, old, new in reasons])
    db.conn.executemany(
        f"update {T.observations} set status_reason = replace(status_reason, ?, ?), "
        f"updated_at = ? where arxiv_id = ? and instr(status_reason, ?) > 0",
        [(old, new, now, aid, old) for _key, aid, old, new in reasons])


def write_pairs(db: Database, decided: list[PaperDecision]) -> None:
    ids = [d.arxiv_id for d in decided]
    db.execute(f"delete from {T.curate_pairs} where arxiv_id in ({_marks(ids)})", ids)
    db.conn.executemany(
        f"insert into {T.curate_pairs} (arxiv_id, model_key, log_params, log_flops) "
        f"values (?, ?, ?, ?)",
        [(d.arxiv_id, k, lp, lf) for d in decided for k, (lp, lf) in d.pairs.items()])


def sample_open_flags(db: Database, fraction: float, after: int, limit: int) -> int | None:
    """Sample ``limit`` open, unreviewed flags from id ``after`` on; the last id, or None."""
    rows = list(db.query(f"select id, key, double_review from {T.flags} where status = 'open' "
                         f"and id > ? order by id limit ?", [after, limit]))
    if not rows:
        return None
    ids = [r["id"] for r in rows]
    reviewed = {r["flag_id"] for r in db.query(
        f"select distinct flag_id from {T.reviews} where flag_id in ({_marks(ids)})", ids)}
    db.conn.executemany(f"update {T.flags} set double_review = ? where id = ?", [
        (dr, r["id"]) for r in rows if r["id"] not in reviewed
        and (dr := sampled(r["key"], fraction)) != r["double_review"]])
    return ids[-1]

