"""Triggers that keep curate's change marks and the flag counts (migration 0007 on).

Curate's inputs: each ``CurateInput`` names a table curate decides papers from;
``track_curate_input`` adds the triggers that mark, in curate_dirty, the papers a
write to it touches. A later input table (e.g. Epoch rows) gets its own call in
its own migration.

Flag counts: ``count_flags`` creates flag_counts and flag_benchmarks and the
triggers on flags, observations and paper_queries that keep them equal to
counting the flags the review queue's filters show.
"""

from __future__ import annotations

from dataclasses import dataclass

from sqlite_utils import Database

from db.schema import ALL_PAPERS, TABLES, T


@dataclass(frozen=True)
class CurateInput:
    """A table curate decides papers from: triggers record which papers its changes touch.

    ``paper`` is SQL giving the touched paper's arxiv_id from the row ``{row}`` (NEW or
    OLD), or ``'*'`` when a change touches every paper. ``columns``: an update counts only
    when one of these changes (any column when empty). ``events``: which writes count.
    """

    table: str
    paper: str = "{row}.arxiv_id"
    columns: tuple[str, ...] = ()
    events: tuple[str, ...] = ("insert", "update", "delete")


def track_curate_input(db: Database, source: CurateInput) -> None:
    """Triggers that mark the papers a write to ``source.table`` touches in curate_dirty.

    A later migration adding an input table (e.g. Epoch rows) calls this for it. Each
    mark takes a new ``seq`` (AUTOINCREMENT never reuses one), so curate can tell
    whether a paper changed between its read and its write.
    """

    def mark(row: str, unless: str | None = None) -> str:
        paper = source.paper.format(row=row)
        guard = f" and {paper} is not {unless.format(row='NEW')}" if unless else ""
        return (f"delete from {T.curate_dirty} where arxiv_id = {paper}{guard};\n"
                f"insert into {T.curate_dirty} (arxiv_id, input) select {paper}, "
                f"'{source.table}' where {paper} is not null{guard};")

    for event in source.events:
        when, of = "", ""
        if event == "update" and source.columns:
            of = " of " + ", ".join(f"[{c}]" for c in source.columns)
            when = " when " + " or ".join(f"OLD.[{c}] is not NEW.[{c}]" for c in source.columns)
        body = {"insert": mark("NEW"), "delete": mark("OLD"),
                "update": mark("NEW") + "\n" + mark("OLD", unless=source.paper)}[event]
        db.execute(f"create trigger if not exists curate_dirty_{source.table}_{event} "
                   f"after {event}{of} on [{source.table}] for each row{when}\n"
                   f"begin\n{body}\nend")


CURATE_INPUTS_0007 = (
    CurateInput(T.papers, columns=("year", "month")),
    CurateInput(T.extractions),
    CurateInput(T.facts),
    CurateInput(T.pwc_results),
    CurateInput(T.reviews, paper=f"(select arxiv_id from {T.flags} where id = {{row}}.flag_id)"),
    # a flag closed or reopened by hand, or deleted, is decided again like the old curate did
    CurateInput(T.flags, columns=("status",), events=("update", "delete")),
    CurateInput(T.hardware, paper=f"'{ALL_PAPERS}'", columns=tuple(
        c for c in TABLES[T.hardware]["columns"] if c != "catalog_version")),
)


# --- 0007: flag counts the review queue and status read instead of counting flags ------
#
# flag_counts(status, kind, field, benchmark, n): benchmark '' counts every flag once; a
# benchmark B counts the flags the queue's benchmark filter shows for B: those naming B,
# and those naming none (model-level) of papers that have an observation on B or were
# found by B's query (flag_benchmarks holds those papers and benchmarks).

_UPSERT = ("on conflict (status, kind, field, benchmark) do update set n = n + excluded.n")
_KEY = "coalesce({r}.status, ''), coalesce({r}.kind, ''), coalesce({r}.field, '')"


def _count_flag(r: str, sign: str) -> str:
    """Add (sign +) or remove (-) the flag row ``r`` (NEW or OLD) in flag_counts."""
    key, ins = _KEY.format(r=r), f"insert into {T.flag_counts} (status, kind, field, benchmark, n)"
    return f"""{ins} values ({key}, '', {sign}1) {_UPSERT};
{ins} select {key}, {r}.benchmark, {sign}1 where coalesce({r}.benchmark, '') != '' {_UPSERT};
{ins} select {key}, m.benchmark, {sign}1 from {T.flag_benchmarks} m
  where m.arxiv_id = {r}.arxiv_id and coalesce({r}.benchmark, '') = '' {_UPSERT};"""


def _member(a: str, b: str) -> str:
    """SQL: paper ``a`` belongs to benchmark ``b`` (as the queue's benchmark filter has it)."""
    return (f"(exists (select 1 from {T.observations} where arxiv_id = {a} and benchmark = {b})"
            f" or exists (select 1 from {T.paper_queries} where arxiv_id = {a} and query = {b}))")


def _membership(r: str, col: str, joined: bool) -> str:
    """Paper r.arxiv_id may have joined (or left) benchmark r.col: move its model-level flags."""
    a, b = f"{r}.arxiv_id", f"{r}.{col}"
    known = f"exists (select 1 from {T.flag_benchmarks} where arxiv_id = {a} and benchmark = {b})"
    change = (f"not {known} and {b} is not null and {b} != ''" if joined else
              f"{known} and not {_member(a, b)}")
    moved = (f"insert into {T.flag_counts} (status, kind, field, benchmark, n) "
             f"select {_KEY.format(r='f')}, {b}, {'' if joined else '-'}count(*) "
             f"from {T.flags} f where f.arxiv_id = {a} and coalesce(f.benchmark, '') = '' "
             f"and {change} group by 1, 2, 3 {_UPSERT};")
    if joined:
        return (f"{moved}\ninsert or ignore into {T.flag_benchmarks} (arxiv_id, benchmark) "
                f"select {a}, {b} where {b} is not null and {b} != '';")
    return (f"{moved}\ndelete from {T.flag_benchmarks} where arxiv_id = {a} and benchmark = {b} "
            f"and not {_member(a, b)};")


def count_flags(db: Database) -> None:
    db.execute(f"create table {T.flag_counts} (status text not null, kind text not null, "
               f"field text not null, benchmark text not null, n integer not null, "
               f"primary key (status, kind, field, benchmark))")
    db.execute(f"create table {T.flag_benchmarks} (arxiv_id text not null, "
               f"benchmark text not null, primary key (arxiv_id, benchmark))")
    cols = ("status", "kind", "field", "benchmark", "arxiv_id")
    changed = " or ".join(f"OLD.{c} is not NEW.{c}" for c in cols)
    triggers = {
        f"after insert on {T.flags}": _count_flag("NEW", "+"),
        f"after delete on {T.flags}": _count_flag("OLD", "-"),
        f"after update of {', '.join(cols)} on {T.flags} for each row when {changed}":
            _count_flag("OLD", "-") + "\n" + _count_flag("NEW", "+"),
    }
    for table, col in ((T.observations, "benchmark"), (T.paper_queries, "query")):
        triggers[f"after insert on {table}"] = _membership("NEW", col, joined=True)
        triggers[f"after delete on {table}"] = _membership("OLD", col, joined=False)
        triggers[f"after update of arxiv_id, {col} on {table}"] = (
            _membership("OLD", col, joined=False) + "\n" + _membership("NEW", col, joined=True))
    for when, body in triggers.items():
        event, table = when.split()[1], when.split(" on ")[1].split()[0]
        db.execute(f"create trigger flag_counts_{table}_{event} {when}\nbegin\n{body}\nend")
    # what the store already holds
    db.execute(f"insert into {T.flag_benchmarks} select arxiv_id, benchmark from "
               f"{T.observations} where benchmark != '' union select arxiv_id, query from "
               f"{T.paper_queries}")
    key = _KEY.format(r="f")
    for sql in (f"select {key}, '', count(*) from {T.flags} f where 1 group by 1, 2, 3",
                f"select {key}, f.benchmark, count(*) from {T.flags} f "
                f"where coalesce(f.benchmark, '') != '' group by 1, 2, 3, 4",
                f"select {key}, m.benchmark, count(*) from {T.flags} f join {T.flag_benchmarks} "
                f"m on m.arxiv_id = f.arxiv_id where coalesce(f.benchmark, '') = '' "
                f"group by 1, 2, 3, 4"):
        db.execute(f"insert into {T.flag_counts} (status, kind, field, benchmark, n) {sql} "
                   f"{_UPSERT}")
