"""What the store holds, as one dictionary (``dlcompute status``)."""

from __future__ import annotations

from typing import Any

from db.schema import ALL_PAPERS, T
from db.store import Store


def _rows(store: Store, sql: str, params: list | None = None) -> list[dict]:
    return list(store.db.query(sql, params or []))


def _last(store: Store, table: str, time_col: str) -> dict | None:
    rows = _rows(store, f"select * from {table} order by {time_col} desc, id desc limit 1")
    return rows[0] if rows else None


def flag_counts(store: Store, benchmark: str | None = None, field: str | None = None,
                kind: str | None = None) -> dict[str, dict[str, int]]:
    """status -> kind -> number of flags (those the review queue's filters show).

    Read from the flag_counts table, which triggers keep: no count over the flags.
    """
    where, params = ["benchmark = ?"], [benchmark or ""]
    for col, value in (("field", field), ("kind", kind)):
        if value:
            where.append(f"{col} = ?")
            params.append(value)
    out: dict[str, dict[str, int]] = {}
    for r in _rows(store, f"select status, kind, sum(n) as n from {T.flag_counts} "
                          f"where {' and '.join(where)} group by status, kind "
                          f"having sum(n) > 0 order by status, kind", params):
        out.setdefault(r["status"], {})[r["kind"]] = r["n"]
    return out


def store_status(store: Store) -> dict[str, Any]:
    """Counts per stage, newest runs first; cheap enough for every call."""
    per_benchmark = {
        r["query"]: r["n"]
        for r in _rows(store, f"select query, count(*) as n from {T.paper_queries} "
                              f"group by query order by query")
    }
    pdfs = {r["status"]: r["n"] for r in _rows(
        store, f"select status, count(*) as n from {T.pdfs} group by status")}
    extractions = {r["status"]: r["n"] for r in _rows(
        store, f"select status, count(distinct arxiv_id) as n from {T.extractions} "
               f"group by status")}
    facts = {r["field"]: r["n"] for r in _rows(
        store, f"select field, count(*) as n from {T.facts} group by field order by field")}
    flags = flag_counts(store)
    flags_open = flags.get("open", {})
    pending = _rows(store, f"select arxiv_id from {T.curate_dirty} where arxiv_id = ?",
                    [ALL_PAPERS])
    last_crawl = _last(store, T.crawl_runs, "started_at")
    last_analysis = _last(store, T.analysis_runs, "started_at")
    return {
        "store": str(store.path),
        "papers": store.count(T.papers),
        "papers_per_benchmark": per_benchmark,
        "pdfs_downloaded": pdfs.get("ok", 0),
        "pdfs_failed": pdfs.get("failed", 0),
        "papers_extracted": _rows(
            store, f"select count(distinct arxiv_id) as n from {T.extractions} "
                   f"where status in ('ok', 'no_text')")[0]["n"],
        "extractions_by_status": extractions,
        "facts_per_field": facts,
        "flags_open": sum(flags_open.values()),
        "flags_open_by_kind": flags_open,
        "flags_closed": sum(flags.get("closed", {}).values()),
        "reviews": store.count(T.reviews),
        "observations": store.count(T.observations),
        # papers whose inputs changed since curate last decided them ("all": every paper)
        "papers_to_curate": "all" if pending else store.count(T.curate_dirty),
        "last_crawl": None if last_crawl is None else {
            k: last_crawl[k] for k in ("started_at", "finished_at", "benchmark", "status",
                                       "new", "updated", "error")},
        "last_analysis": None if last_analysis is None else {
            k: last_analysis[k] for k in ("started_at", "finished_at", "status", "out_dir",
                                          "n_observations")},
    }
