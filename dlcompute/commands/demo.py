"""`dlcompute demo`: the whole pipeline on the bundled sample, offline, in a folder of its own."""

from __future__ import annotations

import click

from dlcompute.options import common_options
from dlcompute.settings import Settings


@click.command(name="demo")
@common_options
@click.option("--out", "out_dir", default="dlcompute-demo", show_default=True, metavar="DIR",
              help="Folder for the demo's store, PDFs and report.")
@click.option("--workers", type=click.IntRange(min=1), default=None,
              help="Extraction worker processes [default: 2].")
def demo_cmd(settings: Settings, out_dir: str, workers: int | None) -> None:
    """Run the whole pipeline on data bundled with dlcompute, offline.

    Ingests two openly licensed papers shipped with dlcompute (Switch
    Transformers, JMLR 2022; Flair, COLING 2018), extracts and curates them,
    loads dlcompute's own extraction of 116 more papers, and fits the paper's
    regressions on all of it. Needs no network. Ends with the report's path,
    the store's path and what to try next.

    \b
    Example:
        dlcompute demo
        dlcompute demo --out /tmp/demo --workers 1
    """
    from dlcompute.commands.analysis import analysis_settings
    from dlcompute.commands.curate import curate_kwargs
    from dlcompute.commands.extract import executor_kwargs
    from dlcompute.demo import run_demo

    result = run_demo(
        out_dir, executor_kwargs={**executor_kwargs(settings, workers=workers), "kind": "local"},
        curate_kwargs=curate_kwargs(settings),
        analysis_settings=analysis_settings(settings, None, None),
        echo=lambda m: click.echo(m, err=True))
    s = result.summary
    click.echo(f"Demo done: {result.papers_from_pdfs} papers read from bundled PDFs, "
               f"{result.papers_from_sample} from the bundled sample; {s.observations} "
               f"observations, {s.flags_open} flags open.")
    click.echo(f"Report: {result.report}")
    click.echo(f"Store:  {result.store}")
    click.echo("Next:")
    for line in result.next_steps():
        click.echo(f"  {line}")


COMMANDS = [demo_cmd]
