"""Commands of the crawl stage: crawl, benchmarks, ingest, harvest."""

from __future__ import annotations

import datetime as dt
import json
from typing import TYPE_CHECKING, Any

import click

from dlcompute import __version__
from dlcompute.options import open_settings_store, progress, store_options, writes_store
from dlcompute.settings import Settings

if TYPE_CHECKING:
    import crawler
    from db import Store

ENV_ARXIV_URL = "DLCOMPUTE_ARXIV_URL"
ENV_OAI_URL = "DLCOMPUTE_OAI_URL"
# As in crawler (DEFAULT_ARXIV_URL, DEFAULT_OAI_URL), written out so that --help imports
# no HTTP stack; tests/test_startup.py checks they agree.
HELP_ARXIV_URL = "https://export.arxiv.org"
HELP_OAI_URL = "https://oaipmh.arxiv.org/oai"


def user_agent() -> str:
    import crawler

    return crawler.default_user_agent(__version__)


def _day(ctx: click.Context, param: click.Parameter, value: str | None) -> str | None:
    if value is None:
        return None
    try:
        dt.date.fromisoformat(value)
    except ValueError as e:
        raise click.BadParameter(f"{value!r} is not a date; use YYYY-MM-DD, e.g. 2019-06-01"
                                 ) from e
    return value


def _benchmarks(settings: Settings, names: tuple[str, ...] = ()) -> list[crawler.Benchmark]:
    import crawler

    all_ = crawler.load_benchmarks(settings.section("benchmarks"))
    try:
        return crawler.select_benchmarks(all_, names)
    except crawler.BenchmarkConfigError as e:
        raise click.BadParameter(str(e), param_hint="--benchmark") from e


def _bar(settings: Settings):
    return lambda items, label: progress(items, f"{label:<12}", settings)


def _delay(settings: Settings, cli_value: float | None, url: str) -> float:
    import crawler

    delay = settings.pick("crawl", "delay", cli_value, crawler.DEFAULT_DELAY, cast=float)
    try:
        crawler.check_delay(url, delay)
    except crawler.PolitenessError as e:
        raise click.UsageError(str(e)) from e
    return delay


def benchmark_since_options(f):
    """--benchmark and --since, shared by crawl and run."""
    f = click.option("--since", callback=_day, metavar="YYYY-MM-DD",
                     help="Submitted on or after this day [default: where the last crawl "
                          "ended].")(f)
    return click.option("--benchmark", "-b", "names", multiple=True, metavar="NAME",
                        help="Only this benchmark (repeatable) [default: all].")(f)


def arxiv_options(f):
    """--arxiv-url and --delay, shared by crawl and run."""
    f = click.option("--delay", type=float, default=None, metavar="S",
                     help="Seconds between requests [default: 3; at least 3 for arxiv.org].")(f)
    return click.option("--arxiv-url", metavar="URL", default=None,
                        help=f"arXiv or a mirror; the API is URL/api/query "
                             f"[default: {HELP_ARXIV_URL}; env {ENV_ARXIV_URL}].")(f)


@click.command(name="crawl")
@store_options
@writes_store
@benchmark_since_options
@click.option("--until", callback=_day, metavar="YYYY-MM-DD",
              help="Submitted on or before this day [default: now].")
@click.option("--max-results", type=click.IntRange(min=1), default=None, metavar="N",
              help="At most N papers per benchmark (oldest first).")
@click.option("--no-pdfs", is_flag=True, help="Metadata only; do not download PDFs.")
@arxiv_options
def crawl_command(settings: Settings, names: tuple[str, ...], since: str | None,
                  until: str | None, max_results: int | None, no_pdfs: bool,
                  arxiv_url: str | None, delay: float | None) -> None:
    """Crawl arXiv for each benchmark's papers and PDFs.

    A later crawl asks only for papers submitted since the last one (two days
    of overlap), one request every 3 seconds, and downloads only PDFs it does
    not have yet. One summary line per benchmark on stdout.

    \b
    Example:
        dlcompute crawl --benchmark imagenet --since 2019-01-01 --max-results 200
        dlcompute crawl --arxiv-url http://127.0.0.1:8000 --delay 0
    """
    import crawler

    url = settings.pick("crawl", "arxiv_url", arxiv_url, crawler.DEFAULT_ARXIV_URL,
                        env=ENV_ARXIV_URL, cast=str)
    wait = _delay(settings, delay, url)
    if since and until and since > until:
        raise click.BadParameter(f"--since {since} is after --until {until}", param_hint="--since")
    benchmarks = _benchmarks(settings, names)
    with open_settings_store(settings) as store:
        summaries = crawler.crawl(
            store, benchmarks, since=since, until=until, max_results=max_results,
            pdfs=not no_pdfs, arxiv_url=url, delay=wait, data_dir=settings.data_dir,
            progress=_bar(settings), user_agent=user_agent())
    for s in summaries:
        click.echo(s.line())
        for failure in s.failed_pdfs:
            click.echo(f"  PDF failed: {failure}", err=True)
    failed = [s for s in summaries if s.status != "ok"]
    if failed:
        raise click.ClickException(
            f"{len(failed)} of {len(summaries)} benchmark(s) failed ("
            + "; ".join(f"{s.benchmark}: {s.error}" for s in failed)
            + "); what was stored is kept, run the same command again to continue")


@click.command(name="benchmarks")
@store_options
@click.option("--json", "as_json", is_flag=True, help="Print the benchmarks as JSON.")
def benchmarks_command(settings: Settings, as_json: bool) -> None:
    """List the benchmarks: name, label, metrics and arXiv query.

    Built-in benchmarks, changed or extended by [benchmarks.NAME] tables in
    dlcompute.toml (label, metrics, terms; enabled = false drops one). The
    list is also written to the store's queries table.

    \b
    Example:
        dlcompute benchmarks --json
    """
    import crawler
    from db import T

    benchmarks = _benchmarks(settings)
    with open_settings_store(settings) as store:
        crawler.save_benchmarks(store, benchmarks)
        counts = {r["query"]: r["n"] for r in store.db.query(
            f"select query, count(*) as n from {T.paper_queries} group by query")}
    if as_json:
        click.echo(json.dumps([{"name": b.name, "label": b.label, "metrics": list(b.metrics),
                                "terms": list(b.terms), "search_query": b.search_query,
                                "papers": counts.get(b.name, 0)} for b in benchmarks],
                              indent=2))
        return
    for b in benchmarks:
        click.echo(f"{b.name:<14} {b.label:<26} {','.join(b.metrics):<22} "
                   f"{counts.get(b.name, 0):>6} papers  {b.search_query}")


@click.command(name="ingest")
@store_options
@writes_store
@click.argument("paths", nargs=-1, type=click.Path(exists=True))
@click.option("--metadata", type=click.Path(exists=True, dir_okay=False), default=None,
              metavar="FILE.jsonl",
              help="arXiv metadata-snapshot JSON lines; benchmark terms matched locally.")
@click.option("--id", "paper_id", default=None, metavar="ID",
              help="The arXiv id of a single PDF whose file name is not one, or a name for a "
                   "paper not on arXiv (with --date).")
@click.option("--title", default=None, metavar="TITLE",
              help="The paper's title [default: read from the PDF's first page].")
@click.option("--date", default=None, metavar="YYYY-MM",
              help="When a paper not on arXiv appeared (its --id is a name, not an arXiv id).")
def ingest_command(settings: Settings, paths: tuple[str, ...], metadata: str | None,
                   paper_id: str | None, title: str | None, date: str | None) -> None:
    """Add local PDFs and metadata without the network.

    PATH is a PDF or a directory searched for *.pdf (none is fine with
    --metadata), named by arXiv id as mirrors and arXiv's bulk S3 files are
    (1512.03385v1.pdf, hep-th9901001.pdf). Files with other names are skipped
    and listed; give one such file its arXiv id with --id, or, for a paper not
    on arXiv, a name with --id and its month with --date. A paper without a
    title takes it from the PDF's first page, and is linked to the benchmarks
    whose terms match the title and first page.

    \b
    Example:
        dlcompute ingest mirror/pdfs --metadata arxiv-metadata-oai-snapshot.json
        dlcompute ingest resnet.pdf --id 1512.03385v1
        dlcompute ingest alexnet.pdf --id alexnet_nips2012 --date 2012-12 \\
            --title "ImageNet Classification with Deep Convolutional Neural Networks"
    """
    import crawler

    if not paths and metadata is None:
        raise click.UsageError("Give PDF files or directories, or --metadata FILE.jsonl, or both")
    if (title is not None or date is not None) and paper_id is None:
        raise click.UsageError("--title and --date describe one PDF: give it --id ID too")
    benchmarks = _benchmarks(settings)
    try:
        if paper_id is not None:
            crawler.name_paper(paper_id, title=title, date=date)  # check before the store
    except crawler.IngestError as e:
        raise click.UsageError(str(e)) from e
    with open_settings_store(settings) as store:
        summary = crawler.ingest(store, paths, benchmarks=benchmarks, metadata=metadata,
                                 data_dir=settings.data_dir, arxiv_id=paper_id, title=title,
                                 date=date, progress=_bar(settings))
    for error in summary.errors:
        click.echo(f"skipped: {error}", err=True)
    click.echo(summary.line())


@click.command(name="harvest")
@store_options
@writes_store
@click.option("--set", "set_spec", default="cs", show_default=True, metavar="SET",
              help="OAI-PMH set (cs, math, physics:hep-th, ...).")
@click.option("--from", "from_date", callback=_day, metavar="YYYY-MM-DD",
              help="Records changed on or after this day [default: the last harvest].")
@click.option("--until", "until_date", callback=_day, metavar="YYYY-MM-DD",
              help="Records changed on or before this day.")
@click.option("--oai-url", metavar="URL", default=None,
              help=f"OAI-PMH endpoint [default: {HELP_OAI_URL}; env {ENV_OAI_URL}].")
@click.option("--delay", type=float, default=None, metavar="S",
              help="Seconds between requests [default: 3; at least 3 for arxiv.org].")
def harvest_command(settings: Settings, set_spec: str, from_date: str | None,
                    until_date: str | None, oai_url: str | None, delay: float | None) -> None:
    """Harvest arXiv metadata in bulk through OAI-PMH.

    Lists the set's records changed since the last harvest (metadataPrefix
    arXiv, resumption tokens, Retry-After honoured) and stores those whose
    title or abstract match a benchmark's terms.

    \b
    Example:
        dlcompute harvest --set cs --from 2024-01-01
    """
    import crawler

    url = settings.pick("crawl", "oai_url", oai_url, crawler.DEFAULT_OAI_URL,
                        env=ENV_OAI_URL, cast=str)
    wait = _delay(settings, delay, url)
    benchmarks = _benchmarks(settings)
    with open_settings_store(settings) as store:
        summary = crawler.harvest(store, benchmarks, set_spec=set_spec, from_date=from_date,
                                  until_date=until_date, oai_url=url, delay=wait,
                                  user_agent=user_agent(), progress=_bar(settings),
                                  data_dir=settings.data_dir)
    click.echo(summary.line())


def crawl_status(store: Store) -> dict[str, Any]:
    """Crawl details for ``dlcompute status --json``."""
    from db import T

    covered = {r["key"].split(".", 2)[2]: json.loads(r["value"])["until"]
               for r in store.db.query(f"select key, value from {T.meta} "
                                       f"where key like 'crawl.covered.%'")}
    harvested = {r["key"].split(".", 2)[2]: r["value"]
                 for r in store.db.query(f"select key, value from {T.meta} "
                                         f"where key like 'harvest.last.%'")}
    return {"crawl_covered_until": covered, "harvest_last": harvested}


COMMANDS = [crawl_command, benchmarks_command, ingest_command, harvest_command]
STATUS_HOOKS = [crawl_status]
