"""Papers without the search API: local PDFs, metadata snapshots, and term matching.

``ingest`` adds PDFs named by arXiv id (a mirror, arXiv's bulk S3 PDFs:
``1512.03385v1.pdf``, ``hep-th9901001.pdf``) and, with ``metadata``, records
in the arXiv metadata-snapshot JSON-lines format (Kaggle's
``arxiv-metadata-oai-snapshot.json``), matching each benchmark's terms
locally on the record (see ``crawler.match``).

A paper that is not on arXiv (AlexNet at NIPS 2012) is ingested one file at
a time under a name of its own (``--id alexnet_nips2012 --date 2012-12``).
Every PDF's first page gives the paper a title when the store has none, and
the benchmarks whose terms match the title and the first page's text.
"""

from __future__ import annotations

import datetime as dt
import email.utils
import json
import logging
import os
import re
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from pathlib import Path

from crawler.benchmarks import Benchmark, save_benchmarks
from crawler.ids import InvalidArxivId, parse_arxiv_id
from crawler.match import Document, parse_query
from crawler.papers import PaperRecord, finish_run, link_query, start_run, upsert_paper
from crawler.pdfs import BadPdfError, PdfCache, read_first_page
from db import Store, T, utcnow
from db.errors import DlcomputeError

log = logging.getLogger(__name__)


class IngestError(DlcomputeError):
    """A path or metadata file that cannot be ingested at all."""


@dataclass
class IngestSummary:
    """What ``ingest`` did; ``errors`` holds one line per file or record it skipped."""

    pdfs_added: int = 0
    pdfs_known: int = 0  # already in the cache for that id and version
    records: int = 0  # metadata records read
    papers_new: int = 0
    papers_updated: int = 0
    matched: dict[str, int] = field(default_factory=dict)  # benchmark -> papers linked
    errors: list[str] = field(default_factory=list)

    def line(self) -> str:
        bench = ", ".join(f"{k} {v}" for k, v in self.matched.items() if v) or "none"
        return (f"ingest: {self.pdfs_added} PDFs added, {self.pdfs_known} already there, "
                f"{self.records} metadata records, {self.papers_new} new papers, "
                f"{self.papers_updated} updated, matched: {bench}, {len(self.errors)} skipped")


class Matchers:
    """The benchmarks' terms compiled once."""

    def __init__(self, benchmarks: Iterable[Benchmark]):
        self.fns = [(b.name, parse_query(b.search_query)) for b in benchmarks]

    def names(self, doc: Document) -> list[str]:
        return [name for name, fn in self.fns if fn(doc)]


def document(rec: PaperRecord) -> Document:
    return Document(title=rec.title or "", abstract=rec.abstract or "",
                    authors=", ".join(rec.authors or []), comment=rec.comment or "",
                    journal_ref=rec.journal_ref or "", categories=rec.categories or [],
                    submitted=_stamp(rec.published))


def _stamp(iso: str | None) -> str | None:
    if not iso:
        return None
    return iso[:16].replace("-", "").replace("T", "").replace(":", "").ljust(12, "0")


def _iso(when: dt.datetime) -> str:
    return when.astimezone(dt.UTC).replace(microsecond=0).isoformat().replace("+00:00", "Z")


def snapshot_record(obj: dict) -> PaperRecord:
    """One record of the Kaggle/arXiv metadata snapshot as a PaperRecord."""
    aid = parse_arxiv_id(str(obj["id"]))
    versions = obj.get("versions") or []
    dates = []
    for v in versions:
        try:
            dates.append(_iso(email.utils.parsedate_to_datetime(v["created"])))
        except (KeyError, TypeError, ValueError):
            dates.append(None)
    if obj.get("authors_parsed"):
        authors = [" ".join(p for p in (a[1], a[0], a[2] if len(a) > 2 else "") if p)
                   for a in obj["authors_parsed"]]
    else:
        authors = [a.strip() for a in (obj.get("authors") or "").replace(" and ", ", ")
                   .split(",") if a.strip()]
    cats = (obj.get("categories") or "").split()
    return PaperRecord(
        arxiv_id=aid.id, year=aid.year, month=aid.month,
        version=len(versions) or aid.version,
        title=" ".join((obj.get("title") or "").split()),
        abstract=" ".join((obj.get("abstract") or "").split()),
        authors=authors, categories=cats, primary_category=cats[0] if cats else None,
        published=dates[0] if dates else None, updated=dates[-1] if dates else None,
        doi=obj.get("doi"), journal_ref=obj.get("journal-ref"), comment=obj.get("comments"))


def read_snapshot(path: Path) -> Iterator[tuple[int, PaperRecord | None, str | None]]:
    """(line number, record, error) for each line of a JSON-lines snapshot."""
    if not path.is_file():
        raise IngestError(f"Metadata file {path} does not exist; pass a JSON-lines file "
                          f"in the arXiv metadata-snapshot format")
    with open(path, encoding="utf-8", errors="replace") as fh:
        for n, line in enumerate(fh, 1):
            if not line.strip():
                continue
            try:
                yield n, snapshot_record(json.loads(line)), None
            except (json.JSONDecodeError, KeyError, TypeError, InvalidArxivId) as e:
                yield n, None, f"{path}:{n}: not a metadata record ({e})"


# A name for a paper that is not on arXiv: it can never parse as an arXiv id.
_LOCAL_ID = re.compile(r"[A-Za-z][A-Za-z0-9_.-]{0,79}")
_MONTH = re.compile(r"(\d{4})-(\d{2})")


@dataclass(frozen=True)
class PaperName:
    """What ``--id``/``--title``/``--date`` say about the one PDF they come with."""

    id: str
    year: int
    month: int
    version: int  # 0 for papers not on arXiv
    title: str | None = None
    on_arxiv: bool = True


def name_paper(paper_id: str, *, title: str | None = None, date: str | None = None
               ) -> PaperName:
    """Check ``--id`` (an arXiv id, or a name for a paper not on arXiv) and its ``--date``.

    An arXiv id dates the paper itself; any other name needs ``date`` (YYYY-MM).
    """
    title = " ".join(title.split()) if title and title.strip() else None
    try:
        aid = parse_arxiv_id(paper_id)
    except InvalidArxivId:
        aid = None
    if aid is not None:
        if date is not None:
            raise IngestError(f"--date {date}: {paper_id} is an arXiv id, which gives the "
                              f"date itself; drop --date")
        return PaperName(aid.id, aid.year, aid.month, aid.version or 0, title)
    if not _LOCAL_ID.fullmatch(paper_id):
        raise IngestError(
            f"--id {paper_id!r} is neither an arXiv id (1512.03385v1) nor a name for a paper "
            f"not on arXiv (a letter, then letters, digits, '_', '-' or '.', e.g. "
            f"alexnet_nips2012)")
    m = _MONTH.fullmatch(date or "")
    if date is None:
        raise IngestError(f"--id {paper_id} is not an arXiv id, so give the paper's date: "
                          f"--date YYYY-MM (e.g. --date 2012-12)")
    if m is None or not 1 <= int(m.group(2)) <= 12 or not 1900 <= int(m.group(1)) <= 2100:
        raise IngestError(f"--date {date!r} is not a month; use YYYY-MM, e.g. 2012-12")
    return PaperName(paper_id, int(m.group(1)), int(m.group(2)), 0, title, on_arxiv=False)


def pdf_files(paths: Iterable[str | os.PathLike]) -> Iterator[Path]:
    """The PDFs named: files as given, directories searched recursively."""
    for p in map(Path, paths):
        if p.is_dir():
            yield from sorted(f for f in p.rglob("*") if f.is_file()
                              and f.suffix.lower() == ".pdf")
        elif p.is_file():
            yield p
        else:
            raise IngestError(f"{p} does not exist; pass PDF files or directories")


def ingest(store: Store, paths: Iterable[str | os.PathLike], *,
           benchmarks: Iterable[Benchmark] = (), metadata: str | os.PathLike | None = None,
           data_dir: str | os.PathLike = "data", arxiv_id: str | None = None,
           title: str | None = None, date: str | None = None,
           progress=None) -> IngestSummary:
    """Add local PDFs (named by arXiv id) and metadata records, without the network.

    ``arxiv_id`` names the paper of a single file whose name is not an id: an
    arXiv id, or a name of its own for a paper not on arXiv, which then needs
    ``date`` (YYYY-MM); ``title`` overrides the title read from the first page.
    Metadata records are stored when they match a benchmark (linked with
    ``via='ingest'``) or describe a paper whose PDF is ingested. Each PDF's
    first page gives a title to a paper without one, and links the paper to the
    benchmarks whose terms match its title and first page.
    """
    benchmarks = list(benchmarks)
    files = list(pdf_files(paths))
    if (title is not None or date is not None) and arxiv_id is None:
        raise IngestError("--title and --date describe one PDF: pass exactly one file with "
                          "--id ID")
    given = name_paper(arxiv_id, title=title, date=date) if arxiv_id is not None else None
    if given is not None and len(files) != 1:
        raise IngestError(f"--id {arxiv_id} names one paper but {len(files)} PDFs were given; "
                          f"pass exactly one file with --id")
    summary = IngestSummary(matched={b.name: 0 for b in benchmarks})
    cache = PdfCache(data_dir)
    cache.clean_stale()
    named: dict[str, tuple[Path, PaperName]] = {}
    for f in files:
        if given is not None:
            named[f"{given.id}|{given.version}"] = (f, given)
            continue
        try:
            aid = parse_arxiv_id(f.name)
        except InvalidArxivId:
            summary.errors.append(
                f"{f}: the file name is not an arXiv id (e.g. 1512.03385v1.pdf, "
                f"hep-th9901001.pdf); rename it, or pass this one file with --id ID "
                f"(a paper not on arXiv: --id NAME --date YYYY-MM)")
            continue
        named[f"{aid.id}|{aid.version or 0}"] = (f, PaperName(aid.id, aid.year, aid.month,
                                                              aid.version or 0))
    run_id = start_run(store, "ingest", None, None, None)
    if benchmarks:
        save_benchmarks(store, benchmarks)
    wanted = {k.split("|")[0] for k in named}
    if metadata is not None:
        _ingest_metadata(store, Path(metadata), benchmarks, wanted, summary)
    matchers = Matchers(benchmarks)
    items = list(named.values())
    bar = progress(items, "ingest PDFs") if progress else None
    with (bar if bar is not None else _Null(items)) as it:
        for f, paper in it:
            _ingest_pdf(store, cache, f, paper, matchers, summary)
    finish_run(store, run_id, "ok", None if not summary.errors else
               f"{len(summary.errors)} skipped", seen=summary.records + len(named),
               new=summary.papers_new, updated=summary.papers_updated,
               pdfs_fetched=summary.pdfs_added)
    return summary


class _Null:
    def __init__(self, items):
        self.items = items

    def __enter__(self):
        return self.items

    def __exit__(self, *exc):
        return False


def _ingest_metadata(store: Store, path: Path, benchmarks: list[Benchmark], wanted: set[str],
                     summary: IngestSummary) -> None:
    matchers = Matchers(benchmarks)
    batch: list[tuple[PaperRecord, list[str]]] = []

    def flush() -> None:
        now = utcnow()
        with store.transaction():
            for rec, names in batch:
                status = upsert_paper(store, rec, "ingest", now)
                summary.papers_new += status == "new"
                summary.papers_updated += status == "updated"
                for name in names:
                    if link_query(store, rec.arxiv_id, name, "ingest", now):
                        summary.matched[name] += 1
        batch.clear()

    for _n, rec, error in read_snapshot(path):
        if error:
            summary.errors.append(error)
            continue
        summary.records += 1
        names = matchers.names(document(rec))
        if names or rec.arxiv_id in wanted:
            batch.append((rec, names))
        if len(batch) >= 500:
            flush()
    flush()


def _ingest_pdf(store: Store, cache: PdfCache, f: Path, paper: PaperName, matchers: Matchers,
                summary: IngestSummary) -> None:
    old = list(store.db.query(f"select status, path from {T.pdfs} where arxiv_id = ? and "
                              f"version = ?", [paper.id, paper.version]))
    if old and old[0]["status"] == "ok" and cache.has(old[0]["path"]):
        summary.pdfs_known += 1
        if paper.title:  # a title given now still applies
            with store.transaction():
                store.db[T.papers].update(paper.id, {"title": paper.title})
        return
    try:
        info = cache.add_file(f)
        first = read_first_page(cache.data_dir / info.path)
    except (BadPdfError, OSError) as e:
        summary.errors.append(f"{f}: not a readable PDF ({e})")
        return
    now = utcnow()
    with store.transaction():
        known = list(store.db.query(f"select title, abstract from {T.papers} where arxiv_id = ?",
                                    [paper.id]))
        has_title = bool(known and known[0]["title"])
        title = paper.title or (None if has_title else first.title)
        status = upsert_paper(store, PaperRecord(
            paper.id, paper.year, paper.month, version=paper.version or None, title=title),
            "ingest", now)
        summary.papers_new += status == "new"
        store.db[T.pdfs].upsert({
            "arxiv_id": paper.id, "version": paper.version, "sha256": info.sha256,
            "path": info.path, "size": info.size, "pages": info.pages,
            "url": f.resolve().as_uri(), "status": "ok", "error": None, "attempts": 1,
            "fetched_at": now}, pk=("arxiv_id", "version"))
        doc = Document(title=title or (known[0]["title"] if has_title else "") or "",
                       abstract=" ".join(first.text.split()))
        for name in matchers.names(doc):
            if link_query(store, paper.id, name, "ingest", now):
                summary.matched[name] = summary.matched.get(name, 0) + 1
    summary.pdfs_added += 1

