"""Bad input ends in one `Error: ...` line naming the fix, the right exit code, and an
unchanged store."""

from __future__ import annotations

import hashlib
import os
import shutil
import signal
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import pytest

from db import T, open_store

ROOT = Path(__file__).resolve().parent.parent
SAMPLE_PDFS = ROOT / "dlcompute" / "sample" / "pdfs"


def digest(path: Path) -> str:
    """The store's bytes (with its WAL), to show a failed command left it as it was."""
    h = hashlib.sha256()
    for p in (path, Path(str(path) + "-wal")):
        if p.exists():
            h.update(p.read_bytes())
    return h.hexdigest()


def one_line_error(r, *words: str) -> None:
    err = r.stderr
    assert err.startswith("Error: "), err
    assert err.strip().count("\n") == 0, err
    assert "Traceback" not in r.output
    for w in words:
        assert w in err, err


@pytest.fixture
def filled(cli_run, tmp_path) -> Path:
    db = tmp_path / "dlcompute.db"
    with open_store(db) as s, s.transaction() as d:
        d[T.papers].insert({"arxiv_id": "1512.03385", "title": "ResNet", "year": 2015})
    return db


@pytest.mark.parametrize("config,words", [
    ('[curate]\npeak = "fp64"\n', ["[curate] peak", "fp64", "fp32_base, fp32_boost, tensor"]),
    ("[extract]\nworkerz = 3\n", ["workerz", "did you mean workers?"]),
    ("[curate]\npwc_tolerence = 1.0\n", ["pwc_tolerence", "did you mean pwc_tolerance?"]),
    ("[analysis]\nquantile = 7\n", ["[analysis] quantile = 7", "out of range", "0 to 1"]),
    ("[review]\nport = 99999\n", ["[review] port", "65535"]),
    ("[extract]\nworkers = 2.5\n", ["[extract] workers", "whole number"]),
    ("workers = 2\n", ["workers", "[extract]"]),
])
@pytest.mark.parametrize("command", ["curate", "analyze", "status"])
def test_bad_config_is_one_line_and_touches_nothing(cli_run, filled, tmp_path, config, words,
                                                    command):
    (tmp_path / "dlcompute.toml").write_text(config)
    before = digest(filled)
    r = cli_run(command)
    assert r.exit_code == 1
    one_line_error(r, "dlcompute.toml", *words)
    assert digest(filled) == before
    assert not (tmp_path / "report").exists()


@pytest.mark.parametrize("command", [["status"], ["export", "papers"]])
def test_reading_a_mistyped_store_creates_nothing(cli_run, tmp_path, command):
    r = cli_run(*command, "--db", "typo.db")
    assert r.exit_code == 1
    one_line_error(r, "No store at typo.db", "dlcompute init typo.db")
    assert not (tmp_path / "typo.db").exists()


def test_init_path_then_status(cli_run, tmp_path):
    assert cli_run("init", "new.db").exit_code == 0
    assert (tmp_path / "new.db").is_file() and (tmp_path / "new.metadata.json").is_file()
    assert cli_run("status", "--db", "new.db").exit_code == 0


def test_review_port_out_of_range_is_refused(cli_run, filled):
    before = digest(filled)
    r = cli_run("review", "--port", "99999")
    assert r.exit_code == 2
    assert "99999" in r.stderr and "1<=x<=65535" in r.stderr and "Traceback" not in r.output
    assert digest(filled) == before


def test_export_where_errors_name_the_fix(cli_run, filled):
    r = cli_run("export", "papers", "--where", "no_such_column = 1")
    assert r.exit_code == 1
    one_line_error(r, "no_such_column", "--param")
    r = cli_run("export", "papers", "-p", "y", "2015")
    assert r.exit_code == 2 and "--where" in r.stderr


def test_broken_pipe_into_head_is_quiet(filled, tmp_path):
    with open_store(filled) as s, s.transaction() as d:
        d[T.papers].insert_all({"arxiv_id": f"2001.{i:05d}", "title": "x" * 200, "year": 2020}
                               for i in range(5000))
    before = digest(filled)
    cmd = f"{sys.executable} -m dlcompute export papers --db {filled} | head -1"
    r = subprocess.run(["bash", "-o", "pipefail", "-c", cmd], cwd=tmp_path, capture_output=True,
                       text=True, timeout=120, env={**os.environ, "PYTHONPATH": str(ROOT)})
    assert r.stdout.startswith("arxiv_id,") and r.stdout.count("\n") == 1
    assert r.stderr == "", r.stderr  # no traceback, no "Exception ignored"
    assert r.returncode == 1  # click's exit for a closed pipe (set -o pipefail shows it)
    assert digest(filled) == before


# --- a read-only store: as an unprivileged user, since root may write anything -----------

NOBODY = 65534


def run_as_nobody(args: list[str]) -> tuple[int, str]:
    """The CLI in a forked child that dropped to user nobody; returns (exit code, stderr).

    Forked rather than executed: nobody may not read this machine's Python under /root,
    so everything the commands import is imported here first.
    """
    import json

    from click.testing import CliRunner

    import analysis  # noqa: F401
    import crawler  # noqa: F401
    import curate  # noqa: F401
    import dlcompute.executors  # noqa: F401
    import extract.runner  # noqa: F401
    from dlcompute.cli import cli

    read, write = os.pipe()
    pid = os.fork()
    if pid == 0:  # the child
        try:
            os.close(read)
            os.setgroups([])
            os.setgid(NOBODY)
            os.setuid(NOBODY)
            r = CliRunner().invoke(cli, args)
            os.write(write, json.dumps([r.exit_code, r.stderr]).encode())
        finally:
            os._exit(0)
    os.close(write)
    with os.fdopen(read) as fh:
        data = fh.read()
    os.waitpid(pid, 0)
    code, err = json.loads(data)
    return code, err


@pytest.fixture
def readonly_store():
    """A store with a PDF, owned by root and read-only for others, in a folder likewise."""
    if os.geteuid() != 0:
        pytest.skip("needs root to run the command as another user")
    top = Path(tempfile.mkdtemp(prefix="dlcompute-ro-"))
    db = top / "ro.db"
    from click.testing import CliRunner

    from dlcompute.cli import cli

    r = CliRunner().invoke(cli, ["ingest", str(SAMPLE_PDFS / "flair_coling2018.pdf"), "--id",
                                 "flair_coling2018", "--date", "2018-08", "--db", str(db),
                                 "--data-dir", str(top / "data"), "--silent"])
    assert r.exit_code == 0, r.output
    for p in [top, *top.rglob("*")]:
        p.chmod(0o755 if p.is_dir() else 0o444)
    yield top, db
    shutil.rmtree(top, ignore_errors=True)


@pytest.mark.parametrize("command", [
    ["ingest", str(SAMPLE_PDFS / "2101.03961.pdf")],
    ["extract", "--workers", "1"],
    ["curate"],
    ["analyze", "--out", "/tmp/dlcompute-ro-report-unused"],
])
def test_read_only_store_is_one_line(readonly_store, command):
    top, db = readonly_store
    before = digest(db)
    code, err = run_as_nobody([*command, "--db", str(db), "--data-dir", str(top / "data"),
                               "--silent"])
    assert code == 1, err
    assert err.startswith("Error: ") and err.strip().count("\n") == 0, err
    assert "read-only" in err and str(db) in err
    assert digest(db) == before


# --- Ctrl-C during extract -----------------------------------------------------------------

def test_ctrl_c_during_extract_is_one_line(tmp_path):
    db, data = tmp_path / "x.db", tmp_path / "data"
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    for name in ("2101.03961.pdf", "flair_coling2018.pdf"):
        extra = ["--id", "flair_coling2018", "--date", "2018-08"] if "flair" in name else []
        subprocess.run([sys.executable, "-m", "dlcompute", "ingest", str(SAMPLE_PDFS / name),
                        *extra, "--db", str(db), "--data-dir", str(data), "--silent"],
                       check=True, env=env, capture_output=True, timeout=120)
    # its own process group, as a terminal's foreground job: Ctrl-C reaches every process
    p = subprocess.Popen([sys.executable, "-m", "dlcompute", "extract", "--workers", "2",
                          "--db", str(db), "--data-dir", str(data), "--silent"], env=env,
                         stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
                         start_new_session=True)
    time.sleep(4)  # workers started, PDFs in progress (Switch Transformers takes seconds)
    os.killpg(p.pid, signal.SIGINT)
    _out, err = p.communicate(timeout=60)
    if p.returncode == 0:
        pytest.skip("the extraction finished before the interrupt on this machine")
    assert p.returncode == 130, err
    assert err.strip() == "Error: interrupted; run the same command again to resume", err
    assert "out-of-memory" not in err
    with open_store(db) as s:  # nothing half-written: no failed rows for killed workers
        assert s.count(T.extractions, "status != 'ok'") == 0
