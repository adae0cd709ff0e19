"""`dlcompute extract-pdf`: facts of PDFs as JSON lines, no store needed."""

from __future__ import annotations

import json

import click

from dlcompute.commands.extract import HELP_MAX_MEMORY_MB, HELP_TIMEOUT, HELP_WORKERS
from dlcompute.options import common_options, progress
from dlcompute.settings import Settings


@click.command("extract-pdf")
@click.argument("files", nargs=-1, required=True, type=click.Path(dir_okay=False))
@click.option("--workers", type=click.IntRange(min=1), default=None,
              help=f"Worker processes [default: {HELP_WORKERS}; [extract] workers].")
@click.option("--timeout", type=click.FloatRange(min=0, min_open=True), default=None,
              metavar="S", help=f"Seconds per PDF before its worker is killed [default: "
                                f"{HELP_TIMEOUT:g}; [extract] timeout].")
@click.option("--max-memory", type=click.FloatRange(min=0, min_open=True), default=None,
              metavar="MB", help=f"Memory per worker before it is killed [default: "
                                 f"{HELP_MAX_MEMORY_MB:g}; [extract] max_memory].")
@common_options
def extract_pdf_cmd(files: tuple[str, ...], workers: int | None, timeout: float | None,
                    max_memory: float | None, settings: Settings) -> None:
    """Extract compute facts from PDFs; print one JSON line per PDF.

    Each line has the shape of the gold labels (parameters, compute_per_pass,
    hardware, training_time_hours, epochs, results, each item with page,
    quote, rule_id, confidence) plus status and error, in the order of the
    files. Each PDF runs in a guarded worker process under a time and memory
    limit, as in `dlcompute extract`: a bad file gets a status (empty, not_pdf,
    encrypted, no_text, failed, timeout, memory) and the batch goes on.

    \b
    Example:
        dlcompute extract-pdf data/pdfs/1512.03385.pdf > facts.jsonl
        dlcompute extract-pdf --timeout 60 --max-memory 1024 papers/*.pdf
    """
    from extract.files import extract_files

    records = extract_files(
        files,
        workers=settings.pick("extract", "workers", workers, HELP_WORKERS, cast=int),
        timeout=settings.pick("extract", "timeout", timeout, HELP_TIMEOUT, cast=float),
        max_memory_mb=settings.pick("extract", "max_memory", max_memory,
                                    HELP_MAX_MEMORY_MB, cast=float))
    with progress(records, label="extract", settings=settings, length=len(files)) as bar:
        for record in bar:
            click.echo(json.dumps(record, ensure_ascii=False))


COMMANDS = [extract_pdf_cmd]
