"""A stand-in for arXiv on 127.0.0.1 for the crawler tests.

``ArxivServer`` serves the API (``/api/query``), PDFs (``/pdf/ID``) and
OAI-PMH (``/oai``) from recorded, real arXiv responses in
``shared/arxiv`` (Atom entries of the arxiv.py golden files, OAI-PMH pages)
and real PDFs from ``shared/corpus/pdfs``. A test says which entries each
search query returns; the server applies the ``submittedDate`` window,
ascending order, ``start``/``max_results`` and a per-query result cap like
arXiv's 30,000, and injects faults on request: HTTP statuses with headers,
a hanging response, malformed or empty pages, truncated or non-PDF bodies.
It notes when each request arrives (``arrivals``) and can insist on a spacing
between requests the way arXiv does (``rate_limit``: 429 and Retry-After to any
request that comes too soon after the one before).
"""

from __future__ import annotations

import copy
import re
import threading
import time
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from urllib.parse import parse_qs, urlsplit

from lxml import etree

ATOM = "http://www.w3.org/2005/Atom"
NS = {"atom": ATOM, "opensearch": "http://a9.com/-/spec/opensearch/1.1/",
      "arxiv": "http://arxiv.org/schemas/atom"}
WINDOW = re.compile(r"^\((?P<base>.*)\) AND submittedDate:\[(?P<lo>\d{12}) TO (?P<hi>\d{12})\]$")


def real_entries(shared: Path) -> list[etree._Element]:
    """Every distinct real Atom entry of the recorded API responses, oldest first."""
    seen: dict[str, etree._Element] = {}
    for f in sorted((shared / "arxiv" / "arxiv.py-golden" / "xml").glob("*.xml")):
        root = etree.fromstring(f.read_bytes())
        for e in root.findall("atom:entry", NS):
            eid = e.findtext("atom:id", namespaces=NS)
            if "/api/errors" in eid:
                continue
            seen.setdefault(eid.rsplit("/abs/", 1)[1].rsplit("v", 1)[0], e)
    return sorted(seen.values(), key=lambda e: (e.findtext("atom:published", namespaces=NS),
                                                e.findtext("atom:id", namespaces=NS)))


def entry_id(e: etree._Element) -> str:
    """The versioned id of an entry (2202.12139v1, quant-ph/0201082v1)."""
    return e.findtext("atom:id", namespaces=NS).rsplit("/abs/", 1)[1]


def entry_published(e: etree._Element) -> str:
    return e.findtext("atom:published", namespaces=NS)


@dataclass
class Fault:
    """Something to go wrong with the next request of ``kind`` (api | pdf | oai)."""

    kind: str
    action: str  # status | hang | malformed | empty | truncate | short | notpdf
    status: int = 200
    headers: dict[str, str] = field(default_factory=dict)
    seconds: float = 0.0
    body: bytes | None = None
    skip: int = 0  # let this many requests of the kind through first


@dataclass
class RateLimit:
    """The spacing the server wants between requests, and what it says when it is not kept."""

    spacing: float
    retry_after: str | None = None  # the Retry-After header of the 429, if any


class ArxivServer:
    """The server; ``url`` is what ``--arxiv-url`` takes."""

    def __init__(self, shared: Path):
        self.shared = shared
        self.results: dict[str, list[etree._Element]] = {}
        self.cap: int | None = None
        self.faults: list[Fault] = []
        self.log: list[tuple[str, str, dict]] = []  # (kind, path, params)
        self.agents: list[str] = []  # User-Agent of every request
        self.arrivals: list[tuple[float, str, int]] = []  # (monotonic, kind, status) each
        self.rate_limit: RateLimit | None = None
        self.pdf_chunk_delay = 0.0
        self.pdfs: dict[str, bytes] = {}  # versioned id -> bytes
        self.oai_pages: dict[str, bytes] = {}  # resumptionToken ('' = first) -> body
        self._corpus = sorted((shared / "corpus" / "pdfs").glob("*.pdf"),
                              key=lambda p: p.stat().st_size)[:6]
        self._lock = threading.Lock()
        server = self

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, *args):  # quiet
                pass

            def do_GET(self):
                server._handle(self)

        self.httpd = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.httpd.daemon_threads = True
        self.url = f"http://127.0.0.1:{self.httpd.server_address[1]}"
        self.thread = threading.Thread(target=self.httpd.serve_forever, args=(0.05,), daemon=True)
        self.thread.start()

    def close(self) -> None:
        self.httpd.shutdown()
        self.httpd.server_close()

    # --- what the server knows -------------------------------------------------

    def add_query(self, query: str, entries: list[etree._Element]) -> None:
        """``query`` (without date window) returns these entries; their PDF links point here."""
        out = []
        for i, e in enumerate(entries):
            e = copy.deepcopy(e)
            vid = entry_id(e)
            for link in e.findall("atom:link", NS):
                if link.get("title") == "pdf":
                    link.set("href", f"{self.url}/pdf/{vid}")
            if vid not in self.pdfs:
                src = self._corpus[(len(self.pdfs) + i) % len(self._corpus)]
                # a distinct file per paper: bytes after %%EOF are ignored by readers
                self.pdfs[vid] = src.read_bytes() + f"\n% test copy of {vid}\n".encode()
            out.append(e)
        self.results[query] = out

    def requests(self, kind: str) -> list[tuple[str, str, dict]]:
        return [r for r in self.log if r[0] == kind]

    def _fault(self, kind: str) -> Fault | None:
        with self._lock:
            for i, f in enumerate(self.faults):
                if f.kind == kind:
                    if f.skip:
                        f.skip -= 1
                        return None
                    return self.faults.pop(i)
        return None

    # --- answering -------------------------------------------------------------

    def _handle(self, h: BaseHTTPRequestHandler) -> None:
        parts = urlsplit(h.path)
        params = {k: v[0] for k, v in parse_qs(parts.query, keep_blank_values=True).items()}
        kind = ("api" if parts.path == "/api/query" else "pdf" if parts.path.startswith("/pdf/")
                else "oai" if parts.path == "/oai" else "other")
        with self._lock:
            self.log.append((kind, parts.path, params))
            self.agents.append(h.headers.get("User-Agent", ""))
            now = time.monotonic()
            limit = self.rate_limit
            too_soon = limit is not None and bool(self.arrivals) and \
                now - self.arrivals[-1][0] < limit.spacing
            self.arrivals.append((now, kind, 429 if too_soon else 200))
        if too_soon:
            headers = {"Retry-After": limit.retry_after} if limit.retry_after else {}
            self._send(h, 429, b"Rate exceeded.", "text/plain", headers)
            return
        fault = self._fault(kind)
        try:
            if fault and self._apply(h, fault, kind, params):
                return
            if kind == "api":
                self._send(h, 200, self._feed(params), "application/atom+xml")
            elif kind == "pdf":
                self._pdf(h, parts.path[len("/pdf/"):], fault)
            elif kind == "oai":
                token = params.get("resumptionToken", "")
                body = self.oai_pages.get(token)
                if body is None:
                    self._send(h, 404, b"no such page", "text/plain")
                else:
                    self._send(h, 200, body, "text/xml")
            else:
                self._send(h, 404, b"not found", "text/plain")
        except (BrokenPipeError, ConnectionResetError):
            pass  # the client gave up (timeout test): nothing to do

    def _apply(self, h, fault: Fault, kind: str, params: dict) -> bool:
        """Answer with the fault; False when the normal answer should still follow."""
        if fault.action == "status":
            body = fault.body if fault.body is not None else \
                f"<html><body>HTTP {fault.status}</body></html>".encode()
            self._send(h, fault.status, body, "text/html", fault.headers)
        elif fault.action == "hang":
            time.sleep(fault.seconds)
            return False if kind == "never" else self._send_late(h, kind, params)
        elif fault.action == "malformed":
            body = self._feed(params)
            self._send(h, 200, body[: len(body) // 2], "application/atom+xml")
        elif fault.action == "empty":
            body = self._feed(params, drop_entries=True)
            self._send(h, 200, body, "application/atom+xml")
        else:
            return False  # PDF faults are applied while sending the PDF
        return True

    def _send_late(self, h, kind, params) -> bool:
        try:
            if kind == "api":
                self._send(h, 200, self._feed(params), "application/atom+xml")
            else:
                self._send(h, 503, b"late", "text/plain")
        except (BrokenPipeError, ConnectionResetError, OSError):
            pass
        return True

    def _send(self, h, status: int, body: bytes, ctype: str, headers: dict | None = None,
              length: int | None = None) -> bool:
        h.send_response(status)
        h.send_header("Content-Type", ctype)
        h.send_header("Content-Length", str(len(body) if length is None else length))
        for k, v in (headers or {}).items():
            h.send_header(k, v)
        h.end_headers()
        h.wfile.write(body)
        return True

    def _feed(self, params: dict, drop_entries: bool = False) -> bytes:
        query = params.get("search_query", "")
        m = WINDOW.match(query)
        base, lo, hi = (m["base"], m["lo"], m["hi"]) if m else (query, None, None)
        entries = self.results.get(base, [])
        if lo:
            entries = [e for e in entries if lo <= _stamp(entry_published(e)) <= hi]
        entries = sorted(entries, key=lambda e: (entry_published(e), entry_id(e)))
        if params.get("sortOrder") == "descending":
            entries.reverse()
        total = len(entries)
        start = int(params.get("start", 0))
        size = int(params.get("max_results", 10))
        visible = entries[: self.cap] if self.cap is not None else entries
        page = [] if drop_entries else visible[start:start + size]
        feed = etree.Element(f"{{{ATOM}}}feed", nsmap={None: ATOM, "opensearch": NS[
            "opensearch"], "arxiv": NS["arxiv"]})
        etree.SubElement(feed, f"{{{ATOM}}}title").text = f"arXiv Query: {query}"
        etree.SubElement(feed, f"{{{NS['opensearch']}}}itemsPerPage").text = str(size)
        etree.SubElement(feed, f"{{{NS['opensearch']}}}totalResults").text = str(total)
        etree.SubElement(feed, f"{{{NS['opensearch']}}}startIndex").text = str(start)
        for e in page:
            feed.append(copy.deepcopy(e))
        return etree.tostring(feed, xml_declaration=True, encoding="UTF-8")

    def _pdf(self, h, vid: str, fault: Fault | None) -> None:
        data = self.pdfs.get(vid)
        if data is None:
            self._send(h, 404, b"no such PDF", "text/plain")
            return
        action = fault.action if fault else ""
        if action == "notpdf":
            self._send(h, 200, b"<html><body>Please verify you are human</body></html>",
                       "text/html")
            return
        if action == "short":  # a cut body that says it is complete
            self._send(h, 200, data[: len(data) // 2], "application/pdf")
            return
        h.send_response(200)
        h.send_header("Content-Type", "application/pdf")
        h.send_header("Content-Length", str(len(data)))
        h.end_headers()
        end = len(data) // 2 if action == "truncate" else len(data)
        step = 64 * 1024
        for i in range(0, end, step):
            h.wfile.write(data[i:min(i + step, end)])
            h.wfile.flush()
            if self.pdf_chunk_delay:
                time.sleep(self.pdf_chunk_delay)
        if action == "truncate":
            h.close_connection = True
            h.connection.shutdown(2)


def _stamp(published: str) -> str:
    """2022-02-24T15:05:19Z -> 202202241505"""
    return published[:16].replace("-", "").replace("T", "").replace(":", "")



def synthetic_entry(template: etree._Element, vid: str, published: str,
                    updated: str | None = None) -> etree._Element:
    """A real entry re-labelled with another id and dates (for new submissions, new versions)."""
    e = copy.deepcopy(template)
    e.find("atom:id", NS).text = f"http://arxiv.org/abs/{vid}"
    e.find("atom:published", NS).text = published
    e.find("atom:updated", NS).text = updated or published
    for link in e.findall("atom:link", NS):
        if link.get("title") == "pdf":
            link.set("href", f"https://arxiv.org/pdf/{vid}")
        elif link.get("rel") == "alternate":
            link.set("href", f"https://arxiv.org/abs/{vid}")
    return e


def bare_id(e: etree._Element) -> str:
    """The id without version, by plain string handling (independent of crawler.ids)."""
    vid = entry_id(e)
    return vid[: vid.rindex("v")]


def version_of(e: etree._Element) -> int:
    vid = entry_id(e)
    return int(vid[vid.rindex("v") + 1:])
