"""flag_counts, kept by triggers, equals counting the flags the queue's filters show.

The reference counts here scan the flags with the queue's benchmark rule (a flag
naming the benchmark, or a model-level flag of a paper with an observation on it
or found by its query), after each kind of write the store sees: curate opening,
closing and reopening flags, decisions and undos, crawls adding queries, direct
edits, and a store that had flags before the counts existed.
"""

from __future__ import annotations

import itertools

from sqlite_utils import Database
from test_curate_flags import flags, result
from test_curate_support import add_fact, add_hardware, add_paper

from curate import curate
from curate.provenance import delete_observation
from curate.review.queue import Filters, decide, progress_counts, undo_last
from db import open_store
from db.schema import APPLICATION_ID, T, migrations

BENCHES = (None, "imagenet", "coco", "wmt14-en-de", "cifar10")
FIELDS = (None, "compute_per_pass", "hardware", "chip_count", "result:top1_accuracy")
KINDS = (None, "missing", "conflict", "unknown_hardware", "implausible")


def scanned(store, f: Filters) -> dict:
    """What progress_counts reported before flag_counts: a count over the flags."""
    where, params = f.sql()
    out = {"open": 0, "closed": 0, "by_kind": {}}
    for r in store.db.query(f"select f.status, f.kind, count(*) as n from {T.flags} f "
                            f"where 1=1 {where} group by f.status, f.kind", params):
        out[r["status"]] += r["n"]
        if r["status"] == "open":
            out["by_kind"][r["kind"]] = r["n"]
    return out


def check(store) -> int:
    compared = 0
    for bench, fld, kind in itertools.product(BENCHES, FIELDS, KINDS):
        f = Filters(bench, fld, kind)
        got = progress_counts(store, f)
        want = scanned(store, f)
        assert {k: got[k] for k in want} == want, (f, got, want)
        compared += want["open"] + want["closed"]
    return compared


def _papers(store, first: int, n: int) -> None:
    for i in range(first, first + n):
        aid = f"1801.{i:05d}"
        ex = add_paper(store, aid, 2018, 1)
        bench, metric = (("imagenet", "top1_accuracy"), ("coco", "box_ap"),
                         ("wmt14-en-de", "bleu"))[i % 3]
        result(store, ex, aid, model=f"Net{i}", bench=bench, metric=metric)
        if i % 2:
            add_fact(store, ex, aid, "hardware", hardware_name="Quantum 9000", chip_count=4)
        if i % 4 == 0:
            for value, conf in ((25e6, 0.8), (15e6, 0.78)):
                add_fact(store, ex, aid, "parameters", model=f"Net{i}", normalized_value=value,
                         normalized_unit="count", confidence=conf)


def test_counts_follow_every_write(store):
    add_hardware(store)
    _papers(store, 0, 12)
    curate(store)
    assert check(store) > 0
    # a crawl finds papers by another benchmark's query
    for aid in ("1801.00001", "1801.00002"):
        store.db[T.queries].insert({"name": "cifar10"}, replace=True)
        store.db[T.paper_queries].insert({"arxiv_id": aid, "query": "cifar10"})
    check(store)
    # annotators decide, skip and undo
    open_flags = flags(store, status="open")
    decide(store, open_flags[0]["id"], "alice", "not_reported", "t1")
    decide(store, open_flags[1]["id"], "alice", "skip", "t2")
    decide(store, open_flags[2]["id"], "bob", "not_reported", "t3")
    check(store)
    undo_last(store, "bob", "t4")
    check(store)
    # curate again after new papers and a paper losing its results (flags close)
    _papers(store, 12, 6)
    store.db.execute(f"delete from {T.facts} where arxiv_id = '1801.00003' and field = 'result'")
    curate(store)
    assert store.count(T.flags, "status = 'closed'") > 0
    check(store)
    # direct edits: a flag's benchmark and kind, a deleted flag, a deleted query
    f = flags(store, status="open")[-1]
    store.db[T.flags].update(f["id"], {"benchmark": "coco", "kind": "conflict"})
    check(store)
    store.db[T.flags].delete(flags(store, status="closed")[-1]["id"])
    store.db.execute(f"delete from {T.paper_queries} where arxiv_id = '1801.00001'")
    check(store)
    for o in store.db.query(f"select id from {T.observations} where arxiv_id = '1801.00004'"):
        delete_observation(store.db, o["id"])  # with its sources and flag links
    check(store)


def test_store_with_flags_before_the_counts(tmp_path):
    path = tmp_path / "old.db"
    db = Database(path)
    migrations.apply(db, stop_before="0007_curate_changes")
    db.execute(f"pragma application_id = {APPLICATION_ID}")
    db[T.papers].insert({"arxiv_id": "1801.00000", "year": 2018, "month": 1})
    db[T.queries].insert({"name": "coco"})
    db[T.paper_queries].insert({"arxiv_id": "1801.00000", "query": "coco"})
    db[T.observations].insert({"arxiv_id": "1801.00000", "model": "Net", "benchmark": "imagenet",
                               "metric": "top1_accuracy", "error": 20.0})
    for i, (kind, bench, status) in enumerate((("missing", "", "open"),
                                               ("conflict", "imagenet", "open"),
                                               ("missing", "", "closed"))):
        db[T.flags].insert({"key": f"k{i}", "arxiv_id": "1801.00000", "kind": kind,
                            "field": "hardware", "benchmark": bench, "status": status})
    db.close()
    with open_store(path) as store:
        assert check(store) > 0
        assert progress_counts(store, Filters("coco"))["open"] == 1
        assert progress_counts(store, Filters("imagenet"))["open"] == 2
