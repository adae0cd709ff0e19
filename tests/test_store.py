"""The store: migrations, identity checks, crash consistency."""

from __future__ import annotations

import signal
import sqlite3
import subprocess
import sys
import textwrap
import time
from pathlib import Path

import pytest

from db import NotAStoreError, StoreError, StoreTooNewError, T, open_store
from db.schema import TABLES, VIEWS, migration_names

ROOT = Path(__file__).resolve().parent.parent


def test_creates_every_table_and_view(store):
    names = set(store.db.table_names())
    assert set(TABLES) <= names
    assert set(VIEWS) <= set(store.db.view_names())
    assert store.db.journal_mode == "wal"
    assert store.db.execute("pragma foreign_keys").fetchone()[0] == 1


def test_migrations_applied_twice_are_harmless(store_path):
    with open_store(store_path) as s:
        s.db[T.papers].insert({"arxiv_id": "1501.00010", "title": "kept"})
    schema_before = sqlite3.connect(store_path).execute(
        "select group_concat(sql, ';') from sqlite_master order by name").fetchone()[0]
    with open_store(store_path) as s:
        applied = list(s.db.query("select name from _sqlite_migrations"))
        assert [r["name"] for r in applied] == migration_names()
        assert s.db[T.papers].get("1501.00010")["title"] == "kept"
    schema_after = sqlite3.connect(store_path).execute(
        "select group_concat(sql, ';') from sqlite_master order by name").fetchone()[0]
    assert schema_before == schema_after


def test_arxiv_ids_stay_text(store):
    store.db[T.papers].insert({"arxiv_id": "1501.00010", "year": 2015, "month": 1})
    row = next(store.db.query(f"select arxiv_id, typeof(arxiv_id) t from {T.papers}"))
    assert row == {"arxiv_id": "1501.00010", "t": "text"}


def test_foreign_keys_enforced(store):
    with pytest.raises(sqlite3.IntegrityError):
        store.db[T.paper_queries].insert({"arxiv_id": "nope", "query": "nope"})


def test_not_an_sqlite_file(tmp_path):
    bad = tmp_path / "notes.db"
    bad.write_text("hello, not a database")
    with pytest.raises(NotAStoreError) as e:
        open_store(bad)
    assert str(bad) in str(e.value)


def test_sqlite_file_of_another_application(tmp_path):
    other = tmp_path / "other.db"
    conn = sqlite3.connect(other)
    conn.execute("create table t (x)")
    conn.commit()
    conn.close()
    with pytest.raises(NotAStoreError) as e:
        open_store(other)
    assert "not a dlcompute store" in str(e.value)


def test_store_from_a_newer_dlcompute(store_path):
    with open_store(store_path) as s:
        s.db["_sqlite_migrations"].insert(
            {"migration_set": "dlcompute", "name": "9999_future", "applied_at": "2099"})
    with pytest.raises(StoreTooNewError) as e:
        open_store(store_path)
    assert "newer dlcompute" in str(e.value) and str(store_path) in str(e.value)


def test_missing_directory(tmp_path):
    with pytest.raises(StoreError) as e:
        open_store(tmp_path / "no" / "such" / "store.db")
    assert "does not exist" in str(e.value)


def test_transaction_is_all_or_nothing(store):
    with pytest.raises(RuntimeError), store.transaction():
        store.db[T.papers].insert({"arxiv_id": "1"})
        raise RuntimeError("boom")
    assert store.count(T.papers) == 0


WRITER = textwrap.dedent("""
    import sys
    from db import open_store, T
    store = open_store(sys.argv[1])
    i = 0
    print("ready", flush=True)
    while True:
        # A paper and its query link belong together: one transaction.
        with store.transaction():
            store.db[T.queries].insert({"name": "q"}, replace=True)
            store.db[T.papers].insert({"arxiv_id": f"id{i}", "title": "x" * 2000})
            store.db[T.paper_queries].insert({"arxiv_id": f"id{i}", "query": "q"})
        i += 1
""")


def test_killed_mid_write_reopens_consistent(store_path):
    open_store(store_path).close()
    proc = subprocess.Popen([sys.executable, "-c", WRITER, str(store_path)], cwd=ROOT,
                            stdout=subprocess.PIPE, text=True)
    assert proc.stdout.readline().strip() == "ready"
    time.sleep(1.0)
    proc.send_signal(signal.SIGKILL)
    proc.wait()
    with open_store(store_path) as s:
        assert s.db.execute("pragma integrity_check").fetchone()[0] == "ok"
        papers = s.count(T.papers)
        links = s.count(T.paper_queries)
        assert papers > 0
        assert papers == links  # no paper without its link, no link without its paper
        # and the store keeps working
        s.db[T.papers].insert({"arxiv_id": "after-crash"})
