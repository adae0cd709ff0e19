"""Extraction throughput: 1 and 2 local worker processes, and a 2-worker Dask LocalCluster.

Usage:
    PYTHONPATH=. python benchmarks/bench_throughput.py [PDF_DIR] [--limit N] [--json]

Each configuration runs the whole ``dlcompute extract`` path (pending-job query,
guarded worker processes, one writer recording facts in a fresh SQLite store)
over the same PDFs (default ../shared/corpus/pdfs), timed from the first job to
the last write, worker start-up included. Reported: pages/s and the ratio to
one local process. Targets: 2 local workers >= 1.7x one; Dask within 20% of the
2-worker local pool. On a shared machine the figures are noisy; run it twice.
"""

from __future__ import annotations

import argparse
import hashlib
import json
import os
import platform
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))


def fill(db_path: Path, pdfs: list[Path]) -> None:
    from db import open_store
    from db.schema import T

    with open_store(db_path) as store, store.transaction() as db:
        for pdf in pdfs:
            arxiv_id = pdf.stem
            year = 2000 + int(arxiv_id[:2]) if arxiv_id[:4].isdigit() else None
            month = int(arxiv_id[2:4]) if year else None
            db[T.papers].insert({"arxiv_id": arxiv_id, "year": year, "month": month})
            db[T.pdfs].insert({"arxiv_id": arxiv_id, "version": 1, "status": "ok",
                               "sha256": hashlib.sha256(pdf.read_bytes()).hexdigest(),
                               "path": str(pdf.resolve()), "size": pdf.stat().st_size})


def run(label: str, make_executor, pdfs: list[Path], workdir: Path) -> dict:
    from db import open_store
    from extract.runner import run_extraction

    db_path = workdir / f"{label}.db"
    fill(db_path, pdfs)
    executor = make_executor()
    try:
        with open_store(db_path) as store:
            run_extraction(store, workdir, executor=executor)  # catalog load is not timed
            t0 = time.perf_counter()
            summary = run_extraction(store, workdir, executor=executor, force=True,
                                     load_catalog=False)
            seconds = time.perf_counter() - t0
    finally:
        executor.close()
    return {"config": label, "pdfs": summary.papers, "pages": summary.pages,
            "seconds": round(seconds, 2), "pages_per_s": round(summary.pages / seconds, 1),
            "by_status": summary.by_status}


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("pdf_dir", nargs="?", default=str(ROOT.parent / "shared/corpus/pdfs"))
    ap.add_argument("--limit", type=int, default=None, help="Only the first N PDFs.")
    ap.add_argument("--json", action="store_true", help="Print JSON.")
    args = ap.parse_args()
    pdfs = sorted(Path(args.pdf_dir).glob("*.pdf"))[: args.limit]
    if not pdfs:
        print(f"no PDFs in {args.pdf_dir}", file=sys.stderr)
        return 1

    from distributed import Client, LocalCluster

    from dlcompute.executors import DaskExecutor, LocalExecutor

    results = []
    with tempfile.TemporaryDirectory() as tmp:
        work = Path(tmp)
        results.append(run("local-1", lambda: LocalExecutor(1), pdfs, work))
        results.append(run("local-2", lambda: LocalExecutor(2), pdfs, work))
        with LocalCluster(n_workers=2, processes=True, threads_per_worker=1,
                          dashboard_address=None) as cluster, Client(cluster) as client:
            results.append(run("dask-2", lambda: DaskExecutor(client), pdfs, work))
    base = results[0]["pages_per_s"]
    for r in results:
        r["ratio_to_1"] = round(r["pages_per_s"] / base, 2)
    out = {
        "machine": {"cpus": os.cpu_count(), "python": platform.python_version(),
                    "platform": platform.platform()},
        "results": results,
        "dask_vs_local_2": round(results[2]["pages_per_s"] / results[1]["pages_per_s"], 2),
    }
    if args.json:
        print(json.dumps(out, indent=2))
    else:
        print(f"{len(pdfs)} PDFs, {results[0]['pages']} pages, {os.cpu_count()} CPUs")
        print(f"{'config':<8} {'seconds':>8} {'pages/s':>8} {'x one':>6}")
        for r in results:
            print(f"{r['config']:<8} {r['seconds']:>8} {r['pages_per_s']:>8} "
                  f"{r['ratio_to_1']:>6}")
        print(f"dask-2 / local-2: {out['dask_vs_local_2']}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
