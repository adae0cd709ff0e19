"""`dlcompute check`: SQLite's integrity check, the PDF cache against the store, orphans."""

from __future__ import annotations

import json
from typing import TYPE_CHECKING

import click

from dlcompute.options import store_options, writes_store
from dlcompute.settings import Settings

if TYPE_CHECKING:
    from db.check import CheckReport


def print_report(report: CheckReport, as_json: bool) -> None:
    """The report on stdout; exit 1 when it lists problems."""
    if as_json:
        click.echo(json.dumps(report.as_dict(), indent=2))
    else:
        for line in report.lines():
            click.echo(line)
    if not report.ok:
        click.get_current_context().exit(1)


@click.command(name="check")
@store_options
@writes_store(unless=lambda settings, opts: not opts.get("repair"))
@click.option("--quick", is_flag=True,
              help="SQLite's quick_check, and PDF sizes instead of hashes (faster).")
@click.option("--repair", is_flag=True,
              help="Delete facts whose extraction or paper is gone.")
@click.option("--json", "as_json", is_flag=True, help="Print the report as JSON.")
def check_cmd(settings: Settings, quick: bool, repair: bool, as_json: bool) -> None:
    """Check the store and the PDF cache; list each problem with its fix.

    Runs SQLite's integrity_check, compares every downloaded PDF in the cache
    with the hash recorded in `pdfs`, and looks for facts whose extraction or
    paper is gone and observations built from facts that are gone. Changes
    nothing unless --repair. Exits 1 when there are problems.

    \b
    Example:
        dlcompute check --db papers.db
        dlcompute status --check
    """
    from db.check import check_store

    print_report(check_store(settings.db, settings.data_dir, quick=quick, repair=repair),
                 as_json)


COMMANDS = [check_cmd]
