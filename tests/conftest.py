"""Fixtures every test module may use.

``shared``: the ../shared folder beside the project (real PDFs, recorded arXiv
responses, gold labels). Tests that need it skip cleanly where it is absent.
"""

from __future__ import annotations

import os
from pathlib import Path

import pytest
from click.testing import CliRunner

ROOT = Path(__file__).resolve().parent.parent
SHARED = Path(os.environ.get("DLCOMPUTE_SHARED", ROOT.parent / "shared"))


@pytest.fixture(scope="session")
def shared() -> Path:
    if not SHARED.is_dir():
        pytest.skip(f"{SHARED} is absent (set DLCOMPUTE_SHARED to its path)")
    return SHARED


@pytest.fixture(scope="session")
def corpus(shared: Path) -> Path:
    pdfs = shared / "corpus" / "pdfs"
    if not pdfs.is_dir():
        pytest.skip(f"{pdfs} is absent")
    return pdfs


@pytest.fixture
def store_path(tmp_path: Path) -> Path:
    return tmp_path / "store.db"


@pytest.fixture
def store(store_path: Path):
    from db import open_store

    s = open_store(store_path)
    yield s
    s.close()


@pytest.fixture
def cli_run(tmp_path: Path, monkeypatch):
    """Run the dlcompute CLI in-process, in a temporary working directory."""
    from dlcompute.cli import cli

    monkeypatch.chdir(tmp_path)
    for var in ("DLCOMPUTE_DB", "DLCOMPUTE_DATA", "DLCOMPUTE_CONFIG"):
        monkeypatch.delenv(var, raising=False)
    runner = CliRunner()

    def run(*args: str, input: str | None = None):
        return runner.invoke(cli, [str(a) for a in args], input=input, catch_exceptions=False)

    return run
