"""The ``dlcompute`` command line: options in, a library call, output out.

Stage commands live in ``dlcompute/commands/*.py``; each module there lists its
click commands in ``COMMANDS`` and is picked up here.
"""

from __future__ import annotations

import importlib
import json
import pkgutil
import sys
from pathlib import Path
from typing import Any

import click

import dlcompute.commands
from db import DlcomputeError
from db.export import FORMATS, MAIN_EXPORTS, columns, exportable, iter_rows, write_rows
from db.status import store_status
from dlcompute import __version__
from dlcompute.options import open_settings_store, store_options
from dlcompute.settings import Settings

CONTEXT_SETTINGS = {"help_option_names": ["-h", "--help"], "max_content_width": 100,
                    "terminal_width": 100}


class DlcomputeGroup(click.Group):
    """Turns library errors into one ``Error: ...`` line (exit 1)."""

    def invoke(self, ctx: click.Context) -> Any:
        try:
            return super().invoke(ctx)
        except DlcomputeError as e:
            raise click.ClickException(str(e)) from e
        except KeyboardInterrupt:
            click.echo("Error: interrupted; run the same command again to resume", err=True)
            ctx.exit(130)
        except PermissionError as e:
            raise click.ClickException(
                f"Permission denied: {e.filename}; choose a writable path") from e
        except FileNotFoundError as e:
            raise click.ClickException(f"No such file or directory: {e.filename}") from e
        except OSError as e:
            raise click.ClickException(f"{e.strerror or e}: {e.filename or ''}".rstrip(": ")) from e


@click.group(cls=DlcomputeGroup, context_settings=CONTEXT_SETTINGS)
@click.version_option(__version__, "--version", prog_name="dlcompute")
def cli() -> None:
    """dlcompute: how much computing deep learning spends for each step of progress.

    Crawls arXiv for papers on benchmark tasks, extracts the compute each model
    used and the results it reached, flags what it is unsure of for review, and
    reruns the regressions of Thompson et al. (2020) on an SQLite store.

    \b
    Example:
        dlcompute run --benchmark imagenet --max-results 50
    """


@cli.command()
@store_options
def init(settings: Settings) -> None:
    """Create the store (or migrate an existing one) and show where it is.

    \b
    Example:
        dlcompute init --db papers.db
    """
    with open_settings_store(settings) as store:
        click.echo(f"Store ready: {store.path} ({len(store.db.table_names())} tables)")


def _format_status(s: dict[str, Any]) -> str:
    lines = [f"Store: {s['store']}", f"Papers: {s['papers']}"]
    for bench, n in s["papers_per_benchmark"].items():
        lines.append(f"  {bench}: {n}")
    lines += [
        f"PDFs: {s['pdfs_downloaded']} downloaded, {s['pdfs_failed']} failed",
        f"Papers extracted: {s['papers_extracted']}"
        + (f" (by status: {_pairs(s['extractions_by_status'])})"
           if s["extractions_by_status"] else ""),
        "Facts: " + (_pairs(s["facts_per_field"]) or "none"),
        f"Flags: {s['flags_open']} open"
        + (f" ({_pairs(s['flags_open_by_kind'])})" if s["flags_open_by_kind"] else "")
        + f", {s['flags_closed']} closed",
        f"Reviews: {s['reviews']}",
    ]
    for field, a in (s.get("agreement") or {}).items():
        lines.append(f"  agreement on {field}: {a['percent']:.1f}% "
                     f"(Cohen's kappa {a['kappa']:.2f}, n={a['n']})")
    lines.append(f"Observations: {s['observations']} ({s['papers_to_curate']} papers changed "
                 f"since the last curate)")
    c = s["last_crawl"]
    lines.append("Last crawl: " + ("never" if c is None else
                 f"{c['started_at']} .. {c['finished_at'] or '(running)'} {c['benchmark'] or ''}"
                 f" {c['status']}" + (f": {c['error']}" if c.get("error") else "")))
    a = s["last_analysis"]
    lines.append("Last analysis: " + ("never" if a is None else
                 f"{a['started_at']} .. {a['finished_at'] or '(running)'} {a['status']}, "
                 f"{a['n_observations']} observations -> {a['out_dir']}"))
    return "\n".join(lines)


def _pairs(d: dict[str, Any]) -> str:
    return ", ".join(f"{k} {v}" for k, v in d.items())


@cli.command()
@store_options
@click.option("--json", "as_json", is_flag=True, help="Print the status as JSON.")
def status(settings: Settings, as_json: bool) -> None:
    """Show what the store holds: papers, PDFs, facts, flags, reviews, runs.

    \b
    Example:
        dlcompute status --db papers.db
    """
    with open_settings_store(settings) as store:
        s = store_status(store)
        for hook in STATUS_HOOKS:
            s.update(hook(store))
    click.echo(json.dumps(s, indent=2) if as_json else _format_status(s))


@cli.command()
@store_options
@click.argument("table", metavar="TABLE")
@click.option("--format", "fmt", type=click.Choice(FORMATS), default="csv", show_default=True,
              help="Output format.")
@click.option("--output", "-o", type=click.Path(dir_okay=False, writable=True), default=None,
              help="Write to FILE instead of stdout.")
def export(settings: Settings, table: str, fmt: str, output: str | None) -> None:
    """Export a table or view (papers, facts, flags, reviews, observations, ...).

    `facts` in jsonl is one object per paper in the shape of the gold labels.

    \b
    Example:
        dlcompute export observations --format csv --output observations.csv
    """
    with open_settings_store(settings) as store:
        if table not in exportable():
            raise click.UsageError(
                f'No table or view "{table}"; choose one of: {", ".join(MAIN_EXPORTS)} '
                f"(or {', '.join(n for n in exportable() if n not in MAIN_EXPORTS)})")
        special = EXPORT_HOOKS.get((table, fmt))
        rows = special(store) if special else iter_rows(store, table)
        names = None if special else columns(store, table)
        if output is None:
            n = write_rows(rows, fmt, sys.stdout, names)
        else:
            tmp = Path(output + ".part")
            with open(tmp, "w", encoding="utf-8", newline="") as fh:
                n = write_rows(rows, fmt, fh, names)
            tmp.replace(output)
    click.echo(f"{n} rows of {table} exported" + (f" to {output}" if output else ""), err=True)


# Stage modules may add to the status output and give a table a special export shape.
STATUS_HOOKS: list[Any] = []
EXPORT_HOOKS: dict[tuple[str, str], Any] = {}


def _load_command_modules() -> None:
    for info in sorted(pkgutil.iter_modules(dlcompute.commands.__path__), key=lambda m: m.name):
        module = importlib.import_module(f"dlcompute.commands.{info.name}")
        for command in getattr(module, "COMMANDS", []):
            cli.add_command(command)
        STATUS_HOOKS.extend(getattr(module, "STATUS_HOOKS", []))
        EXPORT_HOOKS.update(getattr(module, "EXPORT_HOOKS", {}))


_load_command_modules()


def main() -> None:
    cli(prog_name="dlcompute")
