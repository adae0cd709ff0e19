"""A worker process that runs one task at a time and can be killed without harm.

:class:`WorkerProcess` starts ``python -m extract.worker`` as a child and talks
to it over its stdin/stdout with length-prefixed pickles: ``(fn, item)`` in,
``(status, value)`` out. The parent waits with a deadline and watches the
child's resident memory; a child that exceeds the time or memory limit is
killed (SIGKILL) and replaced on the next task, and the task is reported as
``timeout`` or ``memory``. A child that dies on its own (segfault in a PDF
library, OOM killer) is reported as ``died``. Using a plain subprocess (not
``multiprocessing``) lets the same guard run inside Dask workers, whose
processes are daemonic and may not fork multiprocessing children.

The child caps its own address space (RLIMIT_AS = its size after start-up plus
the memory limit) so that a runaway allocation fails with MemoryError inside
the task instead of exhausting the machine.
"""

from __future__ import annotations

import contextlib
import logging
import os
import pickle
import select
import signal
import struct
import subprocess
import sys
import time
import traceback
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

log = logging.getLogger(__name__)

_HEADER = struct.Struct("!Q")
# How often the parent looks at a busy child's memory.
MEMORY_POLL_SECONDS = 0.2
# Modules the child imports before it caps its memory, so the cap is on the task.
WARM_MODULES = ("extract",)


@dataclass
class Outcome:
    """What became of one task: ok (fn returned ``value``), timeout, memory, died or error."""

    item: Any
    status: str
    value: Any = None
    error: str | None = None
    seconds: float = 0.0


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
        self.stopped = False  # set by stop(): a death that follows is ours, not the kernel's

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
        self.proc = subprocess.Popen(cmd, stdin=subprocess.PIPE, stdout=subprocess.PIPE,
                                     env=env, close_fds=True)
        self.tasks_done = 0
        self.stopped = False
        return self.proc

    def stop(self) -> None:
        """Kill the child because the run is over (Ctrl-C, an error): not a task's fault."""
        self.stopped = True
        self.kill()

    def kill(self) -> None:
        """Stop the child now (SIGKILL) and reap it."""
        proc, self.proc = self.proc, None
        if proc is None:
            return
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

    def _check_memory(self) -> None:
        if not self.max_memory_mb or self.proc is None:
            return
        try:
            import psutil

            rss = psutil.Process(self.proc.pid).memory_info().rss
        except Exception:  # the child may have just exited; the read will tell
            return
        if rss > self.max_memory_mb * 1024 * 1024:
            raise MemoryExceeded(f"{rss / 2**20:.0f} MB resident")

    def run(self, fn: Callable[[Any], Any], item: Any, *, timeout: float | None = None
            ) -> Outcome:
        """Run ``fn(item)`` in the child; never raises for what happens inside it."""
        if self.proc is None or self.proc.poll() is not None:
            self.kill()
            self._start()
        proc = self.proc
        t0 = time.monotonic()
        deadline = t0 + timeout if timeout else None
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
        except (WorkerDied, BrokenPipeError, EOFError, pickle.UnpicklingError, OSError) as e:
            code = proc.wait()
            self.proc = None
            if self.stopped:
                return Outcome(item, "died", error="stopped with the run",
                               seconds=time.monotonic() - t0)
            why = f"worker process died (exit code {code})"
            if code == -9 and self.max_memory_mb:
                why += "; killed, perhaps by the kernel's out-of-memory killer"
            log.warning("%s on %r: %s", why, item, e)
            return Outcome(item, "died", error=why, seconds=time.monotonic() - t0)
        self.tasks_done += 1
        if self.max_tasks and self.tasks_done >= self.max_tasks:
            self.close()  # bounds whatever a PDF library leaks
        seconds = time.monotonic() - t0
        if status == "ok":
            return Outcome(item, "ok", value=value, seconds=seconds)
        return Outcome(item, status, error=value, seconds=seconds)


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
    if max_memory:
        _cap_memory(max_memory)
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
