"""How long `dlcompute --version` and `dlcompute --help` take, against a bare Python.

    python benchmarks/bench_startup.py [--runs 15]

Prints the median wall time of each over ``--runs`` runs, and what dlcompute adds
to a bare ``python -c pass``; then the slowest imports of ``dlcompute.cli`` per
``python -X importtime``. The target is under 0.3 s for both commands; on a shared,
noisy machine compare the added time rather than the total.
"""

from __future__ import annotations

import argparse
import statistics
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def wall(cmd: list[str], runs: int) -> float:
    times = []
    for _ in range(runs):
        t0 = time.perf_counter()
        subprocess.run(cmd, cwd=ROOT, capture_output=True, check=True)
        times.append(time.perf_counter() - t0)
    return statistics.median(times)


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--runs", type=int, default=15)
    runs = parser.parse_args().runs
    py = sys.executable
    bare = wall([py, "-c", "pass"], runs)
    print(f"python -c pass        {bare:.3f} s")
    for args in (["--version"], ["--help"]):
        t = wall([py, "-m", "dlcompute", *args], runs)
        print(f"dlcompute {args[0]:<11} {t:.3f} s (+{t - bare:.3f} s over bare Python)")
    r = subprocess.run([py, "-X", "importtime", "-c", "import dlcompute.cli"], cwd=ROOT,
                       capture_output=True, text=True, check=True)
    rows = []
    for line in r.stderr.splitlines()[1:]:
        _, cumulative, name = line.split("|")
        rows.append((int(cumulative), name.rstrip()))
    print("slowest imports (cumulative us):")
    for us, name in sorted(rows, reverse=True)[:8]:
        print(f"  {us:>8}  {name}")


if __name__ == "__main__":
    main()
