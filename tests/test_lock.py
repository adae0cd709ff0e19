"""One writer per store: every writing command takes the lock, names the holder, or waits."""

from __future__ import annotations

import json
import os
import socket
import subprocess
import sys
import time
from pathlib import Path

import pytest
from infra_helpers import fill_store

from db import open_store
from db.schema import T

ROOT = Path(__file__).resolve().parent.parent
ENV = {**os.environ, "PYTHONPATH": str(ROOT)}
HOLD = """
import sys
from dlcompute.lock import StoreLock
with StoreLock(sys.argv[1], command=sys.argv[2]):
    print("held", flush=True)
    sys.stdin.read()
"""
OFFLINE = "http://127.0.0.1:9"


@pytest.fixture
def holder(tmp_path):
    """Another process holding the lock of tmp_path/dlcompute.db as a `crawl` would."""
    proc = subprocess.Popen([sys.executable, "-c", HOLD, str(tmp_path / "dlcompute.db"),
                             "crawl"], stdin=subprocess.PIPE, stdout=subprocess.PIPE,
                            text=True, env=ENV, cwd=ROOT)
    assert proc.stdout.readline().strip() == "held"
    yield proc
    proc.stdin.close()
    proc.wait(timeout=10)


WRITERS = {
    "crawl": ["--arxiv-url", OFFLINE, "--delay", "0"],
    "ingest": ["."],
    "harvest": ["--oai-url", OFFLINE, "--delay", "0"],
    "extract": [],
    "curate": [],
    "analyze": [],
    "run": ["--arxiv-url", OFFLINE, "--delay", "0"],
    "check": ["--repair"],
}


@pytest.mark.parametrize("command", sorted(WRITERS))
def test_a_writing_command_stops_naming_the_holder(command, holder, cli_run, tmp_path):
    r = cli_run(command, *WRITERS[command], "--silent")
    assert r.exit_code == 1, r.output
    line = r.stderr.strip()
    assert "\n" not in line and line.startswith("Error: Store dlcompute.db is in use by ")
    assert f"pid {holder.pid} on {socket.gethostname()} (crawl, since 20" in line
    assert "--wait" in line
    assert not (tmp_path / "dlcompute.db").exists()  # stopped before touching the store


def test_wait_with_a_limit_gives_up_naming_the_holder(holder, cli_run):
    t0 = time.monotonic()
    r = cli_run("curate", "--wait", "1", "--silent")
    assert r.exit_code == 1
    assert time.monotonic() - t0 >= 1.0
    assert "Waiting for pid" in r.stderr
    assert f"still in use by pid {holder.pid}" in r.stderr and "after waiting 1 s" in r.stderr


def test_run_waits_with_a_limit_too(holder, cli_run):
    r = cli_run("run", *WRITERS["run"], "--silent", "--wait", "0.5")
    assert r.exit_code == 1
    assert f"still in use by pid {holder.pid}" in r.stderr and "(crawl, since" in r.stderr


def test_readers_and_other_stores_are_not_held_up(holder, cli_run):
    assert cli_run("init").exit_code == 0  # creating or migrating is a small write
    assert cli_run("status", "--silent").exit_code == 0
    assert cli_run("curate", "--db", "other.db", "--silent").exit_code == 0


def _papers(corpus: Path, n: int) -> dict[str, tuple[int, int]]:
    """``n`` corpus PDFs named by new-style arXiv ids, with the date the id gives."""
    ids = sorted(p.stem for p in corpus.glob("*.pdf") if p.stem[:4].isdigit() and "." in p.stem)
    return {i: (2000 + int(i[:2]), int(i[2:4])) for i in ids[:n]}


@pytest.mark.slow
def test_a_second_writer_waits_for_a_real_extract(tmp_path, corpus):
    db, data = tmp_path / "store.db", tmp_path / "data"
    papers = _papers(corpus, 30)  # long enough to start two more commands beside it
    fill_store(db, data, corpus, papers)
    cmd = [sys.executable, "-m", "dlcompute"]
    common = ["--db", str(db), "--data-dir", str(data), "--silent"]

    def start(*args: str) -> subprocess.Popen:
        return subprocess.Popen([*cmd, *args, *common], cwd=tmp_path, env=ENV, text=True,
                                stdout=subprocess.PIPE, stderr=subprocess.PIPE)

    extract = start("extract", "--workers", "1")
    lock = Path(str(db) + ".lock")
    deadline = time.monotonic() + 120
    while time.monotonic() < deadline:
        held = json.loads(lock.read_text() or "{}") if lock.exists() else {}
        if held.get("pid") == extract.pid:
            break
        time.sleep(0.05)
    assert held.get("command") == "extract", "extract did not take the lock"
    waiting, stopping = start("curate", "--wait"), start("curate")
    results = {name: (p, *p.communicate(timeout=600))
               for name, p in (("extract", extract), ("stopping", stopping),
                               ("waiting", waiting))}
    assert extract.returncode == 0, results["extract"][2]
    stopped_err = results["stopping"][2]
    if stopping.returncode == 0:
        pytest.skip("extract finished before the second command started (a very fast machine)")
    assert stopping.returncode == 1
    assert f"in use by pid {extract.pid}" in stopped_err and "(extract, since" in stopped_err
    assert waiting.returncode == 0, results["waiting"][2]
    assert f"Waiting for pid {extract.pid}" in results["waiting"][2]
    with open_store(db) as store:
        # curate came after extract: every paper's extraction was there to curate
        assert store.count(T.extractions) == len(papers) + 2
        last_extraction = store.db.execute(
            f"select max(created_at) from {T.extractions}").fetchone()[0]
        first_observation = store.db.execute(
            f"select min(updated_at) from {T.observations}").fetchone()[0]
        assert first_observation >= last_extraction
    assert not lock.read_text()  # released: nobody holds it
