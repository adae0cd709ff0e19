"""The command line: help, version, status, export and error paths."""

from __future__ import annotations

import csv
import io
import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from db import T, open_store

ROOT = Path(__file__).resolve().parent.parent


def test_help_lists_commands(cli_run):
    for flag in ("--help", "-h"):
        r = cli_run(flag)
        assert r.exit_code == 0
        for name in ("init", "status", "export"):
            assert f"  {name} " in r.output


def test_version(cli_run):
    from dlcompute import __version__

    r = cli_run("--version")
    assert r.exit_code == 0 and __version__ in r.output


def test_python_dash_m():
    r = subprocess.run([sys.executable, "-m", "dlcompute", "--version"], cwd=ROOT,
                       capture_output=True, text=True, timeout=120)
    assert r.returncode == 0 and "dlcompute" in r.stdout


def test_init_creates_default_store(cli_run, tmp_path):
    r = cli_run("init")
    assert r.exit_code == 0, r.output
    assert (tmp_path / "dlcompute.db").exists()


def test_status_empty(cli_run):
    assert cli_run("init").exit_code == 0
    r = cli_run("status", "--json")
    assert r.exit_code == 0, r.output
    s = json.loads(r.stdout)
    assert s["papers"] == 0 and s["last_crawl"] is None and s["last_analysis"] is None


def _fill(path: Path) -> None:
    with open_store(path) as s, s.transaction():
        s.db[T.queries].insert({"name": "imagenet", "label": "ImageNet"})
        s.db[T.papers].insert_all([
            {"arxiv_id": "1512.03385", "title": "Deep Residual Learning", "year": 2015,
             "month": 12},
            {"arxiv_id": "1501.00010", "title": "Zero, kept", "year": 2015, "month": 1},
        ])
        s.db[T.paper_queries].insert_all([
            {"arxiv_id": "1512.03385", "query": "imagenet"},
            {"arxiv_id": "1501.00010", "query": "imagenet"},
        ])
        s.db[T.pdfs].insert_all([
            {"arxiv_id": "1512.03385", "version": 1, "status": "ok", "sha256": "a"},
            {"arxiv_id": "1501.00010", "version": 1, "status": "failed", "error": "truncated"},
        ])
        s.db[T.crawl_runs].insert({"benchmark": "imagenet", "started_at": "2026-01-01T00:00:00Z",
                                   "finished_at": "2026-01-01T00:01:00Z", "status": "ok",
                                   "new": 2})


def test_status_filled(cli_run, tmp_path):
    _fill(tmp_path / "dlcompute.db")
    r = cli_run("status", "--json")
    s = json.loads(r.stdout)
    assert s["papers"] == 2
    assert s["papers_per_benchmark"] == {"imagenet": 2}
    assert (s["pdfs_downloaded"], s["pdfs_failed"]) == (1, 1)
    assert s["last_crawl"]["status"] == "ok"
    text = cli_run("status").stdout
    assert "imagenet: 2" in text and "1 downloaded, 1 failed" in text


@pytest.mark.parametrize("fmt", ["csv", "jsonl", "json"])
def test_export_formats(cli_run, tmp_path, fmt):
    _fill(tmp_path / "dlcompute.db")
    out = tmp_path / f"papers.{fmt}"
    r = cli_run("export", "papers", "--format", fmt, "--output", out)
    assert r.exit_code == 0, r.output
    text = out.read_text()
    if fmt == "csv":
        rows = list(csv.DictReader(io.StringIO(text)))
    elif fmt == "jsonl":
        rows = [json.loads(line) for line in text.splitlines()]
    else:
        rows = json.loads(text)
    assert sorted(r["arxiv_id"] for r in rows) == ["1501.00010", "1512.03385"]
    assert not (tmp_path / f"papers.{fmt}.part").exists()


def test_export_empty_table_has_header(cli_run):
    cli_run("init")
    r = cli_run("export", "flags", "--format", "csv")
    assert r.exit_code == 0
    assert r.stdout.splitlines()[0].startswith("id,key,arxiv_id")


def test_export_unknown_table_is_usage_error(cli_run):
    cli_run("init")
    r = cli_run("export", "nope")
    assert r.exit_code == 2
    assert 'No table or view "nope"' in r.output


def test_bad_option_is_usage_error(cli_run):
    cli_run("init")
    r = cli_run("status", "--no-such-option")
    assert r.exit_code == 2


def test_not_a_store_one_line_error(cli_run, tmp_path):
    (tmp_path / "x.db").write_text("not sqlite")
    r = cli_run("status", "--db", "x.db")
    assert r.exit_code == 1
    assert r.stderr.strip().count("\n") == 0
    assert r.stderr.startswith("Error: ") and "x.db" in r.stderr
    assert "Traceback" not in r.output


def test_missing_directory_error(cli_run):
    r = cli_run("init", "--db", "missing/dir/x.db")
    assert r.exit_code == 1
    assert "Error: " in r.stderr and "missing/dir" in r.stderr


@pytest.mark.skipif(os.geteuid() == 0, reason="root can write anywhere")
def test_unwritable_directory_error(cli_run, tmp_path):
    ro = tmp_path / "ro"
    ro.mkdir()
    ro.chmod(0o500)
    r = cli_run("init", "--db", ro / "x.db")
    assert r.exit_code == 1 and "not writable" in r.stderr


def test_unwritable_directory_error_as_root(tmp_path):
    """Root ignores permission bits; a path below a regular file is unwritable for everyone."""
    blocker = tmp_path / "file"
    blocker.write_text("")
    r = subprocess.run([sys.executable, "-m", "dlcompute", "init", "--db", str(blocker / "x.db")],
                       cwd=ROOT, capture_output=True, text=True, timeout=120)
    assert r.returncode == 1
    assert r.stderr.startswith("Error: ") and "Traceback" not in r.stderr


def test_export_to_unwritable_output(cli_run, tmp_path):
    cli_run("init")
    blocker = tmp_path / "file"
    blocker.write_text("")
    r = cli_run("export", "papers", "--output", blocker / "out.csv")
    assert r.exit_code in (1, 2)
    assert "Error" in r.output and "Traceback" not in r.output


def test_settings_precedence(cli_run, tmp_path, monkeypatch):
    (tmp_path / "dlcompute.toml").write_text('db = "from_config.db"\n')
    cli_run("init")
    assert (tmp_path / "from_config.db").exists()
    monkeypatch.setenv("DLCOMPUTE_DB", str(tmp_path / "from_env.db"))
    cli_run("init")
    assert (tmp_path / "from_env.db").exists()
    cli_run("init", "--db", "from_cli.db")
    assert (tmp_path / "from_cli.db").exists()


def test_malformed_config(cli_run, tmp_path):
    (tmp_path / "bad.toml").write_text("db = [unclosed\n")
    r = cli_run("status", "--config", "bad.toml")
    assert r.exit_code == 1 and "bad.toml" in r.stderr and "not valid TOML" in r.stderr


def test_unknown_config_key(cli_run, tmp_path):
    (tmp_path / "dlcompute.toml").write_text('dbb = "typo.db"\n')
    r = cli_run("status")
    assert r.exit_code == 1 and "dbb" in r.stderr


def test_missing_explicit_config(cli_run):
    r = cli_run("status", "--config", "nope.toml")
    assert r.exit_code == 1 and "nope.toml" in r.stderr
