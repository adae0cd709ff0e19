"""PDF page images for reviewers: the page (or the region) with the value boxed.

pypdfium2 renders the page to a PIL image and finds the value's text with its text
page search; PIL draws the box. Coordinates: pdfium char boxes are in PDF points with
the origin at the bottom left, images have theirs at the top left.
"""

from __future__ import annotations

import io
import logging
import re
import threading
from dataclasses import dataclass
from pathlib import Path

import pypdfium2 as pdfium
import pypdfium2.raw as pdfium_c
from PIL import ImageDraw

log = logging.getLogger(__name__)

# PDFium is not thread-safe and the app serves requests in threads: one render at a time.
_PDFIUM_LOCK = threading.Lock()

SCALE = 2.0  # 144 dpi: sharp enough to read digits in tables
REGION_MARGIN = 110.0  # points above and below the value in the region view


@dataclass
class Box:
    left: float
    bottom: float
    right: float
    top: float


def value_strings(value: float | str | None, extra: tuple[str, ...] = ()) -> list[str]:
    """How a stated value may be printed on the page: 25.6, 10,609, 1e-3 ..."""
    out: list[str] = [s for s in extra if s]
    if isinstance(value, str):
        out.append(value)
    elif value is not None:
        out.append(f"{value:g}")
        if float(value).is_integer():
            out += [f"{int(value):,}", str(int(value))]
        else:
            out += [f"{value:.2f}".rstrip("0"), f"{value}"]
    seen, uniq = set(), []
    for s in out:
        if s not in seen:
            seen.add(s)
            uniq.append(s)
    return uniq


def _words(text: str) -> set[str]:
    return {w for w in re.findall(r"[a-z0-9]+", (text or "").lower()) if len(w) > 2}


def find_value(textpage: pdfium.PdfTextPage, needles: list[str], evidence: str | None) -> Box | None:
    """The box of the needle occurrence whose surroundings best match the evidence."""
    context = _words(evidence or "")
    best: tuple[int, Box] | None = None
    for needle in needles:
        searcher = textpage.search(needle, match_case=False)
        for _ in range(200):  # a page holds few occurrences; bound the loop anyway
            hit = searcher.get_next()
            if hit is None:
                break
            index, count = hit
            boxes = [textpage.get_charbox(i) for i in range(index, index + count)]
            box = Box(min(b[0] for b in boxes), min(b[1] for b in boxes),
                      max(b[2] for b in boxes), max(b[3] for b in boxes))
            around = textpage.get_text_range(max(0, index - 120), 240 + count)
            score = len(context & _words(around))
            if best is None or score > best[0]:
                best = (score, box)
        if best is not None and best[0] >= max(1, len(context) // 3):
            break  # a good match for the most specific needle; stop there
    return best[1] if best else None


def render_page(pdf_path: Path, page_no: int, needles: list[str], evidence: str | None,
                region: bool) -> bytes:
    """PNG of page ``page_no`` (1-based) with the value boxed; cropped when ``region``."""
    with _PDFIUM_LOCK:
        return _render(pdf_path, page_no, needles, evidence, region)


def _render(pdf_path: Path, page_no: int, needles: list[str], evidence: str | None,
            region: bool) -> bytes:
    pdf = pdfium.PdfDocument(str(pdf_path))
    try:
        if not 1 <= page_no <= len(pdf):
            raise IndexError(f"{pdf_path} has {len(pdf)} pages, not page {page_no}")
        page = pdf[page_no - 1]
        width, height = page.get_size()
        textpage = page.get_textpage()
        box = find_value(textpage, needles, evidence) if needles else None
        image = page.render(scale=SCALE).to_pil().convert("RGB")
        if box is not None:
            draw = ImageDraw.Draw(image)
            pad = 3
            rect = ((box.left - pad) * SCALE, (height - box.top - pad) * SCALE,
                    (box.right + pad) * SCALE, (height - box.bottom + pad) * SCALE)
            draw.rectangle(rect, outline=(220, 0, 0), width=4)
            if region:
                top = max(0.0, height - box.top - REGION_MARGIN) * SCALE
                bottom = min(height, height - box.bottom + REGION_MARGIN) * SCALE
                image = image.crop((0, int(top), int(width * SCALE), int(bottom)))
        buf = io.BytesIO()
        image.save(buf, format="PNG")
        return buf.getvalue()
    finally:
        pdf.close()


_NOT_A_TITLE = re.compile(r"(arxiv:|published as|under review|preprint|microsoft word|\d{4}\.\d{4,5})",
                          re.IGNORECASE)


def _title_like(text: str | None) -> bool:
    words = re.findall(r"[^\W\d_]{2,}", text or "")
    return len(words) >= 2 and not _NOT_A_TITLE.match((text or "").strip())


def pdf_title(pdf_path: Path) -> str | None:
    """The paper's title from its PDF: the metadata's, else page 1's largest-type lines.

    arXiv stamps (rotated, in the margin) and running headers are skipped; None when
    nothing on the page reads like a title.
    """
    with _PDFIUM_LOCK:
        pdf = pdfium.PdfDocument(str(pdf_path))
        try:
            meta = (pdf.get_metadata_dict().get("Title") or "").strip()
            if _title_like(meta):
                return meta[:300]
            return _first_page_title(pdf) if len(pdf) else None
        finally:
            pdf.close()


def _first_page_title(pdf: pdfium.PdfDocument) -> str | None:
    page = pdf[0]
    _width, height = page.get_size()
    textpage = page.get_textpage()
    lines: dict[int, list[float]] = {}  # baseline -> [font size, left, bottom, right, top]
    for i in range(min(textpage.count_chars(), 6000)):
        if pdfium_c.FPDFText_GetCharAngle(textpage.raw, i) != 0.0:
            continue  # the rotated arXiv stamp in the margin
        if not textpage.get_text_range(i, 1).strip():
            continue
        size = pdfium_c.FPDFText_GetFontSize(textpage.raw, i)
        left, bottom, right, top = textpage.get_charbox(i)
        if top < height * 0.4:
            continue  # titles sit in the upper part of the page
        line = lines.setdefault(round(bottom / 2), [size, left, bottom, right, top])
        line[0] = max(line[0], size)
        line[1:] = [min(line[1], left), min(line[2], bottom), max(line[3], right),
                    max(line[4], top)]
    for size in sorted({round(v[0], 1) for v in lines.values()}, reverse=True)[:4]:
        picked: list[list[float]] = []
        for line in sorted(lines.values(), key=lambda v: -v[4]):
            if abs(line[0] - size) <= 0.02 * size:
                if picked and picked[-1][2] - line[4] > 1.5 * size:
                    break  # a gap: the title block ended
                picked.append(line)
        if not picked:
            continue
        text = textpage.get_text_bounded(min(v[1] for v in picked) - 1,
                                         min(v[2] for v in picked) - 1,
                                         max(v[3] for v in picked) + 1,
                                         max(v[4] for v in picked) + 1)
        text = re.sub(r"[\x00-\x1f]", "", " ".join(text.split()))[:300]
        if _title_like(text):
            return text
    return None


def find_pages(pdf_path: Path, needle: str, limit: int = 5) -> list[int]:
    """1-based numbers of the pages on which ``needle`` occurs (at most ``limit``)."""
    if not needle.strip():
        return []
    out: list[int] = []
    with _PDFIUM_LOCK:
        pdf = pdfium.PdfDocument(str(pdf_path))
        try:
            for i in range(len(pdf)):
                searcher = pdf[i].get_textpage().search(needle, match_case=False)
                if searcher.get_next() is not None:
                    out.append(i + 1)
                    if len(out) >= limit:
                        break
        finally:
            pdf.close()
    return out
