"""`dlcompute extract-pdf`: facts of PDFs as JSON lines, no store needed."""

from __future__ import annotations

import json
import re
from dataclasses import asdict
from pathlib import Path

import click

from dlcompute.options import common_options, progress
from dlcompute.settings import Settings


def arxiv_id_from_name(path: str) -> str:
    """'1512.03385v2.pdf' -> '1512.03385'; 'alexnet_nips2012.pdf' -> 'alexnet_nips2012'."""
    stem = Path(path).name
    stem = re.sub(r"\.pdf$", "", stem, flags=re.I)
    m = re.fullmatch(r"(\d{4}\.\d{4,5})(v\d+)?", stem)
    if m:
        return m.group(1)
    m = re.fullmatch(r"([a-z\-]+(?:\.[A-Z]{2})?)[_/](\d{7})(v\d+)?", stem)
    return f"{m.group(1)}/{m.group(2)}" if m else stem


def extraction_record(path: str) -> dict:
    """One PDF -> the gold-shaped object plus status/error/pages (the library call)."""
    from extract import EXTRACTOR_VERSION, extract_pdf, to_gold_shape
    from extract.extractor import arxiv_date

    arxiv_id = arxiv_id_from_name(path)
    year, month = arxiv_date(arxiv_id)  # the paper's date settles Titan X / DGX-1
    result = extract_pdf(path, year=year, month=month)
    record = to_gold_shape(arxiv_id, [asdict(f) for f in result.facts])
    record.update(file=Path(path).name, status=result.status, error=result.error,
                  pages=result.pages, chars=result.chars, seconds=round(result.seconds, 3),
                  sha256=result.sha256, extractor_version=EXTRACTOR_VERSION)
    return record


@click.command("extract-pdf")
@click.argument("files", nargs=-1, required=True, type=click.Path(dir_okay=False))
@common_options
def extract_pdf_cmd(files: tuple[str, ...], settings: Settings) -> None:
    """Extract compute facts from PDFs; print one JSON line per PDF.

    Each line has the shape of the gold labels (parameters, compute_per_pass,
    hardware, training_time_hours, epochs, results, each item with page,
    quote, rule_id, confidence) plus status and error. A bad file gets a
    status (empty, not_pdf, encrypted, no_text, failed) and the batch goes on.

    \b
    Example:
        dlcompute extract-pdf data/pdfs/1512.03385.pdf > facts.jsonl
    """
    with progress(files, label="extract", settings=settings) as bar:
        for path in bar:
            click.echo(json.dumps(extraction_record(path), ensure_ascii=False))


COMMANDS = [extract_pdf_cmd]
