"""Time a full ``dlcompute run`` against a local stand-in for arXiv, with --delay 0.

Usage:
    PYTHONPATH=. python benchmarks/bench_run.py [--papers N] [--workers N] [--json]

Starts the tests' arXiv stand-in (tests/arxiv_server.py) on 127.0.0.1, serving
real recorded arXiv Atom entries (../shared/arxiv) for the ImageNet query and
real PDFs from ../shared/corpus/pdfs, then times ``dlcompute run --delay 0``
into a fresh store twice: the first run does everything (crawl, download,
extract, curate, analyze), the second only finds that nothing is new.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
SHARED = Path(os.environ.get("DLCOMPUTE_SHARED", ROOT.parent / "shared"))
sys.path.insert(0, str(ROOT / "tests"))
sys.path.insert(0, str(ROOT))


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--papers", type=int, default=20, help="entries the query returns")
    ap.add_argument("--workers", type=int, default=2)
    ap.add_argument("--json", action="store_true")
    args = ap.parse_args()
    if not SHARED.is_dir():
        sys.exit(f"{SHARED} is absent; set DLCOMPUTE_SHARED")

    from arxiv_server import ArxivServer, real_entries

    from crawler import load_benchmarks

    imagenet = next(b for b in load_benchmarks() if b.name == "imagenet")
    server = ArxivServer(SHARED)
    server.add_query(imagenet.search_query, real_entries(SHARED)[: args.papers])
    timings = {}
    try:
        with tempfile.TemporaryDirectory() as tmp:
            cmd = [sys.executable, "-m", "dlcompute", "run", "--db", f"{tmp}/bench.db",
                   "--data-dir", f"{tmp}/data", "--out", f"{tmp}/report", "--arxiv-url",
                   server.url, "--delay", "0", "--benchmark", "imagenet", "--workers",
                   str(args.workers), "--silent", "--json"]
            env = {**os.environ, "PYTHONPATH": str(ROOT)}
            for label in ("first run", "second run"):
                t0 = time.perf_counter()
                r = subprocess.run(cmd, cwd=tmp, env=env, capture_output=True, text=True)
                timings[label] = round(time.perf_counter() - t0, 2)
                if r.returncode != 0:
                    sys.exit(f"{label} failed: {r.stderr}")
                timings[label + " summary"] = json.loads(r.stdout)
    finally:
        server.close()
    out = {"machine": f"{platform.machine()}, {os.cpu_count()} cores, "
                      f"{platform.python_version()}", "papers": args.papers,
           "workers": args.workers, **timings}
    if args.json:
        print(json.dumps(out, indent=2))
    else:
        print(f"machine: {out['machine']}; {args.papers} papers, {args.workers} workers")
        for label in ("first run", "second run"):
            s = out[label + " summary"]
            print(f"{label}: {out[label]:.1f} s ({s['papers_new']} new papers, "
                  f"{s['pdfs_fetched']} PDFs, {s['facts_extracted']} facts, "
                  f"stages {s['seconds']})")
    return 0


if __name__ == "__main__":
    sys.exit(main())
