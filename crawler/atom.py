"""The arXiv API's Atom feed, parsed into plain records (lxml, no feedparser)."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field

from lxml import etree

from crawler.ids import InvalidArxivId, parse_arxiv_id
from db.errors import DlcomputeError

NS = {
    "atom": "http://www.w3.org/2005/Atom",
    "opensearch": "http://a9.com/-/spec/opensearch/1.1/",
    "arxiv": "http://arxiv.org/schemas/atom",
}

# no network, no entities: a feed is data, never instructions
_PARSER = etree.XMLParser(resolve_entities=False, no_network=True, huge_tree=False)


class MalformedFeedError(DlcomputeError):
    """The body is not an arXiv Atom feed (truncated, HTML error page, ...)."""


class ArxivQueryRejected(DlcomputeError):
    """arXiv answered with an error entry: the query (or id) is not valid."""


@dataclass
class Entry:
    """One paper as the API describes it."""

    arxiv_id: str
    version: int | None
    title: str
    abstract: str
    authors: list[str]
    categories: list[str]
    primary_category: str | None
    published: str | None
    updated: str | None
    doi: str | None
    journal_ref: str | None
    comment: str | None
    pdf_url: str | None
    year: int
    month: int


@dataclass
class FeedPage:
    """One page of results."""

    total: int
    start: int
    per_page: int
    entries: list[Entry] = field(default_factory=list)
    skipped: list[str] = field(default_factory=list)  # entries with unreadable ids


def _text(el: etree._Element | None) -> str | None:
    if el is None or el.text is None:
        return None
    return " ".join(el.text.split())


def _int(root: etree._Element, path: str) -> int | None:
    value = _text(root.find(path, NS))
    if value is None:
        return None
    try:
        return int(value)
    except ValueError:
        return None


def error_summary(body: bytes) -> str | None:
    """The summary of arXiv's error entry, if the body is one."""
    try:
        root = etree.fromstring(body, _PARSER)
    except etree.XMLSyntaxError:
        return None
    for entry in root.findall("atom:entry", NS):
        eid = _text(entry.find("atom:id", NS)) or ""
        if "/api/errors" in eid:
            return _text(entry.find("atom:summary", NS)) or eid
    return None


def parse_xml(body: bytes, root_tag: str, fail: Callable[[str], Exception],
              what: str) -> etree._Element:
    """Parse an untrusted XML body (no entities, no network) and check its root element."""
    try:
        root = etree.fromstring(body, _PARSER)
    except etree.XMLSyntaxError as e:
        raise fail(f"not well-formed XML ({e})") from e
    if root.tag != root_tag:
        raise fail(f"not {what} (root element {root.tag})")
    return root


def parse_feed(body: bytes) -> FeedPage:
    """Parse one API response body; raise MalformedFeedError or ArxivQueryRejected."""
    if not body or not body.strip():
        raise MalformedFeedError("empty response body")
    root = parse_xml(body, f"{{{NS['atom']}}}feed", MalformedFeedError, "an Atom feed")
    total = _int(root, "opensearch:totalResults")
    if total is None:
        raise MalformedFeedError("feed has no opensearch:totalResults")
    page = FeedPage(total=total, start=_int(root, "opensearch:startIndex") or 0,
                    per_page=_int(root, "opensearch:itemsPerPage") or 0)
    for entry in root.findall("atom:entry", NS):
        eid = _text(entry.find("atom:id", NS)) or ""
        if "/api/errors" in eid:
            raise ArxivQueryRejected(_text(entry.find("atom:summary", NS)) or eid)
        try:
            aid = parse_arxiv_id(eid)
        except InvalidArxivId:
            page.skipped.append(eid)
            continue
        pdf = None
        for link in entry.findall("atom:link", NS):
            if link.get("title") == "pdf" or link.get("type") == "application/pdf":
                pdf = link.get("href")
                break
        prim = entry.find("arxiv:primary_category", NS)
        page.entries.append(Entry(
            arxiv_id=aid.id,
            version=aid.version,
            title=_text(entry.find("atom:title", NS)) or "",
            abstract=_text(entry.find("atom:summary", NS)) or "",
            authors=[n for n in (_text(a.find("atom:name", NS))
                                 for a in entry.findall("atom:author", NS)) if n],
            categories=[c.get("term") for c in entry.findall("atom:category", NS)
                        if c.get("term")],
            primary_category=prim.get("term") if prim is not None else None,
            published=_text(entry.find("atom:published", NS)),
            updated=_text(entry.find("atom:updated", NS)),
            doi=_text(entry.find("arxiv:doi", NS)),
            journal_ref=_text(entry.find("arxiv:journal_ref", NS)),
            comment=_text(entry.find("arxiv:comment", NS)),
            pdf_url=pdf,
            year=aid.year,
            month=aid.month,
        ))
    return page
