"""PDFs: download, verify, and keep in a content-addressed cache under the data dir.

A PDF lives at ``pdfs/sha256/ab/abcdef....pdf`` (relative to the data dir).
It is written to ``pdfs/tmp/PID-RANDOM.part`` first and renamed into the
cache only once complete and verified: the body starts with ``%PDF``, its size
matches Content-Length, and pypdfium2 opens it. So the cache never holds a
partial file, even after a kill -9; stale ``.part`` files of dead processes
are removed by the next crawl.
"""

from __future__ import annotations

import ctypes
import hashlib
import logging
import os
import re
import shutil
import uuid
from dataclasses import dataclass
from pathlib import Path

import pypdfium2 as pdfium
import requests

from crawler.http import ArxivError, ArxivUnreachableError, HttpClient
from db import Store, T, utcnow
from db.errors import DlcomputeError

log = logging.getLogger(__name__)

CHUNK = 1 << 16


class BadPdfError(DlcomputeError):
    """A body or file that is not a complete, readable PDF."""


@dataclass
class PdfInfo:
    sha256: str
    path: str  # relative to the data dir
    size: int
    pages: int


class PdfCache:
    """The content-addressed PDF cache under ``data_dir``."""

    def __init__(self, data_dir: str | os.PathLike):
        self.data_dir = Path(data_dir)
        self.root = self.data_dir / "pdfs"
        self.tmp = self.root / "tmp"

    def relpath(self, sha: str) -> str:
        return f"pdfs/sha256/{sha[:2]}/{sha}.pdf"

    def tmp_file(self) -> Path:
        self.tmp.mkdir(parents=True, exist_ok=True)
        return self.tmp / f"{os.getpid()}-{uuid.uuid4().hex}.part"

    def clean_stale(self) -> int:
        """Remove .part files left by processes that no longer run."""
        removed = 0
        if not self.tmp.is_dir():
            return 0
        for f in self.tmp.glob("*.part"):
            pid = f.name.split("-", 1)[0]
            if pid.isdigit() and int(pid) != os.getpid() and _alive(int(pid)):
                continue
            f.unlink(missing_ok=True)
            removed += 1
        return removed

    def commit(self, tmp: Path, expected_size: int | None = None) -> PdfInfo:
        """Verify ``tmp`` and move it into the cache; the tmp file is gone either way."""
        try:
            size = tmp.stat().st_size
            if expected_size is not None and size != expected_size:
                raise BadPdfError(
                    f"truncated: got {size} bytes, Content-Length said {expected_size}")
            h = hashlib.sha256()
            with open(tmp, "rb") as fh:
                head = fh.read(CHUNK)
                if not head.lstrip()[:5].startswith(b"%PDF"):
                    raise BadPdfError(f"not a PDF (starts with {head[:16]!r})")
                while head:
                    h.update(head)
                    head = fh.read(CHUNK)
            pages = count_pages(tmp)
            sha = h.hexdigest()
            rel = self.relpath(sha)
            final = self.data_dir / rel
            final.parent.mkdir(parents=True, exist_ok=True)
            with open(tmp, "rb") as fh:
                os.fsync(fh.fileno())
            os.replace(tmp, final)  # atomic on one filesystem: whole file or none
            return PdfInfo(sha, rel, size, pages)
        finally:
            tmp.unlink(missing_ok=True)

    def add_file(self, src: Path) -> PdfInfo:
        """Copy a local PDF into the cache (verified like a download)."""
        tmp = self.tmp_file()
        shutil.copyfile(src, tmp)
        return self.commit(tmp)

    def has(self, rel: str | None) -> bool:
        return bool(rel) and (self.data_dir / rel).is_file()  # type: ignore[operator]


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


def count_pages(path: Path) -> int:
    """Pages of a PDF per pypdfium2; BadPdfError when it cannot be opened."""
    try:
        doc = pdfium.PdfDocument(str(path))
    except pdfium.PdfiumError as e:
        raise BadPdfError(f"pypdfium2 cannot open it ({e})") from e
    try:
        return len(doc)
    finally:
        doc.close()


@dataclass
class FirstPage:
    """What a PDF's first page says about the paper, for papers ingested without metadata."""

    text: str
    title: str | None


# arXiv's stamp runs up the left margin in large letters: never the title.
_STAMP = re.compile(r"arXiv:\s*\S+", re.I)


def read_first_page(path: str | os.PathLike) -> FirstPage:
    """The first page's text, and its title: the largest letters in the page's top half.

    Letter height is read from pypdfium2's character boxes (LaTeX PDFs scale a
    size-1 font, so the nominal font size says nothing); the title is the
    topmost block of lines whose median letter height is within 10% of the
    largest. BadPdfError when the file cannot be opened.
    """
    import pypdfium2.raw as pdfium_c

    try:
        doc = pdfium.PdfDocument(os.fspath(path))
    except pdfium.PdfiumError as e:
        raise BadPdfError(f"pypdfium2 cannot open it ({e})") from e
    try:
        if len(doc) == 0:
            return FirstPage("", None)
        page = doc[0]
        textpage = page.get_textpage()
        text = textpage.get_text_range()
        raw = textpage.raw
        rect = pdfium_c.FS_RECTF()
        x, y = ctypes.c_double(), ctypes.c_double()
        lines: dict[int, list[tuple[str, float, float, float]]] = {}
        for i in range(pdfium_c.FPDFText_CountChars(raw)):
            code = pdfium_c.FPDFText_GetUnicode(raw, i)
            if not code or chr(code) in "\r\n":
                continue
            pdfium_c.FPDFText_GetLooseCharBox(raw, i, rect)
            pdfium_c.FPDFText_GetCharOrigin(raw, i, x, y)
            lines.setdefault(round(y.value), []).append(
                (chr(code), rect.top - rect.bottom, rect.left, rect.right))
        return FirstPage(text, _title(lines, page.get_height()))
    finally:
        doc.close()


def _line_text(chars: list[tuple[str, float, float, float]]) -> str:
    out, right = [], None
    for ch, size, left, r in chars:
        # small capitals often come without space characters between words
        if right is not None and out[-1] != " " and left - right > 0.25 * size:
            out.append(" ")
        out.append(ch)
        right = r
    return " ".join("".join(out).split())


def _title(lines: dict[int, list[tuple[str, float, float, float]]], height: float
           ) -> str | None:
    candidates = []
    for baseline, chars in lines.items():
        sizes = sorted(c[1] for c in chars if c[0].isalpha())
        text = _line_text(chars)
        if baseline < height / 2 or len(sizes) < 3 or _STAMP.search(text):
            continue
        candidates.append((baseline, sizes[len(sizes) // 2], text))
    if not candidates:
        return None
    top = max(size for _, size, _ in candidates)
    big = sorted((c for c in candidates if c[1] >= 0.9 * top), reverse=True)
    block = [big[0]]
    for line in big[1:]:
        if block[-1][0] - line[0] > 2.5 * top:  # a figure's label further down
            break
        block.append(line)
    return " ".join(text for _, _, text in block)[:300] or None


def pdf_url_for(arxiv_id: str, version: int | None, base: str = "https://arxiv.org") -> str:
    """The fallback PDF address when the feed gives none."""
    return f"{base.rstrip('/')}/pdf/{arxiv_id}" + (f"v{version}" if version else "")


def mirrored_pdf_url(url: str, arxiv_id: str, version: int | None, mirror: str) -> str:
    """The PDF from ``mirror`` when the feed's link points at arXiv and the mirror is not it.

    A mirror's API answers with arXiv's own entries, whose PDF links name
    arxiv.org; without this the PDFs would still come from arXiv (or not at
    all, offline). The mirror serves them at ``URL/pdf/ID[vN]`` as arXiv does.
    """
    from crawler.http import is_arxiv_host

    if is_arxiv_host(mirror) or not is_arxiv_host(url):
        return url
    return pdf_url_for(arxiv_id, version, mirror)


def download(client: HttpClient, cache: PdfCache, url: str, what: str) -> PdfInfo:
    """One attempt: stream ``url`` into a tmp file and commit it; BadPdfError if bad."""
    tmp = cache.tmp_file()
    try:
        with client.get(url, stream=True, what=what) as resp:
            if resp.status_code != 200:
                raise ArxivError(f"{what}: HTTP {resp.status_code} for {url}", url,
                                 resp.status_code)
            length = resp.headers.get("Content-Length")
            expected = int(length) if length and length.isdigit() else None
            try:
                with open(tmp, "wb") as fh:
                    for chunk in resp.iter_content(CHUNK):
                        fh.write(chunk)
            except (requests.exceptions.ConnectionError,
                    requests.exceptions.ChunkedEncodingError) as e:
                raise BadPdfError(f"connection broke during the download ({_short(e)})") from e
        return cache.commit(tmp, expected)
    finally:
        tmp.unlink(missing_ok=True)


@dataclass
class PdfResult:
    arxiv_id: str
    version: int
    status: str  # ok | failed
    error: str | None = None


def fetch_pdf(store: Store, client: HttpClient, cache: PdfCache, arxiv_id: str,
              version: int | None, url: str, *, attempts: int = 3) -> PdfResult:
    """Download one PDF (retrying a bad body) and record it in ``pdfs``, ok or failed."""
    v = version or 0
    prior = list(store.db.query(f"select attempts from {T.pdfs} where arxiv_id = ? and "
                                f"version = ?", [arxiv_id, v]))
    tries = (prior[0]["attempts"] or 0) if prior else 0
    error = None
    info = None
    what = f"PDF of {arxiv_id}" + (f"v{version}" if version else "")
    for i in range(attempts):
        tries += 1
        try:
            info = download(client, cache, url, what)
            break
        except BadPdfError as e:
            error = str(e)
            log.warning("%s from %s: %s (attempt %d of %d)", what, url, error, i + 1, attempts)
        except ArxivUnreachableError:
            raise
        except ArxivError as e:
            error = str(e)
            if e.status is not None and 400 <= e.status < 500:
                break  # 404 and the like: asking again will not help
    row = {"arxiv_id": arxiv_id, "version": v, "url": url, "attempts": tries,
           "fetched_at": utcnow()}
    if info is not None:
        row.update(sha256=info.sha256, path=info.path, size=info.size, pages=info.pages,
                   status="ok", error=None)
    else:
        row.update(status="failed", error=error, sha256=None, path=None, size=None, pages=None)
    with store.transaction():
        store.db[T.pdfs].upsert(row, pk=("arxiv_id", "version"))
    return PdfResult(arxiv_id, v, row["status"], row["error"])


def pending_pdfs(store: Store, benchmark: str | None, cache: PdfCache,
                 max_attempts: int = 6) -> list[dict]:
    """Papers (of a benchmark, or all) whose latest version has no good PDF yet.

    A version that failed ``max_attempts`` times over all crawls is left alone;
    its failure stays recorded in ``pdfs``.
    """
    where = "" if benchmark is None else \
        f"and p.arxiv_id in (select arxiv_id from {T.paper_queries} where query = ?)"
    rows = list(store.db.query(f"""
        select p.arxiv_id, p.version, p.pdf_url, d.status, d.path, d.attempts
        from {T.papers} p
        left join {T.pdfs} d on d.arxiv_id = p.arxiv_id and d.version = coalesce(p.version, 0)
        where 1 {where}
        order by p.published, p.arxiv_id""", [benchmark] if benchmark else []))
    out = []
    for r in rows:
        if r["status"] == "ok" and cache.has(r["path"]):
            continue
        if r["status"] == "failed" and (r["attempts"] or 0) >= max_attempts:
            continue
        out.append(r)
    return out


def _short(e: BaseException) -> str:
    text = str(e)
    return text if len(text) < 160 else text[:160] + "..."
