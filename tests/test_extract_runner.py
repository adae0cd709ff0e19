"""dlcompute extract: many real PDFs in guarded workers, failures recorded, resumable."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest
from infra_helpers import (
    CORRUPT_ID,
    EMPTY_ID,
    HANG_ID,
    MORE,
    SMALL,
    die_on_one,
    fact_set,
    fill_store,
    hang_on_one,
    statuses,
    swell_on_one,
)

from db import open_store
from db.schema import T
from extract import EXTRACTOR_VERSION
from extract.runner import LocalPool, pending_jobs, run_extraction

ROOT = Path(__file__).resolve().parent.parent
FEW = dict(list(SMALL.items())[:3])


def extract_with(store, data, pool, **kwargs):
    """run_extraction on ``pool``, then stop its worker processes."""
    with pool:
        return run_extraction(store, data, executor=pool, **kwargs)


@pytest.fixture
def filled(tmp_path, corpus):
    db, data = tmp_path / "store.db", tmp_path / "data"
    ids = fill_store(db, data, corpus, FEW)
    return db, data, ids


def test_run_records_every_pdf_and_skips_done_work(filled):
    db, data, ids = filled
    with open_store(db) as store:
        summary = extract_with(store, data, LocalPool(2, timeout=60))
        st = statuses(store)
        assert sorted(st) == ids  # the failed download is not among them
        assert summary.papers == len(ids)
        for arxiv_id in FEW:
            assert st[arxiv_id] == "ok"
        assert st[CORRUPT_ID] not in ("ok", "timeout") and st[EMPTY_ID] not in ("ok", "timeout")
        errors = {r["arxiv_id"]: r["error"] for r in store.db.query(
            f"select arxiv_id, error from {T.extractions}")}
        assert errors[CORRUPT_ID] and errors[EMPTY_ID]
        n_facts = store.count(T.facts)
        assert n_facts > 0 and summary.facts == n_facts
        # Every fact belongs to its paper's extraction row of this version.
        orphans = store.count(T.facts, f"extraction_id not in (select id from {T.extractions})")
        assert orphans == 0
        assert store.count(T.facts, "extractor_version != ?", [EXTRACTOR_VERSION]) == 0
        assert store.count(T.hardware) > 30  # the catalog is loaded too
        ext_ids = {r["id"] for r in store.db.query(f"select id from {T.extractions}")}

        again = extract_with(store, data, LocalPool(1))
        # the corrupt PDF failed: a later run tries it again, after a back-off
        assert again.papers == 0 and again.skipped == len(ids) - 1
        assert again.waiting == 1 and again.next_retry > store.db.execute(
            f"select max(created_at) from {T.extractions}").fetchone()[0]
        assert {r["id"] for r in store.db.query(f"select id from {T.extractions}")} == ext_ids

        before = fact_set(store)
        redo = extract_with(store, data, LocalPool(2), force=True)
        assert redo.papers == len(ids)
        assert store.count(T.extractions) == len(ids)  # replaced, not added
        assert fact_set(store) == before
        # SQLite may hand a replaced row's id to its successor, so check the links, not ids.
        assert store.count(T.facts, f"extraction_id not in (select id from {T.extractions})") == 0


def test_paper_filter_and_changed_pdf(filled):
    db, data, _ = filled
    with open_store(db) as store:
        one = "1409.3215"
        summary = extract_with(store, data, LocalPool(1), paper_ids=[one])
        assert summary.papers == 1 and list(statuses(store)) == [one]
        # A new PDF (another hash) for the same paper is extracted again.
        store.db[T.pdfs].update((one, 1), {"sha256": "0" * 64})
        assert [j.arxiv_id for j in pending_jobs(store, data, paper_ids=[one])] == [one]


def test_timeout_kills_the_worker_and_the_run_goes_on(filled):
    db, data, ids = filled
    with open_store(db) as store:
        t0 = time.monotonic()
        extract_with(store, data, LocalPool(2, timeout=3), fn=hang_on_one)
        assert time.monotonic() - t0 < 60
        st = statuses(store)
        assert st[HANG_ID] == "timeout"
        assert sorted(st) == ids
        assert sum(s == "ok" for s in st.values()) == len(FEW) - 1
        row = next(iter(store.db.query(
            f"select * from {T.extractions} where arxiv_id = ?", [HANG_ID])))
        assert "3 s" in row["error"]


def test_memory_limit(filled):
    db, data, _ = filled
    with open_store(db) as store:
        extract_with(store, data, LocalPool(1, timeout=60, max_memory_mb=400),
                       fn=swell_on_one)
        st = statuses(store)
        assert st[HANG_ID] == "memory"
        assert st["1409.3215"] == "ok"


def test_worker_death_is_recorded(filled):
    db, data, _ = filled
    with open_store(db) as store:
        extract_with(store, data, LocalPool(1, timeout=60), fn=die_on_one)
        row = next(iter(store.db.query(
            f"select * from {T.extractions} where arxiv_id = ?", [HANG_ID])))
        assert row["status"] == "failed" and "died" in row["error"]
        assert statuses(store)["2106.12368"] == "ok"  # the replacement worker went on


def test_pdf_file_missing_is_recorded(filled):
    db, data, _ = filled
    (data / "pdfs" / "1409.3215.pdf").unlink()
    with open_store(db) as store:
        extract_with(store, data, LocalPool(1), paper_ids=["1409.3215"])
        row = next(iter(store.db.query(f"select * from {T.extractions}")))
        assert row["status"] == "failed" and "missing" in row["error"]


@pytest.mark.slow
def test_kill_9_mid_run_then_resume_equals_uninterrupted(tmp_path, corpus):
    papers = {**SMALL, **MORE}
    # The uninterrupted run.
    ref_db, ref_data = tmp_path / "ref.db", tmp_path / "ref"
    fill_store(ref_db, ref_data, corpus, papers)
    with open_store(ref_db) as store:
        extract_with(store, ref_data, LocalPool(1))
        expected = fact_set(store)
        expected_status = statuses(store)
    # The same, killed mid-run, then run again.
    db, data = tmp_path / "store.db", tmp_path / "data"
    ids = fill_store(db, data, corpus, papers)
    env = dict(os.environ, PYTHONPATH=str(ROOT))
    cmd = [sys.executable, "-m", "dlcompute", "extract", "--db", str(db), "--data-dir",
           str(data), "--workers", "1", "--silent"]
    proc = subprocess.Popen(cmd, env=env, cwd=tmp_path, stdout=subprocess.DEVNULL,
                            stderr=subprocess.DEVNULL)
    done = 0
    deadline = time.monotonic() + 60
    with open_store(db) as watch:
        while time.monotonic() < deadline and proc.poll() is None:
            done = watch.count(T.extractions)
            if done >= 3:
                break
            time.sleep(0.02)
    os.kill(proc.pid, signal.SIGKILL)
    proc.wait()
    with open_store(db) as store:
        left = len(pending_jobs(store, data))
        assert 0 < left < len(ids), "the kill did not land mid-run"
        # What was written is complete: no facts without their extraction row.
        assert store.count(T.facts, f"extraction_id not in (select id from {T.extractions})") == 0
    rerun = subprocess.run(cmd, env=env, cwd=tmp_path, capture_output=True, text=True,
                           timeout=120)
    assert rerun.returncode == 0, rerun.stderr
    with open_store(db) as store:
        assert statuses(store) == expected_status
        assert fact_set(store) == expected


def test_extract_command_and_gold_export(cli_run, tmp_path, corpus):
    db, data = tmp_path / "cli.db", tmp_path / "cli-data"
    ids = fill_store(db, data, corpus, FEW)
    r = cli_run("extract", "--db", db, "--data-dir", data, "--workers", "2", "--silent",
                "--json")
    assert r.exit_code == 0, r.output
    summary = json.loads(r.output[r.output.index("{"):])
    assert summary["papers"] == len(ids) and summary["by_status"]["ok"] == len(FEW)
    r = cli_run("extract", "--db", db, "--data-dir", data, "--silent")
    assert r.exit_code == 0 and "0 papers extracted" in r.output
    r = cli_run("extract", "--db", db, "--data-dir", data, "--paper", "0000.00000", "--silent")
    assert "no downloaded PDF for 0000.00000" in r.output
    r = cli_run("export", "facts", "--format", "jsonl", "--db", db)
    lines = [json.loads(x) for x in r.output.splitlines() if x.startswith("{")]
    assert sorted(x["arxiv_id"] for x in lines) == ids
    for x in lines:
        assert set(x) >= {"parameters", "compute_per_pass", "hardware", "training_time_hours",
                          "epochs", "results"}
        for h in x["hardware"]:
            assert "(" not in (h["canonical"] or "")
    assert sum(len(x["hardware"]) + len(x["results"]) + len(x["parameters"])
               for x in lines) > 0


def test_extract_command_rejects_bad_options(cli_run, tmp_path):
    r = cli_run("extract", "--db", tmp_path / "x.db", "--workers", "0")
    assert r.exit_code == 2 and "--workers" in r.output
    r = cli_run("extract", "--db", tmp_path / "x.db", "--executor", "dask")
    assert r.exit_code == 2 and "--scheduler" in r.output
    r = cli_run("extract", "--db", tmp_path / "x.db", "--timeout", "-1")
    assert r.exit_code == 2
