"""Helpers for the extract runner and executor tests: a filled temporary store, test tasks.

The task functions here run inside worker processes, which import this module
by name; they stand in for ``extract.runner.extract_job`` to make a worker hang,
swell or die on one chosen paper.
"""

from __future__ import annotations

import hashlib
import os
import shutil
import signal
import time
from pathlib import Path

from db import open_store
from db.schema import T

# Small real PDFs of the corpus (arXiv id -> (year, month)), quick to extract.
SMALL = {
    "1409.3215": (2014, 9),
    "1508.01991": (2015, 8),
    "2106.12368": (2021, 6),
    "1904.09925": (2019, 4),
    "1603.01354": (2016, 3),
    "1911.09737": (2019, 11),
}
MORE = {
    "1905.03197": (2019, 5),
    "1611.00801": (2016, 11),
    "1707.01083": (2017, 7),
    "1705.00108": (2017, 5),
    "1603.01360": (2016, 3),
    "1904.05049": (2019, 4),
}
CORRUPT_ID = "9901.00001"
EMPTY_ID = "9901.00002"


def fill_store(db_path: Path, data_dir: Path, corpus: Path, papers: dict[str, tuple[int, int]],
               *, bad: bool = True) -> list[str]:
    """A store with papers + pdfs rows for ``papers`` (copied into data_dir/pdfs), plus a
    corrupt and a 0-byte PDF when ``bad``; returns every arXiv id with a PDF."""
    pdf_dir = data_dir / "pdfs"
    pdf_dir.mkdir(parents=True, exist_ok=True)
    files: dict[str, bytes | Path] = {a: corpus / f"{a}.pdf" for a in papers}
    dates = dict(papers)
    if bad:
        files[CORRUPT_ID] = b"%PDF-1.4\n1 0 obj << /Type /Catalog >> garbage \x00\xff trailer"
        files[EMPTY_ID] = b""
        dates[CORRUPT_ID] = dates[EMPTY_ID] = (2019, 1)
    with open_store(db_path) as store, store.transaction() as db:
        for arxiv_id, src in files.items():
            dest = pdf_dir / f"{arxiv_id}.pdf"
            if isinstance(src, Path):
                shutil.copyfile(src, dest)
            else:
                dest.write_bytes(src)
            data = dest.read_bytes()
            year, month = dates[arxiv_id]
            db[T.papers].insert({"arxiv_id": arxiv_id, "title": f"paper {arxiv_id}",
                                 "year": year, "month": month, "source": "ingest"})
            db[T.pdfs].insert({"arxiv_id": arxiv_id, "version": 1,
                               "sha256": hashlib.sha256(data).hexdigest(),
                               "path": f"pdfs/{arxiv_id}.pdf", "size": len(data),
                               "status": "ok", "attempts": 1})
        # A failed download is not extracted.
        db[T.papers].insert({"arxiv_id": "9901.00003", "title": "no pdf", "year": 2019})
        db[T.pdfs].insert({"arxiv_id": "9901.00003", "version": 1, "status": "failed",
                           "error": "HTTP 404", "attempts": 3})
    return sorted(files)


def fact_set(store, *, arxiv_ids=None) -> set[tuple]:
    """Facts as comparable tuples (without row ids)."""
    skip = {"id", "extraction_id"}
    rows = store.db.query(f"select * from {T.facts} order by arxiv_id, id")
    return {tuple((k, v) for k, v in sorted(r.items()) if k not in skip) for r in rows
            if arxiv_ids is None or r["arxiv_id"] in arxiv_ids}


def statuses(store) -> dict[str, str]:
    return {r["arxiv_id"]: r["status"] for r in store.db.query(
        f"select arxiv_id, status from {T.extractions}")}


# --- stand-in tasks (run in worker processes) ---------------------------------------

HANG_ID = "1508.01991"


def hang_on_one(job):
    """Like extract_job, but hangs on HANG_ID."""
    from extract.runner import extract_job

    if job.arxiv_id == HANG_ID:
        time.sleep(120)
    return extract_job(job)


def swell_on_one(job):
    """Like extract_job, but allocates far more memory than allowed on HANG_ID."""
    from extract.runner import extract_job

    if job.arxiv_id == HANG_ID:
        hog = bytearray(1500 * 2**20)
        hog[::4096] = b"x" * len(hog[::4096])
        return hog
    return extract_job(job)


def die_on_one(job):
    """Like extract_job, but the worker process dies on HANG_ID."""
    from extract.runner import extract_job

    if job.arxiv_id == HANG_ID:
        os.kill(os.getpid(), signal.SIGKILL)
    return extract_job(job)


def slow_extract(job):
    """extract_job, half a second slower: gives a test time to kill something mid-run."""
    from extract.runner import extract_job

    time.sleep(0.5)
    return extract_job(job)


MARKS_ENV = "DLCOMPUTE_TEST_MARKS"


def stall_once(job):
    """extract_job, but the first attempt on HANG_ID writes its worker's pid to a file in
    $DLCOMPUTE_TEST_MARKS and stalls there, for the test to kill the worker (kill -9)."""
    from extract.runner import extract_job

    mark = Path(os.environ[MARKS_ENV]) / f"{job.arxiv_id}.pid"
    if job.arxiv_id == HANG_ID and not mark.exists():
        mark.write_text(str(os.getpid()))
        time.sleep(120)
    return extract_job(job)


def crash_big(job):
    """Like pdfium under the memory cap: grow by 700 MB (over half a 1,200 MB limit, under
    the limit in all, so the parent's watch does not kill it first), then abort."""
    from extract.runner import extract_job

    if job.arxiv_id == HANG_ID:
        hog = b"x" * (700 * 2**20)  # touched pages: resident
        os.abort()
        return hog
    return extract_job(job)


def crash_small(job):
    """A crash (SIGABRT) with no memory to speak of: a PDF library's bug, not the cap."""
    from extract.runner import extract_job

    if job.arxiv_id == HANG_ID:
        os.abort()
    return extract_job(job)
