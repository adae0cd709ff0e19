"""Options shared by every command, as decorators, so a flag means one thing everywhere."""

from __future__ import annotations

import functools
import logging
import sys
from collections.abc import Callable, Iterable, Iterator
from contextlib import contextmanager
from typing import Any, TypeVar

import click

from db import Store, open_store
from dlcompute.settings import ENV_CONFIG, ENV_DATA, ENV_DB, Settings, resolve

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


def open_settings_store(settings: Settings) -> Store:
    """Open (create, migrate) the store named by the settings."""
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
