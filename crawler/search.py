"""The crawl: ask the arXiv API for each benchmark's papers, window by window, page by page.

How it goes, per benchmark:

1. The window: ``since``..``until`` if given; otherwise from where the last
   complete crawl of the same query ended (or the newest submission already
   stored for it), minus an overlap of two days, up to now.
2. Results are asked in ascending submission order. arXiv returns at most
   30,000 results per query, so a window whose ``totalResults`` exceeds that
   is bisected until no part does; each part is paged through with
   ``start=``/``max_results=``.
3. Each page is written in one transaction: the papers, the query's link to
   them and the run's counters. A crawl killed at any point leaves a store
   that the next crawl simply continues.
4. PDFs of the benchmark's papers that have no verified PDF yet are fetched.
"""

from __future__ import annotations

import datetime as dt
import fcntl
import json
import logging
import os
from collections.abc import Callable, Iterable, Iterator
from contextlib import AbstractContextManager, contextmanager, nullcontext
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from crawler.atom import ArxivQueryRejected, Entry, MalformedFeedError, error_summary, parse_feed
from crawler.benchmarks import Benchmark, save_benchmarks
from crawler.http import (
    DEFAULT_DELAY,
    ArxivError,
    ArxivUnreachableError,
    Clock,
    HttpClient,
    check_delay,
    is_arxiv_host,
    pace_dir,
)
from crawler.papers import (
    PaperRecord,
    finish_run,
    link_query,
    mark_interrupted_runs,
    start_run,
    upsert_paper,
)
from crawler.pdfs import PdfCache, fetch_pdf, mirrored_pdf_url, pdf_url_for, pending_pdfs
from db import Store, T, utcnow
from db.errors import DlcomputeError

log = logging.getLogger(__name__)

DEFAULT_ARXIV_URL = "https://export.arxiv.org"
MAX_RESULTS_PER_QUERY = 30_000  # arXiv returns no more than this for one query
MAX_PAGE_SIZE = 2_000  # nor more than this in one response
DEFAULT_PAGE_SIZE = 500
OVERLAP = dt.timedelta(days=2)  # late-indexed submissions still get caught
EPOCH = dt.datetime(1991, 1, 1, tzinfo=dt.UTC)  # before arXiv's first paper
FMT = "%Y%m%d%H%M"

Progress = Callable[[Iterable[Any], str], AbstractContextManager[Iterable[Any]]]


class CrawlError(DlcomputeError):
    """One or more benchmarks could not be crawled; the message names each."""


@dataclass
class CrawlSummary:
    """What one benchmark's crawl did."""

    benchmark: str
    window_start: str | None = None  # YYYYMMDDHHMM, None when there was nothing to ask
    window_end: str | None = None
    requests: int = 0
    seen: int = 0
    new: int = 0
    updated: int = 0
    pdfs_fetched: int = 0
    pdfs_failed: int = 0
    status: str = "ok"  # ok | failed
    error: str | None = None
    run_id: int | None = None
    truncated: bool = False  # stopped by max_results
    failed_pdfs: list[str] = field(default_factory=list)

    def line(self) -> str:
        window = (f"{_human(self.window_start)}..{_human(self.window_end)}"
                  if self.window_start else "up to date")
        text = (f"{self.benchmark}: {self.status}, window {window}, {self.requests} requests, "
                f"{self.seen} papers seen, {self.new} new, {self.updated} updated, "
                f"{self.pdfs_fetched} PDFs fetched, {self.pdfs_failed} failed")
        return text + (f"; {self.error}" if self.error else "")


def _human(stamp: str | None) -> str:
    if not stamp:
        return "-"
    return f"{stamp[:4]}-{stamp[4:6]}-{stamp[6:8]} {stamp[8:10]}:{stamp[10:12]}"


def parse_day(value: str | dt.date | dt.datetime | None, *, end: bool = False,
              name: str = "date") -> dt.datetime | None:
    """YYYY-MM-DD (or a date) as UTC; ``end`` gives the day's last minute."""
    if value is None:
        return None
    if isinstance(value, dt.datetime):
        return value if value.tzinfo else value.replace(tzinfo=dt.UTC)
    if isinstance(value, str):
        try:
            value = dt.date.fromisoformat(value)
        except ValueError as e:
            raise DlcomputeError(f"{name} {value!r} is not a date; use YYYY-MM-DD") from e
    day = dt.datetime(value.year, value.month, value.day, tzinfo=dt.UTC)
    return day + dt.timedelta(hours=23, minutes=59) if end else day


def _coverage_key(name: str) -> str:
    return f"crawl.covered.{name}"


def start_for(store: Store, bench: Benchmark) -> dt.datetime:
    """Where an incremental crawl of ``bench`` starts (overlap included)."""
    marks = [EPOCH]
    raw = store.get_meta(_coverage_key(bench.name))
    if raw:
        cover = json.loads(raw)
        # a changed query has covered nothing yet
        if cover.get("search_query") == bench.search_query:
            marks.append(dt.datetime.strptime(cover["until"], FMT).replace(tzinfo=dt.UTC)
                         - OVERLAP)
    newest = list(store.db.query(
        f"select max(p.published) as m from {T.papers} p join {T.paper_queries} q "
        f"on q.arxiv_id = p.arxiv_id where q.query = ? and q.via = 'api'", [bench.name]))
    if newest and newest[0]["m"]:
        marks.append(dt.datetime.fromisoformat(newest[0]["m"].replace("Z", "+00:00"))
                     - OVERLAP)
    return max(marks).replace(second=0, microsecond=0)


def _record(entry: Entry) -> PaperRecord:
    return PaperRecord(
        arxiv_id=entry.arxiv_id, year=entry.year, month=entry.month, version=entry.version,
        title=entry.title, abstract=entry.abstract, authors=entry.authors,
        categories=entry.categories, primary_category=entry.primary_category,
        published=entry.published, updated=entry.updated, doi=entry.doi,
        journal_ref=entry.journal_ref, comment=entry.comment, pdf_url=entry.pdf_url)


class _Crawler:
    """State shared by the benchmarks of one ``crawl`` call."""

    def __init__(self, store: Store, client: HttpClient, arxiv_url: str, *,
                 page_size: int, window_cap: int, bad_page_retries: int, cache: PdfCache):
        self.store = store
        self.client = client
        self.api = arxiv_url.rstrip("/") + "/api/query"
        self.arxiv_url = arxiv_url.rstrip("/")
        self.page_size = page_size
        self.window_cap = window_cap
        self.bad_page_retries = bad_page_retries
        self.cache = cache
        self._base = 0  # requests made before the current benchmark

    def page(self, query: str, start: int, size: int, what: str):
        """One page, retried when empty-but-should-not-be or malformed."""
        params = {"search_query": query, "start": start, "max_results": size,
                  "sortBy": "submittedDate", "sortOrder": "ascending"}
        problem = ""
        for attempt in range(self.bad_page_retries + 1):
            resp = self.client.fetch(self.api, params, what=what)
            if resp.status_code == 400:
                reason = error_summary(resp.content) or resp.text[:200].strip()
                raise ArxivQueryRejected(self._rejected(what, query, reason))
            if resp.status_code == 404:
                raise ArxivError(
                    f"{what}: HTTP 404 for {self.api}; is {self.arxiv_url} arXiv or a mirror? "
                    f"Its API must answer at URL/api/query", resp.url, 404)
            if resp.status_code != 200:
                raise ArxivError(f"{what}: HTTP {resp.status_code}", resp.url, resp.status_code)
            try:
                feed = parse_feed(resp.content)
            except ArxivQueryRejected as e:
                raise ArxivQueryRejected(self._rejected(what, query, str(e))) from e
            except MalformedFeedError as e:
                problem = f"malformed page ({e})"
            else:
                # arXiv sometimes answers a page in range with no entries; asking again helps
                if feed.entries or start >= min(feed.total, self.window_cap):
                    return feed
                problem = f"empty page at start={start} of {feed.total} results"
            log.warning("%s: %s, attempt %d", what, problem, attempt + 1)
        raise ArxivError(f"{what}: {problem}, still after {self.bad_page_retries + 1} attempts",
                         self.api)

    @staticmethod
    def _rejected(what: str, query: str, reason: str) -> str:
        return (f"{what}: arXiv rejected the query: {reason} (search_query={query}); "
                f"fix the benchmark's terms in dlcompute.toml")

    def windows(self, bench: Benchmark, lo: dt.datetime, hi: dt.datetime,
                summary: CrawlSummary, max_results: int | None) -> Iterator[None]:
        """Crawl [lo, hi], bisecting windows over the cap; yields after each page."""
        todo = [(lo, hi)]
        while todo:
            a, b = todo.pop(0)
            query = bench.windowed_query(a.strftime(FMT), b.strftime(FMT))
            where = f"query {bench.name!r} window {a:%Y-%m-%d %H:%M}..{b:%Y-%m-%d %H:%M}"
            start = 0
            while True:
                size = self.page_size
                if max_results is not None:
                    size = min(size, max_results - summary.seen)
                    if size <= 0:
                        summary.truncated = True
                        return
                feed = self.page(query, start, size, where)
                if start == 0 and feed.total > self.window_cap and b - a > dt.timedelta(
                        minutes=1):
                    mid = a + (b - a) / 2
                    mid = mid.replace(second=0, microsecond=0)
                    log.info("%s: %d results exceed the cap of %d; splitting", where,
                             feed.total, self.window_cap)
                    todo[:0] = [(a, mid), (mid + dt.timedelta(minutes=1), b)]
                    yield None
                    break
                self.store_page(bench, feed.entries, summary)
                yield None
                start += len(feed.entries)
                if not feed.entries or start >= min(feed.total, self.window_cap):
                    if feed.total > self.window_cap:
                        log.warning("%s: %d results in one minute; only the first %d are "
                                    "available from arXiv", where, feed.total, self.window_cap)
                    break

    def store_page(self, bench: Benchmark, entries: list[Entry], summary: CrawlSummary) -> None:
        now = utcnow()
        with self.store.transaction():
            for entry in entries:
                status = upsert_paper(self.store, _record(entry), "api", now)
                link_query(self.store, entry.arxiv_id, bench.name, "api", now)
                summary.seen += 1
                summary.new += status == "new"
                summary.updated += status == "updated"
            summary.requests = self.client.requests_made - self._base
            self.store.db[T.crawl_runs].update(summary.run_id, {
                "requests": summary.requests, "seen": summary.seen, "new": summary.new,
                "updated": summary.updated})

    def pdfs(self, bench: Benchmark, summary: CrawlSummary) -> Iterator[None]:
        for row in pending_pdfs(self.store, bench.name, self.cache):
            url = row["pdf_url"] or pdf_url_for(row["arxiv_id"], row["version"],
                                                self._pdf_base())
            url = self._polite_pdf_url(mirrored_pdf_url(url, row["arxiv_id"], row["version"],
                                                        self.arxiv_url))
            result = fetch_pdf(self.store, self.client, self.cache, row["arxiv_id"],
                               row["version"], url)
            if result.status == "ok":
                summary.pdfs_fetched += 1
            else:
                summary.pdfs_failed += 1
                summary.failed_pdfs.append(f"{row['arxiv_id']}: {result.error}")
            yield None

    def _pdf_base(self) -> str:
        return self.arxiv_url if not is_arxiv_host(self.arxiv_url) else DEFAULT_ARXIV_URL

    def _polite_pdf_url(self, url: str) -> str:
        # arXiv asks robots to fetch from export.arxiv.org, not the main site
        if self.arxiv_url == DEFAULT_ARXIV_URL:
            for main in ("https://arxiv.org/", "http://arxiv.org/"):
                if url.startswith(main):
                    return DEFAULT_ARXIV_URL + "/" + url[len(main):]
        return url

    def benchmark(self, bench: Benchmark, since: dt.datetime | None, until: dt.datetime | None,
                  max_results: int | None, pdfs: bool, summary: CrawlSummary) -> Iterator[None]:
        self._base = self.client.requests_made
        lo = since or start_for(self.store, bench)
        now = dt.datetime.now(dt.UTC).replace(second=0, microsecond=0)
        hi = min(until, now) if until else now
        run_from, run_to = lo.strftime(FMT), hi.strftime(FMT)
        summary.run_id = start_run(self.store, "api", bench.name, run_from, run_to)
        if lo <= hi:
            summary.window_start, summary.window_end = run_from, run_to
        try:
            if lo <= hi:
                yield from self.windows(bench, lo, hi, summary, max_results)
                if not summary.truncated:
                    self._covered(bench, lo, hi, explicit=since is not None)
        except ArxivUnreachableError:
            raise
        except (ArxivError, ArxivQueryRejected) as e:
            summary.status, summary.error = "failed", f"{e}"
            log.error("%s: %s", bench.name, e)
        if pdfs:
            yield from self.pdfs(bench, summary)
        summary.requests = self.client.requests_made - self._base

    def _covered(self, bench: Benchmark, lo: dt.datetime, hi: dt.datetime, explicit: bool
                 ) -> None:
        """Remember how far this query is complete, when the window joins what was done."""
        key = _coverage_key(bench.name)
        raw = self.store.get_meta(key)
        prev = json.loads(raw) if raw else None
        if prev and prev.get("search_query") != bench.search_query:
            prev = None
        if prev:
            prev_until = dt.datetime.strptime(prev["until"], FMT).replace(tzinfo=dt.UTC)
            if lo > prev_until + dt.timedelta(minutes=1) or hi <= prev_until:
                return  # a gap, or nothing new: the old mark stays true
        elif explicit and lo > EPOCH:
            return  # a window in the middle of nowhere proves nothing about before it
        with self.store.transaction():
            self.store.set_meta(key, json.dumps({"search_query": bench.search_query,
                                                 "until": hi.strftime(FMT)}))


def crawl(store: Store, benchmarks: Iterable[Benchmark], *,
          since: str | dt.date | None = None, until: str | dt.date | None = None,
          max_results: int | None = None, pdfs: bool = True,
          arxiv_url: str = DEFAULT_ARXIV_URL, delay: float = DEFAULT_DELAY,
          data_dir: str | Path = "data", progress: Progress | None = None,
          user_agent: str | None = None, clock: Clock | None = None,
          timeout: float = 60.0, retries: int = 4, backoff: float = 5.0,
          page_size: int = DEFAULT_PAGE_SIZE, window_cap: int = MAX_RESULTS_PER_QUERY,
          bad_page_retries: int = 2, client: HttpClient | None = None) -> list[CrawlSummary]:
    """Crawl arXiv for each benchmark's papers (and PDFs) into ``store``.

    Returns one CrawlSummary per benchmark; a benchmark that fails is recorded
    (``crawl_runs`` and its summary) and the others still run. Raises
    ArxivUnreachableError at once when the host cannot be reached, and
    PolitenessError for a delay under 3 s against arxiv.org.
    """
    check_delay(arxiv_url, delay)
    if max_results is not None and max_results < 1:
        raise DlcomputeError(f"max_results {max_results} must be at least 1")
    if not 1 <= page_size <= MAX_PAGE_SIZE:
        raise DlcomputeError(f"page_size {page_size} must be between 1 and {MAX_PAGE_SIZE}")
    lo = parse_day(since, name="since")
    hi = parse_day(until, end=True, name="until")
    if lo and hi and lo > hi:
        raise DlcomputeError(f"since {since} is after until {until}; swap them")
    benchmarks = list(benchmarks)
    with crawl_lock(Path(data_dir)):
        save_benchmarks(store, benchmarks)
        # no other crawl holds the lock, so a 'running' run is one that died
        mark_interrupted_runs(store)
        cache = PdfCache(data_dir)
        cache.clean_stale()
        return _crawl(store, benchmarks, cache, lo, hi, max_results=max_results, pdfs=pdfs,
                      arxiv_url=arxiv_url, progress=progress, client=client,
                      page_size=page_size, window_cap=window_cap,
                      bad_page_retries=bad_page_retries,
                      make_client=lambda: HttpClient(delay=delay, timeout=timeout,
                                                     retries=retries, backoff=backoff,
                                                     user_agent=user_agent, clock=clock,
                                                     pace_dir=pace_dir(data_dir)))


@contextmanager
def crawl_lock(data_dir: Path) -> Iterator[None]:
    """One crawl at a time per data dir (an advisory lock, released when the process dies)."""
    data_dir.mkdir(parents=True, exist_ok=True)
    path = data_dir / "crawl.lock"
    with open(path, "a+") as fh:
        try:
            fcntl.flock(fh, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError as e:
            fh.seek(0)
            raise CrawlError(
                f"Another crawl is running on {data_dir} (pid {fh.read().strip() or '?'}); "
                f"wait for it to finish, or use another --data-dir") from e
        fh.seek(0)
        fh.truncate()
        fh.write(str(os.getpid()))
        fh.flush()
        try:
            yield
        finally:
            fcntl.flock(fh, fcntl.LOCK_UN)


def _crawl(store: Store, benchmarks: list[Benchmark], cache: PdfCache,
           lo: dt.datetime | None, hi: dt.datetime | None, *, max_results: int | None,
           pdfs: bool, arxiv_url: str, progress: Progress | None, client: HttpClient | None,
           page_size: int, window_cap: int, bad_page_retries: int,
           make_client: Callable[[], HttpClient]) -> list[CrawlSummary]:
    own = client is None
    client = client or make_client()
    worker = _Crawler(store, client, arxiv_url, page_size=page_size, window_cap=window_cap,
                      bad_page_retries=bad_page_retries, cache=cache)
    summaries: list[CrawlSummary] = []
    try:
        for bench in benchmarks:
            summary = CrawlSummary(bench.name)
            summaries.append(summary)
            steps = worker.benchmark(bench, lo, hi, max_results, pdfs, summary)
            try:
                bar = progress(steps, bench.label) if progress else nullcontext(steps)
                with bar as it:
                    for _ in it:
                        pass
            except ArxivUnreachableError as e:
                summary.status, summary.error = "failed", str(e)
                summary.requests = client.requests_made - worker._base
                _close(store, summary, client)
                raise
            except BaseException as e:
                # Ctrl-C or a bug: say so in the run, then let it through
                summary.status, summary.error = "failed", f"{type(e).__name__}: {e}"
                _close(store, summary, client, status="interrupted"
                       if isinstance(e, KeyboardInterrupt) else "failed")
                raise
            _close(store, summary, client)
    finally:
        if own:
            client.close()
    return summaries


def _close(store: Store, summary: CrawlSummary, client: HttpClient,
           status: str | None = None) -> None:
    if summary.run_id is None:
        return
    finish_run(store, summary.run_id, status or summary.status, summary.error,
               requests=summary.requests, seen=summary.seen, new=summary.new,
               updated=summary.updated, pdfs_fetched=summary.pdfs_fetched,
               pdfs_failed=summary.pdfs_failed)
