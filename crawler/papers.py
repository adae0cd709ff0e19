"""Writing papers, the queries that found them, and crawl runs to the store."""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any

from db import Store, T, utcnow

# columns a later sighting may change; first_seen and source stay as first written
_PAPER_FIELDS = ("version", "title", "abstract", "authors", "categories", "primary_category",
                 "published", "updated", "doi", "journal_ref", "comment", "pdf_url",
                 "year", "month")


@dataclass
class PaperRecord:
    """A paper as any source (API, OAI-PMH, metadata snapshot, file name) describes it."""

    arxiv_id: str
    year: int
    month: int
    version: int | None = None
    title: str | None = None
    abstract: str | None = None
    authors: list[str] | None = None
    categories: list[str] | None = None
    primary_category: str | None = None
    published: str | None = None
    updated: str | None = None
    doi: str | None = None
    journal_ref: str | None = None
    comment: str | None = None
    pdf_url: str | None = None

    def row(self) -> dict[str, Any]:
        row = {k: getattr(self, k) for k in _PAPER_FIELDS}
        row["authors"] = json.dumps(self.authors, ensure_ascii=False) \
            if self.authors is not None else None
        row["categories"] = json.dumps(self.categories) if self.categories is not None else None
        return row


def upsert_paper(store: Store, rec: PaperRecord, source: str, now: str | None = None) -> str:
    """Insert or refresh one paper; returns "new", "updated" or "same".

    Call inside ``store.transaction()``. Values the record does not know
    (None) keep what the store has; a lower version never replaces a higher.
    """
    now = now or utcnow()
    old = list(store.db.query(f"select * from {T.papers} where arxiv_id = ?", [rec.arxiv_id]))
    row = rec.row()
    if not old:
        store.db[T.papers].insert({"arxiv_id": rec.arxiv_id, **row, "source": source,
                                   "first_seen": now, "last_seen": now})
        return "new"
    old_row = old[0]
    if old_row["version"] and rec.version and rec.version < old_row["version"]:
        # an older version (e.g. from a stale mirror) must not roll the paper back
        changes: dict[str, Any] = {}
    else:
        changes = {k: v for k, v in row.items() if v is not None and old_row[k] != v}
    store.db[T.papers].update(rec.arxiv_id, {**changes, "last_seen": now})
    return "updated" if changes else "same"


def link_query(store: Store, arxiv_id: str, query: str, via: str,
               now: str | None = None) -> bool:
    """Record that ``query`` found the paper; True when the link is new."""
    now = now or utcnow()
    cur = store.db.execute(
        f"update {T.paper_queries} set last_seen = ? where arxiv_id = ? and query = ?",
        [now, arxiv_id, query])
    if cur.rowcount:
        return False
    store.db[T.paper_queries].insert({"arxiv_id": arxiv_id, "query": query, "via": via,
                                      "first_seen": now, "last_seen": now})
    return True


def start_run(store: Store, kind: str, benchmark: str | None, window_start: str | None,
              window_end: str | None) -> int:
    with store.transaction():
        return store.db[T.crawl_runs].insert({
            "kind": kind, "benchmark": benchmark, "window_start": window_start,
            "window_end": window_end, "started_at": utcnow(), "requests": 0, "seen": 0,
            "new": 0, "updated": 0, "pdfs_fetched": 0, "pdfs_failed": 0,
            "status": "running"}).last_pk


def update_run(store: Store, run_id: int, **values: Any) -> None:
    """Progress of a run; committed so a killed crawl still shows what it did."""
    with store.transaction():
        store.db[T.crawl_runs].update(run_id, values)


def finish_run(store: Store, run_id: int, status: str, error: str | None = None,
               **values: Any) -> None:
    update_run(store, run_id, status=status, error=error, finished_at=utcnow(), **values)


def mark_interrupted_runs(store: Store) -> int:
    """Runs left 'running' by a process that died (kill -9, power loss)."""
    with store.transaction():
        cur = store.db.execute(
            f"update {T.crawl_runs} set status = 'interrupted', "
            f"error = coalesce(error, 'the crawl process ended before finishing') "
            f"where status = 'running'")
        return cur.rowcount
