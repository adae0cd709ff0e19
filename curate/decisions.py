"""Annotators' decisions: checked at the boundary, replayed into the decision in force.

Two doors lead a value into the observations: the review app (a person typing) and
the ``reviews`` table (whatever was stored, by an older app or by hand). Both go
through the same checks here, so a value the app would refuse is also skipped when
curate loads decisions, and one bad row can break neither the app nor the pipeline.

Replaying a flag's reviews (append-only, oldest first): an ``undo`` cancels the
review it names; a decision naming another review in ``undoes`` is a revision and
replaces it. A flag's decision in force is then an adjudicator's latest decision,
or for a doubly reviewed flag the two annotators' decision when they agree, or for
any other flag the latest decision.
"""

from __future__ import annotations

import json
import logging
import math
import re
from collections import defaultdict
from dataclasses import dataclass, field
from typing import Any

from curate.build import BOUNDS
from curate.choose import NOT_REPORTED, decision_value
from curate.humanize import human, significant
from curate.values import (
    DECISION_ACTIONS,
    RESULT_PREFIX,
    Decision,
    UnitError,
    compute_from_unit,
    count_from_unit,
    hours_from_unit,
    model_key,
)
from db import DlcomputeError, Store
from db.schema import T

log = logging.getLogger(__name__)

MAX_NUMBER_CHARS = 32
CHUNK = 500  # ids per "in (...)" query
# Thousands separators only in groups of three ("1,234,567"); "1,2,3" is no number.
_NUMBER = re.compile(r"[+-]?(?:(?:\d{1,3}(?:,\d{3})+|\d+)(?:\.\d+)?|\.\d+)(?:[eE][+-]?\d{1,4})?")
_TIME_UNIT = re.compile(r"(?:(?:gpu|tpu|device|chip|core)s?\s*)?"
                        r"(?:minutes?|mins?|hours?|hrs?|h|days?|weeks?|months?)")
_CHIP_COUNT_UNIT = re.compile(r"(?:chips?|gpus?|tpus?|devices?|cores?|accelerators?)?")
_RESULT_UNITS = {"", "%", "percent", "bleu", "points", "pp"}
# A chip name as catalogs write them: no markup, no control characters.
_CHIP_NAME = re.compile(r"[A-Za-z0-9][A-Za-z0-9 .+\-/()_]{0,63}")
# Device-hours may run to the longest training on the most chips curate accepts.
_DEVICE_HOURS = (BOUNDS["training_hours"][0], BOUNDS["training_hours"][1] * BOUNDS["chips"][1])


class DecisionError(DlcomputeError):
    """A decision's value or unit is unusable; ``problems`` has one message per form field."""

    def __init__(self, problems: dict[str, str]):
        super().__init__("; ".join(problems.values()))
        self.problems = problems

    def __reduce__(self):
        return (type(self), (self.problems,))


def parse_number(raw: str | None) -> float | None:
    """A typed number: 25.6, 1,234, 1.5e9, -3. None when empty; ValueError naming the fix."""
    text = (raw or "").strip()
    if not text:
        return None
    if len(text) > MAX_NUMBER_CHARS:
        raise ValueError(f"“{text[:12]}…” is {len(text)} characters long; type the number "
                         f"with a unit instead (25.6 with M, 4.1 with GFLOPs)")
    if not _NUMBER.fullmatch(text) or not re.search(r"\d", text):
        if "," in text:
            raise ValueError(f"“{text}” is not a number: commas may only separate thousands "
                             f"(1,234); use a point for decimals (2.5)")
        raise ValueError(f"“{text}” is not a number; type digits like 25.6 and put the unit "
                         f"in the unit box")
    value = float(text.replace(",", ""))
    if not math.isfinite(value):
        raise ValueError(f"{text} is too large to be a number of anything; check the exponent")
    return value


def chip_names(store: Store) -> dict[str, str]:
    """Lower-case chip name or alias -> the catalog's chip name (the store's hardware table)."""
    out: dict[str, str] = {}
    for h in store.db.query(f"select chip, aliases from {T.hardware}"):
        out[h["chip"].lower()] = h["chip"]
        try:
            aliases = json.loads(h["aliases"] or "[]")
        except json.JSONDecodeError:
            aliases = []
        for a in aliases if isinstance(aliases, list) else []:
            out.setdefault(str(a).lower(), h["chip"])
    return out


def _bounded(what: str, x: float, lo: float, hi: float, shown: str | None = None,
             whole: bool = False) -> str | None:
    shown = shown or significant(x)
    if x <= 0 and lo > 0:
        return f"{what} must be positive, not {shown}"
    if not lo <= x <= hi:
        return f"{what} {shown} is outside the physical bounds ({significant(lo)} to " \
               f"{significant(hi)}); check the number and its unit"
    if whole and not float(x).is_integer():
        return f"{what} {shown} is not a whole number"
    return None


def value_problem(fld: str, used: Any, chips: dict[str, str], *, new_chip: bool = False,
                  from_paper: bool = False) -> str | None:
    """What is wrong with the value curate would use for ``fld`` (None: nothing).

    ``used`` is what curate.choose.decision_value gives: FLOPs, a count, (hours, kind),
    a chip name, a percentage. A chip must be in the catalog unless the annotator
    said it is new, or took it from the paper's own text (``from_paper``).
    """
    if used is None:
        return f"the decision gives no value curate can use for {fld}"
    if used == NOT_REPORTED:
        return None
    if isinstance(used, str):
        name = used.strip()
        if not _CHIP_NAME.fullmatch(name):
            return f"“{name[:40]}” is not a chip name (letters, digits, spaces, . + - / ( ))"
        if name.lower() not in chips and not (new_chip or from_paper):
            return f"chip “{name}” is not in the hardware catalog"
        return None
    if isinstance(used, tuple):
        hours, kind = used
        if hours is None or not math.isfinite(hours):
            return "the training time is not a finite number"
        lo, hi = _DEVICE_HOURS if kind == "device_hours" else BOUNDS["training_hours"]
        return _bounded("training time", hours, lo, hi,
                        human(hours, "device_hours" if kind == "device_hours" else "hours"))
    try:
        x = float(used)
    except (TypeError, ValueError):
        return f"{used!r} is not a number"
    if not math.isfinite(x):
        return f"{x} is not a finite number"
    if fld.startswith(RESULT_PREFIX):
        return _bounded("a result", x, *BOUNDS["error"], f"{significant(x, 4)}")
    if fld == "compute_per_pass":
        return _bounded("compute per pass", x, *BOUNDS["compute_per_pass"], human(x, fld))
    if fld == "parameters":
        return _bounded("the parameter count", x, *BOUNDS["parameters"], human(x, fld))
    if fld in ("chip_count", "hardware"):
        return _bounded("the chip count", x, *BOUNDS["chips"], whole=True)
    return None if x > 0 else f"{fld} must be positive, not {significant(x)}"


def _unit_problem(fld: str, unit: str) -> str | None:
    """The unit box's text, checked for the field (None when curate can use it)."""
    u = unit.strip().lower()
    try:
        if fld == "compute_per_pass":
            compute_from_unit(1.0, unit or "FLOPs")
        elif fld == "parameters":
            count_from_unit(1.0, unit)
        elif fld == "training_time":
            norm = u.replace("-", " ").replace("_", " ")
            if norm and not _TIME_UNIT.fullmatch(norm):
                raise UnitError(f"Time unit “{unit}” is not known; use minutes, hours, days or "
                                f"weeks (GPU-hours, TPU-days for device time)")
            hours_from_unit(1.0, unit or "hours")
        elif fld == "chip_count":
            if not _CHIP_COUNT_UNIT.fullmatch(u):
                raise UnitError(f"Unit “{unit}” is not a chip count; leave it empty or write GPUs")
        elif fld.startswith(RESULT_PREFIX) and u not in _RESULT_UNITS:
            raise UnitError(f"Unit “{unit}” is not a score unit; leave it empty or write %")
    except UnitError as e:
        return str(e).replace(repr(unit), f"“{unit}”")
    return None


@dataclass
class Checked:
    """A correction that passed: the value and unit to store."""

    value: float | None
    unit: str | None
    new_chip: bool = False


def check_correction(fld: str, raw_value: str | float | None, raw_unit: str | None,
                     chips: dict[str, str], *, new_chip: bool = False) -> Checked:
    """Check a typed correction field by field; DecisionError lists every problem.

    For hardware the unit box holds the chip (canonicalised to the catalog's name) and
    the value box an optional chip count.
    """
    problems: dict[str, str] = {}
    value: float | None = None
    try:
        value = raw_value if isinstance(raw_value, float | int) or raw_value is None \
            else parse_number(raw_value)
    except ValueError as e:
        problems["value"] = str(e)
    if value is not None and not math.isfinite(float(value)):
        problems["value"] = f"{value} is not a finite number; type digits like 25.6"
        value = None
    unit = (raw_unit or "").strip()
    if fld == "hardware":
        if not unit:
            problems["unit"] = "Type the chip's name in the unit box (e.g. V100)"
        else:
            known = chips.get(unit.lower())
            problem = value_problem(fld, known or unit, chips, new_chip=new_chip)
            if problem:
                problems["unit"] = problem[0].upper() + problem[1:] + (
                    "; check the spelling, or tick “new chip” to record it for the catalog"
                    if "catalog" in problem else "")
            unit = known or unit
        if value is not None and "value" not in problems:
            problem = value_problem("chip_count", value, chips)
            if problem:
                problems["value"] = problem[0].upper() + problem[1:]
        if problems:
            raise DecisionError(problems)
        return Checked(value, unit, new_chip=unit.lower() not in chips)
    if value is None and "value" not in problems:
        problems["value"] = f"A correction of {fld} needs a number in the value box"
    unit_problem = _unit_problem(fld, unit)
    if unit_problem:
        problems["unit"] = unit_problem
    if value is not None and not problems:
        used = decision_value(fld, Decision(0, 0, "correct", float(value), unit, None, "", {}),
                              {})
        problem = value_problem(fld, used, chips)
        if problem:
            problems["value"] = problem[0].upper() + problem[1:]
    if problems:
        raise DecisionError(problems)
    return Checked(float(value), unit or None)


def stored_problem(fld: str, row: dict, facts_by_id: dict[int, dict],
                   chips: dict[str, str]) -> str | None:
    """Why a stored decision cannot be used (None when it can): the same rules as the app."""
    if row["action"] == "not_reported":
        return None
    after = json_dict(row.get("after"))
    d = Decision(row["id"], row["flag_id"], row["action"], row.get("value"), row.get("unit"),
                 row.get("fact_id"), row.get("annotator") or "", {})
    from_fact = d.fact_id is not None and d.fact_id in facts_by_id
    if d.value is not None and not isinstance(d.value, float | int):
        return f"value {str(d.value)[:20]!r} is not a number"
    if row["action"] == "correct" and not from_fact:
        try:
            check_correction(fld, d.value, d.unit, chips, new_chip=bool(after.get("new_chip")))
        except DecisionError as e:
            return str(e)
        return None
    try:
        used = decision_value(fld, d, facts_by_id)
    except (TypeError, ValueError, ArithmeticError) as e:
        return f"value cannot be read ({e})"
    return value_problem(fld, used, chips, new_chip=bool(after.get("new_chip")),
                         from_paper=row["action"] == "accept")


def json_dict(text: str | None) -> dict:
    """A stored JSON object; {} when the text is malformed or not an object."""
    try:
        value = json.loads(text or "{}")
    except (json.JSONDecodeError, TypeError):
        return {}
    return value if isinstance(value, dict) else {}


def flag_candidates(flag: dict) -> list[dict]:
    """A flag's candidates; a malformed stored list reads as none (the page still works)."""
    try:
        value = json.loads(flag.get("candidates") or "[]")
    except (json.JSONDecodeError, TypeError):
        log.warning("flag %s: candidates are not a JSON list", flag.get("id"))
        return []
    return [c for c in value if isinstance(c, dict)] if isinstance(value, list) else []


def sources_of(row: dict) -> dict:
    """An observation's sources (column -> fact:ID | review:ID ...); {} when malformed."""
    return json_dict(row.get("sources"))


def decision_label(fld: str, row: dict, facts_by_id: dict[int, dict]) -> str:
    """What a decision says, as a category two annotators can agree on (3 digits)."""
    if row["action"] == "not_reported":
        return "not reported"
    d = Decision(row["id"], row["flag_id"], row["action"], row.get("value"), row.get("unit"),
                 row.get("fact_id"), row.get("annotator") or "", {})
    try:
        used = decision_value(fld, d, facts_by_id)
    except (TypeError, ValueError, ArithmeticError):
        used = None
    if isinstance(used, str):
        return used.strip().lower()
    if isinstance(used, tuple):
        return f"{significant(used[0])} {used[1]}" if used[0] is not None else "none"
    if isinstance(used, float | int):
        return significant(float(used))
    return f"fact:{row.get('fact_id')}" if row.get("fact_id") else "none"


@dataclass
class FlagReviews:
    """One flag's reviews replayed: what is in force, who decided, what is unusable."""

    flag_id: int
    field: str
    double_review: bool
    decisions: list[dict] = field(default_factory=list)  # in force, usable, oldest first
    invalid: dict[int, str] = field(default_factory=dict)  # review id -> why it is skipped
    in_force_ids: set[int] = field(default_factory=set)  # every review not undone/replaced
    skipped_by: dict[str, int] = field(default_factory=dict)  # annotator -> last skip id
    labels: dict[int, str] = field(default_factory=dict)

    @property
    def adjudication(self) -> dict | None:
        rows = [r for r in self.decisions if r.get("role") == "adjudicator"]
        return rows[-1] if rows else None

    @property
    def deciders(self) -> dict[str, dict]:
        """Annotator -> their decision in force (adjudications aside)."""
        out: dict[str, dict] = {}
        for r in self.decisions:
            if r.get("role") != "adjudicator":
                out[r["annotator"] or ""] = r
        return out

    @property
    def state(self) -> str:
        """open (no decision), second (awaits a second annotator), disputed, or settled."""
        if self.adjudication is not None:
            return "settled"
        deciders = self.deciders
        if not deciders:
            return "open"
        if not self.double_review:
            return "settled"
        if len(deciders) < 2:
            return "second"
        labels = {self.labels.get(r["id"]) for r in deciders.values()}
        return "settled" if len(labels) == 1 else "disputed"

    @property
    def decision(self) -> dict | None:
        """The review whose value curate uses, or None."""
        if self.state != "settled":
            return None
        return self.adjudication or self.decisions[-1]


def replay(rows: list[dict], fld: str, double_review: bool, facts_by_id: dict[int, dict],
           chips: dict[str, str]) -> FlagReviews:
    """Replay one flag's reviews (oldest first); unusable decisions are skipped whole."""
    out = FlagReviews(rows[0]["flag_id"] if rows else 0, fld, bool(double_review))
    active: list[dict] = []
    for r in sorted(rows, key=lambda r: r["id"]):
        if r["action"] in DECISION_ACTIONS:
            problem = stored_problem(fld, r, facts_by_id, chips)
            if problem:
                out.invalid[r["id"]] = problem
                continue  # as if never written: it neither decides nor replaces
        if r.get("undoes") is not None:
            active = [a for a in active if a["id"] != r["undoes"]]
        if r["action"] != "undo":
            active.append(r)
    for r in active:
        out.in_force_ids.add(r["id"])
        if r["action"] == "skip":
            out.skipped_by[r["annotator"] or ""] = r["id"]
        elif r["action"] in DECISION_ACTIONS:
            out.decisions.append(r)
            out.labels[r["id"]] = decision_label(fld, r, facts_by_id)
    return out


def _facts(store: Store, ids: set[int]) -> dict[int, dict]:
    out: dict[int, dict] = {}
    ids_list = sorted(i for i in ids if isinstance(i, int))
    for i in range(0, len(ids_list), CHUNK):
        chunk = ids_list[i:i + CHUNK]
        for f in store.db.query(f"select * from {T.facts} where id in "
                                f"({','.join('?' * len(chunk))})", chunk):
            out[f["id"]] = f
    return out


def replay_flags(store: Store, flag_ids: list[int] | None = None) -> dict[int, FlagReviews]:
    """Flag id -> its reviews replayed, for the flags named (all reviewed flags by default)."""
    sql = (f"select r.*, f.field as flag_field, f.double_review from {T.reviews} r "
           f"join {T.flags} f on f.id = r.flag_id")
    if flag_ids is None:
        rows = list(store.db.query(sql + " order by r.id"))
    else:
        rows = []
        ids = sorted(set(flag_ids))
        for i in range(0, len(ids), CHUNK):  # SQLite caps the variables of one statement
            part = ids[i:i + CHUNK]
            rows += store.db.query(f"{sql} where r.flag_id in ({','.join('?' * len(part))})",
                                   part)
    by_flag: dict[int, list[dict]] = defaultdict(list)
    for r in sorted(rows, key=lambda r: r["id"]):
        by_flag[r["flag_id"]].append(r)
    facts = _facts(store, {r["fact_id"] for r in rows if r["fact_id"] is not None})
    chips = chip_names(store)
    return {fid: replay(rs, rs[0]["flag_field"] or "", rs[0]["double_review"], facts, chips)
            for fid, rs in by_flag.items()}


def _listed(before: dict) -> list[tuple[str, str, str, str]] | None:
    obs = before.get("observations")
    if not isinstance(obs, list):
        return None
    return [tuple(str(x or "") for x in o[:4]) for o in obs
            if isinstance(o, list | tuple) and len(o) >= 4]


def decisions_in_force(store: Store, flag_ids: list[int] | None = None) -> dict[int, Decision]:
    """flag id -> the decision curate applies, for the flags named (every reviewed flag by
    default); unusable stored decisions are skipped (logged)."""
    out: dict[int, Decision] = {}
    for fid, fr in replay_flags(store, flag_ids).items():
        for rid, problem in fr.invalid.items():
            log.warning("review %d on flag %d skipped: %s", rid, fid, problem)
        r = fr.decision
        if r is None:
            continue
        before = json_dict(r.get("before"))
        out[fid] = Decision(r["id"], fid, r["action"], r["value"], r["unit"], r["fact_id"],
                            r["annotator"] or "", before, observations=_listed(before))
    return out


def by_target(decisions: dict[int, Decision],
              flags: dict[int, dict]) -> dict[tuple[str, str, str, str], Decision]:
    """(arxiv_id, model key, benchmark, field) -> the latest of these decisions there
    (`flags`: flag id -> its arxiv_id, model, benchmark and field)."""
    out: dict[tuple[str, str, str, str], Decision] = {}
    for d in sorted(decisions.values(), key=lambda d: d.review_id):
        f = flags.get(d.flag_id)
        if f is None:
            continue
        if d.observations is None:
            out[(f["arxiv_id"], model_key(f["model"]), f["benchmark"] or "", f["field"])] = d
            continue
        for arxiv_id, model, benchmark, _metric in d.observations:
            out[(arxiv_id, model_key(model), benchmark, f["field"])] = d
    return out
