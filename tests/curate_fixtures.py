"""Stores of real corpus papers for the incremental-curate tests (fixtures only).

``extracted_store`` runs ``dlcompute ingest`` and ``extract`` on a handful of the
corpus PDFs once per session; ``curated_store`` curates a copy of it. Tests copy them.
"""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest
from click.testing import CliRunner
from curate_corpus import PAPERS, copy_store

from curate import curate
from db import open_store


@pytest.fixture(scope="session")
def extracted_store(tmp_path_factory, corpus: Path) -> Path:
    """A store with the PAPERS ingested and extracted (not curated)."""
    from dlcompute.cli import cli

    root = tmp_path_factory.mktemp("corpus-store")
    pdfs = root / "pdfs"
    pdfs.mkdir()
    for p in PAPERS:
        shutil.copy(corpus / f"{p}.pdf", pdfs / f"{p}.pdf")
    db = ["--db", str(root / "store.db"), "--data-dir", str(root / "data"), "--silent"]
    runner = CliRunner()
    for args in (["ingest", str(pdfs)], ["extract", "--workers", "2"]):
        r = runner.invoke(cli, [*args, *db], catch_exceptions=False)
        assert r.exit_code == 0, r.output
    return root / "store.db"


@pytest.fixture(scope="session")
def curated_store(tmp_path_factory, extracted_store: Path) -> Path:
    """The extracted store after its first curate."""
    path = copy_store(extracted_store, tmp_path_factory.mktemp("curated") / "store.db")
    with open_store(path) as s:
        summary = curate(s)
    assert summary.papers_decided == len(PAPERS) and summary.observations > 50
    return path
