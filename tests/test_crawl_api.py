"""The crawl against a real HTTP server on 127.0.0.1 serving recorded arXiv arxiv_entries and real PDFs."""

from __future__ import annotations

import datetime as dt
import hashlib
import itertools
import time
from pathlib import Path

import pytest
from arxiv_server import bare_id, entry_published, synthetic_entry, version_of

from crawler import (
    ArxivUnreachableError,
    Benchmark,
    FakeClock,
    HttpClient,
    PolitenessError,
    crawl,
)

IMAGENET = Benchmark("imagenet", "ImageNet", ("top1_error",), ("abs:ImageNet",))
COCO = Benchmark("coco", "COCO", ("box_ap",), ('abs:"MS COCO"',))

pytest_plugins = ["crawl_fixtures"]  # fixtures arxiv_server, arxiv_entries


def client(delay: float = 3.0, **kw) -> HttpClient:
    return HttpClient(delay=delay, clock=FakeClock(), timeout=5, backoff=1, **kw)


def setup(server, arxiv_entries, n1=30, lo2=20, hi2=45):
    server.add_query(IMAGENET.search_query, arxiv_entries[:n1])
    server.add_query(COCO.search_query, arxiv_entries[lo2:hi2])
    return arxiv_entries[:n1], arxiv_entries[lo2:hi2]


def rows(store, sql, params=()):
    return list(store.db.query(sql, list(params)))


def check_pdfs(store, server, data_dir: Path):
    """Every ok PDF row points at a cache file whose bytes are the server's and hash matches."""
    ok = rows(store, "select * from pdfs where status = 'ok'")
    for r in ok:
        data = (data_dir / r["path"]).read_bytes()
        assert hashlib.sha256(data).hexdigest() == r["sha256"]
        assert r["path"] == f"pdfs/sha256/{r['sha256'][:2]}/{r['sha256']}.pdf"
        assert data == server.pdfs[f"{r['arxiv_id']}v{r['version']}"]
        assert r["size"] == len(data) and r["pages"] > 0
    # never a partial file: nothing left in the temporary folder, only .pdf in the cache
    assert not list((data_dir / "pdfs" / "tmp").glob("*"))
    assert all(f.suffix == ".pdf" for f in (data_dir / "pdfs" / "sha256").rglob("*")
               if f.is_file())
    return ok


def test_crawl_stores_exactly_what_the_server_returns(store, arxiv_server, arxiv_entries, tmp_path):
    img, coco = setup(arxiv_server, arxiv_entries)
    c = client()
    summaries = crawl(store, [IMAGENET, COCO], arxiv_url=arxiv_server.url, client=c,
                      data_dir=tmp_path, page_size=7)
    assert [s.status for s in summaries] == ["ok", "ok"]
    expected = {bare_id(e): e for e in img + coco}
    papers = {r["arxiv_id"]: r for r in rows(store, "select * from papers")}
    assert set(papers) == set(expected)
    for aid, e in expected.items():
        published = entry_published(e)
        assert (papers[aid]["year"], papers[aid]["month"]) == (int(published[:4]),
                                                               int(published[5:7]))
        assert papers[aid]["version"] == version_of(e)
        assert papers[aid]["published"] == published
    links = {(r["arxiv_id"], r["query"]) for r in rows(store, "select * from paper_queries")}
    assert links == {(bare_id(e), "imagenet") for e in img} | {(bare_id(e), "coco")
                                                               for e in coco}
    both = {bare_id(e) for e in img} & {bare_id(e) for e in coco}
    assert len(both) == 10
    assert (summaries[0].new, summaries[1].new, summaries[1].seen) == (30, 15, 25)
    ok = check_pdfs(store, arxiv_server, tmp_path)
    assert {r["arxiv_id"] for r in ok} == set(expected)
    # politeness: one request every 3 seconds on the injected clock, API and PDFs alike
    times = [r.at for r in c.log]
    assert len(times) == len(arxiv_server.log) > 45
    assert all(b - a >= 3.0 for a, b in itertools.pairwise(times))
    assert all(ua.startswith("dlcompute/") for ua in arxiv_server.agents)
    runs = rows(store, "select * from crawl_runs order by id")
    assert [(r["benchmark"], r["status"]) for r in runs] == [("imagenet", "ok"), ("coco", "ok")]
    assert sum(r["requests"] for r in runs) == len(arxiv_server.log)
    assert runs[0]["pdfs_fetched"] == 30 and runs[1]["pdfs_fetched"] == 15


def test_second_crawl_asks_only_for_new_submissions(store, arxiv_server, arxiv_entries, tmp_path):
    img, _ = setup(arxiv_server, arxiv_entries)
    crawl(store, [IMAGENET, COCO], arxiv_url=arxiv_server.url, client=client(),
          data_dir=tmp_path, page_size=10)
    before = len(arxiv_server.log)
    again = crawl(store, [IMAGENET, COCO], arxiv_url=arxiv_server.url, client=client(),
                  data_dir=tmp_path, page_size=10)
    new_requests = arxiv_server.log[before:]
    assert [k for k, *_ in new_requests] == ["api", "api"]  # one per benchmark, no PDFs
    assert all(s.new == 0 and s.pdfs_fetched == 0 for s in again)
    # the window starts two days before the end of the previous one
    lo = new_requests[0][2]["search_query"].split("submittedDate:[")[1][:12]
    start = dt.datetime.strptime(lo, "%Y%m%d%H%M").replace(tzinfo=dt.UTC)
    assert dt.timedelta(days=1, hours=23) < dt.datetime.now(dt.UTC) - start \
        < dt.timedelta(days=2, hours=1)

    # a paper submitted yesterday shows up in the next crawl, with its PDF
    yesterday = (dt.datetime.now(dt.UTC) - dt.timedelta(days=1)).strftime("%Y-%m-%dT%H:%M:%SZ")
    fresh = synthetic_entry(img[0], "2611.99999v1", yesterday)
    arxiv_server.add_query(IMAGENET.search_query, [*img, fresh])
    third = crawl(store, [IMAGENET], arxiv_url=arxiv_server.url, client=client(),
                  data_dir=tmp_path)
    assert (third[0].seen, third[0].new, third[0].pdfs_fetched) == (1, 1, 1)
    assert store.count("papers", "arxiv_id = '2611.99999'") == 1
    check_pdfs(store, arxiv_server, tmp_path)


def test_new_version_updates_the_paper_and_fetches_its_pdf(store, arxiv_server, arxiv_entries,
                                                            tmp_path):
    img = arxiv_entries[:5]
    arxiv_server.add_query(IMAGENET.search_query, img)
    crawl(store, [IMAGENET], arxiv_url=arxiv_server.url, client=client(), data_dir=tmp_path)
    target = img[2]
    v2 = synthetic_entry(target, f"{bare_id(target)}v{version_of(target) + 1}",
                         entry_published(target), "2026-01-01T00:00:00Z")
    arxiv_server.add_query(IMAGENET.search_query, [e if e is not target else v2 for e in img])
    since = entry_published(target)[:10]
    res = crawl(store, [IMAGENET], arxiv_url=arxiv_server.url, client=client(),
                data_dir=tmp_path, since=since)
    assert res[0].updated == 1 and res[0].new == 0 and res[0].pdfs_fetched == 1
    paper = rows(store, "select * from papers where arxiv_id = ?", [bare_id(target)])[0]
    assert paper["version"] == version_of(target) + 1
    assert paper["updated"] == "2026-01-01T00:00:00Z"
    assert store.count("pdfs", "arxiv_id = ?", [bare_id(target)]) == 2  # both versions kept
    check_pdfs(store, arxiv_server, tmp_path)


def test_windows_over_the_cap_are_bisected(store, arxiv_server, arxiv_entries, tmp_path):
    arxiv_server.add_query(IMAGENET.search_query, arxiv_entries[:40])
    arxiv_server.cap = 6  # like arXiv's 30,000: nothing past it is ever returned
    res = crawl(store, [IMAGENET], arxiv_url=arxiv_server.url, client=client(delay=0),
                data_dir=tmp_path, window_cap=6, page_size=4, pdfs=False)
    assert res[0].status == "ok"
    assert {r["arxiv_id"] for r in rows(store, "select arxiv_id from papers")} == \
        {bare_id(e) for e in arxiv_entries[:40]}
    assert res[0].seen == 40  # each paper seen once: windows do not overlap


def test_max_results_then_resume_without_duplicates(store, arxiv_server, arxiv_entries, tmp_path):
    arxiv_server.add_query(IMAGENET.search_query, arxiv_entries[:20])
    first = crawl(store, [IMAGENET], arxiv_url=arxiv_server.url, client=client(delay=0),
                  data_dir=tmp_path, max_results=5, pdfs=False)
    assert first[0].seen == 5 and first[0].truncated
    oldest = sorted(arxiv_entries[:20], key=entry_published)[:5]
    assert {r["arxiv_id"] for r in rows(store, "select arxiv_id from papers")} == \
        {bare_id(e) for e in oldest}
    crawl(store, [IMAGENET], arxiv_url=arxiv_server.url, client=client(delay=0),
          data_dir=tmp_path, pdfs=False)
    assert store.count("papers") == 20
    assert store.count("paper_queries") == 20


def test_delay_under_three_seconds_is_refused_for_arxiv(store, tmp_path):
    with pytest.raises(PolitenessError) as err:
        crawl(store, [IMAGENET], arxiv_url="https://export.arxiv.org", delay=1,
              data_dir=tmp_path)
    assert "--delay" in str(err.value) and "3" in str(err.value)
    assert store.count("crawl_runs") == 0


def test_unreachable_host_fails_fast_with_a_hint(store, tmp_path):
    import socket

    s = socket.socket()
    s.bind(("127.0.0.1", 0))
    port = s.getsockname()[1]
    s.close()  # nothing listens there now: connection refused
    t0 = time.monotonic()
    with pytest.raises(ArxivUnreachableError) as err:
        crawl(store, [IMAGENET, COCO], arxiv_url=f"http://127.0.0.1:{port}", delay=0,
              data_dir=tmp_path)
    assert time.monotonic() - t0 < 10
    assert "--arxiv-url" in str(err.value) and "refused" in str(err.value)
    runs = rows(store, "select * from crawl_runs")
    assert len(runs) == 1 and runs[0]["status"] == "failed"


def test_one_crawl_at_a_time_per_data_dir(store, tmp_path):
    from crawler import CrawlError
    from crawler.search import crawl_lock

    with crawl_lock(tmp_path), pytest.raises(CrawlError) as err:
        crawl(store, [IMAGENET], arxiv_url="http://127.0.0.1:9", delay=0, data_dir=tmp_path)
    assert "Another crawl is running" in str(err.value) and str(tmp_path) in str(err.value)
