"""The whole pipeline, stage after stage: crawl, extract, curate, analyze.

Each stage skips the work already done (the crawl asks arXiv only for what is
new, extraction only takes PDFs this extractor version has not read, curate and
analyze rebuild their outputs from the store), so a run stopped at any point
and started again ends the same as an uninterrupted one. A lock beside the
store keeps two runs from writing it at once.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

from db.errors import DlcomputeError
from dlcompute import __version__

# The stages (pandas, spaCy, pypdfium2 ...) are imported in the functions that run them,
# so that importing the command line stays fast.

log = logging.getLogger(__name__)

STAGES = ("crawl", "extract", "curate", "analyze")


class PipelineError(DlcomputeError):
    """A stage failed in a way the next stages cannot work around."""


@dataclass
class PipelineOptions:
    """What ``dlcompute run`` was asked to do, settings already resolved."""

    benchmarks: list[Any]  # crawler.Benchmark
    arxiv_url: str
    delay: float
    user_agent: str
    since: str | None = None
    until: str | None = None
    max_results: int | None = None
    pdfs: bool = True
    out_dir: Path = Path("report")
    executor_kwargs: dict[str, Any] = field(default_factory=dict)  # for make_executor
    curate_kwargs: dict[str, Any] = field(default_factory=dict)
    analysis_settings: dict[str, Any] = field(default_factory=dict)
    skip: tuple[str, ...] = ()


@dataclass
class PipelineSummary:
    papers_new: int = 0
    papers_updated: int = 0
    pdfs_fetched: int = 0
    pdfs_failed: int = 0
    crawl_failures: list[str] = field(default_factory=list)
    papers_extracted: int = 0
    extraction_failures: int = 0
    facts_extracted: int = 0
    observations: int = 0
    flags_open: int = 0
    report: str | None = None
    skipped_analyses: int = 0
    warnings: list[str] = field(default_factory=list)
    seconds: dict[str, float] = field(default_factory=dict)

    def as_dict(self) -> dict[str, Any]:
        return asdict(self)

    def lines(self) -> list[str]:
        out = [
            f"papers: {self.papers_new} new, {self.papers_updated} updated",
            f"PDFs: {self.pdfs_fetched} fetched, {self.pdfs_failed} failed",
            f"extraction: {self.papers_extracted} papers, {self.facts_extracted} facts, "
            f"{self.extraction_failures} failed",
            f"curation: {self.observations} observations, {self.flags_open} flags open",
            f"report: {self.report or '(not written)'}",
        ]
        out += [f"crawl failed: {f}" for f in self.crawl_failures]
        out += [f"warning: {w}" for w in self.warnings]
        return out


Echo = Callable[[str], None]


def _timed(summary: PipelineSummary, stage: str, t0: float) -> None:
    summary.seconds[stage] = round(time.monotonic() - t0, 2)


def run_pipeline(db_path: Path, data_dir: Path, options: PipelineOptions, *,
                 progress: Callable[..., Any] | None = None,
                 on_extracted: Callable[[Any], None] | None = None,
                 echo: Echo = log.info, lock_wait: float | None = 0.0) -> PipelineSummary:
    """Run the stages in order on the store at ``db_path``; returns what was done.

    When arXiv cannot be reached the crawl is reported in ``summary.warnings``
    (with the fix: a mirror, or ``ingest``) and the other stages run on what the
    store holds; PipelineError only when the store holds no papers at all.
    The store's lock is held throughout (the stages run in this process, under it);
    ``lock_wait``: seconds to wait for another holder (None: as long as it takes).
    """
    from db import open_store
    from db.store import check_store_path
    from dlcompute.lock import StoreLock

    summary = PipelineSummary()
    check_store_path(Path(db_path))
    lock = StoreLock(db_path, command="run").acquire(
        lock_wait, on_wait=lambda who: echo(f"waiting for {who} to finish with {db_path}"))
    with lock, open_store(db_path, verify=True) as store:
        if "crawl" not in options.skip:
            _crawl(store, data_dir, options, summary, progress, echo)
        if "extract" not in options.skip:
            _extract(store, data_dir, options, summary, on_extracted, echo)
        if "curate" not in options.skip:
            _curate(store, options, summary, echo)
        if "analyze" not in options.skip:
            _analyze(store, options, summary, echo)
    return summary


def _crawl(store: Any, data_dir: Path, options: PipelineOptions, summary: PipelineSummary,
           progress: Callable[..., Any] | None, echo: Echo) -> None:
    import crawler
    from db import T

    t0 = time.monotonic()
    echo("crawl: asking arXiv for new papers")
    try:
        results = crawler.crawl(
            store, options.benchmarks, since=options.since, until=options.until,
            max_results=options.max_results, pdfs=options.pdfs, arxiv_url=options.arxiv_url,
            delay=options.delay, data_dir=data_dir, progress=progress,
            user_agent=options.user_agent)
    except crawler.ArxivUnreachableError as e:
        _timed(summary, "crawl", t0)
        summary.crawl_failures.append(str(e))
        if store.count(T.papers) == 0:
            raise PipelineError(
                f"{e}; the store {store.path} holds no papers to go on with: point "
                f"--arxiv-url at a reachable mirror, or add PDFs you have with "
                f"dlcompute ingest PATH (or try dlcompute demo)") from e
        warning = (f"crawl skipped: {e}; going on with the {store.count(T.papers)} papers "
                   f"the store holds (to crawl, point --arxiv-url at a mirror; to add PDFs "
                   f"you have, dlcompute ingest PATH)")
        summary.warnings.append(warning)
        echo(f"Warning: {warning}")
        return
    for s in results:
        echo(s.line())
        summary.papers_new += s.new
        summary.papers_updated += s.updated
        summary.pdfs_fetched += s.pdfs_fetched
        summary.pdfs_failed += s.pdfs_failed
        if s.status != "ok":
            summary.crawl_failures.append(f"{s.benchmark}: {s.error}")
    _timed(summary, "crawl", t0)
    if results and len(summary.crawl_failures) == len(results) and store.count(T.papers) == 0:
        raise PipelineError(
            "every benchmark's crawl failed and the store holds no papers ("
            + "; ".join(summary.crawl_failures) + "); point --arxiv-url at a reachable "
            "mirror and run again")


def _extract(store: Any, data_dir: Path, options: PipelineOptions, summary: PipelineSummary,
             on_extracted: Callable[[Any], None] | None, echo: Echo) -> None:
    from dlcompute.executors import make_executor
    from extract.runner import run_extraction

    t0 = time.monotonic()
    pool = make_executor(**options.executor_kwargs)
    try:
        result = run_extraction(store, data_dir, executor=pool, on_result=on_extracted)
    finally:
        pool.close()
    for line in result.damaged:
        summary.warnings.append(line)
        echo(f"Warning: {line}")
    summary.papers_extracted = result.papers
    summary.facts_extracted = result.facts
    summary.extraction_failures = sum(
        n for status, n in result.by_status.items() if status not in ("ok", "no_text"))
    echo(f"extract: {result.papers} papers, {result.facts} facts, {result.skipped} already done")
    _timed(summary, "extract", t0)


def _curate(store: Any, options: PipelineOptions, summary: PipelineSummary,
            echo: Echo) -> None:
    import curate

    t0 = time.monotonic()
    result = curate.curate(store, **options.curate_kwargs)
    summary.observations = result.observations
    summary.flags_open = result.flags_open
    echo(f"curate: {result.observations} observations, {result.flags_open} flags open")
    _timed(summary, "curate", t0)


def _analyze(store: Any, options: PipelineOptions, summary: PipelineSummary,
             echo: Echo) -> None:
    import analysis

    t0 = time.monotonic()
    result = analysis.analyze(store, out_dir=options.out_dir,
                              settings=options.analysis_settings, version=__version__)
    summary.report = str(result.index_html)
    summary.skipped_analyses = len(result.skipped)
    echo(f"analyze: report at {result.index_html}")
    _timed(summary, "analyze", t0)
