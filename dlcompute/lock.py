"""One writer per store: an advisory lock file beside the store.

The lock is an ``fcntl.flock`` on ``STORE.lock``; the kernel drops it when the
holder exits, even on SIGKILL, so a crashed run never leaves a stale lock. The
file's text says who holds it, for the message the second run prints.
"""

from __future__ import annotations

import fcntl
import json
import os
import socket
import sys
from pathlib import Path
from types import TracebackType

from db import DlcomputeError, utcnow


class LockHeldError(DlcomputeError):
    """Another process is writing the same store."""


class StoreLock:
    def __init__(self, store_path: str | os.PathLike, command: str = "run"):
        self.path = Path(str(store_path) + ".lock")
        self.command = command
        self._fh = None

    def holder(self) -> dict:
        try:
            return json.loads(self.path.read_text(encoding="utf-8") or "{}")
        except (OSError, ValueError):
            return {}

    def acquire(self) -> StoreLock:
        fh = open(self.path, "a+", encoding="utf-8")  # noqa: SIM115 - held until release()
        try:
            fcntl.flock(fh, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            fh.close()
            h = self.holder()
            who = (f"pid {h.get('pid')} on {h.get('host')} ({h.get('command')}, "
                   f"since {h.get('started_at')})") if h else "another process"
            raise LockHeldError(
                f"Store {self.path.with_suffix('')} is in use by {who}; wait for it to "
                f"finish, or use another --db") from None
        fh.seek(0)
        fh.truncate()
        fh.write(json.dumps({"pid": os.getpid(), "host": socket.gethostname(),
                             "command": self.command, "argv": sys.argv[1:],
                             "started_at": utcnow()}))
        fh.flush()
        self._fh = fh
        return self

    def release(self) -> None:
        if self._fh is not None:
            self._fh.seek(0)
            self._fh.truncate()
            fcntl.flock(self._fh, fcntl.LOCK_UN)
            self._fh.close()
            self._fh = None

    def __enter__(self) -> StoreLock:
        return self.acquire()

    def __exit__(self, exc_type: type | None, exc: BaseException | None,
                 tb: TracebackType | None) -> None:
        self.release()
