"""Bulk, incremental metadata through arXiv's OAI-PMH interface.

``harvest`` lists the records of a set (``cs`` by default) changed since a
date with ``verb=ListRecords&metadataPrefix=arXiv``, follows resumption
tokens, waits out ``503 Retry-After`` through the same polite client as the
crawl, and matches each benchmark's terms locally on the record
(``crawler.match``). Only records that match a benchmark are stored. The date
of the last complete harvest of each set is kept in ``dlcompute_meta``
(``harvest.last.SET``) and is where the next harvest starts.
"""

from __future__ import annotations

import datetime as dt
import logging
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from pathlib import Path

from lxml import etree

from crawler.atom import parse_xml
from crawler.benchmarks import Benchmark, save_benchmarks
from crawler.http import (
    DEFAULT_DELAY,
    ArxivError,
    Clock,
    HttpClient,
    check_delay,
    pace_dir,
)
from crawler.ids import InvalidArxivId, parse_arxiv_id
from crawler.local import Matchers, document
from crawler.papers import PaperRecord, finish_run, link_query, start_run, upsert_paper
from db import Store, utcnow
from db.errors import DlcomputeError

log = logging.getLogger(__name__)

DEFAULT_OAI_URL = "https://oaipmh.arxiv.org/oai"
OAI = "http://www.openarchives.org/OAI/2.0/"
ARXIV = "http://arxiv.org/OAI/arXiv/"
NS = {"oai": OAI, "a": ARXIV}


class HarvestError(DlcomputeError):
    """An OAI-PMH answer that cannot be used; names the request and the fix."""


@dataclass
class HarvestSummary:
    set: str
    from_date: str | None
    until_date: str | None = None
    requests: int = 0
    records: int = 0
    deleted: int = 0
    new: int = 0
    updated: int = 0
    matched: dict[str, int] = field(default_factory=dict)
    status: str = "ok"
    error: str | None = None

    def line(self) -> str:
        bench = ", ".join(f"{k} {v}" for k, v in self.matched.items() if v) or "none"
        return (f"harvest {self.set}: {self.status}, from {self.from_date or 'the start'}, "
                f"{self.requests} requests, {self.records} records, {self.new} new papers, "
                f"{self.updated} updated, matched: {bench}"
                + (f"; {self.error}" if self.error else ""))


def _t(el: etree._Element, path: str) -> str | None:
    found = el.find(path, NS)
    if found is None or found.text is None:
        return None
    return " ".join(found.text.split())


def oai_record(rec: etree._Element) -> PaperRecord | None:
    """One ``<record>`` in metadataPrefix=arXiv; None for a deleted record."""
    header = rec.find("oai:header", NS)
    if header is not None and header.get("status") == "deleted":
        return None
    meta = rec.find("oai:metadata/a:arXiv", NS)
    if meta is None:
        raise HarvestError("record without arXiv metadata; harvest with metadataPrefix=arXiv")
    aid = parse_arxiv_id(_t(meta, "a:id") or "")
    authors = []
    for a in meta.findall("a:authors/a:author", NS):
        name = " ".join(p for p in (_t(a, "a:forenames"), _t(a, "a:keyname"),
                                    _t(a, "a:suffix")) if p)
        if name:
            authors.append(name)
    cats = (_t(meta, "a:categories") or "").split()
    created, updated = _t(meta, "a:created"), _t(meta, "a:updated")
    return PaperRecord(
        arxiv_id=aid.id, year=aid.year, month=aid.month, version=aid.version,
        title=_t(meta, "a:title") or "", abstract=_t(meta, "a:abstract") or "",
        authors=authors, categories=cats, primary_category=cats[0] if cats else None,
        published=f"{created}T00:00:00Z" if created else None,
        updated=f"{updated}T00:00:00Z" if updated else (
            f"{created}T00:00:00Z" if created else None),
        doi=_t(meta, "a:doi"), journal_ref=_t(meta, "a:journal-ref"),
        comment=_t(meta, "a:comments"))


@dataclass
class OaiPage:
    records: list[PaperRecord | None]
    token: str | None
    response_date: str | None
    skipped: list[str]


def parse_page(body: bytes, what: str) -> OaiPage:
    root = parse_xml(body, f"{{{OAI}}}OAI-PMH", lambda msg: HarvestError(f"{what}: {msg}"),
                     "an OAI-PMH response")
    rdate = _t(root, "oai:responseDate")
    err = root.find("oai:error", NS)
    if err is not None:
        if err.get("code") == "noRecordsMatch":
            return OaiPage([], None, rdate, [])
        raise HarvestError(f"{what}: OAI-PMH error {err.get('code')}: "
                           f"{' '.join((err.text or '').split())}")
    records, skipped = [], []
    for rec in root.findall("oai:ListRecords/oai:record", NS):
        try:
            records.append(oai_record(rec))
        except InvalidArxivId as e:
            skipped.append(str(e))
    token_el = root.find("oai:ListRecords/oai:resumptionToken", NS)
    token = token_el.text.strip() if token_el is not None and token_el.text else None
    return OaiPage(records, token, rdate, skipped)


def _pages(client: HttpClient, url: str, params: dict, what: str
           ) -> Iterator[OaiPage]:
    token = None
    while True:
        q = {"verb": "ListRecords", "resumptionToken": token} if token else params
        resp = client.fetch(url, q, what=what)
        if resp.status_code != 200:
            raise HarvestError(f"{what}: HTTP {resp.status_code} from {resp.url}")
        page = parse_page(resp.content, what)
        yield page
        token = page.token
        if not token:
            return


def harvest(store: Store, benchmarks: Iterable[Benchmark], *, set_spec: str = "cs",
            from_date: str | None = None, until_date: str | None = None,
            oai_url: str = DEFAULT_OAI_URL, delay: float = DEFAULT_DELAY,
            user_agent: str | None = None, clock: Clock | None = None,
            timeout: float = 120.0, retries: int = 4, backoff: float = 5.0,
            progress=None, data_dir: str | Path | None = None) -> HarvestSummary:
    """Harvest a set's records changed since ``from_date`` (default: the last harvest).

    ``data_dir``: share the request pacing with other commands using it.

    Each page is stored in one transaction; the set's harvest date is advanced
    only once the last page is in, so an interrupted harvest is redone from
    the same date.
    """
    check_delay(oai_url, delay)
    for name, value in (("from", from_date), ("until", until_date)):
        if value is not None:
            try:
                dt.date.fromisoformat(value)
            except ValueError as e:
                raise HarvestError(f"--{name} {value!r} is not a date; use YYYY-MM-DD") from e
    benchmarks = list(benchmarks)
    save_benchmarks(store, benchmarks)
    key = f"harvest.last.{set_spec}"
    from_date = from_date or store.get_meta(key)
    summary = HarvestSummary(set_spec, from_date, until_date,
                             matched={b.name: 0 for b in benchmarks})
    params = {"verb": "ListRecords", "metadataPrefix": "arXiv"}
    if set_spec:
        params["set"] = set_spec
    if from_date:
        params["from"] = from_date
    if until_date:
        params["until"] = until_date
    matchers = Matchers(benchmarks)
    run_id = start_run(store, "oai", f"oai:{set_spec}", from_date, until_date)
    what = f"OAI-PMH set {set_spec!r} from {from_date or 'the start'}"
    client = HttpClient(delay=delay, timeout=timeout, retries=retries, backoff=backoff,
                        user_agent=user_agent, clock=clock,
                        mirror_hint="--oai-url URL (or oai_url in [crawl] of dlcompute.toml)",
                        pace_dir=pace_dir(data_dir) if data_dir is not None else None)
    last_date = None
    try:
        pages = _pages(client, oai_url, params, what)
        bar = progress(pages, f"harvest {set_spec}") if progress else None
        with (bar if bar is not None else _nullctx(pages)) as it:
            for page in it:
                last_date = last_date or page.response_date
                _store_page(store, page, matchers, summary)
                summary.requests = client.requests_made
    except (ArxivError, HarvestError) as e:
        summary.status, summary.error = "failed", str(e)
        summary.requests = client.requests_made
        finish_run(store, run_id, "failed", str(e), requests=summary.requests,
                   seen=summary.records, new=summary.new, updated=summary.updated)
        raise
    finally:
        client.close()
    if not until_date:
        # the server's date of the first answer: records changed later are the next harvest's
        with store.transaction():
            store.set_meta(key, (last_date or utcnow())[:10])
    finish_run(store, run_id, "ok", requests=summary.requests, seen=summary.records,
               new=summary.new, updated=summary.updated)
    return summary


class _nullctx:
    def __init__(self, it):
        self.it = it

    def __enter__(self):
        return self.it

    def __exit__(self, *exc):
        return False


def _store_page(store: Store, page: OaiPage, matchers: Matchers,
                summary: HarvestSummary) -> None:
    now = utcnow()
    with store.transaction():
        for rec in page.records:
            if rec is None:
                summary.deleted += 1
                continue
            summary.records += 1
            names = matchers.names(document(rec))
            if not names:
                continue
            status = upsert_paper(store, rec, "oai", now)
            summary.new += status == "new"
            summary.updated += status == "updated"
            for name in names:
                if link_query(store, rec.arxiv_id, name, "oai", now):
                    summary.matched[name] += 1
