"""PDF -> normalised page text, via pypdfium2 (fast) with a References cut.

`read_pages` returns one `PageText` per PDF page. Text is normalised so that
rules see clean words: NFKC (ligatures, full-width digits), CR/LF unified,
U+FFFE / U+FFFF / soft hyphens removed, words broken across lines by a
hyphen re-joined. Pages after the References/Bibliography heading are marked
`in_references` and their text cut, so reference lists are not mined.
"""

from __future__ import annotations

import logging
import os
import re
import unicodedata
from dataclasses import dataclass, field

log = logging.getLogger(__name__)

#: above this many pages a PDF is treated as "very long": only this many are read.
MAX_PAGES = 60


@dataclass
class PageText:
    """One page's normalised text. `number` is 1-based."""

    number: int
    text: str
    source: str | None = None  # the PDF path when known (for pdfplumber table layout)
    in_references: bool = False
    extra: dict = field(default_factory=dict)


class PdfTextError(Exception):
    """A PDF that cannot be read. `status` is one of the PaperExtraction statuses."""

    def __init__(self, status: str, message: str) -> None:
        super().__init__(status, message)
        self.status = status
        self.message = message

    def __str__(self) -> str:
        return self.message


_SOFT = re.compile("[\u00ad\ufffe\uffff\u200b\u200c\u200d\ufeff]")
# pdfium marks a line-end hyphen it inferred as U+0002 in some versions.
_CTRL = re.compile("[\u0000-\u0008\u000b\u000c\u000e-\u001f]")
# "infor-\nmation" -> "information"; keep hyphen when the next part is capitalised/number
_HYPHEN_BREAK = re.compile(r"([a-z])-\n([a-z])")
# other spaces become " ", then runs of spaces one space; a lone " " is left alone (most
# of a page's spaces: replacing each costs a copy)
_OTHER_SPACES = ("\t", "\u00a0", *(chr(c) for c in range(0x2000, 0x200B)), "\u202f", "\u205f",
                 "\u3000")
_SPACE_RUN = re.compile(r" {2,}")
#: (str.translate with a table is several times slower than a few str.replace calls)
_DASHES = (("\u2010", "-"), ("\u2011", "-"), ("\u2012", "-"), ("\u2013", "-"),
           ("\u2014", "-"), ("\u2212", "-"), ("\u00d7", "x"), ("\u2217", "*"))


def normalise(text: str) -> str:
    """Normalise one page's text (see module docstring)."""
    text = text.replace("\r\n", "\n").replace("\r", "\n")
    # U+0002 is how pdfium reports a hyphen it found at a line break.
    if "\u0002" in text:
        text = re.sub("\u0002\n?", "-\n", text)
    if not text.isascii():  # NFKC, soft hyphens and dashes only concern non-ASCII text
        text = _SOFT.sub("", text)
        text = unicodedata.normalize("NFKC", text)
    text = _CTRL.sub(" ", text)
    if not text.isascii():
        for char, plain in _DASHES:
            if char in text:
                text = text.replace(char, plain)
    for space in _OTHER_SPACES:
        if space in text:
            text = text.replace(space, " ")
    if "  " in text:
        text = _SPACE_RUN.sub(" ", text)
    # runs of spaces are single spaces now, so two replaces drop every space at a break
    text = text.replace(" \n", "\n").replace("\n ", "\n")
    text = _HYPHEN_BREAK.sub(r"\1\2", text)
    return text.strip()


_REF_HEAD = re.compile(
    r"^\s*(?:\d+\.?\s*|[A-Z]\.?\s*)?(References|REFERENCES|Bibliography|BIBLIOGRAPHY|"
    r"Literature Cited|R\s?EFERENCES)\s*$",
    re.MULTILINE,
)


_APPENDIX_HEAD = re.compile(
    r"^(?:(?:Appendix|APPENDIX|Supplementary|SUPPLEMENTARY)\b[^,\n]{0,80}"
    r"|[A-H](?:\.\d)?\.?\s+[A-Z][A-Za-z\-]+(?:[ \t]+[A-Za-z\-:&]+){0,8})$",
    re.MULTILINE,
)


def cut_references(pages: list[PageText]) -> list[PageText]:
    """Cut text at the first References heading found in the second half-ish of the paper.

    Pages after it are kept (appendices may follow) but marked `in_references`
    until an Appendix heading appears. The cut text is kept in each page's
    `extra["references"]`: the names in cited titles tell whose models a table lists.
    """
    n = len(pages)
    cut_at = None
    for i, p in enumerate(pages):
        if i < max(1, n // 3) and n > 3:
            continue
        m = _REF_HEAD.search(p.text)
        if m:
            p.extra["references"] = p.text[m.start():]
            p.text = p.text[: m.start()]
            cut_at = i
            break
    if cut_at is None:
        return pages
    for p in pages[cut_at + 1:]:
        m = _APPENDIX_HEAD.search(p.text)
        if m:
            # the paper's body resumes (appendix): later pages are mined again
            p.extra["references"] = p.text[:m.start()]
            p.text = p.text[m.start():]
            break
        first = _REF_ENTRY.search(p.text)
        head = p.text[:first.start()] if first else ""
        if _FLOAT_CAPTION.search(head):
            # a table floated to the top of a page of the reference list
            p.extra["references"] = p.text[len(head):]
            p.text = head
            continue
        p.in_references = True
        p.extra["references"] = p.text
        p.text = ""
    return pages


#: the first entry of a reference list: "[12] Name", "12. Name", "Name, A." or "Name A,"
_REF_ENTRY = re.compile(r"^\s*(?:\[\d+\]|\d{1,3}\.\s+[A-Z]|[A-Z][A-Za-z\-]+,\s+[A-Z]\.|"
                        r"[A-Z][A-Za-z\-]+\s+[A-Z]{1,2}[,.])", re.MULTILINE)
_FLOAT_CAPTION = re.compile(r"^\s*(?:Table|TABLE)\s*\d+", re.MULTILINE)


def references_text(pages: list[PageText]) -> str:
    """The reference list `cut_references` took out of the pages."""
    return "\n".join(p.extra.get("references", "") for p in pages)


def open_pdf(path_or_bytes: str | os.PathLike | bytes):
    import pypdfium2 as pdfium

    data = path_or_bytes
    if not isinstance(data, bytes | bytearray):
        try:
            size = os.path.getsize(data)
        except OSError as e:
            raise PdfTextError("failed", f"cannot read {os.fspath(data)}: {e.strerror}") from e
        if size == 0:
            raise PdfTextError("empty", f"{os.fspath(data)} is an empty (0-byte) file")
        with open(data, "rb") as f:
            head = f.read(1024)
    else:
        if len(data) == 0:
            raise PdfTextError("empty", "the PDF is empty (0 bytes)")
        head = bytes(data[:1024])
    if b"%PDF-" not in head:
        raise PdfTextError("not_pdf", "not a PDF: no %PDF- header in the first 1 KiB")
    try:
        return pdfium.PdfDocument(data if isinstance(data, bytes | bytearray) else os.fspath(data))
    except pdfium.PdfiumError as e:
        msg = str(e)
        if "password" in msg.lower() or "security" in msg.lower():
            raise PdfTextError("encrypted", f"the PDF is encrypted and needs a password ({msg})") from e
        raise PdfTextError("failed", f"pdfium cannot open the PDF (truncated or damaged?): {msg}") from e


class OpenPages:
    """A PDF kept open after its text was read, with its loaded pages and text pages.

    Loading a page is most of pypdfium2's cost; the table layout pass
    (`read_layout_lines`) reuses these instead of loading its pages again.
    Close it (or use it as a context manager) when done.
    """

    def __init__(self) -> None:
        self.pdf = None
        self.pages: dict[int, tuple] = {}  # 1-based number -> (PdfPage, PdfTextPage)

    def close(self) -> None:
        for page, tp in self.pages.values():
            tp.close()
            page.close()
        self.pages.clear()
        if self.pdf is not None:
            self.pdf.close()
            self.pdf = None

    def __enter__(self) -> OpenPages:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


def read_raw_pages(path_or_bytes: str | os.PathLike | bytes, max_pages: int = MAX_PAGES,
                   keep: OpenPages | None = None) -> tuple[list[str], int]:
    """Bare pypdfium2 text of each page (no normalisation), and the total page count.

    With `keep`, the document, pages and text pages stay open in it (the caller closes).
    """
    pdf = open_pdf(path_or_bytes)
    if keep is not None:
        keep.pdf = pdf
    try:
        total = len(pdf)
        out = []
        for i in range(min(total, max_pages)):
            page = pdf[i]
            tp = None
            try:
                tp = page.get_textpage()
                out.append(tp.get_text_bounded())
            finally:
                if keep is not None and tp is not None:
                    keep.pages[i + 1] = (page, tp)
                else:
                    if tp is not None:
                        tp.close()
                    page.close()
        return out, total
    finally:
        if keep is None:
            pdf.close()


def read_pages(path_or_bytes: str | os.PathLike | bytes, max_pages: int = MAX_PAGES,
               keep: OpenPages | None = None) -> tuple[list[PageText], int]:
    """Normalised pages (references cut) and the PDF's total page count.

    Raises PdfTextError (with a status) for files that cannot be read. With `keep`,
    the PDF stays open in it for `read_layout_lines` (see OpenPages).
    """
    raw, total = read_raw_pages(path_or_bytes, max_pages, keep)
    source = None if isinstance(path_or_bytes, bytes | bytearray) else os.fspath(path_or_bytes)
    pages = [PageText(i + 1, normalise(t), source) for i, t in enumerate(raw)]
    return cut_references(pages), total


_WORD = re.compile(r"[A-Za-z]{2,}")
_COMMON = frozenset(
    ["the", "of", "and", "to", "in", "is", "for", "that", "we", "with", "on", "as", "are", "by", "this", "be", "an", "at", "from", "which", "our", "it", "model", "network", "training", "data", "results", "learning", "can", "not", "or", "each", "layer", "table", "figure"]
)


#: characters of a PDF's text judged by `text_quality`: a garbled layer shows in any sample
QUALITY_SAMPLE = 20_000


def text_quality(pages: list[PageText], sample: int = QUALITY_SAMPLE) -> float:
    """Share of common English words among word tokens: ~0 for garbled text layers.

    Judged on the first `sample` characters (at most 20,000 from any one page)."""
    words = common = 0
    left = sample
    for p in pages:
        if left <= 0:
            break
        text = p.text[:min(20000, left)]
        left -= len(text)
        found = " ".join(_WORD.findall(text)).lower().split()
        words += len(found)
        common += sum(map(_COMMON.__contains__, found))
    return common / words if words else 0.0
