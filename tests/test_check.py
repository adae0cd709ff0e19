"""dlcompute check, and SQLite faults turned into one line naming the store and the fix."""

from __future__ import annotations

import hashlib
import json
import os
import resource
import signal
import sqlite3
import subprocess
import sys
from pathlib import Path

import pytest

from db import T, open_store
from db.check import check_store
from db.store import StoreBusyError, StoreDamagedError, store_error

ROOT = Path(__file__).resolve().parent.parent
PDF = b"%PDF-1.4\n% a stand-in file: check hashes bytes, it does not parse them\n%%EOF\n"


def fill(db: Path, data: Path, *, facts: int = 3000) -> None:
    """Two papers with a cached PDF each, an extraction and many facts (many pages),
    and an observation built from the first fact."""
    (data / "pdfs").mkdir(parents=True, exist_ok=True)
    with open_store(db) as s, s.transaction() as d:
        for i, arxiv_id in enumerate(("1512.03385", "1409.1556")):
            body = PDF + arxiv_id.encode()
            (data / "pdfs" / f"{arxiv_id}.pdf").write_bytes(body)
            d[T.papers].insert({"arxiv_id": arxiv_id, "title": f"paper {i}", "year": 2015})
            d[T.pdfs].insert({"arxiv_id": arxiv_id, "version": 1, "status": "ok",
                              "sha256": hashlib.sha256(body).hexdigest(),
                              "path": f"pdfs/{arxiv_id}.pdf", "size": len(body)})
            ext = d[T.extractions].insert({"arxiv_id": arxiv_id, "status": "ok",
                                           "extractor_version": "t"}).last_pk
            d[T.facts].insert_all(
                {"extraction_id": ext, "arxiv_id": arxiv_id, "field": "parameters",
                 "value": float(k), "evidence": f"sentence {k} " + "x" * 200}
                for k in range(facts // 2))
        first = d.execute(f"select min(id) from {T.facts}").fetchone()[0]
        d[T.observations].insert({"arxiv_id": "1512.03385", "model": "m",
                                  "benchmark": "imagenet", "metric": "top1_error",
                                  "error": 20.0,
                                  "sources": json.dumps({"error": f"fact:{first}"})})


def damage_a_facts_page(db: Path) -> int:
    """Overwrite one leaf page of the facts table in the middle of the file."""
    conn = sqlite3.connect(db)
    conn.execute("pragma wal_checkpoint(truncate)")
    page_size = conn.execute("pragma page_size").fetchone()[0]
    pages = [r[0] for r in conn.execute(
        "select pageno from dbstat where name = ? and pagetype = 'leaf' order by pageno",
        [T.facts])]
    conn.close()
    page = pages[len(pages) // 2]
    with open(db, "r+b") as fh:
        fh.seek((page - 1) * page_size)
        fh.write(os.urandom(page_size))
    return page


@pytest.fixture
def damaged(tmp_path):
    db, data = tmp_path / "store.db", tmp_path / "data"
    fill(db, data)
    damage_a_facts_page(db)
    return db, data


def _cli(*args: str, cwd: Path, **kw) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "dlcompute", *args], cwd=cwd,
                          capture_output=True, text=True, timeout=120,
                          env={**os.environ, "PYTHONPATH": str(ROOT)}, **kw)


def _one_error_line(r: subprocess.CompletedProcess) -> str:
    """The command's error: one last line, no traceback (warnings of the extractor's
    worker processes, on the same stderr, may come before it)."""
    assert r.returncode == 1, (r.stdout, r.stderr)
    lines = r.stderr.strip().splitlines()
    assert [x for x in lines if x.startswith("Error: ")] == lines[-1:], r.stderr
    assert "Traceback" not in r.stderr and "sqlite3." not in r.stderr, r.stderr
    return lines[-1]


def test_a_store_damaged_mid_file_is_refused_in_one_line(damaged, tmp_path, cli_run):
    db, data = damaged
    line = _one_error_line(_cli("extract", "--db", str(db), "--data-dir", str(data),
                                "--silent", cwd=tmp_path))
    assert str(db) in line and "damaged" in line and f"dlcompute check --db {db}" in line
    for command in ("status", "curate"):
        r = cli_run(command, "--db", db, "--data-dir", data, "--silent")
        assert r.exit_code == 1 and r.stdout == ""
        assert r.stderr.count("\n") == 1 and r.stderr.startswith("Error: ")
        assert "damaged" in r.stderr and f"dlcompute check --db {db}" in r.stderr
    r = cli_run("check", "--db", db, "--data-dir", data)
    assert r.exit_code == 1, r.stderr
    assert "integrity_check found the file damaged" in r.stdout
    assert f"tables that can no longer be read in full: {T.facts}" in r.stdout
    assert ".recover" in r.stdout and "fix:" in r.stdout
    r = cli_run("status", "--check", "--db", db, "--data-dir", data)
    assert r.exit_code == 1 and "found the file damaged" in r.stdout


def test_check_a_sound_store(tmp_path, cli_run):
    db, data = tmp_path / "store.db", tmp_path / "data"
    fill(db, data, facts=10)
    r = cli_run("check", "--db", db, "--data-dir", data)
    assert r.exit_code == 0, r.output
    assert "no problems found" in r.stdout and "pdfs 2" in r.stdout
    r = cli_run("status", "--check", "--json", "--db", db, "--data-dir", data)
    assert r.exit_code == 0 and json.loads(r.stdout)["check"]["ok"] is True


def test_check_finds_cache_and_orphan_problems_and_repairs_orphans(tmp_path, cli_run):
    db, data = tmp_path / "store.db", tmp_path / "data"
    fill(db, data, facts=10)
    (data / "pdfs" / "1512.03385.pdf").unlink()
    changed = data / "pdfs" / "1409.1556.pdf"
    changed.write_bytes(changed.read_bytes().replace(b"stand-in", b"STAND-IN"))  # same size
    # an extraction gone without its facts (foreign keys off, as in a plain sqlite3 shell)
    with sqlite3.connect(db) as conn:
        conn.execute(f"delete from {T.extractions} where arxiv_id = '1512.03385'")
    r = cli_run("check", "--db", db, "--data-dir", data, "--json")
    assert r.exit_code == 1
    report = json.loads(r.stdout)
    kinds = {p["kind"]: p for p in report["problems"]}
    assert set(kinds) == {"pdf_missing", "pdf_changed", "orphan_facts"}
    assert kinds["orphan_facts"]["count"] == 5
    assert "1512.03385" in kinds["pdf_missing"]["details"][0]
    assert "1409.1556" in kinds["pdf_changed"]["details"][0]
    # --quick compares sizes, not hashes: the same-size change goes unseen
    quick = check_store(db, data, quick=True)
    assert "pdf_changed" not in {p.kind for p in quick.problems}

    r = cli_run("check", "--repair", "--db", db, "--data-dir", data)
    assert "repaired: 5 orphan facts deleted" in r.stdout
    with open_store(db) as s:
        assert s.count(T.facts) == 5
    after = {p.kind: p for p in check_store(db, data).problems}
    assert "orphan_facts" not in after and "pdf_missing" in after
    # the observation was built from one of the deleted facts
    assert "dlcompute curate" in after["observation_sources"].fix


def test_check_does_not_create_a_store(tmp_path, cli_run):
    r = cli_run("check", "--db", tmp_path / "typo.db")
    assert r.exit_code == 1 and "No store at" in r.stderr
    assert not (tmp_path / "typo.db").exists()


# --- SQLite errors as one line ----------------------------------------------------------

def test_sqlite_errors_name_the_store_and_the_fix(tmp_path):
    db = tmp_path / "s.db"
    open_store(db).close()
    holder = sqlite3.connect(db, isolation_level=None)
    holder.execute("begin immediate")
    other = sqlite3.connect(db, timeout=0, isolation_level=None)
    with pytest.raises(sqlite3.OperationalError) as locked:
        other.execute(f"insert into {T.meta} values ('k', 'v')")
    holder.execute("rollback")
    e = store_error(locked.value, db)
    assert isinstance(e, StoreBusyError) and str(db) in str(e) and "--wait" in str(e)

    other.execute("pragma max_page_count = 1")  # the file is bigger already: a full disk
    with pytest.raises(sqlite3.OperationalError) as full:
        other.execute(f"insert into {T.meta} values ('k', '{'x' * 100000}')")
    assert "disk is full" in str(store_error(full.value, db))

    ro = sqlite3.connect(f"file:{db}?mode=ro", uri=True)
    with pytest.raises(sqlite3.OperationalError) as readonly:
        ro.execute(f"insert into {T.meta} values ('k', 'v')")
    assert "read-only" in str(store_error(readonly.value, db))
    for c in (holder, other, ro):
        c.close()


def test_a_full_disk_is_one_line(tmp_path, corpus):
    """extract writing into a store whose disk fills up (a file-size limit stands in)."""
    from infra_helpers import SMALL, fill_store

    db, data = tmp_path / "store.db", tmp_path / "data"
    fill_store(db, data, corpus, dict(list(SMALL.items())[:2]))
    # No file may grow past 40 KB (room for the 32 KB WAL index; a little more, so the
    # write that crosses it is cut short, as on a full disk): a bigger write-ahead log fails.
    limit = 40 * 1024 + 100
    def cap_file_size() -> None:
        signal.signal(signal.SIGXFSZ, signal.SIG_IGN)  # a failed write, not a killed process
        resource.setrlimit(resource.RLIMIT_FSIZE, (limit, limit))

    r = _cli("extract", "--db", str(db), "--data-dir", str(data), "--workers", "1",
             "--silent", cwd=tmp_path, preexec_fn=cap_file_size)
    line = _one_error_line(r)
    # a write cut short reads as SQLite's "disk is full", a refused one as "disk I/O error"
    assert "free space" in line and str(db) in line
    with open_store(db) as s:  # nothing half-written
        assert s.db.execute("pragma integrity_check").fetchone()[0] == "ok"
        assert s.count(T.facts, f"extraction_id not in (select id from {T.extractions})") == 0


def test_damage_is_a_typed_error_for_library_callers(damaged):
    db, _ = damaged
    with pytest.raises(StoreDamagedError):
        open_store(db, verify=True)


def test_out_of_memory_is_one_line(cli_run, tmp_path):
    """numpy cannot allocate the bootstrap's resamples: its MemoryError, as one line."""
    from test_analysis_run import make_rows, write_csv

    obs = write_csv(tmp_path / "obs.csv", make_rows())
    r = cli_run("analyze", "--observations", obs, "--out", tmp_path / "r", "--bootstrap",
                str(10**13))
    assert r.exit_code == 1 and r.stdout == ""
    assert r.stderr.count("\n") == 1
    assert r.stderr.startswith("Error: Out of memory in dlcompute analyze; free memory")
    assert "--bootstrap" in r.stderr
