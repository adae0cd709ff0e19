"""One writer per store: an advisory lock file beside the store.

Every command that writes the store in bulk (crawl, ingest, harvest, extract,
curate, analyze, run) holds this lock while it runs; the review app's small
writes (leases, decisions) go beside it, as SQLite's own locking allows.

The lock is an ``fcntl.flock`` on ``STORE.lock``; the kernel drops it when the
holder exits, even on SIGKILL, so a crashed command never leaves a stale lock.
The file's text says who holds it, for the message a second command prints.
A ``flock`` belongs to one open file, so a second :class:`StoreLock` on the same
store conflicts even inside one process: ``run`` takes the lock once and runs
its stages in-process under it.
"""

from __future__ import annotations

import contextlib
import errno
import fcntl
import json
import logging
import math
import os
import socket
import sys
import time
from collections.abc import Callable
from pathlib import Path
from types import TracebackType
from typing import IO

from db.errors import DlcomputeError

log = logging.getLogger(__name__)

# How often a waiting command tries the lock again.
POLL_SECONDS = 0.25


class LockHeldError(DlcomputeError):
    """Another process is writing the same store."""


def describe_holder(holder: dict) -> str:
    """'pid 123 on host (crawl, since 2026-01-01T00:00:00Z)', or 'another process'."""
    if not holder.get("pid"):
        return "another process"
    return (f"pid {holder.get('pid')} on {holder.get('host')} ({holder.get('command')}, "
            f"since {holder.get('started_at')})")


class StoreLock:
    """The store's writer lock. ``wait`` in :meth:`acquire`: 0 = fail at once, None = forever."""

    def __init__(self, store_path: str | os.PathLike, command: str = "run"):
        self.store = Path(store_path)
        self.path = Path(str(store_path) + ".lock")
        self.command = command
        self._fh: IO[str] | None = None

    def holder(self) -> dict:
        try:
            return json.loads(self.path.read_text(encoding="utf-8") or "{}")
        except (OSError, ValueError):
            return {}

    def _try(self, fh: IO[str]) -> bool:
        try:
            fcntl.flock(fh, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            return False
        return True

    def acquire(self, wait: float | None = 0.0,
                on_wait: Callable[[str], None] | None = None) -> StoreLock:
        """Take the lock, waiting up to ``wait`` seconds (None: as long as it takes).

        ``on_wait`` is told once, with the holder's description, when the lock is
        held and the call starts to wait. Raises LockHeldError naming the holder.
        """
        fh = self._open()
        if fh is None:
            return self
        try:
            if not self._try(fh):
                self._wait(fh, wait, on_wait)
        except BaseException:
            fh.close()
            raise
        if fh.writable():
            from db.store import utcnow

            fh.seek(0)
            fh.truncate()
            fh.write(json.dumps({"pid": os.getpid(), "host": socket.gethostname(),
                                 "command": self.command, "argv": sys.argv[1:],
                                 "started_at": utcnow()}))
            fh.flush()
        self._fh = fh
        return self

    def _open(self) -> IO[str] | None:
        """The lock file, for writing the holder's name, or only for locking (another
        user's file); None where none can be made (a read-only folder)."""
        for mode in ("a+", "r"):
            try:
                return open(self.path, mode, encoding="utf-8")  # held until release()
            except OSError as e:
                if e.errno not in (errno.EACCES, errno.EPERM, errno.EROFS, errno.ENOENT):
                    raise
                reason = e
        # Nobody writes the store from here, and the store's own checks say so when the
        # command first writes.
        log.info("cannot open the lock file %s (%s); going on without it", self.path, reason)
        return None

    def _wait(self, fh: IO[str], wait: float | None,
              on_wait: Callable[[str], None] | None) -> None:
        who = describe_holder(self.holder())
        limit = math.inf if wait is None else max(0.0, wait)
        if limit <= 0:
            raise LockHeldError(
                f"Store {self.store} is in use by {who}; wait for it to finish (or add "
                f"--wait to queue behind it), or use another --db")
        if on_wait is not None:
            on_wait(who)
        log.info("store %s is in use by %s; waiting", self.store, who)
        deadline = time.monotonic() + limit
        while not self._try(fh):
            if time.monotonic() >= deadline:
                raise LockHeldError(
                    f"Store {self.store} is still in use by "
                    f"{describe_holder(self.holder())} after waiting {wait:g} s; wait "
                    f"longer (--wait without a number waits as long as it takes), or use "
                    f"another --db")
            time.sleep(POLL_SECONDS)

    def release(self) -> None:
        if self._fh is not None:
            with contextlib.suppress(OSError):
                if self._fh.writable():
                    self._fh.seek(0)
                    self._fh.truncate()
            fcntl.flock(self._fh, fcntl.LOCK_UN)
            self._fh.close()
            self._fh = None

    def __enter__(self) -> StoreLock:
        return self if self._fh is not None else self.acquire()

    def __exit__(self, exc_type: type | None, exc: BaseException | None,
                 tb: TracebackType | None) -> None:
        self.release()
