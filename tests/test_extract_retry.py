"""Faults that are not the PDF's: a worker killed mid-extraction, memory crashes, back-off."""

from __future__ import annotations

import os
import signal
import threading
import time

import pytest
from infra_helpers import (
    HANG_ID,
    MARKS_ENV,
    SMALL,
    crash_big,
    crash_small,
    die_on_one,
    fill_store,
    stall_once,
    statuses,
)

from db import open_store
from db.schema import T
from extract.runner import MAX_ATTEMPTS, LocalPool, pending_jobs, run_extraction

FEW = dict(list(SMALL.items())[:3])


@pytest.fixture
def filled(tmp_path, corpus):
    db, data = tmp_path / "store.db", tmp_path / "data"
    fill_store(db, data, corpus, FEW, bad=False)
    return db, data


def _row(store, arxiv_id: str) -> dict:
    return next(iter(store.db.query(f"select * from {T.extractions} where arxiv_id = ?",
                                    [arxiv_id])))


def test_a_worker_killed_mid_extraction_is_retried_and_its_paper_extracted(
        filled, tmp_path, monkeypatch):
    db, data = filled
    marks = tmp_path / "marks"
    marks.mkdir()
    monkeypatch.setenv(MARKS_ENV, str(marks))
    killed: list[int] = []

    def kill_the_stalled_worker() -> None:
        mark = marks / f"{HANG_ID}.pid"
        deadline = time.monotonic() + 120
        while not mark.exists() and time.monotonic() < deadline:
            time.sleep(0.05)
        time.sleep(0.1)  # the pid is written before the file is closed
        pid = int(mark.read_text())
        os.kill(pid, signal.SIGKILL)  # as the kernel's OOM killer would
        killed.append(pid)

    killer = threading.Thread(target=kill_the_stalled_worker)
    killer.start()
    with open_store(db) as store, LocalPool(1, timeout=200) as pool:
        summary = run_extraction(store, data, executor=pool, fn=stall_once)
        killer.join()
        assert killed, "the worker was not killed"
        assert statuses(store) == {a: "ok" for a in FEW}
        assert store.count(T.facts, "arxiv_id = ?", [HANG_ID]) > 0
        assert summary.by_status == {"ok": len(FEW)}
        assert killed[0] not in pool.worker_pids()  # a fresh process did the work


def test_a_crash_near_the_memory_limit_is_memory_and_other_crashes_are_retried(filled):
    db, data = filled
    with open_store(db) as store:
        with LocalPool(1, timeout=120, max_memory_mb=1200, retries=1) as pool:
            run_extraction(store, data, executor=pool, fn=crash_big, paper_ids=[HANG_ID])
        row = _row(store, HANG_ID)
        assert row["status"] == "memory", row["error"]
        assert "SIGABRT" in row["error"] and "1200 MB" in row["error"]

        with LocalPool(1, timeout=120, max_memory_mb=1200, retries=1) as pool:
            run_extraction(store, data, executor=pool, fn=crash_small, paper_ids=[HANG_ID],
                           force=True)
        row = _row(store, HANG_ID)
        assert row["status"] == "failed" and "(2 attempts)" in row["error"]
        assert "exit code -6" in row["error"]


def test_a_failed_paper_is_tried_again_after_its_back_off(filled, cli_run):
    db, data = filled
    with open_store(db) as store:
        with LocalPool(1, timeout=120) as pool:
            run_extraction(store, data, executor=pool, fn=die_on_one)
        row = _row(store, HANG_ID)
        assert row["status"] == "failed" and row["attempts"] == 1
        assert row["next_attempt_after"] > row["created_at"]

        # Within the back-off: not tried, and said so.
        assert [j.arxiv_id for j in pending_jobs(store, data)] == []
    r = cli_run("extract", "--db", db, "--data-dir", data, "--silent")
    assert r.exit_code == 0, r.output
    assert "0 papers extracted" in r.stdout
    assert f"1 failed to try again after {row['next_attempt_after']}" in r.stdout

    with open_store(db) as store:
        # The back-off has passed: a later run tries again, and this time it works.
        store.db[T.extractions].update(row["id"], {"next_attempt_after": "2000-01-01T00:00:00Z"})
        assert [j.arxiv_id for j in pending_jobs(store, data)] == [HANG_ID]
    r = cli_run("extract", "--db", db, "--data-dir", data, "--silent", "--workers", "1")
    assert r.exit_code == 0 and "1 papers extracted (ok 1)" in r.stdout
    with open_store(db) as store:
        row = _row(store, HANG_ID)
        assert row["status"] == "ok" and row["attempts"] == 2
        assert row["next_attempt_after"] is None


def test_attempts_stop_at_the_limit(filled):
    db, data = filled
    with open_store(db) as store:
        for attempt in range(1, MAX_ATTEMPTS + 1):
            with LocalPool(1, timeout=120, retries=0) as pool:
                run_extraction(store, data, executor=pool, fn=die_on_one,
                               paper_ids=[HANG_ID])
            row = _row(store, HANG_ID)
            assert row["attempts"] == attempt
            store.db[T.extractions].update(row["id"], {"next_attempt_after":
                                                       "2000-01-01T00:00:00Z"}
                                           if row["next_attempt_after"] else {})
        # the last attempt sets no back-off: the paper stays failed until --force
        assert row["next_attempt_after"] is None
        assert pending_jobs(store, data, paper_ids=[HANG_ID]) == []
        assert [j.arxiv_id for j in pending_jobs(store, data, paper_ids=[HANG_ID],
                                                 force=True)] == [HANG_ID]
