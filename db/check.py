"""``dlcompute check``: is the store sound, and does the PDF cache match it?

:func:`check_store` looks at a store file without changing it (unless asked to
repair) and returns a :class:`CheckReport`, one :class:`Problem` per kind of
fault found, each with what to do about it:

- SQLite's own ``integrity_check`` (``quick_check`` with ``quick``): torn or
  overwritten pages, broken indexes; and which tables can no longer be read;
- the PDF cache: each downloaded PDF's file exists, and its SHA-256 is the one
  in ``pdfs`` (with ``quick``: its size only);
- facts whose extraction or paper is gone;
- observations whose ``sources`` name facts that are gone.

A store too damaged to open is a problem too, not an exception.
"""

from __future__ import annotations

import hashlib
import logging
import os
import sqlite3
from collections.abc import Callable
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

from db.schema import T
from db.store import Store, StoreError, open_store

log = logging.getLogger(__name__)

# Problems that mean the file itself is damaged (the store's counts cannot be trusted).
DAMAGE = ("unreadable", "integrity", "damaged_table")
# Lines of SQLite's integrity report kept in a problem's details.
MAX_DETAILS = 10


@dataclass
class Problem:
    """One kind of fault: what is wrong, how many rows or files, and the fix."""

    kind: str  # unreadable | integrity | damaged_table | pdf_missing | pdf_changed |
    #            orphan_facts | observation_sources
    what: str
    fix: str
    count: int = 1
    details: list[str] = field(default_factory=list)


@dataclass
class CheckReport:
    store: str
    problems: list[Problem] = field(default_factory=list)
    checked: dict[str, int] = field(default_factory=dict)  # what was looked at, counts
    repaired: dict[str, int] = field(default_factory=dict)

    @property
    def ok(self) -> bool:
        return not self.problems

    def as_dict(self) -> dict[str, Any]:
        return {**asdict(self), "ok": self.ok}

    def lines(self) -> list[str]:
        """The report as text: a line per problem and its fix, then what was checked."""
        out = [f"Store {self.store}: " + ("no problems found" if self.ok else
                                          f"{len(self.problems)} problem(s)")]
        for p in self.problems:
            out.append(f"- {p.what}")
            out += [f"    {d}" for d in p.details]
            out.append(f"  fix: {p.fix}")
        for what, n in self.repaired.items():
            out.append(f"repaired: {n} {what}")
        if self.checked:
            out.append("checked: " + ", ".join(f"{k} {v}" for k, v in self.checked.items()))
        return out


def _recover_hint(path: Path) -> str:
    return (f"restore {path} from a backup, or copy what is readable into a new store "
            f"with the sqlite3 tool: sqlite3 {path} .recover | sqlite3 RECOVERED.db, then "
            f"use --db RECOVERED.db")


def check_store(path: str | os.PathLike, data_dir: str | os.PathLike | None = None, *,
                quick: bool = False, repair: bool = False) -> CheckReport:
    """Check the store at ``path`` (and the PDF cache under ``data_dir``, when given).

    ``quick``: SQLite's quick_check instead of integrity_check, and PDF sizes
    instead of hashes. ``repair``: delete facts whose extraction or paper is gone.
    """
    path = Path(path)
    if not path.is_file():
        raise StoreError(f"No store at {path}; check the --db path (dlcompute check never "
                         f"creates one)", path)
    report = CheckReport(str(path))
    try:
        store = open_store(path, migrate=False)
    except StoreError as e:
        report.problems.append(Problem("unreadable", f"the store cannot be opened: {e}",
                                       _recover_hint(path)))
        return report
    with store:
        if not _integrity(store, report, quick):
            return report  # other checks would stop on the same damaged pages
        for step in (_orphan_facts, _observation_sources):
            _guarded(step, store, report, repair)
        if data_dir is not None:
            _guarded(_pdf_cache, store, report, Path(data_dir), quick)
    return report


def _guarded(step: Callable[..., None], store: Store, report: CheckReport, *args: Any) -> None:
    try:
        step(store, report, *args)
    except sqlite3.DatabaseError as e:
        report.problems.append(Problem(
            "integrity", f"{step.__name__.strip('_').replace('_', ' ')} could not be "
            f"checked: {e}", _recover_hint(store.path)))


def _integrity(store: Store, report: CheckReport, quick: bool) -> bool:
    pragma = "quick_check" if quick else "integrity_check"
    try:
        rows = [r[0] for r in store.db.execute(f"pragma {pragma}(100)").fetchall()]
    except sqlite3.DatabaseError as e:
        rows = [str(e)]
    report.checked["pages"] = store.db.execute("pragma page_count").fetchone()[0]
    if rows == ["ok"]:
        return True
    report.problems.append(Problem(
        "integrity", f"SQLite's {pragma} found the file damaged ({len(rows)} fault(s))",
        _recover_hint(store.path), count=len(rows), details=rows[:MAX_DETAILS]))
    damaged = _damaged_tables(store)
    if damaged:
        report.problems.append(Problem(
            "damaged_table", f"tables that can no longer be read in full: "
            f"{', '.join(damaged)}", _recover_hint(store.path), count=len(damaged)))
    return False


def _damaged_tables(store: Store) -> list[str]:
    """Tables a full read of fails on (every row and index entry of each is read)."""
    damaged = []
    try:
        names = [r[0] for r in store.db.execute(
            "select name from sqlite_master where type = 'table'").fetchall()]
    except sqlite3.DatabaseError:
        return ["sqlite_master (the schema)"]
    for name in names:
        try:
            for _ in store.db.execute(f"select * from [{name}]"):
                pass
        except sqlite3.DatabaseError:
            damaged.append(name)
    return damaged


def _orphan_facts(store: Store, report: CheckReport, repair: bool) -> None:
    where = (f"extraction_id is null or extraction_id not in (select id from {T.extractions})"
             f" or arxiv_id not in (select arxiv_id from {T.papers})")
    report.checked["facts"] = store.count(T.facts)
    rows = list(store.db.query(
        f"select arxiv_id, count(*) as n from {T.facts} where {where} group by arxiv_id "
        f"order by arxiv_id"))
    if not rows:
        return
    n = sum(r["n"] for r in rows)
    if repair:
        with store.transaction() as db:
            db.execute(f"delete from {T.facts} where {where}")
        report.repaired["orphan facts deleted"] = n
        return
    report.problems.append(Problem(
        "orphan_facts", f"{n} facts whose extraction or paper is gone "
        f"({len(rows)} papers)", f"delete them with: dlcompute check --repair --db "
        f"{store.path}; then dlcompute extract --paper ID for those papers still in the store",
        count=n, details=[f"{r['arxiv_id']}: {r['n']} facts" for r in rows[:MAX_DETAILS]]))


def _observation_sources(store: Store, report: CheckReport, _repair: bool) -> None:
    report.checked["observations"] = store.count(T.observations)
    rows = list(store.db.query(
        f"select o.id, o.arxiv_id, j.key as col, j.value as source "
        f"from {T.observations} o, json_each(o.sources) j "
        f"where json_valid(o.sources) and j.value like 'fact:%' "
        f"and cast(substr(j.value, 6) as integer) not in (select id from {T.facts}) "
        f"order by o.id"))
    if not rows:
        return
    n_obs = len({r["id"] for r in rows})
    report.problems.append(Problem(
        "observation_sources", f"{n_obs} observations take values from facts that are gone",
        f"rebuild the observations from the facts: dlcompute curate --db {store.path}",
        count=n_obs, details=[f"observation {r['id']} ({r['arxiv_id']}) {r['col']} <- "
                              f"{r['source']}" for r in rows[:MAX_DETAILS]]))


def _sha256(path: Path) -> str:
    h = hashlib.sha256()
    with open(path, "rb") as fh:
        for block in iter(lambda: fh.read(1 << 20), b""):
            h.update(block)
    return h.hexdigest()


def _pdf_cache(store: Store, report: CheckReport, data_dir: Path, quick: bool) -> None:
    missing, changed = [], []
    n = 0
    for r in store.db.query(f"select arxiv_id, version, sha256, path, size from {T.pdfs} "
                            f"where status = 'ok' order by arxiv_id, version"):
        n += 1
        file = Path(r["path"] or "")
        file = file if file.is_absolute() else data_dir / file
        try:
            size = file.stat().st_size
        except OSError:
            missing.append(f"{r['arxiv_id']}v{r['version']}: {file}")
            continue
        if (r["size"] is not None and size != r["size"]) or (
                not quick and r["sha256"] and _sha256(file) != r["sha256"]):
            changed.append(f"{r['arxiv_id']}v{r['version']}: {file}")
    report.checked["pdfs"] = n
    if missing:
        report.problems.append(Problem(
            "pdf_missing", f"{len(missing)} downloaded PDFs are missing from {data_dir}",
            "dlcompute crawl downloads them again (ingested PDFs: dlcompute ingest FILE "
            "again); or pass the --data-dir they are in", count=len(missing),
            details=missing[:MAX_DETAILS]))
    if changed:
        report.problems.append(Problem(
            "pdf_changed", f"{len(changed)} cached PDFs no longer match the hash (or size) "
            f"recorded when they were downloaded", "delete those files; dlcompute crawl then "
            "downloads them again (ingested PDFs: dlcompute ingest FILE again)",
            count=len(changed), details=changed[:MAX_DETAILS]))
