"""The review queue: leases, decisions, revisions, undo and adjudication.

A flag is handed to one annotator at a time by a lease (``flags.lease_annotator`` /
``lease_expires``), taken only by an explicit action (claiming a flag, asking for the
next one, or deciding) with a single ``UPDATE ... WHERE lease free``, so two
annotators never hold the same flag; an expired lease frees the flag. Every decision
is a new ``reviews`` row (the database refuses UPDATE and DELETE on reviews), checked
against the flag's reviews in the same write transaction and keyed by a one-time form
token, so a double submit or a stale page neither loses nor repeats a decision.

What is in force is curate.decisions.replay's answer: revisions replace, undos cancel,
a doubly reviewed flag settles when its two annotators agree or an adjudicator decides.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import json
from collections.abc import Iterator
from dataclasses import dataclass

from curate.decisions import (
    DecisionError,
    FlagReviews,
    check_correction,
    chip_names,
    flag_candidates,
    replay_flags,
    stored_problem,
)
from curate.values import DECISION_ACTIONS
from db import DlcomputeError, Store
from db.schema import T
from db.store import utcnow

ACTIONS = (*DECISION_ACTIONS, "skip")


class ReviewError(DlcomputeError):
    """A decision cannot be recorded; ``problems`` names the form fields at fault."""

    def __init__(self, message: str, problems: dict[str, str] | None = None):
        super().__init__(message)
        self.problems = problems or {}

    def __reduce__(self):
        return (type(self), (str(self), self.problems))


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


@dataclass
class Policy:
    """Who may adjudicate: the names listed, or (none listed) anyone who did not decide."""

    adjudicators: frozenset[str] = frozenset()

    def may_adjudicate(self, annotator: str, fr: FlagReviews | None) -> bool:
        if fr is not None and annotator in fr.deciders:
            return False
        return not self.adjudicators or annotator in self.adjudicators

    def may_revise(self, annotator: str, review: dict) -> bool:
        return review["annotator"] == annotator or annotator in self.adjudicators


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


def get_flag(store: Store, flag_id: int) -> dict | None:
    rows = list(store.db.query(f"select * from {T.flags} where id = ?", [flag_id]))
    return rows[0] if rows else None


def lease_holder(flag: dict, now: str | None = None) -> str | None:
    """Who holds the flag's lease now (an expired lease is nobody's)."""
    if flag.get("lease_annotator") and (flag.get("lease_expires") or "") > (now or utcnow()):
        return flag["lease_annotator"]
    return None


def claim(store: Store, flag_id: int, annotator: str, minutes: float = 15.0) -> bool:
    """Take (or renew) the lease on one open flag; False when someone else holds it."""
    cur = store.db.execute(
        f"""update {T.flags} set lease_annotator = ?, lease_expires = ?
            where id = ? and status = 'open' and (lease_annotator is null
              or lease_expires is null or lease_expires <= ? or lease_annotator = ?)""",
        [annotator, _later(minutes), flag_id, utcnow(), annotator])
    return cur.rowcount == 1


def release(store: Store, flag_id: int, annotator: str) -> None:
    store.db.execute(f"update {T.flags} set lease_annotator = null, lease_expires = null "
                     f"where id = ? and lease_annotator = ?", [flag_id, annotator])


def eligible(flag: dict, fr: FlagReviews | None, annotator: str, policy: Policy,
             adjudicate: bool = False) -> bool:
    """May ``annotator`` be handed this open flag (in the review or the adjudication queue)?"""
    if flag["status"] != "open":
        return False
    state = fr.state if fr is not None else "open"
    if adjudicate:
        return state == "disputed" and policy.may_adjudicate(annotator, fr)
    if state == "disputed":
        return False
    return fr is None or annotator not in fr.deciders or state == "settled"


BATCH = 50  # flags replayed at a time while looking for the next eligible one


def lease_next(store: Store, annotator: str, filters: Filters | None = None,
               minutes: float = 15.0, *, adjudicate: bool = False,
               policy: Policy | None = None) -> dict | None:
    """The flag this annotator holds, else the best free one, leased to them.

    Best: flags this annotator skipped come last (the longest ago skipped first), then
    the highest priority. Disputed flags go only to the adjudication queue. Reviews
    are replayed only for the flags looked at, best first, so a long queue stays fast.
    """
    policy = policy or Policy()
    where, params = (filters or Filters()).sql()
    now = utcnow()
    flags = list(store.db.query(
        f"select f.id, f.status, f.priority, f.double_review, f.lease_annotator, "
        f"f.lease_expires from {T.flags} f where f.status = 'open' {where}", params))
    reviewed = {r["flag_id"] for r in store.db.query(
        f"select distinct flag_id from {T.reviews}")}
    if adjudicate:  # only a doubly reviewed flag with decisions can be disputed
        flags = [f for f in flags if f["double_review"] and f["id"] in reviewed]
    skipped = {r["flag_id"]: r["last"] for r in store.db.query(
        f"""select r.flag_id, max(r.id) as last from {T.reviews} r where r.annotator = ?
            and r.action = 'skip' and not exists (select 1 from {T.reviews} u
                                                 where u.undoes = r.id)
            group by r.flag_id""", [annotator])}

    def first_eligible(candidates: list[dict]) -> Iterator[dict]:
        for i in range(0, len(candidates), BATCH):
            batch = candidates[i:i + BATCH]
            states = replay_flags(store, [f["id"] for f in batch if f["id"] in reviewed])
            for f in batch:
                if eligible(f, states.get(f["id"]), annotator, policy, adjudicate):
                    yield f

    by_priority = sorted(flags, key=lambda f: (-(f["priority"] or 0), f["id"]))
    mine = [f for f in by_priority if lease_holder(f, now) == annotator]
    for f in first_eligible(mine):
        return get_flag(store, f["id"])
    free = sorted((f for f in flags if lease_holder(f, now) is None),
                  key=lambda f: (skipped.get(f["id"], 0), -(f["priority"] or 0), f["id"]))
    for f in first_eligible(free):
        # the UPDATE re-checks that the lease is free: two annotators racing for one
        # flag both run it, and SQLite's write lock lets only one of them win
        if claim(store, f["id"], annotator, minutes):
            return get_flag(store, f["id"])
    return None


def _snapshot(flag: dict, fr: FlagReviews | None, observations: list | None) -> dict:
    snap = {k: flag[k] for k in ("status", "resolution", "lease_annotator")}
    snap["candidates"] = flag_candidates(flag)
    snap["state"] = fr.state if fr is not None else "open"
    if observations is not None:
        snap["observations"] = [list(o) for o in observations]
    return snap


def _sync_flag(store: Store, flag_id: int, now: str, lease_to: str | None = None,
               minutes: float = 15.0) -> FlagReviews | None:
    """Set the flag's status from its replayed reviews: closed exactly when settled."""
    fr = replay_flags(store, [flag_id]).get(flag_id)
    decision = fr.decision if fr is not None else None
    change: dict = {"updated_at": now, "lease_annotator": None, "lease_expires": None}
    if decision is not None:
        change |= {"status": "closed", "resolution": f"review:{decision['id']}",
                   "closed_at": now}
    else:
        change |= {"status": "open", "resolution": None, "closed_at": None}
        if lease_to:
            change |= {"lease_annotator": lease_to, "lease_expires": _later(minutes)}
    store.db[T.flags].update(flag_id, change)
    return fr


def _by_token(store: Store, token: str) -> dict | None:
    rows = list(store.db.query(f"select id, flag_id from {T.reviews} where token = ?",
                               [token]))
    return rows[0] if rows else None


def _role(flag: dict, fr: FlagReviews | None, annotator: str, action: str,
          revises: int | None, policy: Policy) -> tuple[str | None, int | None]:
    """(role, the review replaced) of a new decision, or ReviewError saying why not."""
    fid = flag["id"]
    if action == "skip":
        return None, None
    state = fr.state if fr is not None else "open"
    if revises is not None:
        in_force = {r["id"]: r for r in (fr.decisions if fr else [])}
        target = in_force.get(revises)
        if target is None:
            raise ReviewError(f"Review {revises} is not a decision in force on flag {fid} "
                              f"(undone or replaced meanwhile); nothing recorded")
        if not policy.may_revise(annotator, target):
            raise ReviewError(f"Review {revises} is {target['annotator']}'s; only they or an "
                              f"adjudicator may change it")
        role = "adjudicator" if target["annotator"] != annotator else target.get("role")
        return role, revises
    if state == "disputed":
        if not policy.may_adjudicate(annotator, fr):
            raise ReviewError(f"Flag {fid} awaits an adjudicator (the two annotators "
                              f"disagree); nothing recorded")
        return "adjudicator", None
    if flag["status"] != "open":
        raise ReviewError(f"Flag {fid} was closed meanwhile ({flag['resolution']}); "
                          f"nothing recorded, take the next one")
    if state == "settled" and fr is not None and fr.decision is not None:
        # curate reopened a decided flag (new evidence): the new answer replaces the old
        return fr.decision.get("role"), fr.decision["id"]
    if fr is not None and annotator in fr.deciders:
        raise ReviewError(f"You already decided flag {fid}; change that decision from the "
                          f"flag's page instead")
    return "annotator", None


def decide(store: Store, flag_id: int, annotator: str, action: str, token: str, *,
           fact_id: int | None = None, value: float | str | None = None,
           unit: str | None = None, note: str | None = None, revises: int | None = None,
           observations: list[tuple[str, str, str, str]] | None = None,
           new_chip: bool = False, policy: Policy | None = None,
           minutes: float = 15.0) -> int:
    """Record a decision (or skip) on a flag; returns the review id.

    The same ``token`` twice returns the first review and changes nothing. A correction
    is checked field by field (ReviewError.problems); ``revises`` names a decision in
    force that this one replaces; ``observations`` are those the page listed as changed
    by the answer (stored in ``before``; curate applies the decision to them only).
    """
    policy = policy or Policy()
    if action not in ACTIONS:
        raise ReviewError(f"Unknown action {action!r}; use one of {', '.join(ACTIONS)}")
    with immediate(store):
        done = _by_token(store, token)
        if done:
            return done["id"]
        flag = get_flag(store, flag_id)
        if flag is None:
            raise ReviewError(f"No flag {flag_id}; it may have been removed, take the next one")
        now = utcnow()
        holder = lease_holder(flag, now)
        if holder not in (None, annotator):
            raise ReviewError(f"Flag {flag_id} is being reviewed by {holder}; nothing "
                              f"recorded, take the next one")
        fr = replay_flags(store, [flag_id]).get(flag_id)
        role, revises = _role(flag, fr, annotator, action, revises, policy)
        chips = chip_names(store)
        if action == "correct":
            try:
                checked = check_correction(flag["field"], value, unit, chips, new_chip=new_chip)
            except DecisionError as e:
                raise ReviewError(str(e), e.problems) from e
            value, unit, new_chip = checked.value, checked.unit, checked.new_chip
        if fact_id is not None and fact_id not in {
                c.get("fact_id") for c in flag_candidates(flag)}:
            raise ReviewError(f"Fact {fact_id} is not a candidate of flag {flag_id}; choose "
                              f"one the page shows", {"candidate": "not a candidate"})
        row = {"flag_id": flag_id, "annotator": annotator, "created_at": now,
               "action": action, "value": value, "unit": unit, "fact_id": fact_id,
               "note": note, "token": token, "role": role, "undoes": revises}
        if action in DECISION_ACTIONS:
            problem = stored_problem(flag["field"], {**row, "id": 0, "after": json.dumps(
                {"new_chip": new_chip})}, _facts_of(store, fact_id), chips)
            if problem:
                raise ReviewError(problem[0].upper() + problem[1:], {"candidate": problem})
        after = {"action": action, "value": value, "unit": unit, "fact_id": fact_id,
                 "token": token, "role": role, "revises": revises, "new_chip": new_chip}
        rid = store.db[T.reviews].insert({
            **row, "before": json.dumps(_snapshot(flag, fr, observations), allow_nan=False),
            "after": json.dumps(after, allow_nan=False)}).last_pk
        if action == "skip":
            store.db[T.flags].update(flag_id, {"lease_annotator": None, "lease_expires": None,
                                               "updated_at": now})
        else:
            _sync_flag(store, flag_id, now)
        return rid


def _facts_of(store: Store, fact_id: int | None) -> dict[int, dict]:
    if fact_id is None:
        return {}
    return {f["id"]: f for f in store.db.query(f"select * from {T.facts} where id = ?",
                                              [fact_id])}


def undo(store: Store, annotator: str, token: str, review_id: int | None = None,
         minutes: float = 15.0, policy: Policy | None = None) -> int | None:
    """Undo one review in force (``review_id``, or this annotator's latest); its flag id.

    Any past decision may be undone, not only the latest; the flag is open again (and
    leased to the annotator) unless another decision settles it.
    """
    policy = policy or Policy()
    with immediate(store):
        done = _by_token(store, token)
        if done:
            return done["flag_id"]
        if review_id is not None:
            rows = list(store.db.query(f"select * from {T.reviews} where id = ?", [review_id]))
            if not rows:
                raise ReviewError(f"No review {review_id}")
            candidates = rows
        else:
            candidates = list(store.db.query(
                f"select * from {T.reviews} where annotator = ? and action != 'undo' "
                f"order by id desc limit 200", [annotator]))
        target = None
        for r in candidates:
            fr = replay_flags(store, [r["flag_id"]]).get(r["flag_id"])
            if fr is not None and r["id"] in fr.in_force_ids:
                target = r
                break
            if review_id is not None:
                raise ReviewError(f"Review {review_id} is no longer in force (undone, replaced "
                                  f"or unusable); nothing to undo")
        if target is None:
            return None
        if not policy.may_revise(annotator, target):
            raise ReviewError(f"Review {target['id']} is {target['annotator']}'s; only they or "
                              f"an adjudicator may undo it")
        flag = get_flag(store, target["flag_id"])
        now = utcnow()
        store.db[T.reviews].insert({
            "flag_id": flag["id"], "annotator": annotator, "created_at": now,
            "action": "undo", "undoes": target["id"], "token": token,
            "before": json.dumps(_snapshot(flag, fr, None), allow_nan=False),
            "after": json.dumps({"token": token}),
            "note": f"undo review {target['id']} ({target['action']})"})
        _sync_flag(store, flag["id"], now, lease_to=annotator, minutes=minutes)
        return flag["id"]


def undo_last(store: Store, annotator: str, token: str, minutes: float = 15.0) -> int | None:
    """Undo this annotator's latest review still in force; returns its flag id, or None."""
    return undo(store, annotator, token, None, minutes)


def progress_counts(store: Store, filters: Filters | None = None) -> dict:
    where, params = (filters or Filters()).sql()
    rows = list(store.db.query(
        f"select f.status, f.kind, count(*) as n from {T.flags} f where 1=1 {where} "
        f"group by f.status, f.kind", params))
    out = {"open": 0, "closed": 0, "by_kind": {}}
    for r in rows:
        out[r["status"]] = out.get(r["status"], 0) + r["n"]
        if r["status"] == "open":
            out["by_kind"][r["kind"]] = r["n"]
    out["total"] = out["open"] + out["closed"]
    out["reviews"] = store.count(T.reviews)
    return out


def disputed(store: Store) -> list[int]:
    """Open flags whose two annotators disagree and no adjudicator has decided."""
    ids = [r["id"] for r in store.db.query(
        f"select id from {T.flags} where status = 'open' and double_review = 1")]
    return sorted(fid for fid, fr in replay_flags(store, ids).items() if fr.state == "disputed")
