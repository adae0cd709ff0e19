"""Options shared by every command, as decorators, so a flag means one thing everywhere."""

from __future__ import annotations

import functools
import logging
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
        db = kwargs.pop("db_path", None)
        data_dir = kwargs.pop("data_dir", None)
        settings = resolve(db=db, data_dir=data_dir, config=config, verbose=verbose,
                           silent=silent)
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


def open_settings_store(settings: Settings, *, write: bool = True) -> Store:
    """Open (create, migrate) the store named by the settings; see check_store_access."""
    from db import open_store

    check_store_access(Path(settings.db), write=write)
    return open_store(settings.db)


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
