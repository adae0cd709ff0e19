"""The review queue: leases, decisions and undo, safe with several annotators at once.

A flag is handed to one annotator at a time by a lease (``flags.lease_annotator`` /
``lease_expires``) taken with a single ``UPDATE ... WHERE lease free``, so two
annotators never get the same flag. Every decision is a new ``reviews`` row, checked
against the flag's state in the same write transaction and keyed by a one-time form
token, so a double submit or a stale page neither loses nor repeats a decision.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import json
from collections.abc import Iterator
from dataclasses import dataclass

from curate.values import (
    DECISION_ACTIONS,
    RESULT_PREFIX,
    UnitError,
    compute_from_unit,
    count_from_unit,
    hours_from_unit,
)
from db import DlcomputeError, Store
from db.schema import T
from db.status import flag_counts
from db.store import utcnow

ACTIONS = (*DECISION_ACTIONS, "skip")


class ReviewError(DlcomputeError):
    """A decision cannot be applied (flag taken, closed, or the value is bad)."""


@dataclass
class Filters:
    benchmark: str | None = None
    field: str | None = None
    kind: str | None = None

    def sql(self) -> tuple[str, list]:
        parts, params = [], []
        if self.benchmark:
            # model-level flags (compute, hardware ...) name no benchmark: they belong to
            # a benchmark through the paper's observations or the query that found it
            parts.append(f"""(f.benchmark = ? or (coalesce(f.benchmark, '') = '' and (
                exists (select 1 from {T.observations} o where o.arxiv_id = f.arxiv_id
                        and o.benchmark = ?)
                or exists (select 1 from {T.paper_queries} q where q.arxiv_id = f.arxiv_id
                           and q.query = ?))))""")
            params += [self.benchmark] * 3
        for col in ("field", "kind"):
            v = getattr(self, col)
            if v:
                parts.append(f"f.{col} = ?")
                params.append(v)
        return (" and " + " and ".join(parts)) if parts else "", params


def _later(minutes: float) -> str:
    t = dt.datetime.now(dt.UTC) + dt.timedelta(minutes=minutes)
    return t.replace(microsecond=0).isoformat().replace("+00:00", "Z")


@contextlib.contextmanager
def immediate(store: Store) -> Iterator[None]:
    """A write transaction that takes SQLite's write lock at once (check-then-write)."""
    conn = store.db.conn
    conn.execute("BEGIN IMMEDIATE")
    try:
        yield
    except BaseException:
        conn.execute("ROLLBACK")
        raise
    conn.execute("COMMIT")


def _eligible(annotator: str) -> str:
    """SQL condition: a flag this annotator may be given (not decided or skipped by them)."""
    return f"""f.status = 'open' and not exists (
        select 1 from {T.reviews} r where r.flag_id = f.id and r.annotator = :ann
          and r.action in ('accept', 'correct', 'not_reported', 'skip')
          and not exists (select 1 from {T.reviews} u where u.action = 'undo'
                          and u.undoes = r.id))"""


def lease_next(store: Store, annotator: str, filters: Filters | None = None,
               minutes: float = 15.0) -> dict | None:
    """The flag this annotator holds, else the highest-priority free one, leased to them."""
    filters = filters or Filters()
    where, params = filters.sql()
    named = {"ann": annotator, "now": utcnow(), "until": _later(minutes)}
    for i, p in enumerate(params):
        named[f"p{i}"] = p
    for i in range(len(params)):
        where = where.replace("?", f":p{i}", 1)
    mine = list(store.db.query(
        f"select f.* from {T.flags} f where {_eligible(annotator)} and f.lease_annotator = :ann "
        f"and f.lease_expires > :now {where} order by f.priority desc, f.id limit 1", named))
    if mine:
        return mine[0]
    # One statement: SQLite runs it under the write lock, so two annotators cannot both
    # see the same flag as free.
    rows = store.db.execute(
        f"""update {T.flags} set lease_annotator = :ann, lease_expires = :until
            where id = (select f.id from {T.flags} f where {_eligible(annotator)}
                        and (f.lease_annotator is null or f.lease_expires is null
                             or f.lease_expires <= :now or f.lease_annotator = :ann) {where}
                        order by f.priority desc, f.id limit 1)
            returning id""", named).fetchall()
    if not rows:
        return None
    return store.db[T.flags].get(rows[0][0])


def lease(store: Store, flag_id: int, annotator: str, minutes: float = 15.0) -> bool:
    """Take (or renew) the lease on one flag; False when someone else holds it."""
    now = utcnow()
    cur = store.db.execute(
        f"""update {T.flags} set lease_annotator = ?, lease_expires = ?
            where id = ? and status = 'open' and (lease_annotator is null
              or lease_expires is null or lease_expires <= ? or lease_annotator = ?)""",
        [annotator, _later(minutes), flag_id, now, annotator])
    return cur.rowcount == 1


def release(store: Store, flag_id: int, annotator: str) -> None:
    store.db.execute(f"update {T.flags} set lease_annotator = null, lease_expires = null "
                     f"where id = ? and lease_annotator = ?", [flag_id, annotator])


def check_value(field: str, value: float | None, unit: str | None) -> None:
    """Refuse a correction whose unit curate could not use, naming the fix."""
    if field == "hardware":
        if not (unit or "").strip():
            raise ReviewError("A hardware correction needs the chip name in the unit box "
                              "(e.g. V100) and optionally the chip count as the value")
        return
    if value is None:
        raise ReviewError(f"A correction of {field} needs a number in the value box")
    try:
        if field == "compute_per_pass":
            compute_from_unit(value, unit or "FLOPs")
        elif field == "parameters":
            count_from_unit(value, unit or "")
        elif field == "training_time":
            hours_from_unit(value, unit or "hours")
    except UnitError as e:
        raise ReviewError(str(e)) from e
    if field.startswith(RESULT_PREFIX) and not 0 <= value <= 100:
        raise ReviewError(f"{field}: {value:g} is not a percentage or BLEU score (0-100)")


def _snapshot(flag: dict) -> dict:
    return {k: flag[k] for k in ("status", "resolution", "lease_annotator")} | {
        "candidates": json.loads(flag["candidates"] or "[]")}


def decide(store: Store, flag_id: int, annotator: str, action: str, token: str, *,
           fact_id: int | None = None, value: float | None = None, unit: str | None = None,
           note: str | None = None) -> int:
    """Record a decision (or skip) on a flag; returns the review id.

    The same ``token`` twice returns the first review and changes nothing.
    """
    if action not in ACTIONS:
        raise ReviewError(f"Unknown action {action!r}; use one of {', '.join(ACTIONS)}")
    with immediate(store):
        done = list(store.db.query(
            f"select id from {T.reviews} where json_extract(after, '$.token') = ?", [token]))
        if done:
            return done[0]["id"]
        flag = store.db[T.flags].get(flag_id)
        if flag["status"] != "open":
            raise ReviewError(f"Flag {flag_id} was closed meanwhile ({flag['resolution']}); "
                              f"nothing recorded, take the next one")
        now = utcnow()
        if (flag["lease_annotator"] not in (None, annotator)
                and (flag["lease_expires"] or "") > now):
            raise ReviewError(f"Flag {flag_id} is being reviewed by {flag['lease_annotator']}; "
                              f"nothing recorded, take the next one")
        if action == "correct":
            check_value(flag["field"], value, unit)
        prior = list(store.db.query(
            f"""select distinct r.annotator from {T.reviews} r where r.flag_id = ?
                and r.action in ('accept', 'correct', 'not_reported') and not exists (
                  select 1 from {T.reviews} u where u.action = 'undo' and u.undoes = r.id)""",
            [flag_id]))
        deciders = {r["annotator"] for r in prior}
        if action != "skip" and annotator in deciders:
            raise ReviewError(f"You already decided flag {flag_id}; undo that decision first")
        decision = action in DECISION_ACTIONS
        closes = decision and (not flag["double_review"] or len(deciders | {annotator}) >= 2)
        after = {"status": "closed" if closes else "open", "action": action, "value": value,
                 "unit": unit, "fact_id": fact_id, "token": token}
        rid = store.db[T.reviews].insert({
            "flag_id": flag_id, "annotator": annotator, "created_at": now, "action": action,
            "before": json.dumps(_snapshot(flag)), "after": json.dumps(after),
            "value": value, "unit": unit, "fact_id": fact_id, "note": note}).last_pk
        change = {"lease_annotator": None, "lease_expires": None, "updated_at": now}
        if closes:
            change |= {"status": "closed", "resolution": f"review:{rid}", "closed_at": now}
        store.db[T.flags].update(flag_id, change)
        return rid


def undo_last(store: Store, annotator: str, token: str, minutes: float = 15.0) -> int | None:
    """Undo this annotator's latest review still in force; returns its flag id, or None."""
    with immediate(store):
        done = list(store.db.query(
            f"select flag_id from {T.reviews} where json_extract(after, '$.token') = ?", [token]))
        if done:
            return done[0]["flag_id"]
        last = list(store.db.query(
            f"""select r.* from {T.reviews} r where r.annotator = ? and r.action != 'undo'
                and not exists (select 1 from {T.reviews} u where u.action = 'undo'
                                and u.undoes = r.id)
                order by r.id desc limit 1""", [annotator]))
        if not last:
            return None
        r = last[0]
        flag = store.db[T.flags].get(r["flag_id"])
        now = utcnow()
        store.db[T.reviews].insert({
            "flag_id": flag["id"], "annotator": annotator, "created_at": now,
            "action": "undo", "undoes": r["id"], "before": json.dumps(_snapshot(flag)),
            "after": json.dumps({"status": "open", "token": token}),
            "note": f"undo review {r['id']} ({r['action']})"})
        store.db[T.flags].update(flag["id"], {
            "status": "open", "resolution": None, "closed_at": None, "updated_at": now,
            "lease_annotator": annotator, "lease_expires": _later(minutes)})
        return flag["id"]


def queue_flags(store: Store, filters: Filters | None = None, limit: int = 200) -> list[dict]:
    """The open flags, most useful first (the queue page's list)."""
    where, params = (filters or Filters()).sql()
    return list(store.db.query(
        f"select f.id, f.arxiv_id, f.kind, f.field, f.model, f.benchmark, f.priority, "
        f"f.lease_annotator, f.reason from {T.flags} f where f.status = 'open' {where} "
        f"order by f.priority desc, f.id limit ?", [*params, limit]))


def distinct_values(store: Store, table: str, column: str) -> list[str]:
    """The non-empty values of an indexed column, one index seek per value (not a scan)."""
    return [r["x"] for r in store.db.query(
        f"""with recursive v(x) as (
              select (select min({column}) from {table} where {column} > '')
              union all
              select (select min({column}) from {table} where {column} > v.x)
              from v where v.x is not null)
            select x from v where x is not null""")]


def filter_options(store: Store) -> dict[str, list[str]]:
    """The values the queue's filters offer: fields, kinds and benchmarks of flags."""
    options = {c: distinct_values(store, T.flags, c) for c in ("field", "kind")}
    options["benchmark"] = sorted(set(distinct_values(store, T.flags, "benchmark"))
                                  | set(distinct_values(store, T.observations, "benchmark")))
    return options


def progress_counts(store: Store, filters: Filters | None = None) -> dict:
    """Open and closed flags (open ones by kind) and reviews, for these filters."""
    f = filters or Filters()
    counts = flag_counts(store, f.benchmark, f.field, f.kind)
    out = {"open": sum(counts.get("open", {}).values()),
           "closed": sum(counts.get("closed", {}).values()), "by_kind": counts.get("open", {})}
    out["total"] = out["open"] + out["closed"]
    out["reviews"] = store.count(T.reviews)
    return out
