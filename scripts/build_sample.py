"""Build dlcompute/sample/corpus.jsonl.gz: dlcompute's own facts and observations for the corpus.

    python scripts/build_sample.py --corpus ../shared/corpus

Ingests every PDF of the corpus into a temporary store (papers not on arXiv
under their file name, dated below), extracts them with today's extractor,
curates, and writes the store's papers, extractions, facts (with a short
evidence quote) and observations to the sample file that ``dlcompute demo``
loads. The two PDFs bundled with the package (dlcompute/sample/pdfs) keep
their observations in the file but not their facts: the demo extracts them
itself. The result is deterministic: the same corpus and extractor give the
same bytes (``--check`` builds again and compares). Takes a minute or two on 2 cores.
"""

from __future__ import annotations

import argparse
import csv
import hashlib
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

# Papers of the corpus that are not on arXiv: (month of publication, venue).
NOT_ON_ARXIV = {
    "alexnet_nips2012": "2012-12",  # NIPS 2012
    "distbelief_nips2012": "2012-12",  # NIPS 2012
    "flair_coling2018": "2018-08",  # COLING 2018
    "gpt2_openai2019": "2019-02",  # OpenAI report, February 2019
    "rnet_msr2017": "2017-05",  # Microsoft Research technical report, May 2017
    "tkachenko_konvens2012_ner": "2012-09",  # KONVENS 2012
}


def build(corpus: Path, out: Path, workers: int) -> dict:
    import crawler
    from curate import curate
    from db import open_store
    from db.schema import T
    from dlcompute import __version__
    from dlcompute.samples import SAMPLE_PDFS, shorten_facts, write_sample
    from extract import EXTRACTOR_VERSION
    from extract.runner import LocalPool, run_extraction

    pdfs = corpus / "pdfs"
    manifest = corpus / "manifest.csv"
    titles = {r["file"]: r["title"] for r in csv.DictReader(manifest.open(encoding="utf-8"))}
    benchmarks = crawler.load_benchmarks()
    with tempfile.TemporaryDirectory(prefix="dlcompute-sample-") as tmp:
        data = Path(tmp) / "data"
        with open_store(Path(tmp) / "corpus.db") as store:
            named = sorted(p for p in pdfs.glob("*.pdf") if p.stem not in NOT_ON_ARXIV)
            s = crawler.ingest(store, named, benchmarks=benchmarks, data_dir=data)
            for stem, date in sorted(NOT_ON_ARXIV.items()):
                crawler.ingest(store, [pdfs / f"{stem}.pdf"], benchmarks=benchmarks,
                               data_dir=data, arxiv_id=stem, date=date)
            if s.errors:
                raise SystemExit("ingest skipped: " + "; ".join(s.errors))
            with store.transaction():  # the manifest's titles beat the first-page guess
                for file, title in titles.items():
                    store.db[T.papers].update(Path(file).stem, {"title": title})
            t0 = time.monotonic()
            with LocalPool(workers) as pool:
                result = run_extraction(store, data, executor=pool)
            print(f"extracted {result.papers} PDFs ({result.facts} facts) in "
                  f"{time.monotonic() - t0:.0f} s", file=sys.stderr)
            bundled = sorted(p.stem for p in SAMPLE_PDFS.glob("*.pdf"))
            # curate what the sample will hold (short quotes), as the demo will
            shorten_facts(store, exclude=bundled)
            cur = curate(store)
            print(f"curated: {cur.observations} observations, {cur.flags_open} flags open",
                  file=sys.stderr)
            meta = {
                "dlcompute_version": __version__,
                "extractor_version": EXTRACTOR_VERSION,
                "corpus": f"{len(titles)} PDFs of ../shared/corpus (manifest.csv sha256 "
                          f"{hashlib.sha256(manifest.read_bytes()).hexdigest()[:16]})",
                "built_by": "scripts/build_sample.py",
            }
            return write_sample(store, out, exclude=bundled, meta=meta)


def main(argv: list[str] | None = None) -> int:
    from dlcompute.samples import SAMPLE_FILE

    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--corpus", type=Path, default=ROOT.parent / "shared" / "corpus",
                        help="the corpus folder (pdfs/ and manifest.csv)")
    parser.add_argument("--out", type=Path, default=SAMPLE_FILE, help="the sample file")
    parser.add_argument("--workers", type=int, default=2, help="extraction processes")
    parser.add_argument("--check", action="store_true",
                        help="build into a temporary file and compare with --out")
    args = parser.parse_args(argv)
    if not (args.corpus / "pdfs").is_dir() or not (args.corpus / "manifest.csv").is_file():
        print(f"error: {args.corpus} has no pdfs/ and manifest.csv; pass --corpus PATH",
              file=sys.stderr)
        return 2
    target = args.out
    if args.check:
        target = Path(tempfile.mkdtemp(prefix="dlcompute-sample-check-")) / "corpus.jsonl.gz"
    counts = build(args.corpus, target, args.workers)
    size = target.stat().st_size
    print(f"{target}: {size / 1024:.0f} KiB, {counts}")
    if args.check:
        same = target.read_bytes() == args.out.read_bytes()
        print("same bytes as " + str(args.out) if same else f"differs from {args.out}")
        return 0 if same else 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
