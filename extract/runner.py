"""Extract many PDFs: pick the pending ones, run them in guarded workers, write results.

- :func:`pending_jobs` reads the store: every downloaded PDF (``pdfs.status = 'ok'``,
  latest version per paper) without an extraction by this ``EXTRACTOR_VERSION``
  for that PDF's hash, or all of them with ``force``.
- :class:`LocalPool` runs a task function in N worker processes
  (:class:`extract.worker.WorkerProcess`), each task under a time limit and a
  memory limit; a task that exceeds one is killed and recorded, never retried
  in a loop, and the run goes on.
- :func:`run_extraction` feeds jobs to an executor (the local pool or anything
  with the same ``map`` method, such as ``dlcompute.executors.DaskExecutor``)
  and writes each result as it arrives, in the calling process only, one
  transaction per paper (or per batch of papers), so a kill at any moment
  leaves the store consistent and the next run resumes where this one stopped.
"""

from __future__ import annotations

import logging
import queue
import threading
import time
from collections.abc import Callable, Iterable, Iterator
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any, Protocol

from db import Store
from db.schema import T
from extract import EXTRACTOR_VERSION
from extract.store_writer import ensure_hardware, write_extraction
from extract.worker import Outcome, WorkerProcess

log = logging.getLogger(__name__)

DEFAULT_WORKERS = 2
DEFAULT_TIMEOUT = 300.0  # seconds per PDF: the slowest corpus PDF takes a few seconds
DEFAULT_MAX_MEMORY_MB = 2048.0
DEFAULT_MAX_TASKS_PER_WORKER = 200


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


class LocalPool:
    """N worker processes on this machine, each task under a time and memory limit."""

    name = "local"
    write_batch = 1
    send = "paths"

    def __init__(self, workers: int = DEFAULT_WORKERS, *, timeout: float | None = DEFAULT_TIMEOUT,
                 max_memory_mb: float | None = DEFAULT_MAX_MEMORY_MB,
                 max_tasks_per_worker: int | None = DEFAULT_MAX_TASKS_PER_WORKER):
        if workers < 1:
            raise ValueError(f"workers must be at least 1, not {workers}")
        self.workers = workers
        self.timeout = timeout
        self.max_memory_mb = max_memory_mb
        self.max_tasks_per_worker = max_tasks_per_worker
        self._procs: list[WorkerProcess] = []

    def map(self, fn: Callable[[Any], Any], items: Iterable[Any]) -> Iterator[Outcome]:
        source = iter(items)
        lock = threading.Lock()
        done: queue.Queue = queue.Queue()
        stop = threading.Event()
        # Worker processes outlive one map() call: a second call starts warm.
        while len(self._procs) < self.workers:
            self._procs.append(WorkerProcess(max_memory_mb=self.max_memory_mb,
                                             max_tasks=self.max_tasks_per_worker))

        def serve(proc: WorkerProcess) -> None:
            try:
                while not stop.is_set():
                    with lock:
                        item = next(source, _END)
                    if item is _END:
                        break
                    done.put(proc.run(fn, item, timeout=self.timeout))
            except BaseException as e:  # surface a bug in the pool itself to the consumer
                done.put(e)
            finally:
                done.put(_END)

        threads = [threading.Thread(target=serve, args=(p,), daemon=True,
                                    name=f"extract-worker-{i}")
                   for i, p in enumerate(self._procs)]
        for t in threads:
            t.start()
        running = len(threads)
        try:
            while running:
                got = done.get()
                if got is _END:
                    running -= 1
                elif isinstance(got, BaseException):
                    raise got
                else:
                    yield got
        finally:
            stop.set()
            if running:
                # Stopped early (error, interrupt, consumer gone): do not wait for tasks.
                for p in self._procs:
                    p.stop()
            for t in threads:
                t.join(timeout=10)

    def __enter__(self) -> LocalPool:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def worker_pids(self) -> list[int]:
        return [p.pid for p in self._procs if p.pid]

    def close(self) -> None:
        """Stop the worker processes."""
        for p in self._procs:
            p.close()
        self._procs = []


_END = object()


# --- choosing work and writing it ------------------------------------------------------

def pending_jobs(store: Store, data_dir: Path, *, paper_ids: Iterable[str] | None = None,
                 force: bool = False, extractor_version: str = EXTRACTOR_VERSION
                 ) -> list[ExtractJob]:
    """Downloaded PDFs still to extract by ``extractor_version`` (all of them with force)."""
    ids = sorted(set(paper_ids or []))
    where = ["d.status = 'ok'", f"d.version = (select max(version) from {T.pdfs} x "
             f"where x.arxiv_id = d.arxiv_id and x.status = 'ok')"]
    params: list[Any] = []
    if ids:
        where.append(f"d.arxiv_id in ({','.join('?' * len(ids))})")
        params += ids
    if not force:
        where.append(f"not exists (select 1 from {T.extractions} e where e.arxiv_id = d.arxiv_id"
                     f" and e.extractor_version = ? and e.pdf_sha256 is d.sha256)")
        params.append(extractor_version)
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


def record(store: Store, job: ExtractJob, result: ExtractResult,
           extractor_version: str = EXTRACTOR_VERSION) -> int:
    """Write one result (extraction row + facts) in one transaction; return its id."""
    return write_extraction(
        store, arxiv_id=job.arxiv_id, pdf_sha256=job.pdf_sha256 or result.sha256,
        extractor_version=extractor_version, status=result.status, error=result.error,
        pages=result.pages, chars=result.chars, seconds=result.seconds, facts=result.facts)


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
    jobs = pending_jobs(store, data_dir, paper_ids=ids, force=force)
    total_ok = store.count(T.pdfs, "status = 'ok'")
    pool = executor or LocalPool()
    summary = RunSummary(executor=getattr(pool, "name", type(pool).__name__),
                         skipped=max(0, (len(set(ids)) if ids else total_ok) - len(jobs)))
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
