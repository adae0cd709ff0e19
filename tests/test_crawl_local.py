"""``ingest`` (local PDFs and metadata snapshots) and ``harvest`` (OAI-PMH)."""

from __future__ import annotations

import hashlib
import json
import re
import shutil
from pathlib import Path

import pytest
from arxiv_server import Fault

from crawler import Benchmark, FakeClock, IngestError, harvest, ingest

GALAXIES = Benchmark("galaxies", "Galaxies", ("n",), ("abs:galaxies", "ti:galaxies"))
QUANTUM = Benchmark("quantum", "Quantum", ("n",), ("abs:quantum",))
LHC = Benchmark("lhc", "LHC", ("n",), ("ti:LHC",))

pytest_plugins = ["crawl_fixtures"]  # fixtures arxiv_server, arxiv_entries


def word(w: str, text: str) -> bool:
    return re.search(rf"(?<![^\W_]){re.escape(w)}(?![^\W_])", text, re.IGNORECASE) is not None


def rows(store, sql, params=()):
    return list(store.db.query(sql, list(params)))


@pytest.fixture
def mirror(corpus: Path, tmp_path: Path) -> Path:
    d = tmp_path / "mirror"
    (d / "sub").mkdir(parents=True)
    shutil.copy(corpus / "1409.3215.pdf", d / "1409.3215v3.pdf")
    shutil.copy(corpus / "1508.01991.pdf", d / "sub" / "1508.01991.pdf")
    shutil.copy(corpus / "tkachenko_konvens2012_ner.pdf", d / "hep-th9901001.pdf")
    shutil.copy(corpus / "distbelief_nips2012.pdf", d / "distbelief.pdf")
    (d / "0704.0002.pdf").write_bytes(b"<html>not a pdf</html>")
    return d


def test_ingest_pdfs_named_by_id(store, mirror, tmp_path):
    data = tmp_path / "data"
    s = ingest(store, [mirror], data_dir=data)
    assert s.pdfs_added == 3
    assert len(s.errors) == 2
    assert any("distbelief.pdf" in e and "--id" in e for e in s.errors)
    assert any("0704.0002.pdf" in e and "not a readable PDF" in e for e in s.errors)
    pdfs = {(r["arxiv_id"], r["version"]): r for r in rows(store, "select * from pdfs")}
    assert set(pdfs) == {("1409.3215", 3), ("1508.01991", 0), ("hep-th/9901001", 0)}
    src = mirror / "1409.3215v3.pdf"
    r = pdfs[("1409.3215", 3)]
    assert r["sha256"] == hashlib.sha256(src.read_bytes()).hexdigest()
    assert (data / r["path"]).read_bytes() == src.read_bytes()
    assert r["pages"] > 0 and r["status"] == "ok"
    papers = {p["arxiv_id"]: p for p in rows(store, "select * from papers")}
    assert (papers["hep-th/9901001"]["year"], papers["hep-th/9901001"]["month"]) == (1999, 1)
    assert (papers["1508.01991"]["year"], papers["1508.01991"]["month"]) == (2015, 8)
    assert papers["1409.3215"]["version"] == 3
    again = ingest(store, [mirror], data_dir=data)
    assert again.pdfs_added == 0 and again.pdfs_known == 3
    assert store.count("pdfs") == 3


def test_ingest_with_explicit_id(store, mirror, tmp_path):
    s = ingest(store, [mirror / "distbelief.pdf"], arxiv_id="1212.0001v1",
               data_dir=tmp_path / "data")
    assert s.pdfs_added == 1 and not s.errors
    assert store.count("pdfs", "arxiv_id = '1212.0001' and version = 1") == 1
    with pytest.raises(IngestError) as err:  # --id names one file, not a directory
        ingest(store, [mirror], arxiv_id="1212.0001", data_dir=tmp_path / "data")
    assert "exactly one file" in str(err.value)
    with pytest.raises(IngestError) as err:  # 5-digit serials start in 1501
        ingest(store, [mirror / "distbelief.pdf"], arxiv_id="1212.00001",
               data_dir=tmp_path / "data")
    assert "1212.00001" in str(err.value)


def test_ingest_metadata_matches_terms_locally(store, shared, tmp_path):
    snap = shared / "arxiv/kaggle/arxiv-metadata-oai-snapshot.head.wanng-ide.jsonl"
    records = [json.loads(line) for line in snap.read_text().splitlines() if line.strip()]
    expected = {r["id"] for r in records
                if word("galaxies", r["abstract"]) or word("galaxies", r["title"])}
    assert 0 < len(expected) < len(records)
    s = ingest(store, [], benchmarks=[GALAXIES], metadata=snap, data_dir=tmp_path / "d")
    assert s.records == len(records)
    linked = {r["arxiv_id"] for r in rows(store, "select * from paper_queries")}
    assert linked == expected
    p = rows(store, "select * from papers where arxiv_id = ?", [sorted(expected)[0]])[0]
    assert p["published"].startswith("2007-") and (p["year"], p["month"]) == (2007, 4)
    assert json.loads(p["authors"]) and p["title"]


def test_ingest_cli_reports_bad_names(cli_run, mirror):
    r = cli_run("ingest", str(mirror))
    assert r.exit_code == 0
    assert "skipped:" in r.output and "distbelief.pdf" in r.output
    assert "3 PDFs added" in r.stdout


def _oai_pages(shared: Path) -> dict[str, bytes]:
    th = (shared / "arxiv/oai-pmh/hepcrawl__arxiv-physics-hep-th.xml").read_bytes()
    ex = (shared / "arxiv/oai-pmh/hepcrawl__arxiv-physics-hep-ex.xml").read_bytes()
    th = th.replace(b"</ListRecords>",
                    b'<resumptionToken cursor="0" completeListSize="6">tok|3</resumptionToken>'
                    b"</ListRecords>")
    ex = ex.replace(b"</ListRecords>",
                    b'<resumptionToken cursor="3" completeListSize="6"/></ListRecords>')
    return {"": th, "tok|3": ex}


def test_harvest_follows_tokens_waits_out_503_and_matches(store, arxiv_server, shared):
    from lxml import etree

    arxiv_server.oai_pages = _oai_pages(shared)
    html503 = (shared / "arxiv/oai-pmh/paperhive-nock/"
               "oaipmh-listrecords---should-list-identifiers-from-arxiv.0.status503.html")
    arxiv_server.faults = [Fault("oai", "status", 503, {"Retry-After": "10"},
                                 body=html503.read_bytes())]
    expected: dict[str, set[str]] = {"quantum": set(), "lhc": set()}
    for body in arxiv_server.oai_pages.values():
        for meta in etree.fromstring(body).iter("{http://arxiv.org/OAI/arXiv/}arXiv"):
            aid = meta.findtext("{http://arxiv.org/OAI/arXiv/}id")
            if word("quantum", meta.findtext("{http://arxiv.org/OAI/arXiv/}abstract")):
                expected["quantum"].add(aid)
            if word("LHC", meta.findtext("{http://arxiv.org/OAI/arXiv/}title")):
                expected["lhc"].add(aid)
    assert expected["quantum"] and expected["lhc"]
    clock = FakeClock()
    s = harvest(store, [QUANTUM, LHC], set_spec="physics:hep-th", from_date="2017-12-14",
                oai_url=f"{arxiv_server.url}/oai", delay=3, clock=clock, backoff=1)
    assert s.records == 6 and s.requests == 3
    assert 10.0 in clock.sleeps
    oai = arxiv_server.requests("oai")
    assert oai[0][2] == {"verb": "ListRecords", "metadataPrefix": "arXiv",
                         "set": "physics:hep-th", "from": "2017-12-14"}
    assert oai[2][2] == {"verb": "ListRecords", "resumptionToken": "tok|3"}
    for name, ids in expected.items():
        assert {r["arxiv_id"] for r in rows(
            store, "select arxiv_id from paper_queries where query = ? and via = 'oai'",
            [name])} == ids
    assert store.get_meta("harvest.last.physics:hep-th") == "2017-12-14"
    # the next harvest starts from the remembered date
    arxiv_server.oai_pages = {"": arxiv_server.oai_pages["tok|3"]}
    harvest(store, [QUANTUM, LHC], set_spec="physics:hep-th",
            oai_url=f"{arxiv_server.url}/oai", delay=0)
    assert arxiv_server.requests("oai")[-1][2]["from"] == "2017-12-14"
    assert store.count("paper_queries") == sum(len(v) for v in expected.values())


def test_harvest_cli(cli_run, arxiv_server, shared):
    arxiv_server.oai_pages = _oai_pages(shared)
    r = cli_run("harvest", "--set", "physics:hep-th", "--from", "2017-12-14",
                "--oai-url", f"{arxiv_server.url}/oai", "--delay", "0", "--silent")
    assert r.exit_code == 0, r.output
    assert "harvest physics:hep-th: ok" in r.stdout and "6 records" in r.stdout
    bad = cli_run("harvest", "--oai-url", "https://oaipmh.arxiv.org/oai", "--delay", "0")
    assert bad.exit_code == 2 and "below arXiv's limit" in bad.output


def test_ingest_cli_metadata_only(cli_run, shared, tmp_path):
    (tmp_path / "dlcompute.toml").write_text(
        '[benchmarks.galaxies]\nlabel = "Galaxies"\nterms = ["abs:galaxies", "ti:galaxies"]\n')
    snap = shared / "arxiv/kaggle/arxiv-metadata-oai-snapshot.head.wanng-ide.jsonl"
    r = cli_run("ingest", "--metadata", str(snap), "--silent")
    assert r.exit_code == 0, r.output
    assert "200 metadata records" in r.stdout and "galaxies" in r.stdout
    assert cli_run("ingest").exit_code == 2


def test_cli_wrong_mirror_path(cli_run, arxiv_server):
    r = cli_run("crawl", "--arxiv-url", arxiv_server.url + "/nothing", "--delay", "0",
                "-b", "coco", "--silent")
    assert r.exit_code == 1
    assert "HTTP 404" in r.output and "URL/api/query" in r.output
