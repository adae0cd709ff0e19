"""Rows of any table or view, written as CSV, JSON or JSON lines."""

from __future__ import annotations

import csv
import json
import sqlite3
from collections.abc import Iterable, Iterator
from typing import IO, Any

from db.errors import DlcomputeError

FORMATS = ("csv", "jsonl", "json")


class ExportError(DlcomputeError):
    """A --where clause or parameter the store cannot run."""


def main_exports() -> tuple[str, ...]:
    """The names users export most; every table and view is accepted."""
    from db.schema import T

    return (T.papers, T.facts, T.flags, T.reviews, T.observations)


def exportable() -> list[str]:
    from db.schema import TABLES, VIEWS

    return sorted(set(TABLES) | set(VIEWS))


def iter_rows(store: Any, name: str, *, where: str | None = None,
              params: dict[str, Any] | None = None, limit: int | None = None,
              offset: int | None = None) -> Iterator[dict[str, Any]]:
    """Rows of a table or view in key order; ``where``, ``params``, ``limit`` and
    ``offset`` as ``sqlite-utils rows`` takes them (``--where "year > :y" -p y 2018``)."""
    from db.schema import TABLES, VIEWS

    if name not in exportable():
        raise DlcomputeError(
            f'No table or view "{name}" to export; choose one of: {", ".join(exportable())}'
        )
    pk = TABLES.get(name, {}).get("pk")
    order = ", ".join(pk) if isinstance(pk, tuple) else (pk or "rowid")
    if name in VIEWS:
        order = "1"
    sql = f"select * from [{name}]" + (f" where {where}" if where else "") + f" order by {order}"
    if limit is not None or offset is not None:
        sql += f" limit {-1 if limit is None else int(limit)}"
        sql += f" offset {int(offset)}" if offset else ""
    try:
        rows = store.db.query(sql, params or {})
        first = next(rows, None)
    except sqlite3.Error as e:
        raise ExportError(f'--where "{where}" cannot run on {name}: {e}; check the column '
                          f"names (dlcompute export {name} --limit 1) and give each :name "
                          f"a --param name VALUE") from e
    if first is None:
        return
    yield first
    yield from rows


def columns(store: Any, name: str) -> list[str]:
    return [c.name for c in store.db[name].columns]


def write_rows(rows: Iterable[dict[str, Any]], fmt: str, out: IO[str],
               fieldnames: list[str] | None = None) -> int:
    """Write rows to ``out``; returns how many were written."""
    if fmt not in FORMATS:
        raise DlcomputeError(f"Unknown format {fmt!r}; choose one of: {', '.join(FORMATS)}")
    n = 0
    if fmt == "csv":
        writer = None
        for row in rows:
            if writer is None:
                writer = csv.DictWriter(out, fieldnames=fieldnames or list(row))
                writer.writeheader()
            writer.writerow(row)
            n += 1
        if writer is None and fieldnames:
            csv.DictWriter(out, fieldnames=fieldnames).writeheader()
    elif fmt == "jsonl":
        for row in rows:
            out.write(json.dumps(row, ensure_ascii=False) + "\n")
            n += 1
    else:
        out.write("[")
        for row in rows:
            out.write(("," if n else "") + "\n  " + json.dumps(row, ensure_ascii=False))
            n += 1
        out.write("\n]\n" if n else "]\n")
    return n
