"""`dlcompute extract-pdf` as one process vs bare pypdfium2 text, start-up included.

Usage:
    PYTHONPATH=. python benchmarks/bench_extract_pdf.py [PDF_DIR] [--limit 40] [--rounds 3]
        [--workers N] [--json]

Each round times bare pypdfium2 text extraction of the PDFs in this process, then
one ``python -m dlcompute extract-pdf --silent FILES...`` process over the same PDFs
(interpreter start-up, imports, worker start-up and every file included); the
ratio is bare seconds / command seconds (the command's speed as a fraction of
bare pypdfium2 text speed), the median of the rounds. The command's guarded
worker processes (time and memory limits per file) are part of what is timed.
cpu_ratio is the same from CPU seconds (the command's processes, its workers
included): steadier on a shared machine, and blind to the workers' parallelism.
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from benchmarks.bench_extract_speed import bare_pages  # noqa: E402


def _children_cpu() -> float:
    usage = resource.getrusage(resource.RUSAGE_CHILDREN)
    return usage.ru_utime + usage.ru_stime


def _command(pdfs: list[Path], workers: int | None) -> tuple[float, float, list[dict]]:
    cmd = [sys.executable, "-m", "dlcompute", "extract-pdf", "--silent"]
    if workers:
        cmd += ["--workers", str(workers)]
    env = dict(os.environ, PYTHONPATH=str(ROOT))
    t0, c0 = time.perf_counter(), _children_cpu()
    out = subprocess.run(cmd + [str(p) for p in pdfs], capture_output=True, text=True,
                         env=env, check=True)
    seconds, cpu = time.perf_counter() - t0, _children_cpu() - c0
    return seconds, cpu, [json.loads(line) for line in out.stdout.splitlines()]


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("pdf_dir", nargs="?", default=str(ROOT.parent / "shared" / "corpus" / "pdfs"))
    ap.add_argument("--limit", type=int, default=40, help="the first N PDFs (default 40)")
    ap.add_argument("--rounds", type=int, default=3, help="median of R rounds (default 3)")
    ap.add_argument("--workers", type=int, default=None,
                    help="--workers for extract-pdf [default: its own]")
    ap.add_argument("--json", action="store_true")
    args = ap.parse_args(argv)
    pdfs = sorted(Path(args.pdf_dir).glob("*.pdf"))[: args.limit]
    if not pdfs:
        print(f"no PDFs in {args.pdf_dir}", file=sys.stderr)
        return 2
    rounds = []
    for _ in range(max(1, args.rounds)):
        t0, c0 = time.perf_counter(), time.process_time()
        pages = sum(bare_pages(p) for p in pdfs)
        t_bare, c_bare = time.perf_counter() - t0, time.process_time() - c0
        t_cmd, c_cmd, records = _command(pdfs, args.workers)
        statuses: dict[str, int] = {}
        for r in records:
            statuses[r["status"]] = statuses.get(r["status"], 0) + 1
        rounds.append({"pages": pages, "bare_seconds": t_bare, "command_seconds": t_cmd,
                       "ratio": t_bare / t_cmd, "cpu_ratio": c_bare / c_cmd,
                       "command_cpu_seconds": c_cmd, "lines": len(records),
                       "statuses": statuses})
    rounds.sort(key=lambda r: r["ratio"])
    r = rounds[len(rounds) // 2]
    out = {
        "pdfs": len(pdfs), "pages": r["pages"], "rounds": len(rounds),
        "bare_seconds": round(r["bare_seconds"], 2),
        "bare_pages_per_s": round(r["pages"] / r["bare_seconds"], 1),
        "command_seconds": round(r["command_seconds"], 2),
        "command_pages_per_s": round(r["pages"] / r["command_seconds"], 1),
        "command_cpu_seconds": round(r["command_cpu_seconds"], 2),
        "ratio": round(r["ratio"], 3),
        "cpu_ratio": round(r["cpu_ratio"], 3),
        "ratio_range": [round(rounds[0]["ratio"], 3), round(rounds[-1]["ratio"], 3)],
        "lines": r["lines"], "statuses": r["statuses"],
        "load_average": [round(x, 2) for x in os.getloadavg()],
    }
    print(json.dumps(out, indent=2) if args.json else
          "\n".join(f"{k:20s} {v}" for k, v in out.items()))
    return 0


if __name__ == "__main__":
    sys.exit(main())
