"""Time ``dlcompute analyze`` and its peak memory on synthetic stores of N papers.

Usage:
    PYTHONPATH=. python benchmarks/bench_analyze.py [--papers N ...] [--source store|file]
                                                   [--bootstrap N] [--json]

For each N, builds a store with the project's schema (or an observations CSV)
holding N papers with realistic structure: benchmarks in the proportions of
a broad arXiv crawl, 1-5 models per paper sharing a paper effect, ImageNet
top-1 and top-5, SQuAD F1 and EM, compute per pass for some models,
parameters for more (a few given in the wrong unit), hardware burden for
some, open flags on a few papers; about 3 observations per paper. Then runs
``python -m dlcompute analyze`` on it as a subprocess and samples the
resident memory of that process every 50 ms (psutil). Prints wall time and
peak RSS per N.
"""

from __future__ import annotations

import argparse
import csv
import json
import os
import platform
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np
import psutil

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

# benchmark: (share of papers, metric families with the share of models reporting each,
#             log10 GFLOPs per pass range, log10(GFLOPs) - log10(parameters) offset)
BENCHMARKS = {
    "imagenet": (0.40, {"top1_error": 1.0, "top5_error": 0.6}, (-0.5, 2.5), -6.3),
    "coco": (0.15, {"box_ap": 1.0}, (1.0, 3.0), -5.5),
    "squad1.1": (0.10, {"f1": 1.0, "em": 0.7}, (0.5, 2.5), -7.0),
    "conll2003": (0.08, {"f1": 1.0}, (-1.0, 1.0), -7.0),
    "wmt14-en-fr": (0.07, {"bleu": 1.0}, (0.0, 2.0), -7.5),
    "wmt14-en-de": (0.05, {"bleu": 1.0}, (0.0, 2.0), -7.5),
    "cifar10": (0.10, {"top1_error": 1.0}, (-2.0, 0.5), -7.2),
    "cifar100": (0.05, {"top1_error": 1.0}, (-2.0, 0.5), -7.2),
}
COLUMNS = ("arxiv_id", "model", "benchmark", "year", "month", "metric", "error",
           "compute_per_pass", "parameters", "hardware", "chips", "training_hours",
           "hardware_burden", "compute_imputed")


def synthetic(n_papers: int, seed: int = 0):
    """Yield (paper arXiv id, observation rows) for n papers."""
    rng = np.random.default_rng(seed)
    names = list(BENCHMARKS)
    shares = np.array([BENCHMARKS[b][0] for b in names])
    for g in range(n_papers):
        year = int(rng.integers(2012, 2022))
        arxiv_id = f"{year % 100:02d}{int(rng.integers(1, 13)):02d}.{g:05d}"
        bench = names[rng.choice(len(names), p=shares / shares.sum())]
        _, metrics, (lo, hi), offset = BENCHMARKS[bench]
        scale, effect = rng.uniform(lo, hi), rng.normal(0, 0.05)
        has_burden = rng.random() < 0.3
        burden = rng.uniform(12, 19)
        rows = []
        for m in range(int(rng.integers(1, 6))):
            lg = scale + rng.uniform(-0.3, 0.3)
            has_compute, has_params = rng.random() < 0.4, rng.random() < 0.6
            params = 10 ** (lg - offset + rng.normal(0, 0.2))
            if rng.random() < 0.01:
                params = 10 ** lg * 5e8  # multiply-adds written as parameters
            base = -0.4 - 0.1 * (lg - lo) + effect + rng.normal(0, 0.03)
            for metric, share in metrics.items():
                if metric != next(iter(metrics)) and rng.random() > share:
                    continue
                shift = {"top5_error": -0.5, "em": 0.15}.get(metric, 0.0)
                error = min(99.0, 100 * 10 ** (base + shift))
                rows.append({"arxiv_id": arxiv_id, "model": f"model-{g}-{m}",
                             "benchmark": bench, "year": year, "month": 6, "metric": metric,
                             "error": error,
                             "compute_per_pass": 1e9 * 10**lg if has_compute else None,
                             "parameters": params if has_params else None,
                             "hardware": "V100" if has_burden else None,
                             "chips": 8 if has_burden else None,
                             "training_hours": 24.0 if has_burden else None,
                             "hardware_burden": 1e9 * 10 ** (burden + 0.1 * m)
                             if has_burden else None, "compute_imputed": 0})
        yield arxiv_id, rows


def build_store(path: Path, n_papers: int) -> int:
    from db import open_store
    from db.schema import T

    store = open_store(path)
    n, papers, obs, flags = 0, [], [], []

    def flush() -> None:
        with store.transaction() as db:
            db[T.papers].insert_all(papers, pk="arxiv_id", ignore=True)
            db[T.observations].insert_all(obs, ignore=True)
            db[T.flags].insert_all(flags, ignore=True)
        papers.clear()
        obs.clear()
        flags.clear()

    for i, (arxiv_id, rows) in enumerate(synthetic(n_papers)):
        papers.append({"arxiv_id": arxiv_id, "year": rows[0]["year"], "month": 6})
        obs.extend(rows)
        n += len(rows)
        if i % 20 == 0:  # an open paper-level flag on 5% of papers
            flags.append({"key": f"missing|{arxiv_id}", "arxiv_id": arxiv_id,
                          "kind": "missing", "field": "hardware", "status": "open",
                          "reason": "no training hardware found", "priority": 1})
        if len(obs) >= 20_000:
            flush()
    flush()
    store.close()
    return n


def build_file(path: Path, n_papers: int) -> int:
    n = 0
    with open(path, "w", newline="", encoding="utf-8") as fh:
        w = csv.DictWriter(fh, fieldnames=COLUMNS)
        w.writeheader()
        for _, rows in synthetic(n_papers):
            w.writerows(rows)
            n += len(rows)
    return n


def measure(cmd: list[str], cwd: str) -> tuple[float, float, subprocess.CompletedProcess]:
    """Wall seconds and peak RSS (bytes, process and children) of a command."""
    t0 = time.perf_counter()
    proc = subprocess.Popen(cmd, cwd=cwd, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                            text=True, env={**os.environ, "PYTHONPATH": str(ROOT)})
    ps = psutil.Process(proc.pid)
    peak = 0
    while proc.poll() is None:
        try:
            rss = ps.memory_info().rss + sum(c.memory_info().rss for c in ps.children(True))
            peak = max(peak, rss)
        except psutil.Error:
            pass
        time.sleep(0.05)
    out, err = proc.communicate()
    return time.perf_counter() - t0, peak, subprocess.CompletedProcess(cmd, proc.returncode,
                                                                      out, err)


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--papers", type=int, nargs="+", default=[1000, 10_000])
    ap.add_argument("--source", choices=("store", "file"), default="store")
    ap.add_argument("--bootstrap", type=int, default=1000)
    ap.add_argument("--json", action="store_true")
    args = ap.parse_args()
    results = []
    for n_papers in args.papers:
        with tempfile.TemporaryDirectory() as tmp:
            t0 = time.perf_counter()
            if args.source == "store":
                n_obs = build_store(Path(tmp) / "bench.db", n_papers)
                source = ["--db", f"{tmp}/bench.db"]
            else:
                n_obs = build_file(Path(tmp) / "obs.csv", n_papers)
                source = ["--db", f"{tmp}/none.db", "--observations", f"{tmp}/obs.csv"]
            built = time.perf_counter() - t0
            cmd = [sys.executable, "-m", "dlcompute", "analyze", *source, "--out",
                   f"{tmp}/report", "--bootstrap", str(args.bootstrap), "--silent"]
            seconds, peak, r = measure(cmd, tmp)
            if r.returncode != 0:
                sys.exit(f"analyze failed on {n_papers} papers: {r.stderr[-2000:]}")
            results.append({"papers": n_papers, "observations": n_obs,
                            "build_s": round(built, 1), "analyze_s": round(seconds, 1),
                            "peak_rss_gb": round(peak / 1e9, 2)})
            if not args.json:
                print(f"{n_papers:>7,} papers, {n_obs:>8,} observations ({args.source} "
                      f"built in {built:.0f} s): analyze {seconds:.1f} s, peak RSS "
                      f"{peak / 1e9:.2f} GB", flush=True)
    machine = (f"{platform.machine()}, {os.cpu_count()} cores, "
               f"{psutil.virtual_memory().total / 2**30:.0f} GiB, Python "
               f"{platform.python_version()}")
    if args.json:
        print(json.dumps({"machine": machine, "source": args.source,
                          "bootstrap": args.bootstrap, "runs": results}, indent=2))
    else:
        print(f"machine: {machine}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
