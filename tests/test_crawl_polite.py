"""Politeness as the server sees it: Retry-After obeyed, spacing kept across processes.

The stand-in arXiv notes when each request arrives and, with ``rate_limit``,
answers 429 to a request that comes sooner than it wants after the previous one.
These tests use the real clock (seconds of waiting), not the FakeClock.
"""

from __future__ import annotations

import itertools
import os
import subprocess
import sys
from pathlib import Path

import pytest
from arxiv_server import RateLimit, bare_id
from test_crawl_api import IMAGENET
from test_crawl_local import _oai_pages

from crawler import ArxivError, HttpClient, crawl
from crawler.http import spacing

ROOT = Path(__file__).resolve().parent.parent
pytest_plugins = ["crawl_fixtures"]  # fixtures arxiv_server, arxiv_entries


def gaps_after_429(arrivals: list[tuple[float, str, int]]) -> list[float]:
    return [b[0] - a[0] for a, b in itertools.pairwise(arrivals) if a[2] == 429]


def test_429_with_retry_after_5_is_obeyed(store, arxiv_server, arxiv_entries, tmp_path):
    arxiv_server.add_query(IMAGENET.search_query, arxiv_entries[:8])
    arxiv_server.rate_limit = RateLimit(5.0, "5")
    res = crawl(store, [IMAGENET], arxiv_url=arxiv_server.url, delay=0, backoff=0.5,
                page_size=5, pdfs=False, data_dir=tmp_path)
    assert res[0].status == "ok"
    assert {r["arxiv_id"] for r in store.db.query("select arxiv_id from papers")} == \
        {bare_id(e) for e in arxiv_entries[:8]}
    statuses = [a[2] for a in arxiv_server.arrivals]
    assert statuses == [200, 429, 200]  # asked once to wait, and it did
    assert all(g >= 5.0 for g in gaps_after_429(arxiv_server.arrivals))


def test_retry_after_is_a_floor_under_the_backoff(arxiv_server):
    """The server wants 3 s but says Retry-After: 1; the doubling backoff gets past it."""
    arxiv_server.oai_pages = {"": b"<OAI-PMH/>"}
    arxiv_server.rate_limit = RateLimit(3.0, "1")
    url = f"{arxiv_server.url}/oai"
    with HttpClient(delay=0, backoff=1.0, retries=4) as client:
        client.fetch(url)
        client.fetch(url)  # 429 after 0 s, 1 s and 2 s of waiting; then 4 s: served
    statuses = [a[2] for a in arxiv_server.arrivals]
    assert statuses == [200, 429, 429, 429, 200]
    waits = gaps_after_429(arxiv_server.arrivals)
    assert [round(w) for w in waits] == [1, 2, 4] and waits[0] >= 1.0


def test_retry_after_never_shortens_the_backoff(arxiv_server):
    arxiv_server.oai_pages = {"": b"<OAI-PMH/>"}
    arxiv_server.rate_limit = RateLimit(60.0, "0")  # "retry at once", and 429 again
    with HttpClient(delay=0, backoff=0.4, retries=2) as client, \
            pytest.raises(ArxivError, match="HTTP 429 after 3 attempts"):
        client.fetch(f"{arxiv_server.url}/oai")
        client.fetch(f"{arxiv_server.url}/oai")
    assert [round(g, 1) for g in gaps_after_429(arxiv_server.arrivals)][:2] >= [0.4, 0.8]


def test_the_spacing_has_a_margin():
    assert spacing(3.0) > 3.0 and spacing(0.5) > 0.5 and spacing(0) == 0


def _oai_chain(shared: Path, n: int) -> dict[str, bytes]:
    """``n`` OAI-PMH pages, each pointing to the next by resumption token."""
    base = _oai_pages(shared)[""]
    head = base.split(b"<resumptionToken")[0]
    pages = {}
    for i in range(n):
        token = b'<resumptionToken cursor="0">t%d</resumptionToken>' % (i + 1) \
            if i + 1 < n else b'<resumptionToken cursor="0"/>'
        pages["" if i == 0 else f"t{i}"] = head + token + b"</ListRecords></OAI-PMH>"
    return pages


def test_two_commands_at_once_keep_the_spacing_between_them(arxiv_server, arxiv_entries,
                                                            shared, tmp_path):
    """crawl and harvest against one host, at once, sharing a data dir (other stores)."""
    from crawler import load_benchmarks

    query = next(b for b in load_benchmarks() if b.name == "imagenet").search_query
    arxiv_server.add_query(query, arxiv_entries[:6])
    arxiv_server.oai_pages = _oai_chain(shared, 7)
    delay = 0.5
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    common = ["--data-dir", str(tmp_path / "data"), "--delay", str(delay), "--silent"]
    crawl_cmd = [sys.executable, "-m", "dlcompute", "crawl", "--db", str(tmp_path / "a.db"),
                 "--arxiv-url", arxiv_server.url, "--benchmark", "imagenet", *common]
    harvest_cmd = [sys.executable, "-m", "dlcompute", "harvest", "--db",
                   str(tmp_path / "b.db"), "--oai-url", f"{arxiv_server.url}/oai",
                   "--set", "physics:hep-th", *common]
    procs = [subprocess.Popen(c, cwd=tmp_path, env=env, stdout=subprocess.PIPE,
                              stderr=subprocess.PIPE, text=True)
             for c in (crawl_cmd, harvest_cmd)]
    for p in procs:
        _, err = p.communicate(timeout=300)
        assert p.returncode == 0, err
    kinds = {a[1] for a in arxiv_server.arrivals}
    assert {"api", "pdf", "oai"} <= kinds
    assert len(arxiv_server.requests("oai")) == 7 and len(arxiv_server.requests("pdf")) == 6
    times = [a[0] for a in arxiv_server.arrivals]
    gaps = [b - a for a, b in itertools.pairwise(times)]
    assert min(gaps) >= delay, gaps
