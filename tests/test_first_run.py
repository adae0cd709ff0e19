"""A new user's path: papers not on arXiv, a run without arXiv, a mirror for PDFs,
`extract --force` on a damaged cache, Datasette metadata and export filters."""

from __future__ import annotations

import csv
import io
import json
import shutil
from pathlib import Path

import pytest
from arxiv_server import NS, bare_id

from crawler import IngestError, ingest, load_benchmarks
from db import TABLES, VIEWS, T, open_store
from db.datasette import datasette_metadata, describe

ROOT = Path(__file__).resolve().parent.parent
SAMPLE_PDFS = ROOT / "dlcompute" / "sample" / "pdfs"
FLAIR = SAMPLE_PDFS / "flair_coling2018.pdf"
SWITCH = SAMPLE_PDFS / "2101.03961.pdf"
DEFAULTS = {b.name: b for b in load_benchmarks()}
FAST = ["--delay", "0", "--workers", "1", "--silent"]

pytest_plugins = ["crawl_fixtures"]  # fixtures arxiv_server, arxiv_entries


# --- papers not on arXiv ----------------------------------------------------------------

def test_ingest_paper_not_on_arxiv_reads_title_and_benchmarks(cli_run, tmp_path):
    r = cli_run("ingest", FLAIR, "--id", "flair_coling2018", "--date", "2018-08", "--silent")
    assert r.exit_code == 0, r.output
    assert "matched: conll2003 1" in r.stdout
    with open_store(tmp_path / "dlcompute.db") as s:
        p = next(iter(s.db.query("select * from papers")))
        pdf = next(iter(s.db.query("select * from pdfs")))
    assert p["arxiv_id"] == "flair_coling2018" and (p["year"], p["month"]) == (2018, 8)
    assert p["title"] == "Contextual String Embeddings for Sequence Labeling"
    assert pdf["version"] == 0 and pdf["status"] == "ok"
    bench = json.loads(cli_run("benchmarks", "--json").stdout)
    assert {b["name"]: b["papers"] for b in bench}["conll2003"] == 1


def test_ingest_arxiv_named_pdf_gets_title_from_first_page(tmp_path):
    shutil.copy(SWITCH, tmp_path / "2101.03961v3.pdf")
    with open_store(tmp_path / "s.db") as s:
        summary = ingest(s, [tmp_path / "2101.03961v3.pdf"], data_dir=tmp_path / "data",
                         benchmarks=list(DEFAULTS.values()))
        title = next(iter(s.db.query("select title from papers")))["title"]
    assert summary.pdfs_added == 1
    assert title.startswith("Switch Transformers: Scaling to Trillion Parameter Models")


def test_given_title_wins_and_applies_to_a_known_pdf(tmp_path):
    with open_store(tmp_path / "s.db") as s:
        ingest(s, [FLAIR], data_dir=tmp_path / "d", arxiv_id="flair", date="2018-08")
        again = ingest(s, [FLAIR], data_dir=tmp_path / "d", arxiv_id="flair", date="2018-08",
                       title="  Flair:   contextual  embeddings ")
        assert again.pdfs_known == 1
        assert next(iter(s.db.query("select title from papers")))["title"] == \
            "Flair: contextual embeddings"


@pytest.mark.parametrize("args,words", [
    (["--id", "alexnet"], ["--id alexnet", "--date YYYY-MM"]),
    (["--id", "alexnet", "--date", "2012-13"], ["2012-13", "YYYY-MM"]),
    (["--id", "bad id!", "--date", "2012-12"], ["bad id!", "alexnet_nips2012"]),
    (["--id", "1512.03385", "--date", "2012-12"], ["arXiv id", "drop --date"]),
    (["--date", "2012-12"], ["--id"]),
])
def test_ingest_bad_names_are_one_line(cli_run, tmp_path, args, words):
    r = cli_run("ingest", FLAIR, *args, "--silent")
    assert r.exit_code == 2, r.output
    assert "Traceback" not in r.output and r.stderr.strip().splitlines()[-1].startswith("Error:")
    for w in words:
        assert w in r.stderr
    assert not (tmp_path / "dlcompute.db").exists()


def test_library_rejects_id_for_several_files(tmp_path):
    with open_store(tmp_path / "s.db") as s, pytest.raises(IngestError, match="exactly one"):
        ingest(s, [FLAIR, SWITCH], data_dir=tmp_path / "d", arxiv_id="x", date="2018-08")


# --- run without arXiv, and a mirror that serves the PDFs -------------------------------------

def test_run_with_arxiv_unreachable_goes_on_with_the_store(cli_run, tmp_path):
    assert cli_run("ingest", FLAIR, "--id", "flair_coling2018", "--date", "2018-08",
                   "--silent").exit_code == 0
    r = cli_run("run", "--arxiv-url", "http://127.0.0.1:9", *FAST, "--benchmark", "conll2003",
                "--json")
    assert r.exit_code == 0, r.output
    assert "Traceback" not in r.output
    summary = json.loads(r.stdout)
    assert summary["papers_extracted"] == 1 and summary["report"]
    assert Path(summary["report"]).is_file()
    warning = " ".join(summary["warnings"])
    assert "Cannot reach http://127.0.0.1:9" in warning
    assert "--arxiv-url" in warning and "dlcompute ingest" in warning


def test_run_with_nothing_to_do_fails_and_says_how(cli_run, tmp_path):
    r = cli_run("run", "--arxiv-url", "http://127.0.0.1:9", *FAST, "--benchmark", "imagenet")
    assert r.exit_code == 1
    errors = [line for line in r.stderr.splitlines() if line.startswith("Error")]
    assert len(errors) == 1 and r.stderr.strip().splitlines()[-1] == errors[0]
    assert "--arxiv-url" in errors[0] and "dlcompute ingest" in errors[0]
    assert "Traceback" not in r.output


@pytest.mark.slow
def test_mirror_serves_the_pdfs_of_arxiv_links(cli_run, arxiv_server, arxiv_entries):
    chosen = arxiv_entries[:2]
    arxiv_server.add_query(DEFAULTS["imagenet"].search_query, chosen)
    for e in arxiv_server.results[DEFAULTS["imagenet"].search_query]:
        for link in e.findall("atom:link", NS):
            if link.get("title") == "pdf":  # as a real mirror's feed has them
                link.set("href", link.get("href").replace(arxiv_server.url,
                                                          "http://arxiv.org"))
    r = cli_run("crawl", "--arxiv-url", arxiv_server.url, "--delay", "0", "--silent",
                "--benchmark", "imagenet")
    assert r.exit_code == 0, r.output
    asked = {p for _, p, _ in arxiv_server.requests("pdf")}
    assert {f"/pdf/{bare_id(e)}" for e in chosen} <= {p.rsplit("v", 1)[0] for p in asked}
    assert "2 PDFs fetched, 0 failed" in r.stdout


# --- extract --force and a damaged cache ---------------------------------------------------

def test_force_keeps_good_facts_of_a_damaged_pdf(cli_run, tmp_path):
    cli_run("ingest", FLAIR, "--id", "flair_coling2018", "--date", "2018-08", "--silent")
    assert cli_run("extract", "--workers", "1", "--silent").exit_code == 0
    db = tmp_path / "dlcompute.db"
    with open_store(db) as s:
        facts = s.count(T.facts)
        path = next(iter(s.db.query("select path from pdfs")))["path"]
    assert facts > 0
    cached = tmp_path / "data" / path
    cached.chmod(0o644)
    cached.write_bytes(cached.read_bytes()[:50_000])  # a truncated cache file
    r = cli_run("extract", "--force", "--workers", "1", "--silent")
    assert r.exit_code == 0, r.output
    assert "flair_coling2018: the cached PDF" in r.stderr and "damaged" in r.stderr
    assert "earlier extraction is kept" in r.stderr
    with open_store(db) as s:
        assert s.count(T.facts) == facts
        assert s.count(T.extractions, "status = 'ok'") == 1


# --- Datasette metadata and export filters ---------------------------------------------------

def test_datasette_metadata_describes_every_table_and_column(store):
    meta = datasette_metadata(store, "store")
    tables = meta["databases"]["store"]["tables"]
    assert set(tables) == set(TABLES) | set(VIEWS)
    missing = [f"{t}.{c}" for t, spec in tables.items() for c, d in spec["columns"].items()
               if not d]
    assert missing == [], f"describe these in db/datasette.py: {missing}"
    assert all(spec["description"] for spec in tables.values())
    assert "FLOPs" in describe(T.observations, "compute_per_pass")
    assert "hours" in describe(T.observations, "training_hours")


def _papers(path: Path) -> None:
    with open_store(path) as s, s.transaction() as d:
        d[T.papers].insert_all([{"arxiv_id": f"15{i:02d}.00001", "title": f"p{i}",
                                 "year": 2010 + i} for i in range(10)])


def test_export_where_param_limit_offset(cli_run, tmp_path):
    _papers(tmp_path / "dlcompute.db")
    r = cli_run("export", "papers", "--where", "year >= :y", "-p", "y", "2015", "--limit", "3",
                "--offset", "1")
    assert r.exit_code == 0, r.output
    rows = list(csv.DictReader(io.StringIO(r.stdout)))
    assert [row["year"] for row in rows] == ["2016", "2017", "2018"]
    r = cli_run("export", "papers", "--format", "json", "--limit", "0")
    assert json.loads(r.stdout) == []
