"""Options shared by every command, as decorators, so a flag means one thing everywhere."""

from __future__ import annotations

import functools
import logging
import math
import os
import sys
from collections.abc import Callable, Iterable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import TYPE_CHECKING, Any, TypeVar

import click

from db.errors import DlcomputeError
from dlcompute.settings import ENV_CONFIG, ENV_DATA, ENV_DB, Settings, resolve

if TYPE_CHECKING:
    from db import Store

F = TypeVar("F", bound=Callable[..., Any])

SETTINGS_KEY = "dlcompute.settings"


def setup_logging(verbose: int) -> None:
    """Logs go to stderr; -v for INFO, -vv for DEBUG. Called by the CLI only."""
    level = logging.WARNING if verbose == 0 else logging.INFO if verbose == 1 else logging.DEBUG
    root = logging.getLogger()
    if not any(getattr(h, "_dlcompute", False) for h in root.handlers):
        handler = logging.StreamHandler(sys.stderr)
        handler.setFormatter(logging.Formatter("%(asctime)s %(levelname)s %(name)s: %(message)s"))
        handler._dlcompute = True  # type: ignore[attr-defined]
        root.addHandler(handler)
    root.setLevel(level)


def common_options(f: F) -> F:
    """--config, -v/--verbose and --silent; passes ``settings`` to the command."""

    @click.option("--config", "config", metavar="PATH", default=None,
                  help=f"Settings file [default: ./dlcompute.toml; env {ENV_CONFIG}].")
    @click.option("-v", "--verbose", count=True, help="Logs on stderr (-vv for debug).")
    @click.option("--silent", is_flag=True, help="No progress bars.")
    @functools.wraps(f)
    def wrapper(*args: Any, config: str | None, verbose: int, silent: bool,
                **kwargs: Any) -> Any:
        on_store = "db_path" in kwargs
        db = kwargs.pop("db_path", None)
        data_dir = kwargs.pop("data_dir", None)
        settings = resolve(db=db, data_dir=data_dir, config=config, verbose=verbose,
                           silent=silent)
        if on_store:  # the CLI's error messages name the store (contexts share ``meta``)
            click.get_current_context().meta[SETTINGS_KEY] = settings
        setup_logging(verbose)
        return f(*args, settings=settings, **kwargs)

    return wrapper  # type: ignore[return-value]


def store_options(f: F) -> F:
    """--db and --data-dir plus the common options, for every command that touches data."""
    f = common_options(f)
    f = click.option("--data-dir", "data_dir", metavar="PATH", default=None,
                     help=f"PDFs and caches [default: data/; env {ENV_DATA}].")(f)
    f = click.option("--db", "db_path", metavar="PATH", default=None,
                     help=f"The store [default: dlcompute.db; env {ENV_DB}].")(f)
    return f


class StoreAccessError(DlcomputeError):
    """The store is missing where a command only reads, or read-only where it writes."""


def check_store_access(path: Path, *, write: bool) -> None:
    """Refuse, before anything is opened, a store a command cannot use.

    A reading command (``write=False``) never creates a store: a mistyped --db
    would leave an empty file behind. A writing command needs the file and its
    folder writable (SQLite's WAL files live beside it).
    """
    if not write:
        if not path.exists():
            raise StoreAccessError(f"No store at {path}; create it with: dlcompute init {path} "
                                   f"(or check --db / {ENV_DB})")
        return
    folder = path.parent if str(path.parent) else Path(".")
    if path.is_file() and not os.access(path, os.W_OK):
        raise StoreAccessError(f"The store {path} is read-only; make it writable (chmod u+w "
                               f"{path}) or work on a copy: cp {path} copy.db and --db copy.db")
    if path.is_file() and folder.is_dir() and not os.access(folder, os.W_OK | os.X_OK):
        raise StoreAccessError(f"The store's folder {folder} is read-only and SQLite writes "
                               f"beside the store; make it writable or copy {path} elsewhere "
                               f"and pass --db COPY")


def open_settings_store(settings: Settings, *, write: bool = True,
                        verify: bool = True) -> Store:
    """Open (create, migrate) the store named by the settings; see check_store_access.

    ``verify``: refuse a damaged store (SQLite's quick_check over the whole file,
    about a second for a store of 10,000 papers), so a fault in pages a command
    does not read is still noticed before it writes or reports counts.
    """
    from db import open_store

    check_store_access(Path(settings.db), write=write)
    return open_store(settings.db, verify=verify)


def wait_option(f: F) -> F:
    """--wait [SECONDS]: queue behind the command that holds the store's lock."""
    return click.option(
        "--wait", "wait", type=float, default=None, is_flag=False, flag_value=math.inf,
        metavar="[SECONDS]",
        help="When another command is writing the store, wait for it to finish (at most "
             "SECONDS; as long as it takes without a number) instead of stopping.")(f)


def lock_wait(wait: float | None) -> float | None:
    """--wait's value as StoreLock.acquire's ``wait``: 0 (not given), None (forever), S."""
    if wait is None:
        return 0.0
    if wait < 0:
        raise click.BadParameter(f"must be a number of seconds >= 0, not {wait:g}",
                                 param_hint="--wait")
    return None if math.isinf(wait) else wait


def say_waiting(settings: Settings) -> Callable[[str], None]:
    return lambda who: click.echo(f"Waiting for {who} to finish with {settings.db} ...",
                                  err=True)


def writes_store(f: F | None = None, *,
                 unless: Callable[[Settings, dict[str, Any]], bool] | None = None) -> Any:
    """Run the command holding the store's writer lock (see dlcompute.lock); adds --wait.

    Goes below ``store_options``. ``unless(settings, options)`` true: no lock (for
    commands that may run without a store).
    """

    def decorate(f: F) -> F:
        @functools.wraps(f)
        def wrapper(*args: Any, settings: Settings, wait: float | None, **kwargs: Any) -> Any:
            if unless is not None and unless(settings, kwargs):
                return f(*args, settings=settings, **kwargs)
            from db.store import check_store_path
            from dlcompute.lock import StoreLock

            # before the lock file: the store's own messages for a missing folder or a
            # read-only store
            check_store_path(settings.db)
            check_store_access(Path(settings.db), write=True)
            command = click.get_current_context().info_name or "dlcompute"
            lock = StoreLock(settings.db, command=command)
            lock.acquire(lock_wait(wait), on_wait=say_waiting(settings))
            try:
                return f(*args, settings=settings, **kwargs)
            finally:
                lock.release()

        return wait_option(wrapper)  # type: ignore[return-value]

    return decorate if f is None else decorate(f)


@contextmanager
def progress(items: Iterable[Any], label: str, settings: Settings,
             length: int | None = None) -> Iterator[Iterable[Any]]:
    """A progress bar on stderr, or the bare iterable under --silent."""
    if settings.silent:
        yield items
        return
    with click.progressbar(items, label=label, length=length, file=sys.stderr,
                           show_pos=True) as bar:
        yield bar
