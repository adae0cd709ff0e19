"""Text normalisation and the PDF robustness cases of extract_pdf."""

from __future__ import annotations

from pathlib import Path

import pytest

from extract import extract_pdf
from extract.text import PageText, cut_references, normalise


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        ("ef\ufb01cient", "efficient"),                  # ligature (NFKC)
        ("line one\r\nline two\rthree", "line one\nline two\nthree"),
        ("soft\u00adhyphen", "softhyphen"),
        ("bad\ufffechar", "badchar"),
        ("infor-\nmation theory", "information theory"),  # hyphenation at line end
        ("ResNet-\n50 model", "ResNet-\n50 model"),      # a real hyphen stays
        ("8\u00d7 V100", "8x V100"),
        ("a\u2013b \u2212 c", "a-b - c"),
        ("two   spaces\u00a0here", "two spaces here"),
        ("\uff18 GPUs", "8 GPUs"),                       # full-width digit
    ],
)
def test_normalise(raw: str, expected: str) -> None:
    assert normalise(raw) == expected


def test_references_are_cut() -> None:
    pages = [PageText(i + 1, f"Body text page {i}.") for i in range(5)]
    pages[3].text = "Conclusion here.\nReferences\n[1] A. Author. 60 million parameters."
    pages[4].text = "[2] B. Author. Trained on 8 GPUs."
    out = cut_references(pages)
    assert "parameters" not in out[3].text and "Conclusion" in out[3].text
    assert out[4].in_references and out[4].text == ""


def _first_pdf(corpus: Path) -> Path:
    return corpus / "1706.03762.pdf"


def test_truncated_pdf(corpus: Path, tmp_path: Path) -> None:
    data = _first_pdf(corpus).read_bytes()
    p = tmp_path / "truncated.pdf"
    p.write_bytes(data[: len(data) // 3])
    r = extract_pdf(p)
    assert r.status in ("failed", "ok") and (r.status == "ok" or r.error)
    if r.status == "failed":
        assert "truncated" in r.error or "cannot" in r.error


def test_zero_byte_file(tmp_path: Path) -> None:
    p = tmp_path / "empty.pdf"
    p.write_bytes(b"")
    r = extract_pdf(p)
    assert (r.status, r.facts) == ("empty", []) and "0-byte" in r.error


def test_not_a_pdf(tmp_path: Path) -> None:
    p = tmp_path / "page.pdf"
    p.write_text("<html><body>Not found</body></html>")
    r = extract_pdf(p)
    assert r.status == "not_pdf" and "%PDF" in r.error


def test_missing_file(tmp_path: Path) -> None:
    r = extract_pdf(tmp_path / "nope.pdf")
    assert r.status == "failed" and "nope.pdf" in r.error


def _encrypted_pdf() -> bytes:
    """A tiny one-page PDF whose /Encrypt dictionary needs an unknown user password."""
    objs = [
        b"<< /Type /Catalog /Pages 2 0 R >>",
        b"<< /Type /Pages /Kids [3 0 R] /Count 1 >>",
        b"<< /Type /Page /Parent 2 0 R /MediaBox [0 0 200 200] >>",
        b"<< /Filter /Standard /V 2 /R 3 /Length 128 /P -4 "
        b"/O <" + b"11" * 32 + b"> /U <" + b"22" * 32 + b"> >>",
    ]
    out = bytearray(b"%PDF-1.4\n")
    offsets = []
    for n, body in enumerate(objs, 1):
        offsets.append(len(out))
        out += b"%d 0 obj\n" % n + body + b"\nendobj\n"
    xref = len(out)
    out += b"xref\n0 %d\n0000000000 65535 f \n" % (len(objs) + 1)
    for off in offsets:
        out += b"%010d 00000 n \n" % off
    out += (b"trailer\n<< /Size %d /Root 1 0 R /Encrypt 4 0 R /ID [<" % (len(objs) + 1)
            + b"ab" * 16 + b"> <" + b"ab" * 16 + b">] >>\nstartxref\n%d\n%%%%EOF\n" % xref)
    return bytes(out)


def test_encrypted_pdf(tmp_path: Path) -> None:
    p = tmp_path / "locked.pdf"
    p.write_bytes(_encrypted_pdf())
    r = extract_pdf(p)
    assert r.status == "encrypted" and "password" in r.error


def test_bytes_input(corpus: Path) -> None:
    r = extract_pdf(_first_pdf(corpus).read_bytes())
    assert r.status == "ok" and r.pages > 5 and r.chars > 10000


def test_no_text_layer(corpus: Path) -> None:
    r = extract_pdf(corpus / "1901.02860.pdf")
    assert r.status == "no_text" and r.facts == [] and "text layer" in r.error


def test_blank_pages_are_no_text(tmp_path: Path) -> None:
    import pypdfium2 as pdfium

    pdf = pdfium.PdfDocument.new()
    for _ in range(3):
        pdf.new_page(612, 792)
    p = tmp_path / "blank.pdf"
    pdf.save(p)
    pdf.close()
    r = extract_pdf(p)
    assert r.status == "no_text" and r.pages == 3


def test_very_long_pdf(corpus: Path, tmp_path: Path) -> None:
    import pypdfium2 as pdfium

    from extract.text import MAX_PAGES

    src = pdfium.PdfDocument(str(_first_pdf(corpus)))
    pdf = pdfium.PdfDocument.new()
    while len(pdf) <= MAX_PAGES + 5:
        pdf.import_pages(src)
    p = tmp_path / "long.pdf"
    pdf.save(p)
    total = len(pdf)
    pdf.close()
    src.close()
    r = extract_pdf(p)
    assert r.status == "ok" and r.pages == total
    assert "very long" in r.error and str(MAX_PAGES) in r.error


def test_normalise_spaces_become_one_space() -> None:
    from extract.text import normalise

    assert normalise("a\t\tb  c\u00a0 d\u2003\u2003e \u3000 f\u202fg") == "a b c d e f g"
    assert normalise("one two") == "one two"
