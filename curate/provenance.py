"""Provenance an analyst can join: observation -> sources, flag -> observations.

``observation_sources`` holds one row per observation value (column, kind and the
fact, review, Papers with Code or Epoch row it came from); the view
``observations_evidence`` joins it to the page and the sentence or table row.
``flag_observations`` lists, per flag, the observations its answer changes.
Both are rewritten with the observations they describe, in the caller's transaction.
"""

from __future__ import annotations

from collections.abc import Iterable

from sqlite_utils import Database

from db.schema import T

#: an observation's identity: (arxiv_id, model, benchmark, metric, split)
OBS_KEY = ("arxiv_id", "model", "benchmark", "metric", "split")


def obs_key(row: dict) -> tuple:
    return tuple(row.get(c) or "" if c == "split" else row.get(c) for c in OBS_KEY)


def write_sources(db: Database, observation_id: int, sources: Iterable) -> None:
    """Replace an observation's source rows by ``sources`` (curate.pairing.Source)."""
    db.execute(f"delete from {T.observation_sources} where observation_id = ?",
               [observation_id])
    rows = [{"observation_id": observation_id, "column": s.column, "kind": s.kind,
             "fact_id": s.fact_id, "review_id": s.review_id, "pwc_id": s.pwc_id,
             "epoch_id": s.epoch_id, "detail": s.detail} for s in sources]
    if rows:
        db[T.observation_sources].insert_all(rows)


def delete_observation(db: Database, observation_id: int) -> None:
    """Remove an observation and the rows that point at it."""
    for table in (T.observation_sources, T.flag_observations):
        db.execute(f"delete from {table} where observation_id = ?", [observation_id])
    db[T.observations].delete(observation_id)


def link_flags(db: Database, flags: dict, arxiv_ids: Iterable[str] | None = None) -> int:
    """Rewrite ``flag_observations`` for the flags of ``arxiv_ids`` (all when None) from
    each FlagSpec's observation keys; returns the links written. With ``arxiv_ids`` only
    those papers' flags and observations are read (curate's batches stay bounded)."""
    where, params = "", []
    if arxiv_ids is not None:
        papers = sorted(set(arxiv_ids))
        if not papers:
            return 0
        where = f" where arxiv_id in ({','.join('?' * len(papers))})"
        params = papers
    ids = {f["key"]: f["id"] for f in db.query(f"select id, key from {T.flags}{where}", params)}
    if arxiv_ids is None:
        db.execute(f"delete from {T.flag_observations}")
    else:
        db.execute(f"delete from {T.flag_observations} where flag_id in "
                   f"(select id from {T.flags}{where})", params)
    obs = {obs_key(r): r["id"] for r in db.query(
        f"select id, {', '.join(OBS_KEY)} from {T.observations}{where}", params)}
    rows = []
    for key, spec in flags.items():
        if key not in ids:
            continue
        for k in spec.observations:
            oid = obs.get(tuple(k))
            if oid is not None:
                rows.append({"flag_id": ids[key], "observation_id": oid})
    if rows:
        db[T.flag_observations].insert_all(rows, ignore=True)
    return len(rows)
