"""extract_pdf: one PDF -> PaperExtraction (pure: no store, never raises for a bad PDF)."""

from __future__ import annotations

import hashlib
import logging
import os
import re
import time

from extract.candidates import table_candidates
from extract.context import NameStats, Sections, own_names, title_of
from extract.features import add_features, retrains_baselines
from extract.layout import read_layout_lines
from extract.model import Fact, PaperExtraction
from extract.results import extract_results, load_rules, paper_context
from extract.rules_engine import extract_compute_facts
from extract.scorer import score_facts
from extract.tables import read_tables, two_columns
from extract.text import (
    OpenPages,
    PageText,
    PdfTextError,
    read_pages,
    references_text,
    text_quality,
)

log = logging.getLogger(__name__)

#: share of common English words below which the text layer is judged garbled.
MIN_TEXT_QUALITY = 0.05
MIN_CHARS_PER_PAGE = 200


def arxiv_date(arxiv_id: str) -> tuple[int | None, int | None]:
    """'1907.11692' -> (2019, 7); 'cs/0112017' -> (2001, 12); other names -> (None, None)."""
    m = re.fullmatch(r"(?:[a-z\-]+(?:\.[A-Z]{2})?/)?(\d{2})(\d{2})[.\d]*(?:v\d+)?", arxiv_id or "")
    if not m:
        return None, None
    yy, mm = int(m.group(1)), int(m.group(2))
    if not 1 <= mm <= 12:
        return None, None
    return (2000 + yy if yy < 91 else 1900 + yy), mm


def _sha256(path_or_bytes: str | os.PathLike | bytes) -> str | None:
    h = hashlib.sha256()
    if isinstance(path_or_bytes, bytes | bytearray):
        h.update(path_or_bytes)
        return h.hexdigest()
    try:
        with open(path_or_bytes, "rb") as f:
            for block in iter(lambda: f.read(1 << 20), b""):
                h.update(block)
    except OSError:
        return None
    return h.hexdigest()


#: a page that may hold a table: a caption word, or many lines of numbers (a table without
#: a caption; a few such lines are running text or a figure's ticks)
_TABLE_WORD = re.compile(r"\b(?:Table|TABLE|Tab\.)\s*[A-Z]?\d")
_NUMERIC_LINE = re.compile(r"^(?:.*?(?<![\w.])\d+(?:\.\d+)?[%KMGB]?\b){3}", re.MULTILINE)


def table_pages(pages: list[PageText]) -> list[int]:
    """Pages worth laying out: their plain text shows a table caption or numeric rows."""
    out = []
    for p in pages:
        if p.in_references or not p.text:
            continue
        if _TABLE_WORD.search(p.text) or len(_NUMERIC_LINE.findall(p.text)) >= 6:
            out.append(p.number)
    return out


def page_furniture(pages: list[PageText]) -> set[str]:
    """Running heads and feet: lines that open or close many pages (a paper's title set
    above every page is no table header)."""
    counts: dict[str, int] = {}
    for p in pages:
        lines = [ln.strip() for ln in p.text.split("\n") if ln.strip()]
        for ln in {*lines[:2], *lines[-2:]}:
            key = " ".join(ln.split())
            if len(key) > 3 and not key.isdigit():
                counts[key] = counts.get(key, 0) + 1
    need = max(3, len(pages) // 3)
    return {k for k, n in counts.items() if n >= need}


def find_facts(pages: list[PageText], *, year: int | None = None,
               month: int | None = None, pdf: str | os.PathLike | bytes | None = None,
               opened: OpenPages | None = None, score: bool = True) -> list[Fact]:
    """All candidate facts of a paper's normalised pages, each with its features and,
    with `score`, the scorer's confidence.

    The data path: sentences -> candidates (extract.rules_engine, extract.results);
    page layout -> tables -> row candidates (extract.layout, extract.tables,
    extract.candidates); then features (extract.features) and the learned scorer
    (extract.scorer). `opened` (the PDF still open from reading its text) saves
    loading the table pages a second time.
    """
    rules = load_rules()
    ctx = paper_context(pages, rules)
    facts: list[Fact] = []
    facts.extend(extract_compute_facts(pages, year=year, month=month))
    facts.extend(extract_results(pages, ctx))
    tables: list = []
    if pdf is not None or opened is not None:
        laid = read_layout_lines(pdf, table_pages(pages), opened=opened)
        furniture = page_furniture(pages)
        two = two_columns(laid, laid.widths, laid.prose)
        for n, lines in laid.items():
            lines = [ln for ln in lines if " ".join(ln.text.split()) not in furniture]
            tables += read_tables(lines, n, laid.widths.get(n), laid.prose.get(n), two)
    texts = {p.number: p.text for p in pages}
    facts.extend(table_candidates(tables, ctx, texts, rules, year, month))
    names = list(dict.fromkeys([*ctx.names, *(n.rstrip("-") for n in own_names(pages))]))
    add_features(facts, names, len(pages),
                 NameStats(pages, title_of(pages), references_text(pages)), Sections(pages),
                 retrains_baselines("\n".join(p.text for p in pages)))
    if score:
        score_facts(facts)
    return facts


def extract_pdf(path: str | os.PathLike | bytes, *, year: int | None = None,
                month: int | None = None, score: bool = True) -> PaperExtraction:
    """Extract candidate facts from one PDF (path or bytes).

    Never raises for a bad PDF: the returned PaperExtraction has a status
    (ok | no_text | failed | encrypted | not_pdf | empty) and an error message.
    """
    t0 = time.perf_counter()
    sha = _sha256(path)
    with OpenPages() as opened:
        return _extract_open(path, year, month, opened, t0, sha, score)


def _extract_open(path: str | os.PathLike | bytes, year: int | None, month: int | None,
                  opened: OpenPages, t0: float, sha: str | None,
                  score: bool = True) -> PaperExtraction:
    try:
        pages, total = read_pages(path, keep=opened)
    except PdfTextError as e:
        return PaperExtraction(e.status, e.message, 0, 0, time.perf_counter() - t0, [], sha)
    except Exception as e:  # pdfium can fail in many ways on damaged files
        log.warning("cannot read %r: %s", path if not isinstance(path, bytes) else "<bytes>", e)
        return PaperExtraction("failed", f"cannot read the PDF: {type(e).__name__}: {e}",
                               0, 0, time.perf_counter() - t0, [], sha)
    chars = sum(len(p.text) for p in pages)
    if total == 0:
        return PaperExtraction("failed", "the PDF has no pages", 0, 0,
                               time.perf_counter() - t0, [], sha)
    if chars < MIN_CHARS_PER_PAGE * min(len(pages), 3) or text_quality(pages) < MIN_TEXT_QUALITY:
        return PaperExtraction(
            "no_text", "no usable text layer (scanned or garbled); OCR is needed",
            total, chars, time.perf_counter() - t0, [], sha)
    try:
        facts = find_facts(pages, year=year, month=month, pdf=path, opened=opened,
                           score=score)
    except Exception as e:  # a rule bug must not kill a batch; record it
        log.exception("extraction rules failed")
        return PaperExtraction("failed", f"rules failed: {type(e).__name__}: {e}", total, chars,
                               time.perf_counter() - t0, [], sha)
    error = None
    if total > len(pages):
        error = f"very long PDF: only the first {len(pages)} of {total} pages were read"
    return PaperExtraction("ok", error, total, chars, time.perf_counter() - t0, facts, sha)
