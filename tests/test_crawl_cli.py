"""``dlcompute crawl``, ``benchmarks``: against the local arXiv stand-in, and killed midway."""

from __future__ import annotations

import os
import re
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest
from arxiv_server import bare_id, entry_published
from test_crawl_api import check_pdfs

from crawler import load_benchmarks
from db import open_store

ROOT = Path(__file__).resolve().parent.parent
DEFAULTS = {b.name: b for b in load_benchmarks()}

pytest_plugins = ["crawl_fixtures"]  # fixtures arxiv_server, arxiv_entries


def serve_defaults(server, arxiv_entries):
    img, coco = arxiv_entries[:12], arxiv_entries[8:20]
    server.add_query(DEFAULTS["imagenet"].search_query, img)
    server.add_query(DEFAULTS["coco"].search_query, coco)
    return {bare_id(e) for e in img + coco}


def test_cli_crawl_against_local_server(cli_run, arxiv_server, arxiv_entries, tmp_path):
    expected = serve_defaults(arxiv_server, arxiv_entries)
    r = cli_run("crawl", "--arxiv-url", arxiv_server.url, "--delay", "0")
    assert r.exit_code == 0, r.output
    lines = [ln for ln in r.stdout.splitlines() if re.match(r"^[\w.-]+: ok", ln)]
    assert [ln.split(":")[0] for ln in lines] == list(DEFAULTS)  # a summary per benchmark
    assert "imagenet: ok" in r.stdout and "12 new" in r.stdout
    assert "ImageNet" in r.stderr and "CIFAR-100" in r.stderr  # a progress bar per benchmark
    with open_store(tmp_path / "dlcompute.db") as store:
        papers = {p["arxiv_id"]: p for p in store.db.query("select * from papers")}
        assert set(papers) == expected
        for e in arxiv_entries[:20]:
            p = papers[bare_id(e)]
            assert (p["year"], p["month"]) == (int(entry_published(e)[:4]),
                                               int(entry_published(e)[5:7]))
        assert len(check_pdfs(store, arxiv_server, tmp_path / "data")) == len(expected)
    pdf_requests = len(arxiv_server.requests("pdf"))
    assert pdf_requests == len(expected)

    again = cli_run("crawl", "--arxiv-url", arxiv_server.url, "--delay", "0", "--silent")
    assert again.exit_code == 0, again.output
    assert len(arxiv_server.requests("pdf")) == pdf_requests  # downloads nothing
    assert "0 new" in again.stdout and "0 PDFs fetched" in again.stdout
    assert "12 new" not in again.stdout


@pytest.mark.parametrize(("args", "needle"), [
    (["crawl", "--delay", "1"], "below arXiv's limit"),
    (["crawl", "--benchmark", "mnist"], "mnist"),
    (["crawl", "--since", "2019-13-01"], "YYYY-MM-DD"),
    (["crawl", "--since", "2020-01-01", "--until", "2019-01-01"], "after"),
    (["ingest", "x.pdf", "--id", "abc"], ""),
])
def test_cli_usage_errors(cli_run, args, needle):
    r = cli_run(*args)
    assert r.exit_code == 2
    assert needle in r.output


def test_cli_unreachable(cli_run):
    r = cli_run("crawl", "--arxiv-url", "http://127.0.0.1:9", "--delay", "0", "-b", "coco")
    assert r.exit_code == 1
    assert "Error: Cannot reach http://127.0.0.1:9" in r.output
    assert "--arxiv-url" in r.output


def test_cli_failed_benchmark_exits_1_with_reason(cli_run, arxiv_server, shared):
    from arxiv_server import Fault

    body = (shared / "arxiv/arxiv.py-golden/xml/id_abc_s0_m100_b79c8dcf6bc3.xml").read_bytes()
    arxiv_server.faults = [Fault("api", "status", 400, body=body)]
    r = cli_run("crawl", "--arxiv-url", arxiv_server.url, "--delay", "0", "-b", "squad1.1",
                "-b", "coco", "--silent")
    assert r.exit_code == 1
    assert "coco: ok" in r.stdout
    assert "1 of 2 benchmark(s) failed" in r.output and "incorrect id format" in r.output


def test_benchmarks_command_reads_the_config(cli_run, tmp_path):
    (tmp_path / "dlcompute.toml").write_text(
        '[benchmarks.glue]\nlabel = "GLUE"\nmetrics = ["score"]\n'
        'terms = [\'abs:"GLUE benchmark"\']\n\n[benchmarks.cifar100]\nenabled = false\n')
    r = cli_run("benchmarks")
    assert r.exit_code == 0, r.output
    assert "glue" in r.stdout and 'abs:"GLUE benchmark"' in r.stdout
    assert "cifar100" not in r.stdout and "imagenet" in r.stdout
    with open_store(tmp_path / "dlcompute.db") as store:
        assert store.count("queries", "name = 'glue'") == 1
    (tmp_path / "dlcompute.toml").write_text('[benchmarks.bad]\nterms = ["abs:(x"]\n')
    r = cli_run("benchmarks")
    assert r.exit_code == 1 and "[benchmarks.bad]" in r.output


def test_readme_lists_the_crawl_commands():
    readme = (ROOT / "README.md").read_text()
    for cmd in ("crawl", "benchmarks", "ingest", "harvest"):
        assert f"| `dlcompute {cmd}" in readme


def _snapshot(db: Path, data: Path) -> dict:
    with open_store(db) as store:
        q = store.db.query
        return {
            "papers": sorted(tuple(v for k, v in r.items() if k not in ("first_seen",
                                                                        "last_seen"))
                             for r in q("select * from papers")),
            "links": sorted((r["arxiv_id"], r["query"]) for r in q("select * from paper_queries")),
            "pdfs": sorted((r["arxiv_id"], r["version"], r["sha256"], r["path"], r["size"],
                            r["pages"], r["status"]) for r in q("select * from pdfs")),
            "files": sorted(str(p.relative_to(data)) for p in (data / "pdfs" / "sha256")
                            .rglob("*") if p.is_file()),
        }


@pytest.mark.slow
def test_killed_crawl_resumes_to_the_same_store(arxiv_server, arxiv_entries, tmp_path):
    import hashlib

    serve_defaults(arxiv_server, arxiv_entries)
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    for var in ("DLCOMPUTE_DB", "DLCOMPUTE_DATA", "DLCOMPUTE_CONFIG"):
        env.pop(var, None)

    def run(name: str, **kw) -> subprocess.Popen:
        return subprocess.Popen(
            [sys.executable, "-m", "dlcompute", "crawl", "--arxiv-url", arxiv_server.url,
             "--delay", "0", "--silent", "-b", "imagenet", "-b", "coco",
             "--db", str(tmp_path / f"{name}.db"), "--data-dir", str(tmp_path / name)],
            cwd=tmp_path, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, **kw)

    # slow PDFs so the kill lands in the middle of a download
    arxiv_server.pdf_chunk_delay = 0.05
    p = run("killed")
    deadline = time.monotonic() + 60
    while len(arxiv_server.requests("pdf")) < 5 and time.monotonic() < deadline:
        time.sleep(0.02)
    time.sleep(0.07)
    p.send_signal(signal.SIGKILL)
    p.wait(timeout=10)
    assert p.returncode == -signal.SIGKILL
    killed = tmp_path / "killed"
    # no partial file in the cache: every file there is whole (its name is its hash)
    for f in (killed / "pdfs" / "sha256").rglob("*.pdf"):
        assert hashlib.sha256(f.read_bytes()).hexdigest() == f.stem
    arxiv_server.pdf_chunk_delay = 0
    p = run("killed")
    _, err = p.communicate(timeout=120)
    assert p.returncode == 0, err.decode()
    assert not [f for f in (killed / "pdfs" / "tmp").glob("*")]
    p = run("whole")
    _, err = p.communicate(timeout=120)
    assert p.returncode == 0, err.decode()
    assert _snapshot(tmp_path / "killed.db", killed) == \
        _snapshot(tmp_path / "whole.db", tmp_path / "whole")
    with open_store(tmp_path / "killed.db") as store:
        statuses = [r["status"] for r in store.db.query("select status from crawl_runs")]
    assert "interrupted" in statuses
