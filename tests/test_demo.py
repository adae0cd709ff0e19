"""`dlcompute demo` end to end, offline, on the data bundled with the package, and the sample."""

from __future__ import annotations

import gzip
import json
import re
import subprocess
import sys
from pathlib import Path

import pytest

from db import T, open_store
from dlcompute.samples import (
    EXTRA_CHARS,
    QUOTE_CHARS,
    SAMPLE_FILE,
    SAMPLE_PDFS,
    load_sample,
    quote,
    read_sample,
    sample_meta,
    write_sample,
)

ROOT = Path(__file__).resolve().parent.parent


@pytest.fixture(scope="module")
def demo(tmp_path_factory) -> tuple[subprocess.CompletedProcess, Path]:
    """The README's first command, less the install: a real process, no network needed."""
    where = tmp_path_factory.mktemp("demo")
    # An unreachable arXiv in the environment proves nothing is asked of the network.
    env = {"PATH": "/usr/bin:/bin", "DLCOMPUTE_ARXIV_URL": "http://127.0.0.1:9",
           "HOME": str(where), "PYTHONPATH": str(ROOT)}
    r = subprocess.run([sys.executable, "-m", "dlcompute", "demo", "--silent"], cwd=where,
                       capture_output=True, text=True, timeout=900, env=env)
    return r, where / "dlcompute-demo"


@pytest.mark.slow
def test_demo_ends_with_a_fitted_report_and_next_steps(demo):
    r, out = demo
    assert r.returncode == 0, r.stderr
    assert "Traceback" not in r.stderr
    report = out / "report" / "index.html"
    assert "Report: dlcompute-demo/report/index.html" in r.stdout
    assert "Store:  dlcompute-demo/dlcompute.db" in r.stdout
    for step in ("dlcompute review", "dlcompute run", "datasette"):
        assert step in r.stdout
    page = report.read_text(encoding="utf-8")
    assert len(re.findall(r'<img alt="[^"]+" src="data:image/png;base64,', page)) >= 5
    assert "Where this demo's data came from" in page and "build_sample.py" in page
    results = json.loads((out / "report" / "results.json").read_text())
    assert results["counts"]["imagenet"]["n"] > 100
    # a fitted slope, not a skipped one: error falls as compute grows
    assert "ImageNet compute per pass" not in {s["what"] for s in results["skipped"]}
    assert (out / "dlcompute.metadata.json").is_file()


@pytest.mark.slow
def test_demo_store_holds_the_bundled_papers_and_the_sample(demo):
    _, out = demo
    with open_store(out / "dlcompute.db") as s:
        papers = {r["arxiv_id"]: r for r in s.db.query("select * from papers")}
        assert papers["flair_coling2018"]["title"].startswith("Contextual String Embeddings")
        assert (papers["flair_coling2018"]["year"], papers["flair_coling2018"]["month"]) == \
            (2018, 8)
        assert papers["2101.03961"]["title"].startswith("Switch Transformers")
        assert s.count(T.extractions, "arxiv_id in ('2101.03961', 'flair_coling2018') "
                                      "and status = 'ok'") == 2
        assert s.count(T.papers, "source = 'sample'") == sample_meta()["counts"]["papers"]
        observed = {(r["arxiv_id"], r["model"], r["benchmark"], r["metric"], r["error"])
                    for r in s.db.query("select * from observations")}
    bundled = {(r["arxiv_id"], r["model"], r["benchmark"], r["metric"], r["error"])
               for r in read_sample() if r["kind"] == "observation"}
    # The sample's observations are what curate makes of its facts plus the two PDFs.
    assert observed == bundled, ("the bundled sample is stale (extractor or curate changed): "
                                 "python scripts/build_sample.py --corpus ../shared/corpus")


def test_sample_file_is_small_and_described():
    meta = sample_meta()
    assert SAMPLE_FILE.stat().st_size < 1_000_000
    assert meta["counts"]["facts"] > 1000 and meta["counts"]["observations"] > 100
    assert sorted(meta["excluded"]) == sorted(p.stem for p in SAMPLE_PDFS.glob("*.pdf"))
    notice = (SAMPLE_PDFS.parent / "NOTICE").read_text()
    for name in ("2101.03961.pdf", "flair_coling2018.pdf"):
        assert (SAMPLE_PDFS / name).is_file() and name in notice
    assert notice.count("creativecommons.org/licenses/by/4.0") >= 2


def test_sample_holds_only_short_quotes_of_the_papers():
    for rec in read_sample():
        if rec["kind"] == "fact":
            assert len(rec["evidence"] or "") <= QUOTE_CHARS
            for v in json.loads(rec["extra"] or "{}").values():
                assert not isinstance(v, str) or len(v) <= EXTRA_CHARS


def test_quote_centres_on_the_value():
    text = "x" * 300 + " we train for 90 epochs " + "y" * 300
    q = quote(text, 90.0, limit=60)
    assert "90 epochs" in q and q.startswith("...") and q.endswith("...")
    assert len(q) <= 60
    assert quote(q, 90.0, limit=60) == q  # the sample's quotes can be quoted again unchanged
    assert quote("short", 1.0) == "short"


def _tiny_store(path: Path) -> None:
    with open_store(path) as s, s.transaction() as db:
        db[T.queries].insert({"name": "imagenet", "label": "ImageNet"})
        db[T.papers].insert({"arxiv_id": "1512.03385", "title": "ResNet", "year": 2015,
                             "month": 12})
        db[T.paper_queries].insert({"arxiv_id": "1512.03385", "query": "imagenet"})
        eid = db[T.extractions].insert({"arxiv_id": "1512.03385", "pdf_sha256": "ab",
                                        "extractor_version": "9", "status": "ok",
                                        "seconds": 1.5, "created_at": "now"}).last_pk
        db[T.facts].insert({"extraction_id": eid, "arxiv_id": "1512.03385",
                            "field": "parameters", "value": 25.6, "unit": "M",
                            "evidence": "ResNet-50 has 25.6M parameters. " * 20, "page": 3})


def test_write_sample_is_deterministic_and_loads_once(tmp_path):
    _tiny_store(tmp_path / "a.db")
    with open_store(tmp_path / "a.db") as s:
        write_sample(s, tmp_path / "one.jsonl.gz", meta={"corpus": "test"})
        write_sample(s, tmp_path / "two.jsonl.gz", meta={"corpus": "test"})
    assert (tmp_path / "one.jsonl.gz").read_bytes() == (tmp_path / "two.jsonl.gz").read_bytes()
    with open_store(tmp_path / "b.db") as s:
        s.db[T.queries].insert({"name": "imagenet", "label": "ImageNet"})
        first = load_sample(s, tmp_path / "one.jsonl.gz")
        again = load_sample(s, tmp_path / "one.jsonl.gz")
        assert (first.papers, first.facts) == (1, 1)
        assert (again.papers, again.facts, again.skipped) == (0, 0, ["1512.03385"])
        fact = next(iter(s.db.query("select * from facts")))
        assert fact["value"] == 25.6 and fact["page"] == 3 and len(fact["evidence"]) <= 166
        assert s.count(T.paper_queries, "via = 'sample'") == 1


def test_damaged_sample_is_one_error(tmp_path):
    from dlcompute.samples import SampleError

    bad = tmp_path / "bad.jsonl.gz"
    bad.write_bytes(gzip.compress(b'{"kind": "fact"}\n'))
    with pytest.raises(SampleError, match="not a dlcompute sample"):
        list(read_sample(bad))
    bad.write_bytes(b"not gzip")
    with pytest.raises(SampleError, match="rebuild it"):
        list(read_sample(bad))


def test_demo_into_a_file_is_one_line(cli_run, tmp_path):
    (tmp_path / "taken").write_text("")
    r = cli_run("demo", "--out", "taken")
    assert r.exit_code == 1
    assert r.stderr.startswith("Error: ") and r.stderr.count("\n") == 1
    assert "--out" in r.stderr
