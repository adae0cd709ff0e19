"""The review queue and ``status`` use indexes, never a scan of a whole table.

Each test records the SQL the real functions run (SQLite's trace callback) on a
curated store and asks SQLite for its plan: a line ``SCAN <table>`` without an
index is a full scan, which grows with the store; so is sorting the whole queue.
"""

from __future__ import annotations

import re

from test_curate_flags import result
from test_curate_support import add_fact, add_hardware, add_paper

from curate import curate
from curate.review.queue import (
    Filters,
    filter_options,
    lease_next,
    progress_counts,
    queue_flags,
)
from db.schema import T
from db.status import store_status


def _store(store):
    add_hardware(store)
    for i in range(30):
        aid = f"1701.{i:05d}"
        ex = add_paper(store, aid, 2017, 1)
        result(store, ex, aid, model=f"Net{i}", bench="imagenet" if i % 2 else "coco",
               metric="top1_accuracy" if i % 2 else "box_ap")
        add_fact(store, ex, aid, "hardware", hardware_name="V100", hardware="V100")
    curate(store)
    assert store.count("flags") > 30


def _statements(store, run) -> list[str]:
    seen: list[str] = []
    store.db.conn.set_trace_callback(seen.append)
    try:
        run()
    finally:
        store.db.conn.set_trace_callback(None)
    return [s for s in seen if re.match(r"\s*(select|update|with)\b", s, re.I)]


def _plans(store, statements: list[str]) -> list[tuple[str, list[str]]]:
    return [(s, [r[3] for r in store.db.execute("explain query plan " + s).fetchall()])
            for s in statements]


def _scans(plans) -> list[str]:
    """Full scans of a table (by name or alias); not of sqlite-utils' schema lookups or of
    the one-row-per-value CTE ``v`` of ``distinct_values``, nor of the hardware catalog (a
    fixed list of chips, read whole to resolve names; it does not grow with the store)."""
    return [f"{line}  <-  {sql[:200]}" for sql, lines in plans for line in lines
            if re.fullmatch(r"SCAN \w+", line)
            and line not in ("SCAN v", "SCAN sqlite_master", "SCAN hardware")]


def test_queue_queries_use_indexes(store):
    _store(store)
    filters = [Filters(), Filters(benchmark="imagenet"), Filters(kind="missing"),
               Filters(field="training_time"), Filters(benchmark="coco", kind="missing")]

    def page():
        for f in filters:
            queue_flags(store, f)
            progress_counts(store, f)
            lease_next(store, "alice", f)
        filter_options(store)

    plans = _plans(store, _statements(store, page))
    assert len(plans) >= 3 * len(filters)
    assert _scans(plans) == []
    # the list comes in index order: no sort of every open flag
    for sql, lines in plans:
        if "order by f.priority desc" in sql:
            assert not any("TEMP B-TREE FOR" in line and "ORDER BY" in line for line in lines), (
                sql, lines)


def test_status_queries_use_indexes(store):
    _store(store)
    plans = _plans(store, _statements(store, lambda: store_status(store)))
    assert len(plans) >= 10
    assert _scans(plans) == []


def test_an_incremental_curate_reads_only_its_papers(store):
    """After one paper changes, curate reads and writes that paper's rows by index; the
    only whole-table reads are the store-wide fit's pairs and the hardware catalog."""
    _store(store)
    store.db.execute(f"update {T.facts} set confidence = 0.95 where arxiv_id = '1701.00003'")
    plans = _plans(store, _statements(store, lambda: curate(store)))
    assert len(plans) >= 10
    # any SCAN, of the table or of a whole index, reads every row; the run's summary
    # counts (count(*) on an index, the few rows of flag_counts) are the exception
    allowed = ("SCAN curate_pairs", "SCAN meta", "SCAN dlcompute_meta", "SCAN hardware",
               "SCAN v", "SCAN sqlite_master", "SCAN CONSTANT ROW", "SCAN flag_counts")
    scans = [f"{line}  <-  {sql[:160]}" for sql, lines in plans for line in lines
             if line.startswith("SCAN ") and not line.startswith(allowed)
             and not sql.lstrip().lower().startswith("select count(*)")]
    assert scans == [], "\n".join(scans)
