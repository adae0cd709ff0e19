"""Every failure the network can produce: nothing lost, nothing duplicated, clear messages."""

from __future__ import annotations

import itertools
from pathlib import Path

from arxiv_server import Fault, bare_id
from test_crawl_api import COCO, IMAGENET, check_pdfs, client, rows

from crawler import crawl

pytest_plugins = ["crawl_fixtures"]  # fixtures arxiv_server, arxiv_entries


def ids(store) -> set[str]:
    return {r["arxiv_id"] for r in rows(store, "select arxiv_id from papers")}


def spaced(c, delay=3.0) -> bool:
    times = [r.at for r in c.log]
    return all(b - a >= delay for a, b in itertools.pairwise(times))


def test_503_with_retry_after_and_429_are_retried(store, arxiv_server, arxiv_entries, tmp_path):
    arxiv_server.add_query(IMAGENET.search_query, arxiv_entries[:12])
    arxiv_server.faults = [
        Fault("api", "status", 503, {"Retry-After": "17"}),
        Fault("api", "status", 429, skip=1),  # the second page's first try
        Fault("pdf", "status", 503, {"Retry-After": "11"}, skip=2),
    ]
    c = client()
    res = crawl(store, [IMAGENET], arxiv_url=arxiv_server.url, client=c, data_dir=tmp_path,
                page_size=5)
    assert res[0].status == "ok"
    assert ids(store) == {bare_id(e) for e in arxiv_entries[:12]}
    assert store.count("paper_queries") == 12 and res[0].seen == 12
    assert 17.0 in c.clock.sleeps and 11.0 in c.clock.sleeps  # Retry-After honoured
    assert [r.status for r in c.log[:3]] == [503, 200, 429]
    assert spaced(c)
    assert len(check_pdfs(store, arxiv_server, tmp_path)) == 12


def test_hanging_response_times_out_and_is_retried(store, arxiv_server, arxiv_entries, tmp_path):
    arxiv_server.add_query(IMAGENET.search_query, arxiv_entries[:4])
    arxiv_server.faults = [Fault("api", "hang", seconds=2.0)]
    c = HttpClient_(timeout=0.3)
    res = crawl(store, [IMAGENET], arxiv_url=arxiv_server.url, client=c, data_dir=tmp_path,
                pdfs=False)
    assert res[0].status == "ok"
    assert c.log[0].error == "timeout"
    assert ids(store) == {bare_id(e) for e in arxiv_entries[:4]}


def HttpClient_(**kw):
    from crawler import FakeClock, HttpClient

    return HttpClient(delay=0, clock=FakeClock(), backoff=0.1, **kw)


def test_malformed_and_empty_pages_are_retried(store, arxiv_server, arxiv_entries, tmp_path):
    arxiv_server.add_query(IMAGENET.search_query, arxiv_entries[:9])
    arxiv_server.faults = [Fault("api", "malformed"), Fault("api", "empty", skip=1)]
    c = client()
    res = crawl(store, [IMAGENET], arxiv_url=arxiv_server.url, client=c, data_dir=tmp_path,
                page_size=4, pdfs=False)
    assert res[0].status == "ok" and res[0].seen == 9
    assert ids(store) == {bare_id(e) for e in arxiv_entries[:9]}
    assert spaced(c)


def test_persistently_malformed_page_fails_that_benchmark_only(store, arxiv_server, arxiv_entries,
                                                               tmp_path):
    arxiv_server.add_query(IMAGENET.search_query, arxiv_entries[:9])
    arxiv_server.add_query(COCO.search_query, arxiv_entries[20:23])
    # the first page is fine; every try of the second is cut off
    arxiv_server.faults = [Fault("api", "malformed", skip=1)] + \
        [Fault("api", "malformed") for _ in range(2)]
    res = crawl(store, [IMAGENET, COCO], arxiv_url=arxiv_server.url, client=client(),
                data_dir=tmp_path, page_size=4, pdfs=False)
    assert [s.status for s in res] == ["failed", "ok"]
    err = res[0].error
    assert "imagenet" in err and "window" in err and "malformed" in err and "3 attempts" in err
    # what the first page stored is intact; coco is complete
    first_page = sorted(arxiv_entries[:9], key=lambda e: e.findtext(
        "{http://www.w3.org/2005/Atom}published"))[:4]
    assert ids(store) == {bare_id(e) for e in first_page} | {bare_id(e) for e in arxiv_entries[20:23]}
    run = rows(store, "select * from crawl_runs where benchmark = 'imagenet'")[0]
    assert run["status"] == "failed" and "malformed" in run["error"] and run["seen"] == 4
    # the next crawl resumes and completes
    res = crawl(store, [IMAGENET], arxiv_url=arxiv_server.url, client=client(),
                data_dir=tmp_path, page_size=4, pdfs=False)
    assert res[0].status == "ok"
    assert store.count("paper_queries", "query = 'imagenet'") == 9


def test_400_is_not_retried_and_names_the_rejected_query(store, arxiv_server, shared,
                                                         arxiv_entries, tmp_path):
    body = (shared / "arxiv/arxiv.py-golden/xml/id_abc_s0_m100_b79c8dcf6bc3.xml").read_bytes()
    arxiv_server.add_query(COCO.search_query, arxiv_entries[:2])
    arxiv_server.faults = [Fault("api", "status", 400, body=body)]
    c = client()
    res = crawl(store, [IMAGENET, COCO], arxiv_url=arxiv_server.url, client=c,
                data_dir=tmp_path, pdfs=False)
    assert res[0].status == "failed" and res[1].status == "ok"
    assert "incorrect id format for abc" in res[0].error
    assert "abs:ImageNet" in res[0].error and "dlcompute.toml" in res[0].error
    assert res[0].requests == 1  # no retry
    assert store.count("papers") == 2


def test_truncated_and_bad_pdfs(store, arxiv_server, arxiv_entries, tmp_path):
    arxiv_server.add_query(IMAGENET.search_query, arxiv_entries[:4])
    arxiv_server.faults = [
        Fault("pdf", "truncate"),  # first PDF: connection closes halfway, then fine
        Fault("pdf", "short"), Fault("pdf", "short"), Fault("pdf", "short"),  # second: bad
        Fault("pdf", "notpdf"), Fault("pdf", "notpdf"), Fault("pdf", "notpdf"),  # third: bad
    ]
    c = client()
    res = crawl(store, [IMAGENET], arxiv_url=arxiv_server.url, client=c, data_dir=tmp_path)
    assert (res[0].pdfs_fetched, res[0].pdfs_failed) == (2, 2)
    pdfs = rows(store, "select * from pdfs order by attempts, arxiv_id")
    failed = {r["arxiv_id"]: r for r in pdfs if r["status"] == "failed"}
    assert len(failed) == 2
    errors = sorted(r["error"] for r in failed.values())
    assert "not a PDF" in errors[0] and "pypdfium2 cannot open" in errors[1]
    assert all(r["attempts"] == 3 and r["path"] is None for r in failed.values())
    ok = check_pdfs(store, arxiv_server, tmp_path)
    assert sorted(r["attempts"] for r in ok) == [1, 2]
    assert len(list((tmp_path / "pdfs" / "sha256").rglob("*.pdf"))) == 2
    assert spaced(c)
    # the next crawl tries the failed ones again, and only those
    before = len(arxiv_server.requests("pdf"))
    res = crawl(store, [IMAGENET], arxiv_url=arxiv_server.url, client=client(),
                data_dir=tmp_path)
    assert len(arxiv_server.requests("pdf")) - before == 2
    assert res[0].pdfs_fetched == 2
    assert len(check_pdfs(store, arxiv_server, tmp_path)) == 4


def test_missing_pdf_is_recorded_once(store, arxiv_server, arxiv_entries, tmp_path):
    arxiv_server.add_query(IMAGENET.search_query, arxiv_entries[:2])
    arxiv_server.pdfs.pop(next(iter(arxiv_server.pdfs)))
    res = crawl(store, [IMAGENET], arxiv_url=arxiv_server.url, client=client(),
                data_dir=tmp_path)
    assert (res[0].pdfs_fetched, res[0].pdfs_failed) == (1, 1)
    bad = rows(store, "select * from pdfs where status = 'failed'")[0]
    assert "HTTP 404" in bad["error"] and bad["attempts"] == 1


def test_stale_partial_files_are_removed(store, arxiv_server, arxiv_entries, tmp_path: Path):
    tmpdir = tmp_path / "pdfs" / "tmp"
    tmpdir.mkdir(parents=True)
    stale = tmpdir / "999999999-deadbeef.part"  # no such process
    stale.write_bytes(b"%PDF-1.4 half a file")
    arxiv_server.add_query(IMAGENET.search_query, arxiv_entries[:1])
    crawl(store, [IMAGENET], arxiv_url=arxiv_server.url, client=client(), data_dir=tmp_path)
    assert not stale.exists()


def test_retry_after_as_an_http_date(store, arxiv_server, arxiv_entries, tmp_path):
    import email.utils
    import time

    arxiv_server.add_query(IMAGENET.search_query, arxiv_entries[:2])
    when = email.utils.formatdate(time.time() + 40, usegmt=True)
    arxiv_server.faults = [Fault("api", "status", 503, {"Retry-After": when})]
    c = client()
    res = crawl(store, [IMAGENET], arxiv_url=arxiv_server.url, client=c, data_dir=tmp_path,
                pdfs=False)
    assert res[0].status == "ok" and store.count("papers") == 2
    assert any(30 < s <= 40 for s in c.clock.sleeps)


def test_retries_run_out_with_a_clear_message(store, arxiv_server, arxiv_entries, tmp_path):
    arxiv_server.add_query(IMAGENET.search_query, arxiv_entries[:2])
    arxiv_server.faults = [Fault("api", "status", 503) for _ in range(5)]
    res = crawl(store, [IMAGENET], arxiv_url=arxiv_server.url, client=client(retries=4),
                data_dir=tmp_path, pdfs=False)
    assert res[0].status == "failed"
    assert "HTTP 503 after 5 attempts" in res[0].error and "imagenet" in res[0].error
    assert store.count("papers") == 0
    assert rows(store, "select status from crawl_runs")[0]["status"] == "failed"
