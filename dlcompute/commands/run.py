"""`dlcompute run`: the whole pipeline in one command."""

from __future__ import annotations

import json
from pathlib import Path

import click

from dlcompute.commands.analysis import analysis_settings
from dlcompute.commands.crawl import (
    ENV_ARXIV_URL,
    _bar,
    _benchmarks,
    _delay,
    arxiv_options,
    benchmark_since_options,
    user_agent,
)
from dlcompute.commands.curate import curate_kwargs
from dlcompute.commands.extract import executor_kwargs
from dlcompute.options import lock_wait, store_options, wait_option
from dlcompute.pipeline import STAGES, PipelineOptions, run_pipeline
from dlcompute.settings import SCHEMA, Settings


@click.command(name="run")
@store_options
@benchmark_since_options
@click.option("--max-results", type=click.IntRange(min=1), default=None, metavar="N",
              help="At most N papers per benchmark and crawl.")
@arxiv_options
@click.option("--out", "out_dir", default=None, metavar="DIR",
              help="Where the report goes [default: report/].")
@click.option("--workers", type=int, default=None, help="Extraction worker processes.")
@click.option("--executor", type=click.Choice(SCHEMA["extract"]["executor"].choices), default=None,
              help="Extract here (local) or on a Dask cluster (dask).")
@click.option("--scheduler", default=None, metavar="ADDRESS",
              help="Dask scheduler for --executor dask, e.g. tcp://10.0.0.5:8786.")
@click.option("--skip", type=click.Choice(STAGES), multiple=True,
              help="Leave out a stage (repeatable), e.g. --skip crawl for offline re-runs.")
@click.option("--json", "as_json", is_flag=True, help="Print the summary as JSON.")
@wait_option
def run_cmd(settings: Settings, names: tuple[str, ...], since: str | None,
            max_results: int | None, arxiv_url: str | None, delay: float | None,
            out_dir: str | None, workers: int | None, executor: str | None,
            scheduler: str | None, skip: tuple[str, ...], as_json: bool,
            wait: float | None) -> None:
    """Run the pipeline: crawl, extract, curate, analyze.

    Each stage skips the work already done, so a run that was stopped (Ctrl-C
    or a kill) and started again ends as an uninterrupted run would. A lock
    beside the store keeps a second run (or any other writing command) from
    writing it at the same time: it stops naming the holder, or waits with --wait.
    Ends with a summary: papers new, PDFs fetched and failed, facts extracted,
    flags open and the report's path.

    \b
    Example:
        dlcompute run --benchmark imagenet --since 2024-01-01 --max-results 100
        dlcompute run --arxiv-url http://127.0.0.1:8000 --delay 0 --out report
    """
    import crawler

    url = settings.pick("crawl", "arxiv_url", arxiv_url, crawler.DEFAULT_ARXIV_URL,
                        env=ENV_ARXIV_URL, cast=str)
    options = PipelineOptions(
        benchmarks=_benchmarks(settings, names),
        arxiv_url=url,
        delay=_delay(settings, delay, url),
        user_agent=user_agent(),
        since=since,
        max_results=max_results,
        out_dir=Path(out_dir or settings.pick("analysis", "out", None, "report")),
        executor_kwargs=executor_kwargs(settings, workers=workers, executor=executor,
                                        scheduler=scheduler),
        curate_kwargs=curate_kwargs(settings),
        analysis_settings=analysis_settings(settings, None, None),
        skip=skip,
    )
    echo = (lambda _m: None) if as_json else (lambda m: click.echo(m, err=True))
    summary = run_pipeline(settings.db, settings.data_dir, options, progress=_bar(settings),
                           echo=echo, lock_wait=lock_wait(wait))
    if as_json:
        click.echo(json.dumps(summary.as_dict(), indent=2))
    else:
        for line in summary.lines():
            click.echo(line)


COMMANDS = [run_cmd]
