"""Where stage work runs: a pool of local processes, or a Dask cluster.

Both executors have the same shape, ``map(fn, items) -> iterator of Outcome``
(unordered, as tasks finish), with ``fn`` a picklable top-level function. Each
task runs in a guarded worker process (:class:`extract.worker.WorkerProcess`)
with a time limit and a memory limit, on this machine or on a Dask worker, so a
task that hangs or swells is killed and recorded the same way in both.
The caller (``dlcompute extract``) alone writes the store. A task whose guarded
process dies is retried ``retries`` times on both.

Dask: one task per item; workers receive the item as is (a path on a shared
filesystem, or the PDF bytes with ``send="bytes"``) and send back plain
results. A Dask worker that dies loses no task: the scheduler reruns its tasks
elsewhere; a task whose guarded process dies is retried ``retries`` times and
then reported as ``died``.
"""

from __future__ import annotations

import atexit
import logging
import threading
import uuid
from collections.abc import Callable, Iterable, Iterator
from typing import Any

from db.errors import DlcomputeError
from extract.runner import (
    DEFAULT_MAX_MEMORY_MB,
    DEFAULT_MAX_TASKS_PER_WORKER,
    DEFAULT_RETRIES,
    DEFAULT_TIMEOUT,
    DEFAULT_WORKERS,
    LocalPool,
)
from extract.worker import Outcome, WorkerProcess

log = logging.getLogger(__name__)

EXECUTORS = ("local", "dask")
SEND_MODES = ("paths", "bytes")
DASK_WRITE_BATCH = 16


class ExecutorError(DlcomputeError):
    """The executor cannot start (no scheduler, Dask missing, bad option)."""


class LocalExecutor(LocalPool):
    """Worker processes on this machine (see :class:`extract.worker.LocalPool`)."""


class TaskProcessDied(RuntimeError):
    """The guarded process of a Dask task died; raised so that Dask retries the task."""


_local = threading.local()


def _guarded_call(fn: Callable[[Any], Any], item: Any, timeout: float | None,
                  max_memory_mb: float | None, max_tasks: int | None) -> Outcome:
    """Runs on a Dask worker: ``fn(item)`` in this worker thread's guarded process."""
    proc = getattr(_local, "proc", None)
    if proc is None:
        proc = _local.proc = WorkerProcess(max_memory_mb=max_memory_mb, max_tasks=max_tasks)
        atexit.register(proc.close)  # reap it when the Dask worker shuts down cleanly
    outcome = proc.run(fn, item, timeout=timeout)
    outcome.item = None  # the client has it; do not ship PDF bytes back
    if outcome.status == "died":
        raise TaskProcessDied(outcome.error)
    return outcome


class DaskExecutor:
    """Tasks on a dask.distributed cluster; results stream back as they finish."""

    name = "dask"
    write_batch = DASK_WRITE_BATCH

    def __init__(self, scheduler: Any, *, timeout: float | None = DEFAULT_TIMEOUT,
                 max_memory_mb: float | None = DEFAULT_MAX_MEMORY_MB,
                 max_tasks_per_worker: int | None = DEFAULT_MAX_TASKS_PER_WORKER,
                 retries: int = DEFAULT_RETRIES, send: str = "paths",
                 connect_timeout: float = 30.0):
        """``scheduler``: an address (tcp://host:8786), a Client, or a LocalCluster."""
        if send not in SEND_MODES:
            raise ExecutorError(f"send mode {send!r} is not one of: {', '.join(SEND_MODES)}")
        try:
            from distributed import Client
        except ImportError as e:
            raise ExecutorError("Dask is not installed; pip install 'dask[distributed]'") from e
        self.timeout = timeout
        self.max_memory_mb = max_memory_mb
        self.max_tasks_per_worker = max_tasks_per_worker
        self.retries = retries
        self.send = send
        self._own_client = not isinstance(scheduler, Client)
        if isinstance(scheduler, Client):
            self.client = scheduler
        else:
            try:
                self.client = Client(scheduler, timeout=connect_timeout)
            except (OSError, TimeoutError) as e:
                raise ExecutorError(
                    f"Cannot reach the Dask scheduler at {scheduler}: {e}; start one with "
                    f"`dask scheduler` and pass its address with --scheduler") from e

    def map(self, fn: Callable[[Any], Any], items: Iterable[Any]) -> Iterator[Outcome]:
        from distributed import as_completed

        run = uuid.uuid4().hex[:8]
        futures = {}
        for i, item in enumerate(items):
            fut = self.client.submit(
                _guarded_call, fn, item, self.timeout, self.max_memory_mb,
                self.max_tasks_per_worker, key=f"dlcompute-{run}-{i}",
                retries=self.retries, pure=False)
            futures[fut] = item
        try:
            for fut in as_completed(futures):
                item = futures.pop(fut)
                try:
                    outcome = fut.result()
                    outcome.item = item
                except Exception as e:  # KilledWorker, TaskProcessDied after retries, ...
                    outcome = Outcome(item, "died", error=f"{type(e).__name__}: {e}")
                fut.release()
                yield outcome
        finally:
            for fut in futures:
                fut.cancel()

    def close(self) -> None:
        if self._own_client:
            self.client.close()

    def __enter__(self) -> DaskExecutor:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


def make_executor(kind: str, *, workers: int = DEFAULT_WORKERS,
                  timeout: float | None = DEFAULT_TIMEOUT,
                  max_memory_mb: float | None = DEFAULT_MAX_MEMORY_MB,
                  scheduler: str | None = None, send: str = "paths",
                  retries: int = DEFAULT_RETRIES,
                  connect_timeout: float = 30.0) -> LocalExecutor | DaskExecutor:
    """An executor by name: ``local`` (``workers`` processes) or ``dask`` (``scheduler``)."""
    if kind == "local":
        return LocalExecutor(workers, timeout=timeout, max_memory_mb=max_memory_mb,
                             retries=retries)
    if kind == "dask":
        if not scheduler:
            raise ExecutorError("--executor dask needs --scheduler ADDRESS "
                                "(for example tcp://10.0.0.5:8786)")
        return DaskExecutor(scheduler, timeout=timeout, max_memory_mb=max_memory_mb,
                            retries=retries, send=send, connect_timeout=connect_timeout)
    raise ExecutorError(f"executor {kind!r} is not one of: {', '.join(EXECUTORS)}")
