"""Incremental curate decides what a full rebuild decides, on real corpus papers.

Each test takes the curated store of six corpus papers (ingested and extracted by
the real commands), changes one kind of input the way users do (reviews in the
review queue, a re-extraction, a Papers with Code dump, a catalog change), then
curates it incrementally and a copy in full, and compares every observation,
flag and fit pair.
"""

from __future__ import annotations

import json

from curate_corpus import PAPERS, copy_store, curate_both_ways, snapshot

from curate import curate, load_pwc
from curate.review.queue import decide
from db import open_store
from db.schema import T
from extract.store_writer import write_extraction

pytest_plugins = ["curate_fixtures"]  # fixtures extracted_store, curated_store


def _store(curated_store, tmp_path):
    return copy_store(curated_store, tmp_path / "store.db")


def test_nothing_new_decides_nothing(curated_store, tmp_path):
    path = _store(curated_store, tmp_path)
    before = snapshot(path)
    with open_store(path) as s:
        summary = curate(s)
        assert s.count(T.curate_dirty) == 0
    assert summary.papers_decided == 0 and not summary.full
    assert summary.observations_added == summary.flags_new == summary.flags_closed_now == 0
    assert snapshot(path) == before
    assert summary.fit["pairs"] > 0  # the stored fit is reported


def test_reviews(curated_store, tmp_path):
    path = _store(curated_store, tmp_path)
    with open_store(path) as s:
        flags = list(s.db.query(f"select * from {T.flags} where status = 'open' order by id"))
        conflict = next(f for f in flags if f["kind"] == "conflict" and len(
            [c for c in json.loads(f["candidates"]) if c.get("fact_id")]) >= 2)
        second = json.loads(conflict["candidates"])[1]
        decide(s, conflict["id"], "alice", "accept", "t1", fact_id=second["fact_id"],
               value=second["value"] if not isinstance(second["value"], str) else None)
        missing = next(f for f in flags if f["kind"] == "missing"
                       and f["arxiv_id"] != conflict["arxiv_id"])
        decide(s, missing["id"], "bob", "not_reported", "t2")
    summary = curate_both_ways(path, tmp_path)
    assert 2 <= summary.papers_decided < len(PAPERS)
    with open_store(path) as s:
        sources = [json.loads(o["sources"]) for o in s.db.query(
            f"select sources from {T.observations} where arxiv_id = ?", [conflict["arxiv_id"]])]
        assert any(v.startswith("review:") for src in sources for v in src.values())
        assert s.db[T.flags].get(conflict["id"])["status"] == "closed"


def test_re_extraction(curated_store, tmp_path, corpus):
    path = _store(curated_store, tmp_path)
    with open_store(path) as s:
        # a newer extractor reads one paper differently: a compute figure ten times
        # larger, one result fewer
        old = list(s.db.query(f"select * from {T.facts} where arxiv_id = ? order by id",
                              ["1704.04861"]))
        facts = [dict(f) for f in old]
        compute = next(f for f in facts if f["field"] == "compute_per_pass")
        compute["normalized_value"] *= 10
        facts.remove(next(f for f in facts if f["field"] == "result"))
        write_extraction(s, arxiv_id="1704.04861", pdf_sha256="new-sha",
                         extractor_version="9.9.9", status="ok", error=None, pages=10,
                         chars=1000, seconds=1.0, facts=facts)
    summary = curate_both_ways(path, tmp_path)
    assert summary.papers_decided >= 1
    assert summary.observations_updated + summary.observations_removed > 0


def test_real_re_extraction_with_force(curated_store, tmp_path, extracted_store):
    from click.testing import CliRunner

    from dlcompute.cli import cli

    path = _store(curated_store, tmp_path)
    data = extracted_store.parent / "data"
    r = CliRunner().invoke(cli, ["extract", "--paper", "1512.03385", "--force", "--db",
                                 str(path), "--data-dir", str(data), "--silent"],
                           catch_exceptions=False)
    assert r.exit_code == 0, r.output
    summary = curate_both_ways(path, tmp_path)
    # same facts under new ids: the paper's observations now name the new facts
    assert summary.papers_decided >= 1 and summary.observations_updated > 0


def test_papers_with_code(curated_store, tmp_path, shared):
    path = _store(curated_store, tmp_path)
    with open_store(path) as s:
        assert load_pwc(s, [shared / "pwc" / "pwc-leaderboards.json"]) > 100
        marked = s.count(T.curate_dirty, f"arxiv_id in ({','.join('?' * len(PAPERS))})",
                         list(PAPERS))
    assert marked >= 4  # the dump has rows for most of them (and for papers not in the store)
    summary = curate_both_ways(path, tmp_path)
    assert summary.papers_decided >= 4
    with open_store(path) as s:
        assert s.count(T.flags, "kind = 'pwc_mismatch'") + s.count(
            T.observations, "sources like '%pwc:%'") > 0


def test_catalog_change_decides_every_paper(curated_store, tmp_path):
    path = _store(curated_store, tmp_path)
    with open_store(path) as s:
        s.db.execute(f"update {T.hardware} set fp32_base_gflops = fp32_base_gflops * 2")
    summary = curate_both_ways(path, tmp_path)
    assert summary.full and summary.papers_decided == len(PAPERS)


def test_settings_change_decides_every_paper(curated_store, tmp_path):
    path = _store(curated_store, tmp_path)
    summary = curate_both_ways(path, tmp_path, conflict_confidence=0.3)
    assert summary.full and summary.papers_decided == len(PAPERS)
    with open_store(path) as s:
        assert curate(s, conflict_confidence=0.3).papers_decided == 0


def test_observations_equal_a_curate_from_scratch(curated_store, tmp_path):
    path = _store(curated_store, tmp_path)
    with open_store(path) as s:
        s.db.execute(f"update {T.facts} set confidence = 0.99 where id = "
                     f"(select min(id) from {T.facts} where field = 'parameters')")
        curate(s)
    scratch = copy_store(path, tmp_path / "scratch.db")
    with open_store(scratch) as s:
        for table in (T.observation_sources, T.flag_observations, T.observations):
            s.db.execute(f"delete from {table}")
        s.db.execute(f"delete from {T.curate_pairs}")
        s.db.execute(f"delete from {T.meta} where key like 'curate.%'")
        curate(s)
    got, want = snapshot(path), snapshot(scratch)
    assert got[T.observations] == want[T.observations]
    assert got[T.curate_pairs] == want[T.curate_pairs]
