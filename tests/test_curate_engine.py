"""The curate engine: change marks, batches, the store-wide fit, moved snapshots."""

from __future__ import annotations

import re
import sqlite3

import pytest
from curate_corpus import curate_both_ways
from test_curate_flags import densenet_conflict, flags, result, review
from test_curate_support import add_fact, add_hardware, add_paper, resnet_paper

import curate.build
import curate.curation
from curate import curate as run_curate
from db import open_store
from db.schema import ALL_PAPERS, T


def dirty(store) -> set[str]:
    return {r["arxiv_id"] for r in store.db.query(f"select arxiv_id from {T.curate_dirty}")}


def settle(store) -> None:
    run_curate(store)
    assert dirty(store) == set()


def test_fresh_store_marks_every_paper(store):
    assert dirty(store) == {ALL_PAPERS}


def test_each_input_marks_its_paper(store):
    add_hardware(store)
    ids = resnet_paper(store)
    ex = add_paper(store, "1608.06993", 2016, 8)
    result(store, ex, "1608.06993", model="DenseNet")
    settle(store)

    def marks(write) -> set[str]:
        write()
        got = dirty(store)
        store.db.execute(f"delete from {T.curate_dirty}")
        return got

    db = store.db
    assert marks(lambda: add_fact(store, ex, "1608.06993", "parameters",
                                  normalized_value=25.6e6)) == {"1608.06993"}
    assert marks(lambda: db[T.facts].update(ids["params"], {"confidence": 0.1})) == {
        "1512.03385"}
    assert marks(lambda: db[T.facts].delete(ids["time"])) == {"1512.03385"}
    assert marks(lambda: db[T.extractions].insert({
        "arxiv_id": "1608.06993", "pdf_sha256": "sha-v2", "extractor_version": "test-2",
        "status": "ok"})) == {"1608.06993"}
    assert marks(lambda: db[T.pwc_results].insert({
        "arxiv_id": "1512.03385", "benchmark": "imagenet", "metric": "top5_error",
        "value": 3.57, "model": "ResNet-152", "source": "t.json"})) == {"1512.03385"}
    assert marks(lambda: db[T.papers].update("1512.03385", {"month": 11})) == {"1512.03385"}
    flag = flags(store)[0]
    # a review, even one that leaves the flag open (the first of a double review)
    assert marks(lambda: db[T.reviews].insert({"flag_id": flag["id"], "action": "accept",
                                               "annotator": "a"})) == {flag["arxiv_id"]}
    assert marks(lambda: db[T.flags].update(flag["id"], {"status": "closed"})) == {
        flag["arxiv_id"]}
    assert marks(lambda: db[T.hardware].update("K80", {"fp32_base_gflops": 1.0})) == {
        ALL_PAPERS}
    # what curate does not read marks nothing: a crawl seeing a paper again, a lease, the
    # catalog's version stamp
    assert marks(lambda: db[T.papers].update("1512.03385", {"last_seen": "2026-02-01"})) == set()
    assert marks(lambda: db[T.flags].update(flag["id"], {"lease_annotator": "b"})) == set()
    assert marks(lambda: db[T.hardware].update("K80", {"catalog_version": "x"})) == set()


def test_second_run_decides_nothing_and_a_change_one_paper(store):
    add_hardware(store)
    resnet_paper(store)
    for i in range(5):
        ex = add_paper(store, f"1701.{i:05d}", 2017, 1)
        result(store, ex, f"1701.{i:05d}", model=f"Net{i}")
    first = run_curate(store)
    assert first.full and first.papers_decided == 6
    again = run_curate(store)
    assert again.papers_decided == 0 and not again.full
    ex = store.db[T.extractions].get(2)["id"]
    add_fact(store, ex, "1701.00000", "parameters", model="Net0", normalized_value=5e6)
    one = run_curate(store)
    assert one.papers_decided == 1 and one.observations_updated == 1


def _fit_store(store) -> None:
    """Ten models on FLOPs = 300 x params and one, X (1901.99999), far below."""
    for i in range(10):
        p = 10 ** (6 + i * 0.3)
        _pair_paper(store, f"1901.{i:05d}", p, 300 * p)
    _pair_paper(store, "1901.99999", 1e8, 300 * 1e8 * 10 ** -1.8)


def _pair_paper(store, aid: str, p: float, f: float) -> None:
    ex = add_paper(store, aid, 2019, 1)
    result(store, ex, aid, model="Net")
    add_fact(store, ex, aid, "parameters", normalized_value=p, normalized_unit="count")
    add_fact(store, ex, aid, "compute_per_pass", normalized_value=f, normalized_unit="flops")


def test_fit_change_decides_unchanged_papers_again(store, tmp_path):
    _fit_store(store)
    first = run_curate(store)
    assert first.fit["pairs"] == 11
    (x,) = flags(store, kind="implausible")
    assert x["arxiv_id"] == "1901.99999" and x["status"] == "open"
    # ten new models half a decade above the line widen the limit: X is no longer off
    for i in range(10):
        p = 10 ** (6.1 + i * 0.3)
        _pair_paper(store, f"2001.{i:05d}", p, 300 * p * 10 ** 0.6)
    store.close()
    summary = curate_both_ways(store.path, tmp_path)
    assert summary.fit["limit"] > first.fit["limit"]
    assert summary.papers_decided >= 11  # the ten new ones and X, whose inputs did not change
    with open_store(store.path) as s:
        assert s.db[T.flags].get(x["id"])["status"] == "closed"


def test_fit_moving_a_little_rewords_flags_without_deciding_again(store, tmp_path):
    _fit_store(store)
    run_curate(store)
    (x,) = flags(store, kind="implausible")
    # one new model a little above the line moves the fit's figures; X stays off
    _pair_paper(store, "2001.00000", 10 ** 7.5, 300 * 10 ** 7.5 * 10 ** 0.7)
    store.close()
    summary = curate_both_ways(store.path, tmp_path)
    assert summary.papers_decided == 1
    with open_store(store.path) as s:
        now = s.db[T.flags].get(x["id"])
    assert now["status"] == "open" and now["reason"] != x["reason"]
    assert f"{summary.fit['intercept']:.2f}" in now["reason"]


def test_reopened_flag_keeps_its_reason(store, tmp_path):
    ex, a = densenet_conflict(store)
    run_curate(store)
    (c,) = flags(store)
    review(store, c["id"], "accept", fact_id=a, value=25.6e6)
    add_fact(store, ex, "1608.06993", "parameters", value=40, unit="M",
             normalized_value=40e6, normalized_unit="count", confidence=0.85)
    assert run_curate(store).flags_reopened == 1
    reason = flags(store)[0]["reason"]
    assert "reopened" in reason
    store.close()
    # deciding the paper again (a full curate) changes nothing: the flag still says why
    curate_both_ways(store.path, tmp_path)
    with open_store(store.path) as s:
        assert flags(s)[0]["reason"] == reason


def test_pairs_changed_after_the_fit_refit_it(store, tmp_path, monkeypatch):
    _fit_store(store)
    run_curate(store)
    for i in range(10):
        p = 10 ** (6.1 + i * 0.3)
        _pair_paper(store, f"2001.{i:05d}", p, 300 * p)
    real = curate.curation.batch_pairs

    def pairs_then_someone_writes(inputs, options, ids):
        out = real(inputs, options, ids)
        # after the fit's pre-pass read them, another process moves the new models half a
        # decade up (which widens the limit so that X is no longer off)
        con = sqlite3.connect(store.path, timeout=30)
        con.execute(f"update {T.facts} set normalized_value = normalized_value * {10 ** 0.6} "
                    f"where field = 'compute_per_pass' and arxiv_id like '2001.%'")
        con.commit()
        con.close()
        monkeypatch.setattr(curate.curation, "batch_pairs", real)
        return out

    monkeypatch.setattr(curate.curation, "batch_pairs", pairs_then_someone_writes)
    run_curate(store)
    store.close()
    # nothing left to do, and what the flags say is what a full curate says
    assert curate_both_ways(store.path, tmp_path).papers_decided == 0
    with open_store(store.path) as s:
        assert flags(s, kind="implausible")[0]["status"] == "closed"


def test_paper_changed_between_read_and_write_is_decided_again(store, monkeypatch):
    add_hardware(store)
    resnet_paper(store)
    settle(store)
    ex = store.db[T.extractions].get(1)["id"]
    add_fact(store, ex, "1512.03385", "parameters", model="ResNet-152", value=61, unit="M",
             normalized_value=61e6, normalized_unit="count", confidence=0.75)
    real = curate.curation.decide_batch
    calls = []

    def decide_then_someone_writes(inputs, options, fit, ids):
        out = real(inputs, options, fit, ids)
        if not calls:
            # another process (its own connection) changes the paper meanwhile
            con = sqlite3.connect(store.path, timeout=30)
            con.execute(f"update {T.facts} set confidence = 0.95 where value = 61")
            con.commit()
            con.close()
        calls.append(ids)
        return out

    monkeypatch.setattr(curate.curation, "decide_batch", decide_then_someone_writes)
    summary = run_curate(store)
    assert summary.papers_redone == 1 and summary.papers_decided == 1
    assert summary.papers_pending == 0 and len(calls) == 2
    (o,) = store.db.query(f"select parameters from {T.observations}")
    assert o["parameters"] == 61e6  # the change made meanwhile is in the result


def test_malformed_paper_is_reported_kept_and_retried(store, monkeypatch):
    # pairing drops values it cannot read; what it cannot survive (a rule raising on one
    # paper's rows) is injected here, as a stand-in for a store damaged by hand
    ex = add_paper(store, "1611.05431", 2016, 11)
    result(store, ex, "1611.05431", model="ResNeXt-101", value=80.3)
    bad = add_paper(store, "1611.00000", 2016, 11)
    result(store, bad, "1611.00000", model="Bad")
    build_paper = curate.build.Builder.build_paper
    broken = {"1611.00000"}

    def fragile(self, arxiv_id):
        if arxiv_id in broken:
            raise ValueError("could not convert string to float: 'lots'")
        return build_paper(self, arxiv_id)

    monkeypatch.setattr(curate.build.Builder, "build_paper", fragile)
    s = run_curate(store)
    assert [e.split(":")[0] for e in s.errors] == ["1611.00000"]
    assert store.count(T.observations, "arxiv_id = '1611.05431'") == 1
    assert dirty(store) == {"1611.00000"}  # left for the next run
    assert run_curate(store).errors  # reported again, until fixed
    broken.clear()
    s = run_curate(store)
    assert not s.errors and store.count(T.observations, "arxiv_id = '1611.00000'") == 1


def test_double_review_sampling_incremental(store, tmp_path):
    for i in range(30):
        ex = add_paper(store, f"1701.{i:05d}", 2017, 1)
        result(store, ex, f"1701.{i:05d}")
    run_curate(store, double_review_fraction=0.5)
    sampled = sum(f["double_review"] for f in flags(store))
    assert 5 <= sampled <= 25
    # new flags opened by a run without a fraction are not sampled ...
    for i in range(30, 40):
        ex = add_paper(store, f"1701.{i:05d}", 2017, 1)
        result(store, ex, f"1701.{i:05d}")
    run_curate(store)
    # ... until a run with one, which samples them although their papers did not change
    store.close()
    summary = curate_both_ways(store.path, tmp_path, double_review_fraction=0.5)
    assert summary.papers_decided == 0
    with open_store(store.path) as s:
        assert sum(f["double_review"] for f in flags(s)) > sampled


def test_reads_facts_one_batch_at_a_time(store):
    for i in range(10):
        ex = add_paper(store, f"1701.{i:05d}", 2017, 1)
        result(store, ex, f"1701.{i:05d}")
        add_fact(store, ex, f"1701.{i:05d}", "parameters", normalized_value=1e6 * (i + 1))
    statements: list[str] = []
    store.db.conn.set_trace_callback(statements.append)
    run_curate(store, batch_size=3)
    store.db.conn.set_trace_callback(None)
    reads = [s for s in statements if re.match(r"\s*select\b.*\bfrom facts\b", s, re.I | re.S)]
    assert reads
    for s in reads:
        ids = re.search(r"where (?:arxiv_)?id in \(([^)]*)\)", s)
        assert ids, f"facts read without a batch: {s}"
        assert len(ids.group(1).split(",")) <= 3


@pytest.mark.parametrize("bad", [0, -1])
def test_batch_size_must_be_positive(store, bad):
    with pytest.raises(ValueError, match="batch_size"):
        run_curate(store, batch_size=bad)


def test_flags_moved_agrees_with_each_pair_reason():
    import numpy as np

    from curate.checks import Fit, flags_moved

    rng = np.random.default_rng(0)
    lp = rng.uniform(5, 11, 2000)
    lf = lp + 2.5 + rng.normal(0, 1.2, 2000)
    band, a, b = Fit(3), Fit(2000, 1.0, 2.5, 1.5), Fit(2001, 1.01, 2.47, 1.6)
    for old, new in ((band, a), (a, b), (b, a), (a, band), (a, a)):
        before = [old.reason(x, y) for x, y in zip(lp, lf, strict=True)]
        after = [new.reason(x, y) for x, y in zip(lp, lf, strict=True)]
        flipped, reworded = flags_moved(old, new, lp, lf)
        assert flipped.tolist() == [(x is None) != (y is None)
                                    for x, y in zip(before, after, strict=True)]
        assert reworded.tolist() == [x is not None and y is not None and x != y
                                     for x, y in zip(before, after, strict=True)]
    assert not flipped.any() and not reworded.any()
    assert flags_moved(None, a, lp, lf)[0].all()


def test_cli_full_and_incremental(cli_run, tmp_path):
    import json

    db = tmp_path / "cli.db"
    with open_store(db) as s:
        for i in range(3):
            ex = add_paper(s, f"1701.{i:05d}", 2017, 1)
            result(s, ex, f"1701.{i:05d}")
    first = json.loads(cli_run("curate", "--db", db, "--json").stdout)
    again = cli_run("curate", "--db", db)
    full = json.loads(cli_run("curate", "--db", db, "--full", "--json").stdout)
    assert first["full"] and first["papers_decided"] == 3
    assert again.exit_code == 0 and "Papers decided: 0 (changed since the last curate)" in (
        again.stdout)
    assert full["full"] and full["papers_decided"] == 3 and full["observations_added"] == 0
    status = cli_run("status", "--db", db, "--json")
    assert json.loads(status.stdout)["papers_to_curate"] == 0
