"""Opening, checking and migrating the store."""

from __future__ import annotations

import contextlib
import datetime as dt
import logging
import os
import sqlite3
from collections.abc import Iterator
from pathlib import Path

from sqlite_utils import Database

from db.errors import DlcomputeError
from db.schema import APPLICATION_ID, MIGRATION_SET, T, migration_names, migrations

log = logging.getLogger(__name__)

SQLITE_MAGIC = b"SQLite format 3\x00"


class StoreError(DlcomputeError):
    """The store cannot be opened or used; the message names the file and the fix."""

    def __init__(self, message: str, path: str | os.PathLike | None = None):
        super().__init__(message)
        self.path = str(path) if path is not None else None

    def __reduce__(self):
        return (type(self), (str(self), self.path))


class NotAStoreError(StoreError):
    """The file exists but is not a dlcompute store."""


class StoreTooNewError(StoreError):
    """The store was written by a newer dlcompute than this one."""


class StoreDamagedError(StoreError):
    """SQLite found the file damaged (a torn or overwritten page)."""


class StoreBusyError(StoreError):
    """Another connection kept the store locked longer than the busy timeout."""


def check_command(path: str | os.PathLike) -> str:
    """The command that reports what is wrong with a store, for error messages."""
    return f"dlcompute check --db {path}"


# SQLite's faults by words of its message: the error to raise and its message, where
# {path} is the store, {text} SQLite's words and {check} the command that checks it.
_FAULTS: list[tuple[tuple[str, ...], type[StoreError], str]] = [
    (("locked", "busy"), StoreBusyError,
     "Store {path} is busy ({text}): another process kept it locked too long; run the "
     "command again, with --wait to queue behind a writing command"),
    (("full",), StoreError,
     "Store {path}: the disk is full ({text}); free space on the disk that holds it and "
     "run the command again: finished work is kept"),
    (("readonly", "read-only"), StoreError,
     "Store {path} is read-only ({text}); make the file and its directory writable, or "
     "copy it and use --db COPY"),
    (("disk i/o error",), StoreError,
     "Store {path}: {text}; check that its disk has free space and works, then run: {check}"),
    (("unable to open",), StoreError,
     "Cannot open store {path} ({text}); check that its directory exists and is writable"),
    (("malformed", "not a database", "corrupt"), StoreDamagedError,
     "Store {path} is damaged ({text}); nothing more was written to it; see what is wrong "
     "and how to recover with: {check}"),
]


def store_error(e: sqlite3.Error, path: str | os.PathLike) -> StoreError:
    """An SQLite error met while using the store at ``path``, as a StoreError whose
    message names the store and the fix."""
    text = str(e) or type(e).__name__
    low = text.lower()
    words = dict(path=path, text=text, check=check_command(path))
    for needles, cls, message in _FAULTS:
        if any(n in low for n in needles):
            return cls(message.format(**words), path)
    if isinstance(e, sqlite3.DatabaseError) and not isinstance(e, sqlite3.OperationalError):
        return StoreDamagedError(_FAULTS[-1][2].format(**words), path)
    return StoreError(f"Store {path}: {text}; see what is wrong with: {words['check']}", path)


def verify_store(store: Store) -> None:
    """Raise StoreDamagedError when SQLite's quick_check finds the file damaged.

    A damaged page can sit in a table a command never reads (extract reads pdfs,
    not facts), so commands check the whole file before they write to it.
    """
    try:
        rows = [r[0] for r in store.db.execute("pragma quick_check(5)").fetchall()]
    except sqlite3.DatabaseError as e:
        raise store_error(e, store.path) from e
    if rows != ["ok"]:
        raise StoreDamagedError(
            f"Store {store.path} is damaged ({rows[0]}); nothing was written to it; see "
            f"what is wrong and how to recover with: {check_command(store.path)}", store.path)


def utcnow() -> str:
    """Now, as the ISO 8601 UTC text every table stores."""
    return dt.datetime.now(dt.UTC).replace(microsecond=0).isoformat().replace("+00:00", "Z")


class Store:
    """An open dlcompute store: a sqlite-utils Database with the schema applied."""

    def __init__(self, db: Database, path: Path):
        self.db = db
        self.path = path

    def __enter__(self) -> Store:
        return self

    def __exit__(self, *exc) -> None:
        self.close()

    def close(self) -> None:
        self.db.close()

    @contextlib.contextmanager
    def transaction(self) -> Iterator[Database]:
        """Writes that belong together: all or nothing, also across a kill -9.

        The outermost level begins IMMEDIATE: it waits for the write lock first, so
        a transaction that reads and then writes never finds that another writer
        (the review app, say) moved the snapshot it read (SQLITE_BUSY_SNAPSHOT,
        which no busy timeout waits out). Nested levels are savepoints.
        """
        conn = self.db.conn
        if conn.in_transaction:
            with self.db.atomic() as db:
                yield db
            return
        conn.execute("BEGIN IMMEDIATE")
        try:
            yield self.db
        except BaseException:
            if conn.in_transaction:
                conn.execute("ROLLBACK")
            raise
        conn.execute("COMMIT")

    def table(self, name: str):
        return self.db.table(name)

    def get_meta(self, key: str, default: str | None = None) -> str | None:
        rows = list(self.db.query(f"select value from {T.meta} where key = ?", [key]))
        return rows[0]["value"] if rows else default

    def set_meta(self, key: str, value: str) -> None:
        self.db[T.meta].insert({"key": key, "value": value}, replace=True)

    def count(self, table: str, where: str | None = None, params: list | None = None) -> int:
        sql = f"select count(*) as n from [{table}]" + (f" where {where}" if where else "")
        return next(iter(self.db.query(sql, params or [])))["n"]


def check_store_path(path: Path) -> None:
    """Raise StoreError when ``path`` cannot be (or become) a store: a directory, a
    missing or unwritable parent directory, a file that is not SQLite."""
    if path.is_dir():
        raise StoreError(f"{path} is a directory, not a store file; pass a file path with --db", path)
    if not path.exists():
        parent = path.parent if str(path.parent) else Path(".")
        if not parent.exists():
            raise StoreError(
                f"Cannot create store {path}: directory {parent} does not exist; "
                f"create it or choose another --db path",
                path,
            )
        if not os.access(parent, os.W_OK):
            raise StoreError(
                f"Cannot create store {path}: directory {parent} is not writable; "
                f"choose another --db path",
                path,
            )
        return
    if path.stat().st_size == 0:
        return
    with open(path, "rb") as fh:
        head = fh.read(len(SQLITE_MAGIC))
    if head != SQLITE_MAGIC:
        raise NotAStoreError(
            f"{path} is not a dlcompute store (not an SQLite file); "
            f"choose another --db path or run: dlcompute init --db NEW.db",
            path,
        )


def _check_identity(db: Database, path: Path) -> None:
    """Refuse SQLite files of other applications and stores of newer dlcompute versions."""
    app_id = db.execute("pragma application_id").fetchone()[0]
    tables = [t for t in db.table_names() if not t.startswith("sqlite_")]
    if app_id not in (0, APPLICATION_ID) or (tables and app_id != APPLICATION_ID):
        raise NotAStoreError(
            f"{path} is an SQLite database but not a dlcompute store; "
            f"choose another --db path or run: dlcompute init --db NEW.db",
            path,
        )
    if "_sqlite_migrations" in tables:
        applied = {m.name for m in migrations.applied(db)}
        unknown = sorted(applied - set(migration_names()))
        if unknown:
            from dlcompute import __version__

            raise StoreTooNewError(
                f"{path} was written by a newer dlcompute (migrations {', '.join(unknown)} "
                f"are unknown to dlcompute {__version__}); upgrade dlcompute: "
                f"pip install -U dlcompute",
                path,
            )


def open_store(path: str | os.PathLike, *, migrate: bool = True, timeout: float = 30.0,
               verify: bool = False) -> Store:
    """Open (creating and migrating if needed) the store at ``path``.

    ``verify``: also run SQLite's quick_check over the whole file (reads every
    page: about a second per GB) and refuse a damaged store.
    Raises StoreError (or a subclass) with a message fit for the user.
    """
    path = Path(path)
    check_store_path(path)
    conn = None
    try:
        conn = sqlite3.connect(str(path), timeout=timeout, isolation_level=None)
        db = Database(conn)
        conn.execute("pragma foreign_keys = on")
        _check_identity(db, path)
        if migrate and migrations.pending(db):
            if db.journal_mode != "wal":
                db.enable_wal()
            migrations.apply(db)
            db.execute(f"pragma application_id = {APPLICATION_ID}")
            log.info("store %s migrated (%s)", path, MIGRATION_SET)
        elif db.journal_mode != "wal" and not _read_only(path):
            db.enable_wal()
    except StoreError:
        with contextlib.suppress(Exception):
            conn.close()
        raise
    except sqlite3.DatabaseError as e:
        with contextlib.suppress(Exception):
            conn.close()
        raise store_error(e, path) from e
    store = Store(db, path)
    if verify:
        try:
            verify_store(store)
        except StoreError:
            store.close()
            raise
    return store


def _read_only(path: Path) -> bool:
    return path.exists() and not os.access(path, os.W_OK)
