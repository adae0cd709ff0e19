"""Rows of any table or view, written as CSV, JSON or JSON lines."""

from __future__ import annotations

import csv
import json
from collections.abc import Iterable, Iterator
from typing import IO, Any

from db.errors import DlcomputeError
from db.schema import TABLES, VIEWS, T
from db.store import Store

FORMATS = ("csv", "jsonl", "json")
# The names users export most; every table and view is accepted.
MAIN_EXPORTS = (T.papers, T.facts, T.flags, T.reviews, T.observations)


def exportable() -> list[str]:
    return sorted(set(TABLES) | set(VIEWS))


def iter_rows(store: Store, name: str) -> Iterator[dict[str, Any]]:
    if name not in exportable():
        raise DlcomputeError(
            f'No table or view "{name}" to export; choose one of: {", ".join(exportable())}'
        )
    pk = TABLES.get(name, {}).get("pk")
    order = ", ".join(pk) if isinstance(pk, tuple) else (pk or "rowid")
    if name in VIEWS:
        order = "1"
    yield from store.db.query(f"select * from [{name}] order by {order}")


def columns(store: Store, name: str) -> list[str]:
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
