"""Extraction speed: bare pypdfium2 text vs full extract_pdf, pages/s and peak RSS.

Usage:
    PYTHONPATH=. python benchmarks/bench_extract_speed.py [PDF_DIR] [--limit N] [--rounds R] [--json]

Both passes run in this one process over the same PDFs (default
../shared/corpus/pdfs), interleaved PDF by PDF; the ratio full/bare is the figure
the issue targets (>= 0.40), from the median of --rounds passes (ratio_range gives
the lowest and highest round); cpu_ratio is the same from this process's CPU time.
Peak RSS is this process's maximum resident set size.
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


def _one_round(pdfs: list[Path], extract_pdf) -> dict:
    """Bare and full extraction of each PDF in turn, timed separately.

    Interleaving the two passes PDF by PDF means both see the same machine: on a
    shared machine the speed drifts by 10-20% within a minute, which would bias a
    ratio taken from two passes run one after the other.
    """
    r = {"bare_pages": 0, "full_pages": 0, "t_bare": 0.0, "c_bare": 0.0, "t_full": 0.0,
         "c_full": 0.0, "facts": 0, "statuses": {}}
    for p in pdfs:
        t0, c0 = time.perf_counter(), time.process_time()
        r["bare_pages"] += bare_pages(p)
        r["t_bare"] += time.perf_counter() - t0
        r["c_bare"] += time.process_time() - c0
        t0, c0 = time.perf_counter(), time.process_time()
        x = extract_pdf(p)
        r["t_full"] += time.perf_counter() - t0
        r["c_full"] += time.process_time() - c0
        r["full_pages"] += x.pages
        r["facts"] += len(x.facts)
        r["statuses"][x.status] = r["statuses"].get(x.status, 0) + 1
    r["ratio"] = (r["full_pages"] / r["t_full"]) / (r["bare_pages"] / r["t_bare"])
    r["cpu_ratio"] = (r["full_pages"] / r["c_full"]) / (r["bare_pages"] / r["c_bare"])
    return r


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("pdf_dir", nargs="?", default=str(ROOT.parent / "shared" / "corpus" / "pdfs"))
    ap.add_argument("--limit", type=int, default=0, help="only the first N PDFs")
    ap.add_argument("--rounds", type=int, default=3,
                    help="passes over the PDFs; the median round is reported (default 3)")
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

    rounds = sorted((_one_round(pdfs, extract_pdf) for _ in range(max(1, args.rounds))),
                    key=lambda r: r["ratio"])
    r = rounds[len(rounds) // 2]
    rss_mb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    out = {
        "pdfs": len(pdfs), "rounds": len(rounds), "bare_pages": r["bare_pages"],
        "bare_seconds": round(r["t_bare"], 2),
        "bare_pages_per_s": round(r["bare_pages"] / r["t_bare"], 1),
        "full_pages": r["full_pages"], "full_seconds": round(r["t_full"], 2),
        "full_pages_per_s": round(r["full_pages"] / r["t_full"], 1),
        "ratio": round(r["ratio"], 3),
        # CPU seconds of this process: steadier than wall time on a shared machine
        "cpu_ratio": round(r["cpu_ratio"], 3),
        "ratio_range": [round(rounds[0]["ratio"], 3), round(rounds[-1]["ratio"], 3)],
        "facts": r["facts"], "statuses": r["statuses"], "peak_rss_mb": round(rss_mb, 1),
    }
    if args.json:
        print(json.dumps(out, indent=2))
    else:
        for k, v in out.items():
            print(f"{k:18s} {v}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
