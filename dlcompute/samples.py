"""The bundled sample: what dlcompute itself extracted from the corpus, as a small file.

``write_sample`` exports a store's papers, extractions, facts and
observations to gzipped JSON lines (``dlcompute/sample/corpus.jsonl.gz``),
keeping of each fact its values, page, rule and a short quote of its evidence
(at most ``QUOTE_CHARS`` characters; a table caption or header in its extra JSON
at most ``EXTRA_CHARS``: no PDF text beyond that). The file is
deterministic: rows sorted, no times, gzip without a timestamp, so the same
corpus and extractor give the same bytes. ``scripts/build_sample.py`` builds it
from ``../shared/corpus``.

``load_sample`` writes those rows into a store (papers marked ``source =
'sample'``), so curate builds observations from them as from any extraction and
the analysis has real data to fit on a machine without the corpus.
"""

from __future__ import annotations

import gzip
import io
import json
import logging
import re
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from db.errors import DlcomputeError

log = logging.getLogger(__name__)

SAMPLE_DIR = Path(__file__).resolve().parent / "sample"
SAMPLE_FILE = SAMPLE_DIR / "corpus.jsonl.gz"
SAMPLE_PDFS = SAMPLE_DIR / "pdfs"
SAMPLE_PAPERS = SAMPLE_DIR / "papers.json"  # how the bundled PDFs are ingested
FORMAT = 1
QUOTE_CHARS = 160
EXTRA_CHARS = 80  # text in a fact's extra JSON (a table's caption or header) is cut to this
SOURCE = "sample"  # papers.source and paper_queries.via of loaded rows
REBUILD = "python scripts/build_sample.py --corpus ../shared/corpus"

# Columns never exported: row ids (renumbered on load), times, and what points at them.
_SKIP_FACT = {"id", "extraction_id"}
_SKIP_EXTRACTION = {"id", "created_at", "seconds"}
_SKIP_OBSERVATION = {"id", "updated_at", "sources"}


class SampleError(DlcomputeError):
    """The sample file is missing or not a dlcompute sample."""


@dataclass
class SampleSummary:
    papers: int = 0
    extractions: int = 0
    facts: int = 0
    observations: int = 0
    skipped: list[str] = field(default_factory=list)  # papers already in the store


def quote(evidence: str | None, value: Any = None, limit: int = QUOTE_CHARS) -> str | None:
    """At most ``limit`` characters of ``evidence`` (marks of a cut included), centred on
    the value where it shows; a quote is its own quote."""
    if not evidence:
        return evidence
    text = " ".join(evidence.split())
    if len(text) <= limit:
        return text
    at = -1
    if isinstance(value, int | float):
        for form in (f"{value:g}", f"{value:,.0f}", f"{value:.1f}", f"{value:.2f}"):
            m = re.search(rf"(?<![\d.]){re.escape(form)}(?![\d])", text)
            if m:
                at = m.start()
                break
    room = limit - 6  # the marks "..." at both ends count: a quote quoted again is itself
    start = 0 if at < 0 else max(0, min(at - room // 2, len(text) - room))
    cut = text[start:start + room].strip()
    return ("..." if start else "") + cut + ("..." if start + room < len(text) else "")


def _rows(store: Any, sql: str, params: Iterable[Any] = ()) -> list[dict[str, Any]]:
    return [dict(r) for r in store.db.query(sql, list(params))]


def sample_records(store: Any, *, exclude: Iterable[str] = (), meta: dict[str, Any]
                   ) -> Iterator[dict[str, Any]]:
    """The records of a sample file: meta, then papers, extractions, facts, observations.

    ``exclude`` names papers whose facts stay out (the bundled PDFs, which the
    demo extracts itself); their observations stay in, as the reference.
    """
    from db.schema import T

    excluded = set(exclude)
    latest = {r["arxiv_id"]: r for r in _rows(store, f"""
        select * from {T.extractions} e where e.id = (select max(id) from {T.extractions} x
        where x.arxiv_id = e.arxiv_id) order by arxiv_id""")}
    benchmarks: dict[str, list[str]] = {}
    for r in _rows(store, f"select arxiv_id, query from {T.paper_queries} "
                          f"order by arxiv_id, query"):
        benchmarks.setdefault(r["arxiv_id"], []).append(r["query"])
    papers = [p for p in _rows(store, f"select arxiv_id, title, year, month from {T.papers} "
                                      f"order by arxiv_id") if p["arxiv_id"] not in excluded]
    facts = [f for f in _rows(store, f"select * from {T.facts} order by arxiv_id, id")
             if f["arxiv_id"] in latest and f["arxiv_id"] not in excluded
             and f["extraction_id"] == latest[f["arxiv_id"]]["id"]]
    observations = _rows(store, f"select * from {T.observations} "
                                f"order by arxiv_id, model, benchmark, metric")
    counts = {"papers": len(papers), "facts": len(facts), "observations": len(observations),
              "extractions": sum(1 for a in latest if a not in excluded)}
    yield {"kind": "meta", "format": FORMAT, **meta, "counts": counts,
           "excluded": sorted(excluded), "quote_chars": QUOTE_CHARS, "rebuild": REBUILD}
    for p in papers:
        yield {"kind": "paper", **p, "benchmarks": benchmarks.get(p["arxiv_id"], [])}
    for arxiv_id, e in latest.items():
        if arxiv_id not in excluded:
            yield {"kind": "extraction", **{k: v for k, v in e.items()
                                            if k not in _SKIP_EXTRACTION}}
    for f in facts:
        row = {k: v for k, v in f.items() if k not in _SKIP_FACT}
        row["evidence"] = quote(f.get("evidence"), f.get("value"))
        row["extra"] = _short_extra(f.get("extra"))
        yield {"kind": "fact", **row}
    for o in observations:
        yield {"kind": "observation", **{k: v for k, v in o.items() if k not in _SKIP_OBSERVATION}}


def _short_extra(extra: str | None) -> str | None:
    if not extra:
        return extra
    try:
        data = json.loads(extra)
    except json.JSONDecodeError:
        return None
    if not isinstance(data, dict):
        return extra
    return json.dumps({k: (quote(v, limit=EXTRA_CHARS) if isinstance(v, str) else v)
                       for k, v in data.items()}, ensure_ascii=False, sort_keys=True)


def shorten_facts(store: Any, *, exclude: Iterable[str] = ()) -> int:
    """Cut every fact's evidence and extra text in ``store`` as the sample keeps them
    (papers in ``exclude`` untouched), so that curate decides from what the sample will
    hold: the sample's observations are then what ``dlcompute demo`` gets from its facts.
    Returns the facts changed."""
    from db.schema import T

    excluded = set(exclude)
    changed = []
    for f in _rows(store, f"select id, arxiv_id, value, evidence, extra from {T.facts}"):
        if f["arxiv_id"] in excluded:
            continue
        short = (quote(f["evidence"], f["value"]), _short_extra(f["extra"]))
        if short != (f["evidence"], f["extra"]):
            changed.append((*short, f["id"]))
    with store.transaction():
        store.db.conn.executemany(f"update {T.facts} set evidence = ?, extra = ? where id = ?",
                                  changed)
    return len(changed)


def write_sample(store: Any, path: str | Path, *, exclude: Iterable[str] = (),
                 meta: dict[str, Any] | None = None) -> dict[str, int]:
    """Write the sample file; returns its counts. Same store in, same bytes out."""
    path = Path(path)
    buf = io.BytesIO()
    counts: dict[str, int] = {}
    # mtime=0 and no file name in the header: the bytes depend on the rows alone
    with gzip.GzipFile(filename="", mode="wb", fileobj=buf, mtime=0, compresslevel=9) as gz:
        for rec in sample_records(store, exclude=exclude, meta=meta or {}):
            if rec["kind"] == "meta":
                counts = rec["counts"]
            gz.write((json.dumps(rec, ensure_ascii=False, sort_keys=True) + "\n").encode())
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_suffix(path.suffix + ".part")
    tmp.write_bytes(buf.getvalue())
    tmp.replace(path)
    return counts


def read_sample(path: str | Path = SAMPLE_FILE) -> Iterator[dict[str, Any]]:
    """The records of a sample file; SampleError names the file and the fix."""
    path = Path(path)
    if not path.is_file():
        raise SampleError(f"No sample file at {path}; rebuild it: {REBUILD}")
    line_no = 0
    try:
        with gzip.open(path, "rt", encoding="utf-8") as fh:
            for line in fh:
                line_no += 1
                rec = json.loads(line)
                if line_no == 1 and (rec.get("kind") != "meta" or rec.get("format") != FORMAT):
                    raise SampleError(f"{path} is not a dlcompute sample of format {FORMAT}; "
                                      f"rebuild it: {REBUILD}")
                yield rec
    except (OSError, EOFError, json.JSONDecodeError, UnicodeDecodeError) as e:
        raise SampleError(f"{path} is damaged ({e}, near line {line_no}); "
                          f"rebuild it: {REBUILD}") from e


def sample_meta(path: str | Path = SAMPLE_FILE) -> dict[str, Any]:
    return next(read_sample(path))


def load_sample(store: Any, path: str | Path = SAMPLE_FILE) -> SampleSummary:
    """Write the sample's papers, extractions and facts into ``store``, in one transaction.

    Papers the store already has are left alone (loading twice adds nothing);
    benchmark links are made only to benchmarks the store knows. The sample's
    observations are not loaded: ``curate`` builds them from the facts.
    """
    from db.schema import T

    summary = SampleSummary()
    have = {r["arxiv_id"] for r in store.db.query(f"select arxiv_id from {T.papers}")}
    queries = {r["name"] for r in store.db.query(f"select name from {T.queries}")}
    extraction_ids: dict[str, int] = {}
    with store.transaction():
        for rec in read_sample(path):
            kind = rec.pop("kind")
            arxiv_id = rec.get("arxiv_id")
            if kind == "meta" or (arxiv_id in have and kind != "observation"):
                if kind == "paper":
                    summary.skipped.append(arxiv_id)
                continue
            if kind == "paper":
                links = [q for q in rec.pop("benchmarks") if q in queries]
                store.db[T.papers].insert({**rec, "source": SOURCE})
                for q in links:
                    store.db[T.paper_queries].insert({"arxiv_id": arxiv_id, "query": q,
                                                      "via": SOURCE})
                summary.papers += 1
            elif kind == "extraction":
                extraction_ids[arxiv_id] = store.db[T.extractions].insert(rec).last_pk
                summary.extractions += 1
            elif kind == "fact":
                store.db[T.facts].insert({**rec, "extraction_id": extraction_ids[arxiv_id]})
                summary.facts += 1
            elif kind == "observation":
                summary.observations += 1
    return summary
