"""Extraction speed: bare pypdfium2 text vs full extract_pdf, pages/s and peak RSS.

Usage:
    PYTHONPATH=. python benchmarks/bench_extract_speed.py [PDF_DIR] [--limit N] [--json]

Both passes run in this one process over the same PDFs (default
../shared/corpus/pdfs); the ratio full/bare is the figure the issue targets
(>= 0.40); cpu_ratio is the same from this process's CPU time, which other
load on a shared machine disturbs less. Peak RSS is this process's maximum
resident set size.
"""

from __future__ import annotations

import argparse
import json
import resource
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))


def bare_pages(path: Path) -> int:
    import pypdfium2 as pdfium

    try:
        pdf = pdfium.PdfDocument(str(path))
    except pdfium.PdfiumError:
        return 0
    n = 0
    for i in range(len(pdf)):
        page = pdf[i]
        tp = page.get_textpage()
        tp.get_text_bounded()
        tp.close()
        page.close()
        n += 1
    pdf.close()
    return n


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("pdf_dir", nargs="?", default=str(ROOT.parent / "shared" / "corpus" / "pdfs"))
    ap.add_argument("--limit", type=int, default=0, help="only the first N PDFs")
    ap.add_argument("--json", action="store_true")
    args = ap.parse_args(argv)
    pdfs = sorted(Path(args.pdf_dir).glob("*.pdf"))
    if args.limit:
        pdfs = pdfs[: args.limit]
    if not pdfs:
        print(f"no PDFs in {args.pdf_dir}", file=sys.stderr)
        return 2

    from extract import extract_pdf
    from extract.nlp import matcher

    matcher()  # load spaCy once, outside the timing, as a worker would
    extract_pdf(pdfs[0])

    t0, c0 = time.perf_counter(), time.process_time()
    bare = sum(bare_pages(p) for p in pdfs)
    t_bare, c_bare = time.perf_counter() - t0, time.process_time() - c0

    t0, c0 = time.perf_counter(), time.process_time()
    full = 0
    facts = 0
    statuses: dict[str, int] = {}
    for p in pdfs:
        r = extract_pdf(p)
        full += r.pages
        facts += len(r.facts)
        statuses[r.status] = statuses.get(r.status, 0) + 1
    t_full, c_full = time.perf_counter() - t0, time.process_time() - c0

    rss_mb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    out = {
        "pdfs": len(pdfs), "bare_pages": bare, "bare_seconds": round(t_bare, 2),
        "bare_pages_per_s": round(bare / t_bare, 1), "full_pages": full,
        "full_seconds": round(t_full, 2), "full_pages_per_s": round(full / t_full, 1),
        "ratio": round((full / t_full) / (bare / t_bare), 3),
        # CPU seconds of this process: steadier than wall time on a shared machine
        "cpu_ratio": round((full / c_full) / (bare / c_bare), 3), "facts": facts,
        "statuses": statuses, "peak_rss_mb": round(rss_mb, 1),
    }
    if args.json:
        print(json.dumps(out, indent=2))
    else:
        for k, v in out.items():
            print(f"{k:18s} {v}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
