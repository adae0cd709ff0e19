"""``dlcompute run``: the whole pipeline against the local arXiv stand-in."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest
from arxiv_server import bare_id

from crawler import load_benchmarks
from db import open_store
from dlcompute.lock import StoreLock

ROOT = Path(__file__).resolve().parent.parent
DEFAULTS = {b.name: b for b in load_benchmarks()}

pytest_plugins = ["crawl_fixtures"]  # fixtures arxiv_server, arxiv_entries

FAST = ["--delay", "0", "--workers", "1", "--silent"]


def _serve(server, entries) -> set[str]:
    chosen = entries[:6]
    server.add_query(DEFAULTS["imagenet"].search_query, chosen)
    return {bare_id(e) for e in chosen}


def _snapshot(db: Path) -> dict:
    """What a run leaves in the store, without times and row ids."""
    with open_store(db) as s:
        q = s.db.query
        return {
            "papers": sorted(r["arxiv_id"] for r in q("select arxiv_id from papers")),
            "pdfs": sorted((r["arxiv_id"], r["sha256"], r["status"])
                           for r in q("select arxiv_id, sha256, status from pdfs")),
            "extractions": sorted((r["arxiv_id"], r["status"])
                                  for r in q("select arxiv_id, status from extractions")),
            "facts": sorted((r["arxiv_id"], r["field"], r["normalized_value"], r["page"],
                             r["rule_id"]) for r in q(
                "select arxiv_id, field, normalized_value, page, rule_id from facts")),
            "observations": sorted(json.dumps(r, sort_keys=True) for r in q(
                "select arxiv_id, model, benchmark, metric, error, compute_per_pass "
                "from observations")),
        }


@pytest.mark.slow
def test_run_end_to_end_and_again(cli_run, arxiv_server, arxiv_entries, tmp_path):
    expected = _serve(arxiv_server, arxiv_entries)
    r = cli_run("run", "--arxiv-url", arxiv_server.url, *FAST, "--benchmark", "imagenet",
                "--json")
    assert r.exit_code == 0, r.output
    summary = json.loads(r.stdout)
    assert summary["papers_new"] == len(expected)
    assert summary["pdfs_fetched"] == len(expected)
    assert summary["papers_extracted"] == len(expected)
    assert Path(summary["report"]).is_file()
    first = _snapshot(tmp_path / "dlcompute.db")
    assert set(first["papers"]) == expected
    assert first["facts"], "real PDFs should give some facts"

    pdf_requests = len(arxiv_server.requests("pdf"))
    again = cli_run("run", "--arxiv-url", arxiv_server.url, *FAST, "--benchmark", "imagenet",
                    "--json")
    assert again.exit_code == 0, again.output
    s2 = json.loads(again.stdout)
    assert (s2["papers_new"], s2["pdfs_fetched"], s2["papers_extracted"]) == (0, 0, 0)
    assert len(arxiv_server.requests("pdf")) == pdf_requests
    assert _snapshot(tmp_path / "dlcompute.db") == first


def test_run_without_network_fails_fast_and_says_how(cli_run):
    t0 = time.monotonic()
    r = cli_run("run", "--arxiv-url", "http://127.0.0.1:9", "--delay", "0", "--silent",
                "--benchmark", "imagenet")
    assert r.exit_code == 1
    assert time.monotonic() - t0 < 30
    assert "--arxiv-url" in r.stderr and "Traceback" not in r.output


def test_second_run_says_who_holds_the_lock(cli_run, tmp_path):
    with StoreLock(tmp_path / "dlcompute.db", command="run"):
        r = cli_run("run", "--arxiv-url", "http://127.0.0.1:9", "--delay", "0", "--silent")
    assert r.exit_code == 1
    assert "in use by pid" in r.stderr and "run" in r.stderr


@pytest.mark.slow
def test_killed_run_resumes_to_the_same_store(arxiv_server, arxiv_entries, tmp_path):
    _serve(arxiv_server, arxiv_entries)
    arxiv_server.pdf_chunk_delay = 0.05  # slow downloads, so the kill lands mid-run

    def run(db: Path, out: Path) -> subprocess.Popen:
        return subprocess.Popen(
            [sys.executable, "-m", "dlcompute", "run", "--db", str(db), "--data-dir",
             str(tmp_path / f"data-{db.stem}"), "--out", str(out), "--arxiv-url",
             arxiv_server.url, "--benchmark", "imagenet", *FAST],
            cwd=tmp_path, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
            env={**os.environ, "PYTHONPATH": str(ROOT)})

    whole = run(tmp_path / "whole.db", tmp_path / "r1")
    assert whole.wait(timeout=600) == 0, whole.stderr.read().decode()

    killed = run(tmp_path / "killed.db", tmp_path / "r2")
    time.sleep(3)
    killed.send_signal(signal.SIGKILL)
    killed.wait()
    resumed = run(tmp_path / "killed.db", tmp_path / "r2")
    assert resumed.wait(timeout=600) == 0, resumed.stderr.read().decode()
    assert _snapshot(tmp_path / "killed.db") == _snapshot(tmp_path / "whole.db")
    partial = [p for p in (tmp_path / "data-killed").rglob("*") if p.is_file()
               and not p.name.endswith(".pdf") and p.suffix != ".lock"]
    assert partial == []
