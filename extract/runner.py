"""Extract many PDFs: pick the pending ones, run them in guarded workers, write results.

- :func:`pending_jobs` reads the store: every downloaded PDF (``pdfs.status = 'ok'``,
  latest version per paper) without an extraction by this ``EXTRACTOR_VERSION``
  for that PDF's hash, or all of them with ``force``. A ``failed``, ``timeout``
  or ``memory`` extraction is tried again by a later run once its back-off has
  passed (1 h, then 2 h, 4 h; ``MAX_ATTEMPTS`` runs in all): a transient fault
  is not a permanent answer.
- :class:`extract.worker.LocalPool` runs a task function in N worker processes
  (:class:`extract.worker.WorkerProcess`), each task under a time limit and a
  memory limit; a task that exceeds one is killed and recorded and the run goes
  on. A task whose worker process dies (a crash, the kernel's OOM killer) is
  tried again in a fresh process, ``retries`` times, as Dask retries its tasks.
- :func:`run_extraction` feeds jobs to an executor (the local pool or anything
  with the same ``map`` method, such as ``dlcompute.executors.DaskExecutor``)
  and writes each result as it arrives, in the calling process only, one
  transaction per paper (or per batch of papers), so a kill at any moment
  leaves the store consistent and the next run resumes where this one stopped.
"""

from __future__ import annotations

import datetime as dt
import logging
import time
from collections.abc import Callable, Iterable, Iterator
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any, Protocol

from db import Store, utcnow
from db.schema import T
from extract import EXTRACTOR_VERSION
from extract.store_writer import ensure_hardware, write_extraction

# The pool and its defaults live with the worker process; extract's callers find them here.
from extract.worker import DEFAULT_MAX_MEMORY_MB as DEFAULT_MAX_MEMORY_MB
from extract.worker import DEFAULT_MAX_TASKS_PER_WORKER as DEFAULT_MAX_TASKS_PER_WORKER
from extract.worker import DEFAULT_RETRIES as DEFAULT_RETRIES
from extract.worker import DEFAULT_TIMEOUT as DEFAULT_TIMEOUT
from extract.worker import DEFAULT_WORKERS as DEFAULT_WORKERS
from extract.worker import LocalPool, Outcome

log = logging.getLogger(__name__)

# Extractions a later run tries again, after a back-off doubling from the first.
RETRY_STATUSES = ("failed", "timeout", "memory")
RETRY_BACKOFF_SECONDS = 3600.0
MAX_ATTEMPTS = 4  # runs in a row that tried a PDF; then its status stays


@dataclass
class ExtractJob:
    """One PDF to extract. ``data`` holds its bytes when they travel to remote workers."""

    arxiv_id: str
    path: str
    year: int | None = None
    month: int | None = None
    pdf_sha256: str | None = None
    data: bytes | None = field(default=None, repr=False)


@dataclass
class ExtractResult:
    """What one job produced, in plain types (it crosses process and machine borders)."""

    arxiv_id: str
    status: str  # ok | no_text | failed | encrypted | not_pdf | empty | timeout | memory
    error: str | None
    pages: int | None
    chars: int | None
    seconds: float | None
    sha256: str | None
    facts: list[dict]


def extract_job(job: ExtractJob) -> ExtractResult:
    """Run the pure ``extract_pdf`` on one job (inside a worker process)."""
    from extract import extract_pdf

    source: Any = job.data if job.data is not None else job.path
    if job.data is None and not Path(job.path).is_file():
        return ExtractResult(job.arxiv_id, "failed", f"PDF file missing: {job.path}; "
                             f"download it again (dlcompute crawl) then rerun extract",
                             None, None, 0.0, job.pdf_sha256, [])
    r = extract_pdf(source, year=job.year, month=job.month)
    status = r.status
    if status == "failed" and r.error and "MemoryError" in r.error:
        status = "memory"
    return ExtractResult(job.arxiv_id, status, r.error, r.pages, r.chars, r.seconds,
                         r.sha256, [asdict(f) for f in r.facts])


# A sentence with one fact of each kind: extracting it loads every rule set once.
WARM_UP_TEXT = ("We train ResNet-50 on ImageNet for 90 epochs on 8 NVIDIA V100 GPUs in 29",
                "hours. It has 25.6M parameters and 4.1 GFLOPs and reaches 76.1% top-1",
                "accuracy, a top-5 error of 6.9% on the ILSVRC 2012 validation set.",
                "Table 1: Results on ImageNet.",
                "Model Params FLOPs Top-1",
                "ResNet-50 25.6M 4.1G 76.1",
                "ResNet-101 44.5M 7.8G 77.4")


def one_page_pdf(content: bytes, *, flate: bool = False) -> bytes:
    """A minimal valid one-page PDF whose page content stream is ``content`` (already
    Flate-compressed when ``flate``), with a Helvetica font as /F1."""
    stream_dict = b"<< /Length %d%s >>" % (len(content), b" /Filter /FlateDecode" if flate
                                           else b"")
    objects = [b"<< /Type /Catalog /Pages 2 0 R >>",
               b"<< /Type /Pages /Kids [3 0 R] /Count 1 >>",
               b"<< /Type /Page /Parent 2 0 R /MediaBox [0 0 612 792] /Contents 4 0 R "
               b"/Resources << /Font << /F1 5 0 R >> >> >>",
               stream_dict + b"\nstream\n" + content + b"\nendstream",
               b"<< /Type /Font /Subtype /Type1 /BaseFont /Helvetica >>"]
    out = bytearray(b"%PDF-1.4\n")
    offsets = []
    for number, body in enumerate(objects, 1):
        offsets.append(len(out))
        out += b"%d 0 obj\n%s\nendobj\n" % (number, body)
    xref = len(out)
    out += b"xref\n0 %d\n0000000000 65535 f \n" % (len(objects) + 1)
    out += b"".join(b"%010d 00000 n \n" % offset for offset in offsets)
    out += b"trailer\n<< /Size %d /Root 1 0 R >>\nstartxref\n%d\n%%%%EOF\n" % (
        len(objects) + 1, xref)
    return bytes(out)


def text_content(*lines: str) -> bytes:
    """A content stream showing ``lines`` (no parentheses or backslashes) in /F1."""
    shown = b" ".join(b"(%s) Tj 0 -12 Td" % line.encode("latin-1") for line in lines)
    return b"BT /F1 9 Tf 36 740 Td " + shown + b" ET"


def warm_up() -> None:
    """Extract a tiny PDF, so a worker's first real task does not pay for loading the
    rules, the matcher and pdfium (about 2 s) inside its time limit."""
    from extract import extract_pdf

    extract_pdf(one_page_pdf(text_content(*WARM_UP_TEXT)), year=2016, month=1)


def result_from_outcome(job: ExtractJob, outcome: Outcome) -> ExtractResult:
    """A worker's outcome as a result to record (timeouts and crashes included)."""
    if outcome.status == "ok" and isinstance(outcome.value, ExtractResult):
        return outcome.value
    status = {"timeout": "timeout", "memory": "memory"}.get(outcome.status, "failed")
    return ExtractResult(job.arxiv_id, status, outcome.error or outcome.status, None, None,
                         outcome.seconds, job.pdf_sha256, [])


class Executor(Protocol):
    """Runs ``fn`` on every item in worker processes; yields outcomes as they finish."""

    name: str
    write_batch: int

    def map(self, fn: Callable[[Any], Any], items: Iterable[Any]) -> Iterator[Outcome]: ...

    def close(self) -> None: ...


# --- choosing work and writing it ------------------------------------------------------

# An extraction ``e`` that failed and whose back-off has passed (parameters: the retry
# statuses, MAX_ATTEMPTS, now).
_DUE = (f"e.status in ({','.join('?' * len(RETRY_STATUSES))}) and coalesce(e.attempts, 1) < ?"
        f" and coalesce(e.next_attempt_after, '') <= ?")


def pending_jobs(store: Store, data_dir: Path, *, paper_ids: Iterable[str] | None = None,
                 force: bool = False, extractor_version: str = EXTRACTOR_VERSION,
                 now: str | None = None) -> list[ExtractJob]:
    """Downloaded PDFs still to extract by ``extractor_version`` (all of them with force):
    never extracted, or failed with the back-off passed (at ``now``, ISO UTC)."""
    ids = sorted(set(paper_ids or []))
    where = ["d.status = 'ok'", f"d.version = (select max(version) from {T.pdfs} x "
             f"where x.arxiv_id = d.arxiv_id and x.status = 'ok')"]
    params: list[Any] = []
    if ids:
        where.append(f"d.arxiv_id in ({','.join('?' * len(ids))})")
        params += ids
    if not force:
        where.append(f"not exists (select 1 from {T.extractions} e where e.arxiv_id = d.arxiv_id"
                     f" and e.extractor_version = ? and e.pdf_sha256 is d.sha256 and not "
                     f"({_DUE}))")
        params += [extractor_version, *RETRY_STATUSES, MAX_ATTEMPTS, now or utcnow()]
    sql = (f"select d.arxiv_id, d.path, d.sha256, p.year, p.month from {T.pdfs} d "
           f"left join {T.papers} p on p.arxiv_id = d.arxiv_id where {' and '.join(where)} "
           f"order by d.arxiv_id")
    jobs = []
    for r in store.db.query(sql, params):
        path = Path(r["path"] or "")
        if not path.is_absolute():
            path = data_dir / path
        jobs.append(ExtractJob(r["arxiv_id"], str(path.resolve()), r["year"], r["month"],
                               r["sha256"]))
    return jobs


def unknown_papers(store: Store, paper_ids: Iterable[str]) -> list[str]:
    """Of ``paper_ids``, those without a downloaded PDF in the store."""
    ids = sorted(set(paper_ids))
    if not ids:
        return []
    have = {r["arxiv_id"] for r in store.db.query(
        f"select arxiv_id from {T.pdfs} where status = 'ok' and arxiv_id in "
        f"({','.join('?' * len(ids))})", ids)}
    return [i for i in ids if i not in have]


def waiting_retries(store: Store, *, extractor_version: str = EXTRACTOR_VERSION,
                    now: str | None = None) -> list[tuple[str, str]]:
    """(arxiv_id, next_attempt_after) of failed extractions still in their back-off."""
    marks = ",".join("?" * len(RETRY_STATUSES))
    return [(r["arxiv_id"], r["next_attempt_after"]) for r in store.db.query(
        f"select arxiv_id, next_attempt_after from {T.extractions} where extractor_version = ?"
        f" and status in ({marks}) and coalesce(attempts, 1) < ? and next_attempt_after > ? "
        f"order by next_attempt_after",
        [extractor_version, *RETRY_STATUSES, MAX_ATTEMPTS, now or utcnow()])]


def _after(seconds: float) -> str:
    when = dt.datetime.now(dt.UTC) + dt.timedelta(seconds=seconds)
    return when.replace(microsecond=0).isoformat().replace("+00:00", "Z")


def record(store: Store, job: ExtractJob, result: ExtractResult,
           extractor_version: str = EXTRACTOR_VERSION) -> int:
    """Write one result (extraction row + facts) in one transaction; return its id.

    Counts the runs in a row that tried this PDF (``attempts``) and, when it
    failed, sets when a later run may try again (``next_attempt_after``).
    """
    sha = job.pdf_sha256 or result.sha256
    with store.transaction():
        before = list(store.db.query(
            f"select status, attempts from {T.extractions} where arxiv_id = ? and "
            f"extractor_version = ? and pdf_sha256 is ?", [job.arxiv_id, extractor_version, sha]))
        attempts = 1
        if before and before[0]["status"] in RETRY_STATUSES:
            attempts = (before[0]["attempts"] or 1) + 1
        extraction_id = write_extraction(
            store, arxiv_id=job.arxiv_id, pdf_sha256=sha, extractor_version=extractor_version,
            status=result.status, error=result.error, pages=result.pages, chars=result.chars,
            seconds=result.seconds, facts=result.facts)
        retry = result.status in RETRY_STATUSES and attempts < MAX_ATTEMPTS
        store.db[T.extractions].update(extraction_id, {
            "attempts": attempts,
            "next_attempt_after": _after(RETRY_BACKOFF_SECONDS * 2 ** (attempts - 1))
            if retry else None})
    return extraction_id


@dataclass
class RunSummary:
    """What one ``dlcompute extract`` run did."""

    executor: str
    papers: int = 0
    facts: int = 0
    by_status: dict[str, int] = field(default_factory=dict)
    seconds: float = 0.0
    pages: int = 0
    skipped: int = 0  # already extracted by this version
    waiting: int = 0  # failed, to be tried again after their back-off
    next_retry: str | None = None  # the earliest of their back-offs' ends
    damaged: list[str] = field(default_factory=list)  # cached PDFs not matching their hash

    def as_dict(self) -> dict[str, Any]:
        return asdict(self)


def run_extraction(store: Store, data_dir: Path, *, executor: Executor | None = None,
                   paper_ids: Iterable[str] | None = None, force: bool = False,
                   fn: Callable[[ExtractJob], ExtractResult] = extract_job,
                   on_result: Callable[[ExtractResult], None] | None = None,
                   load_catalog: bool = True) -> RunSummary:
    """Extract every pending PDF with ``executor`` and record each result as it comes.

    ``fn`` is the task (a picklable top-level function); tests pass stand-ins.
    """
    if load_catalog:
        ensure_hardware(store)
    ids = list(paper_ids or [])
    now = utcnow()
    jobs = pending_jobs(store, data_dir, paper_ids=ids, force=force, now=now)
    total_ok = store.count(T.pdfs, "status = 'ok'")
    pool = executor or LocalPool()
    waiting = [] if force else [w for w in waiting_retries(store, now=now)
                                if not ids or w[0] in ids]
    summary = RunSummary(executor=getattr(pool, "name", type(pool).__name__),
                         waiting=len(waiting), next_retry=waiting[0][1] if waiting else None,
                         skipped=max(0, (len(set(ids)) if ids else total_ok) - len(jobs)
                                     - len(waiting)))
    jobs, summary.damaged = keep_good_extractions(store, jobs)
    if not jobs:
        return summary
    by_id = {j.arxiv_id: j for j in jobs}
    if getattr(pool, "send", "paths") == "bytes":
        jobs = [_with_bytes(j) for j in jobs]
    t0 = time.monotonic()
    batch: list[tuple[ExtractJob, ExtractResult]] = []
    batch_size = max(1, int(getattr(pool, "write_batch", 1)))
    try:
        for outcome in pool.map(fn, jobs):
            job = by_id[outcome.item.arxiv_id]
            result = result_from_outcome(job, outcome)
            batch.append((job, result))
            if len(batch) >= batch_size:
                _flush(store, batch, summary)
            if on_result is not None:
                on_result(result)
    finally:
        _flush(store, batch, summary)
        summary.seconds = time.monotonic() - t0
        if executor is None:
            pool.close()
    return summary


def keep_good_extractions(store: Store, jobs: list[ExtractJob]
                          ) -> tuple[list[ExtractJob], list[str]]:
    """Leave out jobs that would replace a good extraction with one of a damaged cache file.

    A paper with an ``ok`` extraction is extracted again (``--force``, a new
    extractor version) only when its cached PDF still has the SHA-256 the
    store recorded; otherwise the old facts stay and the file is reported.
    """
    import hashlib

    good = {r["arxiv_id"] for r in store.db.query(
        f"select distinct arxiv_id from {T.extractions} where status = 'ok'")}
    keep, damaged = [], []
    for job in jobs:
        if job.arxiv_id not in good or not job.pdf_sha256:
            keep.append(job)
            continue
        try:
            h = hashlib.sha256()
            with open(job.path, "rb") as fh:
                for chunk in iter(lambda fh=fh: fh.read(1 << 20), b""):
                    h.update(chunk)
            why = None if h.hexdigest() == job.pdf_sha256 else "its SHA-256 does not match"
        except OSError as e:
            why = f"it cannot be read ({e.strerror or e})"
        if why is None:
            keep.append(job)
        else:
            damaged.append(f"{job.arxiv_id}: the cached PDF {job.path} is damaged ({why}); "
                           f"its earlier extraction is kept; delete the file and fetch it "
                           f"again (dlcompute crawl, or dlcompute ingest FILE)")
    return keep, damaged


def _with_bytes(job: ExtractJob) -> ExtractJob:
    try:
        data = Path(job.path).read_bytes()
    except OSError:
        return job  # the worker reports the missing file
    return ExtractJob(job.arxiv_id, job.path, job.year, job.month, job.pdf_sha256, data)


def _flush(store: Store, batch: list[tuple[ExtractJob, ExtractResult]],
           summary: RunSummary) -> None:
    if not batch:
        return
    # Several papers in one transaction when the executor delivers in batches; each
    # paper's rows are still complete or absent together.
    with store.transaction():
        for job, result in batch:
            record(store, job, result)
    for _, result in batch:
        summary.papers += 1
        summary.facts += len(result.facts)
        summary.pages += result.pages or 0
        summary.by_status[result.status] = summary.by_status.get(result.status, 0) + 1
    batch.clear()
