"""What each page of the review app shows, built from the store (no Flask here).

Blind double review: while a doubly reviewed flag is unsettled, an annotator sees
only their own decisions on it (on its page and in the audit); an adjudicator sees
both sides of a disagreement.
"""

from __future__ import annotations

import logging
import re
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from curate.choose import candidate_record
from curate.decisions import (
    FlagReviews,
    chip_names,
    flag_candidates,
    json_dict,
    replay_flags,
    sources_of,
)
from curate.humanize import human
from curate.review.evidence import (
    affected_observations,
    closest_facts,
    column_of,
    extraction_summary,
    listed_result_pages,
    listing_digest,
    observation_keys,
    pdf_path,
)
from curate.review.queue import (
    Filters,
    Policy,
    ReviewError,
    filter_options,
    lease_holder,
    progress_counts,
    queue_flags,
)
from curate.review.render import find_pages, pdf_title, value_strings
from curate.values import DECISION_ACTIONS, RESULT_PREFIX
from db import Store
from db.schema import T
from db.store import utcnow

log = logging.getLogger(__name__)

# Candidates closer than this in confidence are a tie: none is chosen in advance, so
# Enter cannot record a value nobody looked at.
PRESELECT_MARGIN = 0.1
STATE_WORDS = {"open": "", "second": "awaiting a second annotator",
               "disputed": "annotators disagree: awaiting adjudication", "settled": "settled"}


def replayed(store: Store, flag_id: int) -> FlagReviews | None:
    return replay_flags(store, [flag_id]).get(flag_id)


def was_adjudication(store: Store, flag_id: int) -> bool:
    """True when the latest review on the flag was an adjudicator's."""
    rows = list(store.db.query(f"select role from {T.reviews} where flag_id = ? "
                               f"order by id desc limit 1", [flag_id]))
    return bool(rows) and rows[0]["role"] == "adjudicator"


def record_of(fact: dict) -> dict:
    return candidate_record(fact["field"] or "", fact)


def needles(c: dict) -> list[str]:
    """Strings to look for on the page: as stated, the chip's name, the value."""
    stated = (c.get("stated") or "").split(" ")[0]
    extra = tuple(x for x in (stated, c.get("hardware_name")) if x)
    return value_strings(None, extra) or value_strings(c.get("value"))


def highlight(evidence: str | None, needles_: list[str]) -> tuple[str, str, str]:
    """(before, value, after) of the evidence sentence; the template escapes each part."""
    text = evidence or ""
    for n in needles_:
        m = re.search(r"(?<![\d.])" + re.escape(n) + r"(?![\d])", text, re.IGNORECASE)
        if m:
            return text[:m.start()], text[m.start():m.end()], text[m.end():]
    return text, "", ""


def _shown(c: dict, kind: str | None) -> dict:
    before, hit, after = highlight(c.get("evidence"), needles(c))
    return {**c, "before": before, "hit": hit, "after": after,
            "shown": human(c.get("value"), kind)}


def candidates(flag: dict) -> list[dict]:
    """The flag's candidates as shown: a choice naming the fact (or PwC row), not a position."""
    out = []
    for i, c in enumerate(flag_candidates(flag)):
        choice = f"fact:{c['fact_id']}" if c.get("fact_id") else \
            f"pwc:{c['pwc_id']}" if c.get("pwc_id") else None
        if choice is None:
            continue
        out.append({**_shown(c, _kind(flag["field"], c.get("unit"))), "n": i + 1,
                    "choice": choice,
                    "has_page": bool(c.get("fact_id") and c.get("page"))})
    for n, c in enumerate(out, 1):
        c["n"] = n
    return out


def preselected(cands: list[dict]) -> str | None:
    """The candidate chosen in advance: only one that clearly leads on confidence."""
    if len(cands) < 2:
        return None
    conf = sorted(((c.get("confidence") or 0.0, c["choice"]) for c in cands), reverse=True)
    return conf[0][1] if conf[0][0] - conf[1][0] > PRESELECT_MARGIN else None


def paper_info(store: Store, flag: dict, data_dir: Path, titles: dict) -> dict:
    """Title (the PDF's first page when the metadata has none), date, local PDF."""
    rows = list(store.db.query(f"select arxiv_id, title, year, month from {T.papers} "
                               f"where arxiv_id = ?", [flag["arxiv_id"]]))
    paper = dict(rows[0]) if rows else {"arxiv_id": flag["arxiv_id"], "year": None,
                                         "month": None, "title": None}
    pdf = pdf_path(store, flag["arxiv_id"], data_dir)
    title = (paper.get("title") or "").strip()
    paper["title_from_pdf"] = False
    if not title or title.lower() == "none":
        key = str(pdf)
        if pdf is not None and key not in titles:
            try:
                titles[key] = pdf_title(pdf)
            except (OSError, ValueError, RuntimeError) as e:  # a damaged PDF (PdfiumError): show the id alone
                log.warning("no title from %s: %s", pdf, e)
                titles[key] = None
        title = titles.get(key) or ""
        paper["title_from_pdf"] = bool(title)
    paper["title"] = title or None
    paper["has_pdf"] = pdf is not None
    paper["pdf"] = pdf
    return paper


def observations_listing(store: Store, flag: dict) -> tuple[list[dict], str]:
    """The observations an answer changes (with their current value) and the digest."""
    rows = affected_observations(store, flag)
    col = column_of(flag["field"])
    shown = [{"model": o["model"] or "(no model named)", "benchmark": o["benchmark"],
              "metric": o["metric"], "current": human(o.get(col), col) or "empty",
              "source": sources_of(o).get(col, "")} for o in rows]
    return shown, listing_digest(observation_keys(rows))


def _kind(fld: str, unit: str | None) -> str:
    """How to show a value of ``fld`` whose normalised unit is ``unit``."""
    if fld == "compute_per_pass":
        return "flops"  # candidates count a multiply-add as 2 FLOPs already
    if fld == "training_time" or fld.startswith(RESULT_PREFIX) or fld == "result":
        return unit or fld
    return fld


def _review_view(r: dict, fld: str, invalid: dict[int, str]) -> dict:
    """A review row with its value as a person reads it."""
    value, unit = r["value"], (r["unit"] or "").strip()
    if r["action"] == "not_reported":
        shown = "not reported"
    elif fld == "hardware":
        shown = unit + (f" × {human(value, 'chips')}" if value is not None else "")
    elif r["action"] == "correct":
        shown = f"{human(value, None)} {unit}".strip()  # as the annotator typed it
    else:
        shown = human(value, _kind(fld, unit))
    return {**r, "shown": shown, "invalid": invalid.get(r["id"])}


def flag_page(store: Store, flag: dict, annotator: str, policy: Policy, data_dir: Path,
              titles: dict, revise: int | None = None) -> dict[str, Any]:
    """Everything flag.html shows."""
    fr = replayed(store, flag["id"])
    state = fr.state if fr is not None else "open"
    holder = lease_holder(flag)
    adjudicating = state == "disputed" and policy.may_adjudicate(annotator, fr)
    blind = bool(flag["double_review"]) and state != "settled" and not adjudicating
    invalid = fr.invalid if fr is not None else {}
    history = [_review_view(r, flag["field"], invalid) for r in store.db.query(
        f"select * from {T.reviews} where flag_id = ? order by id", [flag["id"]])]
    hidden = [r for r in history if blind and r["annotator"] != annotator]
    history = [r for r in history if r not in hidden]
    in_force = fr.decision if fr is not None else None
    decisions = fr.decisions if fr is not None else []
    revisable = {r["id"] for r in decisions if policy.may_revise(annotator, r)}
    if revise is not None and revise not in revisable:
        revise = None
    cands = candidates(flag)
    obs, digest = observations_listing(store, flag)
    paper = paper_info(store, flag, data_dir, titles)
    look = flag["kind"] == "missing" or not cands
    nearby = [{"why": n.why, **_shown(n.record, _kind(n.fact["field"], n.record.get("unit"))),
               "fact": n.fact}
              for n in closest_facts(store, flag)] if look else []
    model_pages: list[int] = []
    if look and paper["pdf"] is not None and flag.get("model"):
        try:
            model_pages = find_pages(paper["pdf"], flag["model"], limit=4)
        except (OSError, ValueError, RuntimeError):  # a damaged PDF: no pages to point at
            model_pages = []
    elif look and paper["pdf"] is not None and flag.get("id") is not None:
        model_pages = listed_result_pages(store, flag["id"])
    mine_decided = fr is not None and annotator in fr.deciders
    free = holder in (None, annotator)
    can_decide = revise is not None or (free and (adjudicating or (
        flag["status"] == "open" and (state == "settled" or (
            state in ("open", "second") and not mine_decided)))))
    return {
        "flag": flag, "paper": paper, "state": state, "state_words": STATE_WORDS[state],
        "holder": holder, "mine": holder == annotator, "cands": cands,
        "preselect": preselected(cands), "observations": obs, "listing": digest,
        "nearby": nearby, "model_pages": model_pages, "look": look,
        # the first page naming a model is mostly the abstract; a later one its tables
        "model_page": next((p for p in model_pages if p > 1), model_pages[0])
        if model_pages else None,
        "extraction": extraction_summary(store, flag["arxiv_id"]) if look else None,
        "history": history, "hidden": len(hidden), "invalid": invalid,
        "in_force": _review_view(in_force, flag["field"], invalid) if in_force and not blind
        else None,
        "sides": [_review_view(r, flag["field"], invalid) for r in fr.deciders.values()]
        if adjudicating and fr is not None else [],
        "adjudicating": adjudicating, "revise": revise, "revisable": revisable,
        "can_decide": can_decide, "mine_decided": mine_decided,
        "problems": {}, "message": None, "typed": {},
        "chips": sorted(set(chip_names(store).values())) if flag["field"] == "hardware" else [],
    }


def decision_args(store: Store, flag: dict, form: Mapping[str, str]) -> dict[str, Any]:
    """decide()'s keyword arguments from the posted form; ReviewError names the field."""
    action = form.get("action", "")
    out: dict[str, Any] = {"revises": _int(form.get("revises"))}
    obs = affected_observations(store, flag)
    keys = observation_keys(obs)
    if action in DECISION_ACTIONS and form.get("listing") != listing_digest(keys):
        raise ReviewError("The observations this answer changes are not the ones the page "
                          "listed (curate ran meanwhile); check the list below and answer "
                          "again", {"observations": "the list changed"})
    out["observations"] = keys
    if action == "accept":
        choice = form.get("candidate", "")
        chosen = next((c for c in candidates(flag) if c["choice"] == choice), None)
        if chosen is None:
            raise ReviewError("Choose a candidate (keys 1-9) before accepting",
                              {"candidate": "no candidate chosen" if not choice else
                               f"{choice[:30]} is not a candidate of this flag"})
        value, unit = chosen.get("value"), chosen.get("unit")
        if isinstance(value, str):  # a chip name: it goes where corrections put it
            value, unit = None, value
        out.update(fact_id=chosen.get("fact_id"), value=value, unit=unit)
    elif action == "correct":
        out.update(value=form.get("value", ""), unit=form.get("unit", ""),
                   new_chip=form.get("new_chip") == "1")
    return out


def _int(text: str | None) -> int | None:
    return int(text) if text and text.isdigit() else None


def flag_rows(store: Store, ids: list[int]) -> list[dict]:
    if not ids:
        return []
    return list(store.db.query(
        f"select f.*, p.title from {T.flags} f left join {T.papers} p on p.arxiv_id = "
        f"f.arxiv_id where f.id in ({','.join('?' * len(ids))}) order by f.priority desc, "
        f"f.id", ids))


def queue_page(store: Store, filters: Filters, annotator: str | None,
               policy: Policy) -> dict[str, Any]:
    flags = queue_flags(store, filters)
    states = replay_flags(store, [f["id"] for f in flags])
    now = utcnow()
    for f in flags:
        fr = states.get(f["id"])
        f["holder"] = lease_holder(f, now)
        f["state"] = STATE_WORDS[fr.state if fr else "open"]
    options = filter_options(store)
    return {"flags": flags, "options": options, "counts": progress_counts(store, filters),
            "overall": progress_counts(store)}


AUDIT_LIMIT = 500


def audit_page(store: Store, args: Mapping[str, str], annotator: str | None,
               policy: Policy) -> dict[str, Any]:
    """Reviews newest first, filtered by annotator, flag, action and date."""
    chosen = {k: (args.get(k) or "").strip() for k in ("annotator", "flag", "action", "since",
                                                       "until")}
    parts, params = [], []
    if chosen["annotator"]:
        parts.append("r.annotator = ?")
        params.append(chosen["annotator"])
    if chosen["flag"].isdigit():
        parts.append("r.flag_id = ?")
        params.append(int(chosen["flag"]))
    if chosen["action"]:
        parts.append("r.action = ?")
        params.append(chosen["action"])
    if re.fullmatch(r"\d{4}-\d{2}-\d{2}", chosen["since"]):
        parts.append("r.created_at >= ?")
        params.append(chosen["since"])
    if re.fullmatch(r"\d{4}-\d{2}-\d{2}", chosen["until"]):
        parts.append("r.created_at < date(?, '+1 day')")
        params.append(chosen["until"])
    where = (" where " + " and ".join(parts)) if parts else ""
    rows = list(store.db.query(
        f"select r.*, f.arxiv_id, f.field, f.kind, f.double_review from {T.reviews} r "
        f"left join {T.flags} f on f.id = r.flag_id{where} order by r.id desc "
        f"limit {AUDIT_LIMIT}", params))
    states = replay_flags(store, sorted({r["flag_id"] for r in rows if r["flag_id"]}))
    out = []
    for r in rows:
        fr = states.get(r["flag_id"])
        state = fr.state if fr else "open"
        blind = bool(r["double_review"]) and state != "settled" and not (
            state == "disputed" and policy.may_adjudicate(annotator or "", fr))
        view = _review_view(r, r["field"] or "", fr.invalid if fr else {})
        view["hidden"] = blind and r["annotator"] != annotator
        in_force = fr is not None and r["id"] in fr.in_force_ids
        view["in_force"] = in_force
        # a decision still standing on an unsettled double review is not yet in force
        view["waiting"] = STATE_WORDS[state] if in_force and state in ("second", "disputed") \
            and r["action"] in DECISION_ACTIONS else ""
        view["can_change"] = (in_force and r["action"] in DECISION_ACTIONS
                              and policy.may_revise(annotator or "", r))
        view["can_undo"] = in_force and r["action"] != "undo" and policy.may_revise(
            annotator or "", r)
        out.append(view)
    options = {
        "annotator": [x["annotator"] for x in store.db.query(
            f"select distinct annotator from {T.reviews} where annotator is not null "
            f"order by annotator")],
        "action": [x["action"] for x in store.db.query(
            f"select distinct action from {T.reviews} order by action")],
    }
    return {"reviews": out, "chosen": chosen, "options": options, "limit": AUDIT_LIMIT,
            "new_chips": new_chips(store)}


def new_chips(store: Store) -> dict[str, int]:
    """Chips annotators recorded as new (not in the catalog): name -> reviews naming it."""
    known = chip_names(store)
    out: dict[str, int] = {}
    for r in store.db.query(
            f"select r.unit, r.after from {T.reviews} r join {T.flags} f on f.id = r.flag_id "
            f"where f.field = 'hardware' and r.action in ('accept', 'correct') "
            f"and r.unit is not null"):
        name = str(r["unit"]).strip()
        if name.lower() not in known and json_dict(r["after"]).get("new_chip"):
            out[name] = out.get(name, 0) + 1
    return dict(sorted(out.items()))

