"""A worker process that runs one task at a time and can be killed without harm.

:class:`WorkerProcess` starts ``python -m extract.worker`` as a child and talks
to it over its stdin/stdout with length-prefixed pickles: ``(fn, item)`` in,
``(status, value)`` out. The parent waits with a deadline and watches the
child's resident memory; a child that exceeds the time or memory limit is
killed (SIGKILL) and replaced on the next task, and the task is reported as
``timeout`` or ``memory``. A child that dies on its own is reported as
``memory`` when it crashed (SIGABRT, SIGSEGV, ...) after growing to near the
memory limit (pdfium aborts when an allocation fails under the cap), else as
``died`` (a crash in a PDF library, the kernel's OOM killer). Using a plain
subprocess (not ``multiprocessing``) lets the same guard run inside Dask
workers, whose processes are daemonic and may not fork multiprocessing children.

The child warms up (imports the extractor, extracts a tiny PDF) before it says
it is ready, so a task's time limit counts the task only; then it caps its own
address space (RLIMIT_AS = its size after the warm-up plus the memory limit) so
that a runaway allocation fails inside the task instead of exhausting the machine.

:class:`LocalPool` keeps N such workers and feeds them tasks from threads; a task
whose process died is tried again in a fresh one (``retries`` times), as Dask
retries its tasks.
"""

from __future__ import annotations

import contextlib
import importlib
import logging
import os
import pickle
import queue
import select
import signal
import struct
import subprocess
import sys
import threading
import time
import traceback
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass
from typing import Any

log = logging.getLogger(__name__)

_HEADER = struct.Struct("!Q")
# How often the parent looks at a busy child's memory.
MEMORY_POLL_SECONDS = 0.2
# How long a child may take to start (import the extractor) before it counts as dead;
# a task's time limit starts only once its child is ready.
STARTUP_TIMEOUT = 300.0
DEFAULT_WORKERS = 2
DEFAULT_TIMEOUT = 300.0  # seconds per PDF: the slowest corpus PDF takes a few seconds
DEFAULT_MAX_MEMORY_MB = 2048.0
DEFAULT_MAX_TASKS_PER_WORKER = 200
DEFAULT_RETRIES = 2  # more attempts for a task whose worker process died
# What the child does before it says it is ready and caps its memory (so neither
# the cap nor a task's time limit counts it): import modules, call "module:function"s.
WARM_MODULES = ("extract",)
WARM_CALLS = ("extract.runner:warm_up",)
# How a C library (pdfium) dies when an allocation fails under the address-space cap.
CRASH_SIGNALS = frozenset({signal.SIGABRT, signal.SIGSEGV, signal.SIGBUS, signal.SIGILL,
                           signal.SIGTRAP})
# A crash counts as the memory limit's doing when the child's peak resident memory
# had grown by this share of the limit since the task began.
MEMORY_CRASH_SHARE = 0.5


@dataclass
class Outcome:
    """What became of one task: ok (fn returned ``value``), timeout, memory, died or error."""

    item: Any
    status: str
    value: Any = None
    error: str | None = None
    seconds: float = 0.0
    attempts: int = 1  # worker processes tried (a task whose process died is retried)


class WorkerDied(Exception):
    """The child closed its pipe without answering."""


def _read_exact(fd: int, n: int, deadline: float | None, on_wait: Callable[[], None]) -> bytes:
    chunks, got = [], 0
    while got < n:
        wait = MEMORY_POLL_SECONDS
        if deadline is not None:
            left = deadline - time.monotonic()
            if left <= 0:
                raise TimeoutError
            wait = min(wait, left)
        ready, _, _ = select.select([fd], [], [], wait)
        if not ready:
            on_wait()
            continue
        chunk = os.read(fd, min(n - got, 1 << 20))
        if not chunk:
            raise WorkerDied
        chunks.append(chunk)
        got += len(chunk)
    return b"".join(chunks)


class MemoryExceeded(Exception):
    """The child's resident memory went over the limit."""


class WorkerProcess:
    """One child process; :meth:`run` runs ``fn(item)`` in it under the limits."""

    def __init__(self, *, max_memory_mb: float | None = None, max_tasks: int | None = None):
        self.max_memory_mb = max_memory_mb
        self.max_tasks = max_tasks
        self.proc: subprocess.Popen | None = None
        self.tasks_done = 0
        # pids this object killed (a limit, or stop()): deaths that are ours, not the kernel's
        self._killed: set[int] = set()
        self._start_rss = 0
        self._ready = False

    @property
    def pid(self) -> int | None:
        return self.proc.pid if self.proc else None

    def _start(self) -> subprocess.Popen:
        env = dict(os.environ)
        # The child must import what the parent imports (an uninstalled checkout, tests).
        env["PYTHONPATH"] = os.pathsep.join(p for p in sys.path if p)
        cmd = [sys.executable, "-m", "extract.worker"]
        if self.max_memory_mb:
            cmd += ["--max-memory-mb", str(self.max_memory_mb)]
        # A process group of its own: a terminal's Ctrl-C reaches the parent, which decides
        # and stops the workers, not a child still importing (a traceback on the terminal).
        self.proc = subprocess.Popen(cmd, stdin=subprocess.PIPE, stdout=subprocess.PIPE,
                                     env=env, close_fds=True, process_group=0)
        self.tasks_done = 0
        self._ready = False
        return self.proc

    def start(self) -> None:
        """Start the child now (it warms up while the caller does other things)."""
        if self.proc is None or self.proc.poll() is not None:
            self.kill()
            self._start()

    def _await_ready(self, proc: subprocess.Popen) -> None:
        """Wait for the child's "ready" (sent once it has imported the extractor)."""
        fd = proc.stdout.fileno()
        deadline = time.monotonic() + STARTUP_TIMEOUT
        (size,) = _HEADER.unpack(_read_exact(fd, _HEADER.size, deadline, lambda: None))
        pickle.loads(_read_exact(fd, size, deadline, lambda: None))
        self._ready = True

    def stop(self) -> None:
        """Kill the child because the run is over (Ctrl-C, an error): not a task's fault."""
        self.kill()

    def kill(self) -> None:
        """Stop the child now (SIGKILL) and reap it."""
        proc, self.proc = self.proc, None
        if proc is None:
            return
        self._killed.add(proc.pid)
        with contextlib.suppress(ProcessLookupError):
            proc.kill()
        for stream in (proc.stdin, proc.stdout):
            with contextlib.suppress(OSError):
                stream.close()
        proc.wait()

    def close(self) -> None:
        """Ask the child to exit (closing its stdin), kill it if it does not."""
        proc, self.proc = self.proc, None
        if proc is None:
            return
        with contextlib.suppress(OSError):
            proc.stdin.close()
        try:
            proc.wait(timeout=5)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()
        with contextlib.suppress(OSError):
            proc.stdout.close()

    def _rss(self) -> int | None:
        try:
            import psutil

            return psutil.Process(self.proc.pid).memory_info().rss
        except Exception:  # the child may have just exited; the read will tell
            return None

    def _check_memory(self) -> None:
        if not self.max_memory_mb or self.proc is None:
            return
        rss = self._rss()
        if rss is not None and rss > self.max_memory_mb * 1024 * 1024:
            raise MemoryExceeded(f"{rss / 2**20:.0f} MB resident")

    def _reap(self, proc: subprocess.Popen) -> tuple[int, int]:
        """Wait for the dead child; its exit code and peak resident memory (bytes)."""
        try:
            _, status, usage = os.wait4(proc.pid, 0)
        except ChildProcessError:  # reaped already (by kill() in another thread)
            return proc.wait(), 0
        proc.returncode = os.waitstatus_to_exitcode(status)
        return proc.returncode, usage.ru_maxrss * 1024  # ru_maxrss is in KiB on Linux

    def _death(self, proc: subprocess.Popen, item: Any, t0: float, e: BaseException
               ) -> Outcome:
        """What a child that closed its pipe without answering died of."""
        code, peak = self._reap(proc)
        if self.proc is proc:
            self.proc = None
        seconds = time.monotonic() - t0
        if proc.pid in self._killed:  # stopped by this side (the run is over)
            return Outcome(item, "died", error="stopped with the run", seconds=seconds)
        limit = (self.max_memory_mb or 0) * 1024 * 1024
        if limit and -code in CRASH_SIGNALS and \
                peak - self._start_rss >= MEMORY_CRASH_SHARE * limit:
            return Outcome(item, "memory", error=(
                f"over the memory limit of {self.max_memory_mb:g} MB: the worker crashed "
                f"({signal.Signals(-code).name}) at {peak / 2**20:.0f} MB resident"),
                seconds=seconds)
        why = f"worker process died (exit code {code})"
        if code == -signal.SIGKILL:
            why += "; killed from outside, perhaps by the kernel's out-of-memory killer"
        log.warning("%s on %r: %s", why, item, e)
        return Outcome(item, "died", error=why, seconds=seconds)

    def run(self, fn: Callable[[Any], Any], item: Any, *, timeout: float | None = None
            ) -> Outcome:
        """Run ``fn(item)`` in the child; never raises for what happens inside it."""
        self.start()
        proc = self.proc
        if not self._ready:
            t0 = time.monotonic()
            try:
                self._await_ready(proc)
            except TimeoutError:
                self.kill()
                return Outcome(item, "died", error=f"the worker process did not start "
                               f"within {STARTUP_TIMEOUT:g} s", seconds=time.monotonic() - t0)
            except (WorkerDied, EOFError, pickle.UnpicklingError, OSError, ValueError) as e:
                return self._death(proc, item, t0, e)  # ValueError: pipes closed by stop()
        t0 = time.monotonic()
        deadline = t0 + timeout if timeout else None
        if self.max_memory_mb:
            self._start_rss = self._rss() or 0
        try:
            payload = pickle.dumps((fn, item), protocol=pickle.HIGHEST_PROTOCOL)
        except Exception as e:  # an unpicklable task is the caller's bug, report it
            return Outcome(item, "error", error=f"cannot send the task: {e}")
        try:
            proc.stdin.write(_HEADER.pack(len(payload)) + payload)
            proc.stdin.flush()
            fd = proc.stdout.fileno()
            (size,) = _HEADER.unpack(
                _read_exact(fd, _HEADER.size, deadline, self._check_memory))
            status, value = pickle.loads(_read_exact(fd, size, deadline, self._check_memory))
        except TimeoutError:
            self.kill()
            return Outcome(item, "timeout", error=f"no answer within {timeout:g} s; killed",
                           seconds=time.monotonic() - t0)
        except MemoryExceeded as e:
            self.kill()
            return Outcome(item, "memory", error=f"over the memory limit of "
                           f"{self.max_memory_mb:g} MB ({e}); killed",
                           seconds=time.monotonic() - t0)
        except (WorkerDied, BrokenPipeError, EOFError, pickle.UnpicklingError, OSError,
                ValueError) as e:  # ValueError: pipes closed by stop() in another thread
            return self._death(proc, item, t0, e)
        self.tasks_done += 1
        if self.max_tasks and self.tasks_done >= self.max_tasks:
            self.close()  # bounds whatever a PDF library leaks
        seconds = time.monotonic() - t0
        if status == "ok":
            return Outcome(item, "ok", value=value, seconds=seconds)
        return Outcome(item, status, error=value, seconds=seconds)


class LocalPool:
    """N worker processes on this machine, each task under a time and memory limit."""

    name = "local"
    write_batch = 1
    send = "paths"

    def __init__(self, workers: int = DEFAULT_WORKERS, *, timeout: float | None = DEFAULT_TIMEOUT,
                 max_memory_mb: float | None = DEFAULT_MAX_MEMORY_MB,
                 max_tasks_per_worker: int | None = DEFAULT_MAX_TASKS_PER_WORKER,
                 retries: int = DEFAULT_RETRIES):
        if workers < 1:
            raise ValueError(f"workers must be at least 1, not {workers}")
        self.workers = workers
        self.timeout = timeout
        self.max_memory_mb = max_memory_mb
        self.max_tasks_per_worker = max_tasks_per_worker
        self.retries = retries
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
                    done.put(self._run(proc, fn, item, stop))
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

    def _run(self, proc: WorkerProcess, fn: Callable[[Any], Any], item: Any,
             stop: threading.Event) -> Outcome:
        """One task, tried again in a fresh process while its process dies."""
        outcome = proc.run(fn, item, timeout=self.timeout)
        while outcome.status == "died" and outcome.attempts <= self.retries \
                and not stop.is_set():
            log.info("trying %r again in a new worker process (attempt %d)", item,
                     outcome.attempts + 1)
            attempts = outcome.attempts + 1
            outcome = proc.run(fn, item, timeout=self.timeout)
            outcome.attempts = attempts
        if outcome.status == "died" and outcome.attempts > 1:
            outcome.error = f"{outcome.error} ({outcome.attempts} attempts)"
        return outcome

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


# --- the child side ------------------------------------------------------------------

def _cap_memory(max_memory_mb: float) -> None:
    try:
        import resource

        import psutil

        vms = psutil.Process().memory_info().vms
        limit = int(vms + max_memory_mb * 1024 * 1024)
        _, hard = resource.getrlimit(resource.RLIMIT_AS)
        if hard != resource.RLIM_INFINITY:
            limit = min(limit, hard)
        resource.setrlimit(resource.RLIMIT_AS, (limit, hard))
    except (ImportError, ValueError, OSError) as e:
        log.warning("cannot cap the worker's memory: %s", e)


def _send(out, status: str, value: Any) -> None:
    try:
        data = pickle.dumps((status, value), protocol=pickle.HIGHEST_PROTOCOL)
    except Exception as e:  # the answer itself cannot travel; say so instead
        data = pickle.dumps(("error", f"cannot send the result back: {e}"))
    out.write(_HEADER.pack(len(data)) + data)
    out.flush()


def child_main(argv: list[str]) -> int:
    """Serve tasks from stdin until it closes."""
    # Ctrl-C reaches the whole process group; the parent decides, and stops us itself.
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    # The protocol owns the real stdout; stray prints from libraries go to stderr.
    out = os.fdopen(os.dup(1), "wb")
    os.dup2(2, 1)
    inp = sys.stdin.buffer
    max_memory = None
    if "--max-memory-mb" in argv:
        max_memory = float(argv[argv.index("--max-memory-mb") + 1])
    for name in WARM_MODULES:
        with contextlib.suppress(ImportError):
            __import__(name)
    for target in WARM_CALLS:
        module, _, function = target.partition(":")
        try:
            getattr(importlib.import_module(module), function)()
        except Exception as e:  # a cold start is slower, not wrong
            log.warning("warm-up %s failed: %s", target, e)
    if max_memory:
        _cap_memory(max_memory)
    _send(out, "ready", os.getpid())
    while True:
        header = inp.read(_HEADER.size)
        if len(header) < _HEADER.size:
            return 0
        (size,) = _HEADER.unpack(header)
        data = inp.read(size)
        try:
            fn, item = pickle.loads(data)
            value = fn(item)
        except MemoryError:
            value = None
            _send(out, "memory", "MemoryError: the task needed more than the memory limit")
            continue
        except BaseException as e:  # report every failure of the task, keep serving
            if isinstance(e, KeyboardInterrupt | SystemExit):
                raise
            _send(out, "error", f"{type(e).__name__}: {e}\n{traceback.format_exc(limit=5)}")
            continue
        try:
            _send(out, "ok", value)
        except BrokenPipeError:
            return 0


if __name__ == "__main__":
    sys.exit(child_main(sys.argv[1:]))
