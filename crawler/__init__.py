"""crawler: find each benchmark's papers on arXiv, store them, download their PDFs.

The library API (the CLI and the pipeline call only these)::

    from crawler import crawl, load_benchmarks, select_benchmarks, ingest, harvest

    benchmarks = load_benchmarks(settings.section("benchmarks"))   # [Benchmark, ...]
    summaries = crawl(store, select_benchmarks(benchmarks, ["imagenet"]),
                      since=None, until=None, max_results=None, pdfs=True,
                      arxiv_url="https://export.arxiv.org", delay=3.0,
                      data_dir="data", progress=None, user_agent=None)
    for s in summaries:                      # one CrawlSummary per benchmark
        print(s.line())

- ``crawl(store, benchmarks, ...) -> list[CrawlSummary]``: the arXiv API,
  incremental (a later crawl asks only for what was submitted since the last,
  with two days of overlap), politely (one request per ``delay`` seconds, one
  connection, retries honouring Retry-After), PDFs into the content-addressed
  cache under ``data_dir``. A benchmark that fails is reported in its summary
  (``status == "failed"``, ``error`` names the query and window) and in
  ``crawl_runs``; the others still run. ``ArxivUnreachableError`` is raised
  at once when the host cannot be reached.
- ``load_benchmarks(config_section) -> list[Benchmark]``: the built-in
  benchmarks, changed by ``[benchmarks.NAME]`` tables of dlcompute.toml.
- ``ingest(store, paths, benchmarks=..., metadata=..., data_dir=...)``: local
  PDFs named by arXiv id and metadata-snapshot JSON lines, no network.
- ``harvest(store, benchmarks, set_spec="cs", from_date=None, oai_url=...)``:
  OAI-PMH bulk metadata, terms matched locally.
- ``parse_arxiv_id(text) -> ArxivId`` (id, version, year, month) for every id form.

``progress`` is optional: a callable ``(iterable, label) -> context manager
yielding an iterable`` (e.g. a progress bar); one bar per benchmark.

The HTTP work uses plain ``requests`` (not the ``arxiv`` package) for full
control of pacing, timeouts and retries, and lxml for the Atom and OAI-PMH
XML. The crawler never imports ``dlcompute``: callers pass ``user_agent``
(default: ``dlcompute/VERSION`` from the installed distribution).
"""

from crawler.atom import ArxivQueryRejected, MalformedFeedError
from crawler.benchmarks import (
    DEFAULT_BENCHMARKS,
    Benchmark,
    BenchmarkConfigError,
    load_benchmarks,
    save_benchmarks,
    select_benchmarks,
)
from crawler.harvest import DEFAULT_OAI_URL, HarvestError, HarvestSummary, harvest
from crawler.http import (
    DEFAULT_DELAY,
    ArxivError,
    ArxivUnreachableError,
    Clock,
    FakeClock,
    HttpClient,
    PolitenessError,
    check_delay,
    default_user_agent,
)
from crawler.ids import ArxivId, InvalidArxivId, normalize_id, parse_arxiv_id, try_parse_arxiv_id
from crawler.local import IngestError, IngestSummary, PaperName, ingest, name_paper
from crawler.match import QuerySyntaxError, parse_query
from crawler.search import DEFAULT_ARXIV_URL, CrawlError, CrawlSummary, crawl

__all__ = [
    "DEFAULT_ARXIV_URL",
    "DEFAULT_BENCHMARKS",
    "DEFAULT_DELAY",
    "DEFAULT_OAI_URL",
    "ArxivError",
    "ArxivId",
    "ArxivQueryRejected",
    "ArxivUnreachableError",
    "Benchmark",
    "BenchmarkConfigError",
    "Clock",
    "CrawlError",
    "CrawlSummary",
    "FakeClock",
    "HarvestError",
    "HarvestSummary",
    "HttpClient",
    "IngestError",
    "IngestSummary",
    "InvalidArxivId",
    "MalformedFeedError",
    "PaperName",
    "PolitenessError",
    "QuerySyntaxError",
    "check_delay",
    "crawl",
    "default_user_agent",
    "harvest",
    "ingest",
    "load_benchmarks",
    "name_paper",
    "normalize_id",
    "parse_arxiv_id",
    "parse_query",
    "save_benchmarks",
    "select_benchmarks",
    "try_parse_arxiv_id",
]
