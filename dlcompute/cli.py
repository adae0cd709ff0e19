"""The ``dlcompute`` command line: options in, a library call, output out.

Stage commands live in ``dlcompute/commands/*.py``; each module there lists its
click commands in ``COMMANDS`` and is picked up here.
"""

from __future__ import annotations

import errno
import importlib
import json
import pkgutil
import sqlite3
import sys
from pathlib import Path
from typing import Any

import click

import dlcompute.commands
from db.errors import DlcomputeError
from db.export import FORMATS
from dlcompute import __version__
from dlcompute.options import SETTINGS_KEY, open_settings_store, store_options
from dlcompute.settings import Settings

# Stages and the store are imported inside the commands that use them: `dlcompute
# --help` must not pay for pandas, spaCy or matplotlib (see benchmarks/bench_startup.py).

CONTEXT_SETTINGS = {"help_option_names": ["-h", "--help"], "max_content_width": 100,
                    "terminal_width": 100}


class DlcomputeGroup(click.Group):
    """Turns library errors into one ``Error: ...`` line (exit 1)."""

    def invoke(self, ctx: click.Context) -> Any:
        try:
            return super().invoke(ctx)
        except DlcomputeError as e:
            raise click.ClickException(str(e)) from e
        except sqlite3.Error as e:
            from db.store import store_error

            settings = ctx.meta.get(SETTINGS_KEY)
            raise click.ClickException(
                str(store_error(e, settings.db if settings else "(unknown)"))) from e
        except MemoryError as e:
            raise click.ClickException(_out_of_memory(ctx)) from e
        except KeyboardInterrupt:
            click.echo("Error: interrupted; run the same command again to resume", err=True)
            ctx.exit(130)
        except BrokenPipeError:
            raise  # `dlcompute export ... | head`: click ends quietly
        except PermissionError as e:
            raise click.ClickException(
                f"Permission denied: {e.filename}; choose a writable path") from e
        except FileNotFoundError as e:
            raise click.ClickException(f"No such file or directory: {e.filename}") from e
        except OSError as e:
            if e.errno == errno.EPIPE:
                raise
            raise click.ClickException(f"{e.strerror or e}: {e.filename or ''}".rstrip(": ")) from e


def _out_of_memory(ctx: click.Context) -> str:
    settings = ctx.meta.get(SETTINGS_KEY)
    where = f" on store {settings.db}" if settings and settings.db.exists() else ""
    return (f"Out of memory in dlcompute {ctx.invoked_subcommand or ''}{where}; free memory "
            f"(close other programs; fewer --workers, a smaller --bootstrap or one "
            f"--benchmark at a time) and run it again: finished work is kept")


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
@click.argument("path", required=False, metavar="[PATH]")
def init(settings: Settings, path: str | None) -> None:
    """Create the store (or migrate an existing one) and show where it is.

    PATH is the store, as --db gives it. Also writes STORE.metadata.json
    beside it, for `datasette STORE -m STORE.metadata.json`.

    \b
    Example:
        dlcompute init papers.db
        dlcompute init --db papers.db
    """
    from db.datasette import write_metadata

    if path is not None:
        settings = settings.with_db(path)
    with open_settings_store(settings) as store:
        click.echo(f"Store ready: {store.path} ({len(store.db.table_names())} tables)")
    meta = write_metadata(settings.db)
    click.echo(f"Datasette metadata: {meta}", err=True)


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
        ci = (f", 95% CI {a['kappa_low']:.2f} to {a['kappa_high']:.2f}"
              if a.get("kappa_low") is not None else "")
        lines.append(f"  agreement on {field}: {a['percent']:.1f}% "
                     f"(Cohen's kappa {a['kappa']:.2f}{ci}, n={a['n']})")
    lines.append(f"Observations: {s['observations']}")
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
@click.option("--check", "check", is_flag=True,
              help="Also check the store and the PDF cache (as dlcompute check); exit 1 on "
                   "problems.")
def status(settings: Settings, as_json: bool, check: bool) -> None:
    """Show what the store holds: papers, PDFs, facts, flags, reviews, runs.

    \b
    Example:
        dlcompute status --db papers.db
        dlcompute status --check
    """
    from db.check import DAMAGE, check_store
    from db.status import store_status
    from dlcompute.commands.check import print_report

    report = check_store(settings.db, settings.data_dir) if check else None
    if report is not None and any(p.kind in DAMAGE for p in report.problems):
        print_report(report, as_json)  # the counts cannot be read from a damaged store
    with open_settings_store(settings, write=False) as store:
        s = store_status(store)
        for hook in STATUS_HOOKS:
            s.update(hook(store))
    if report is not None and as_json:
        s["check"] = report.as_dict()
    click.echo(json.dumps(s, indent=2) if as_json else _format_status(s))
    if report is not None:
        if not as_json:
            click.echo("\n".join(report.lines()))
        if not report.ok:
            click.get_current_context().exit(1)


@cli.command()
@store_options
@click.argument("table", metavar="TABLE")
@click.option("--format", "fmt", type=click.Choice(FORMATS), default="csv", show_default=True,
              help="Output format.")
@click.option("--output", "-o", type=click.Path(dir_okay=False, writable=True), default=None,
              help="Write to FILE instead of stdout.")
@click.option("--where", default=None, metavar="SQL",
              help="Only rows matching this SQL condition, e.g. \"year >= :year\".")
@click.option("--param", "-p", "params", type=(str, str), multiple=True,
              metavar="NAME VALUE", help="A :NAME parameter of --where (repeatable).")
@click.option("--limit", type=click.IntRange(min=0), default=None, help="At most N rows.")
@click.option("--offset", type=click.IntRange(min=0), default=None, help="Skip N rows first.")
def export(settings: Settings, table: str, fmt: str, output: str | None, where: str | None,
           params: tuple[tuple[str, str], ...], limit: int | None,
           offset: int | None) -> None:
    """Export a table or view (papers, facts, flags, reviews, observations, ...).

    `facts` in jsonl is one object per paper in the shape of the gold labels.
    --where, --param, --limit and --offset work as in `sqlite-utils rows`.

    \b
    Example:
        dlcompute export observations --format csv --output observations.csv
        dlcompute export facts --format json --where "field = :f" -p f epochs --limit 5
    """
    from db.export import columns, exportable, iter_rows, main_exports, write_rows

    # no whole-file check first: a damaged page it reads is reported as it is met
    with open_settings_store(settings, write=False, verify=False) as store:
        if table not in exportable():
            main = main_exports()
            raise click.UsageError(
                f'No table or view "{table}"; choose one of: {", ".join(main)} '
                f"(or {', '.join(n for n in exportable() if n not in main)})")
        filtered = where is not None or limit is not None or offset is not None
        special = None if filtered else EXPORT_HOOKS.get((table, fmt))
        if params and where is None:
            raise click.UsageError("--param fills a :NAME of --where; give --where too")
        rows = special(store) if special else iter_rows(
            store, table, where=where, params=dict(params), limit=limit, offset=offset)
        names = None if special else columns(store, table)
        if output is None:
            n = write_rows(rows, fmt, sys.stdout, names)
        else:
            tmp = Path(output + ".part")
            try:
                with open(tmp, "w", encoding="utf-8", newline="") as fh:
                    n = write_rows(rows, fmt, fh, names)
            except BaseException:
                tmp.unlink(missing_ok=True)
                raise
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
