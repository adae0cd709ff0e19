"""Start-up: the command line imports no heavy library until a command needs it.

Speed itself is measured by benchmarks/bench_startup.py, not here.
"""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
HEAVY = ("pandas", "numpy", "spacy", "sqlite_utils", "matplotlib", "flask", "dask",
         "distributed", "pypdfium2", "scipy", "statsmodels", "sklearn", "requests", "lxml")


@pytest.mark.parametrize("args", [["--help"], ["--version"]])
def test_help_and_version_import_nothing_heavy(args):
    code = ("import sys\nfrom dlcompute.cli import cli\n"
            f"try:\n    cli.main({args!r}, prog_name='dlcompute')\nexcept SystemExit:\n    pass\n"
            f"print(sorted(m for m in {HEAVY!r} if m in sys.modules))")
    r = subprocess.run([sys.executable, "-c", code], cwd=ROOT, capture_output=True, text=True,
                       timeout=120)
    assert r.returncode == 0, r.stderr
    assert r.stdout.strip().splitlines()[-1] == "[]"


def test_help_lists_every_command_module():
    from dlcompute.cli import cli

    names = set(cli.commands)
    assert {"demo", "run", "ingest", "extract", "curate", "analyze", "export"} <= names


def test_written_out_defaults_match_the_stages():
    import crawler
    from curate.build import PEAK_COLUMNS
    from dlcompute.commands import crawl, extract
    from dlcompute.executors import EXECUTORS, SEND_MODES
    from dlcompute.settings import SCHEMA
    from extract.runner import DEFAULT_MAX_MEMORY_MB, DEFAULT_TIMEOUT, DEFAULT_WORKERS

    assert crawl.HELP_ARXIV_URL == crawler.DEFAULT_ARXIV_URL
    assert crawl.HELP_OAI_URL == crawler.DEFAULT_OAI_URL
    assert (extract.HELP_WORKERS, extract.HELP_TIMEOUT, extract.HELP_MAX_MEMORY_MB) == \
        (DEFAULT_WORKERS, DEFAULT_TIMEOUT, DEFAULT_MAX_MEMORY_MB)
    assert SCHEMA["curate"]["peak"].choices == tuple(PEAK_COLUMNS)
    assert SCHEMA["extract"]["executor"].choices == tuple(EXECUTORS)
    assert SCHEMA["extract"]["send"].choices == tuple(SEND_MODES)
