"""`dlcompute extract` and `dlcompute hardware`: options in, a library call, output out."""

from __future__ import annotations

import json
from dataclasses import asdict
from typing import TYPE_CHECKING, Any

import click

from dlcompute.options import open_settings_store, progress, store_options, writes_store
from dlcompute.settings import SCHEMA, Settings

if TYPE_CHECKING:
    from extract.catalog import Chip

ENV_SCHEDULER = "DLCOMPUTE_SCHEDULER"
EXECUTORS = SCHEMA["extract"]["executor"].choices
SEND_MODES = SCHEMA["extract"]["send"].choices
# As in extract.runner, written out so that --help imports no extractor; tests check.
HELP_WORKERS, HELP_TIMEOUT, HELP_MAX_MEMORY_MB = 2, 300.0, 2048.0


def _chip_dict(chip: Chip) -> dict[str, Any]:
    d = asdict(chip)
    d["aliases"] = list(chip.aliases)
    d["name"] = chip.name
    return d


def _fmt(value: float | None) -> str:
    return "-" if value is None else f"{value:,.0f}"


def _table(chips: list[Chip]) -> str:
    head = ("chip", "kind", "released", "FP32 base", "FP32 boost", "tensor", "aliases")
    rows = [head] + [
        (c.chip, c.kind, c.release_date or "-", _fmt(c.fp32_base_gflops),
         _fmt(c.fp32_boost_gflops), _fmt(c.tensor_gflops),
         ", ".join(c.aliases[:4]) + (" ..." if len(c.aliases) > 4 else ""))
        for c in chips
    ]
    widths = [max(len(r[i]) for r in rows) for i in range(len(head) - 1)]
    return "\n".join(
        "  ".join(cell.ljust(w) for cell, w in zip(r[:-1], widths, strict=True)) + "  " + r[-1]
        for r in rows).rstrip()


@click.command()
@store_options
@click.argument("query", required=False)
@click.option("--year", type=int, default=None, help="Paper year, to settle ambiguous names.")
@click.option("--month", type=click.IntRange(1, 12), default=None, help="Paper month.")
@click.option("--json", "as_json", is_flag=True, help="Print JSON instead of a table.")
@click.option("--load", is_flag=True, help="Load the catalog into the store's hardware table.")
def hardware(settings: Settings, query: str | None, year: int | None, month: int | None,
             as_json: bool, load: bool) -> None:
    """List the hardware catalog, or resolve a name to a chip.

    QUERY keeps chips whose name or an alias contains it and shows what the
    name resolves to ("Cloud TPU v3-8" -> 4 x TPU v3). GFLOPS: FP32 base
    clock (the paper's convention), FP32 boost, FP16/BF16 tensor.

    \b
    Example:
        dlcompute hardware "TITAN X" --year 2017
        dlcompute hardware --json
        dlcompute hardware --load --db papers.db
    """
    from extract.catalog import catalog_version, load_catalog, resolve
    from extract.store_writer import load_hardware

    if load:
        with open_settings_store(settings) as store:
            n = load_hardware(store)
        click.echo(f"{n} chips of catalog {catalog_version()} loaded into {settings.db}",
                   err=True)
    chips = load_catalog()
    resolution = None
    if query:
        q = query.lower()
        resolution = resolve(query, year=year, month=month)
        matched = [c for c in chips
                   if q in c.chip.lower() or any(q in a.lower() for a in c.aliases)]
        if resolution is not None and resolution.chip not in matched:
            matched.insert(0, resolution.chip)
        chips = matched
    if as_json:
        out: dict[str, Any] = {"catalog_version": catalog_version(),
                               "chips": [_chip_dict(c) for c in chips]}
        if query:
            out["query"] = query
            out["resolution"] = None if resolution is None else {
                "chip": resolution.chip.chip, "name": resolution.chip.name,
                "chips_per_unit": resolution.chips_per_unit,
                "implies_count": resolution.implies_count, "system": resolution.system,
                "note": resolution.note}
        click.echo(json.dumps(out, indent=2))
        return
    if query:
        if resolution is None:
            click.echo(f'"{query}" resolves to no chip', err=True)
        else:
            r = resolution
            click.echo(f'"{query}" -> {r.chips_per_unit:g} x {r.chip.chip}'
                       + (f" ({r.note})" if r.note else ""), err=True)
    if chips:
        click.echo(_table(chips))


def executor_kwargs(settings: Settings, workers: int | None = None,
                    timeout: float | None = None, max_memory: float | None = None,
                    executor: str | None = None, scheduler: str | None = None,
                    send: str | None = None) -> dict[str, Any]:
    """make_executor()'s arguments: command line > environment > [extract] > default."""
    from extract.runner import DEFAULT_MAX_MEMORY_MB, DEFAULT_TIMEOUT, DEFAULT_WORKERS

    kind = settings.pick("extract", "executor", executor, "local")
    if kind not in EXECUTORS:
        raise click.BadParameter(f"{kind!r} is not one of {', '.join(EXECUTORS)}",
                                 param_hint="[extract] executor")
    n_workers = settings.pick("extract", "workers", workers, DEFAULT_WORKERS, cast=int)
    limit = settings.pick("extract", "timeout", timeout, DEFAULT_TIMEOUT, cast=float)
    memory = settings.pick("extract", "max_memory", max_memory, DEFAULT_MAX_MEMORY_MB,
                           cast=float)
    address = settings.pick("extract", "scheduler", scheduler, None, env=ENV_SCHEDULER)
    mode = settings.pick("extract", "send", send, "paths")
    if n_workers < 1:
        raise click.BadParameter(f"must be at least 1, not {n_workers}", param_hint="--workers")
    _positive("--timeout", limit)
    _positive("--max-memory", memory)
    if mode not in SEND_MODES:
        raise click.BadParameter(f"{mode!r} is not one of {', '.join(SEND_MODES)}",
                                 param_hint="--send")
    if kind == "dask" and not address:
        raise click.UsageError("--executor dask needs --scheduler ADDRESS "
                               "(for example tcp://10.0.0.5:8786)")
    return {"kind": kind, "workers": n_workers, "timeout": limit, "max_memory_mb": memory,
            "scheduler": address, "send": mode}


def _positive(name: str, value: float | None) -> None:
    if value is not None and value <= 0:
        raise click.BadParameter(f"must be positive, not {value:g}", param_hint=name)


@click.command()
@store_options
@writes_store
@click.option("--paper", "papers", multiple=True, metavar="ID",
              help="Only this arXiv id (repeatable).")
@click.option("--force", is_flag=True, help="Extract again what this version already did.")
@click.option("--workers", type=int, default=None,
              help=f"Worker processes [default: {HELP_WORKERS}; [extract] workers].")
@click.option("--timeout", type=float, default=None, metavar="S",
              help=f"Seconds per PDF before its worker is killed [default: "
                   f"{HELP_TIMEOUT:g}].")
@click.option("--max-memory", type=float, default=None, metavar="MB",
              help=f"Memory per worker before it is killed [default: "
                   f"{HELP_MAX_MEMORY_MB:g}].")
@click.option("--executor", type=click.Choice(EXECUTORS), default=None,
              help="Run here (local) or on a Dask cluster (dask) [default: local].")
@click.option("--scheduler", default=None, metavar="ADDRESS",
              help=f"Dask scheduler, e.g. tcp://10.0.0.5:8786 [env {ENV_SCHEDULER}].")
@click.option("--send", type=click.Choice(SEND_MODES), default=None,
              help="Dask workers get PDF paths (shared filesystem) or bytes [default: paths].")
@click.option("--json", "as_json", is_flag=True, help="Print the run summary as JSON.")
def extract(settings: Settings, papers: tuple[str, ...], force: bool, workers: int | None,
            timeout: float | None, max_memory: float | None, executor: str | None,
            scheduler: str | None, send: str | None, as_json: bool) -> None:
    """Extract facts from every downloaded PDF not yet extracted.

    Runs the rules on each PDF in worker processes (or on a Dask cluster), each
    PDF under a time and memory limit; a PDF that fails, hangs or swells is
    recorded with its status and the run goes on. A worker process that dies is
    replaced and its PDF tried again (twice); a PDF that failed is tried again
    by a later run after a back-off (1 h, 2 h, 4 h). Results are written as they
    arrive, one paper at a time, so an interrupted run resumes where it stopped.
    Also loads the hardware catalog into the store.

    \b
    Example:
        dlcompute extract --workers 2
        dlcompute extract --paper 1512.03385 --force
        dlcompute extract --executor dask --scheduler tcp://10.0.0.5:8786
    """
    from dlcompute.executors import make_executor
    from extract.runner import pending_jobs, run_extraction, unknown_papers

    opts = executor_kwargs(settings, workers, timeout, max_memory, executor, scheduler, send)
    with open_settings_store(settings) as store:
        for missing in unknown_papers(store, papers):
            click.echo(f"Warning: no downloaded PDF for {missing}; run dlcompute crawl "
                       f"first", err=True)
        total = len(pending_jobs(store, settings.data_dir, paper_ids=papers, force=force))
        pool = make_executor(**opts)
        try:
            with progress(range(total), label="extract", settings=settings,
                          length=total) as bar:
                update = getattr(bar, "update", None)
                summary = run_extraction(
                    store, settings.data_dir, executor=pool, paper_ids=papers, force=force,
                    on_result=(lambda _r: update(1)) if update else None)
        finally:
            pool.close()
    for line in summary.damaged:
        click.echo(f"Warning: {line}", err=True)
    if as_json:
        click.echo(json.dumps(summary.as_dict(), indent=2))
        return
    statuses = ", ".join(f"{k} {v}" for k, v in sorted(summary.by_status.items()))
    retry = (f", {summary.waiting} failed to try again after {summary.next_retry}"
             if summary.waiting else "")
    click.echo(f"{summary.papers} papers extracted ({statuses or 'nothing to do'}), "
               f"{summary.facts} facts, {summary.skipped} already done{retry}; "
               f"{summary.seconds:.1f} s on {summary.executor}")


def export_facts_gold(store) -> Any:
    """`dlcompute export facts --format jsonl`: one gold-shaped object per paper."""
    from extract.store_writer import gold_records

    return gold_records(store)


COMMANDS = [extract, hardware]
EXPORT_HOOKS = {("facts", "jsonl"): export_facts_gold}
