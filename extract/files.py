"""Extract PDF files named on the command line (``dlcompute extract-pdf``), no store.

:func:`extract_files` runs :func:`file_record` on each file in a small pool of
long-lived guarded worker processes (:class:`extract.worker.LocalPool`), the same
guard ``dlcompute extract`` uses: a time and a memory limit per file, so a file
that hangs, swells (a decompression bomb) or crashes pdfium gets a ``timeout``,
``memory`` or ``failed`` record and the next file still gets its own. Records
come back in the order of the files.

The parent imports nothing heavy; the workers load the extractor once each.
"""

from __future__ import annotations

import re
from collections.abc import Iterator, Sequence
from pathlib import Path

from extract.worker import (
    DEFAULT_MAX_MEMORY_MB,
    DEFAULT_RETRIES,
    DEFAULT_TIMEOUT,
    DEFAULT_WORKERS,
    LocalPool,
    Outcome,
)

# The gold-label shape's lists, empty in the record of a file that gave nothing.
FIELDS = ("parameters", "compute_per_pass", "hardware", "training_time_hours", "epochs",
          "results")


def arxiv_id_from_name(path: str) -> str:
    """'1512.03385v2.pdf' -> '1512.03385'; 'alexnet_nips2012.pdf' -> 'alexnet_nips2012'."""
    stem = Path(path).name
    stem = re.sub(r"\.pdf$", "", stem, flags=re.I)
    m = re.fullmatch(r"(\d{4}\.\d{4,5})(v\d+)?", stem)
    if m:
        return m.group(1)
    m = re.fullmatch(r"([a-z\-]+(?:\.[A-Z]{2})?)[_/](\d{7})(v\d+)?", stem)
    return f"{m.group(1)}/{m.group(2)}" if m else stem


def file_record(path: str) -> dict:
    """One PDF -> the gold-shaped object plus status/error/pages (runs in a worker)."""
    from dataclasses import asdict

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


def failure_record(path: str, outcome: Outcome) -> dict:
    """The record of a file whose worker was stopped or died (timeout, memory, failed)."""
    from extract import EXTRACTOR_VERSION

    status = outcome.status if outcome.status in ("timeout", "memory") else "failed"
    record: dict = {"arxiv_id": arxiv_id_from_name(path)}
    record.update({name: [] for name in FIELDS})
    record.update(file=Path(path).name, status=status, error=outcome.error or outcome.status,
                  pages=None, chars=None, seconds=round(outcome.seconds, 3), sha256=None,
                  extractor_version=EXTRACTOR_VERSION)
    return record


def extract_files(paths: Sequence[str], *, workers: int = DEFAULT_WORKERS,
                  timeout: float | None = DEFAULT_TIMEOUT,
                  max_memory_mb: float | None = DEFAULT_MAX_MEMORY_MB,
                  retries: int = DEFAULT_RETRIES) -> Iterator[dict]:
    """A record per file, in the order of ``paths``, each file in a guarded worker."""
    paths = [str(p) for p in paths]
    if not paths:
        return
    waiting: dict[int, dict] = {}
    next_out = 0
    with LocalPool(max(1, min(workers, len(paths))), timeout=timeout,
                   max_memory_mb=max_memory_mb, retries=retries) as pool:
        for outcome in pool.map(_indexed_record, list(enumerate(paths))):
            index, path = outcome.item
            waiting[index] = outcome.value if outcome.status == "ok" else \
                failure_record(path, outcome)
            while next_out in waiting:
                yield waiting.pop(next_out)
                next_out += 1


def _indexed_record(item: tuple[int, str]) -> dict:
    return file_record(item[1])
