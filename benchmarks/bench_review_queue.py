"""Review app latency on a large queue: next flag, queue page, flag page, a decision.

Usage:
    PYTHONPATH=. python benchmarks/bench_review_queue.py [--flags N] [--json]

Builds a synthetic store (N open flags over N/10 papers, one observation per
flag, a fifth of the flags already decided and a tenth doubly reviewed), then
times, with the Flask test client: POST /next (replays every open flag's reviews
to find the next eligible one, then leases it), GET /queue, GET /flag/ID and a
decision POST. Reported: median milliseconds of 20 rounds each. Target: every
median under 500 ms at 5,000 flags (an annotator's page turn). On a shared machine
the figures are noisy; run it twice.
"""

from __future__ import annotations

import argparse
import json
import re
import statistics
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))


def fill(db_path: Path, n: int) -> None:
    from db import open_store
    from db.schema import T

    with open_store(db_path) as store, store.transaction() as db:
        for p in range(max(1, n // 10)):
            db[T.papers].insert({"arxiv_id": f"2001.{p:05d}", "year": 2020, "month": 1,
                                 "title": f"Paper {p}"})
        flags, obs, reviews = [], [], []
        for i in range(n):
            aid = f"2001.{i // 10:05d}"
            flags.append({"id": i + 1, "key": f"missing|{aid}|m{i}||compute_per_pass",
                          "arxiv_id": aid, "model": f"Model-{i}", "benchmark": "",
                          "field": "compute_per_pass", "kind": "missing", "reason": "none",
                          "candidates": "[]", "priority": i % 7, "status": "open",
                          "double_review": int(i % 10 == 0)})
            obs.append({"arxiv_id": aid, "model": f"Model-{i}", "benchmark": "imagenet",
                        "metric": "top1_error", "error": 25.0, "sources": "{}"})
            if i % 5 == 0:
                reviews.append({"flag_id": i + 1, "annotator": "earlier", "action": "correct",
                                "value": 4.1, "unit": "GFLOPs", "token": f"t{i}",
                                "before": "{}", "after": "{}"})
        db[T.flags].insert_all(flags)
        db[T.observations].insert_all(obs)
        db[T.reviews].insert_all(reviews)


def median_ms(fn, rounds: int = 20) -> float:
    times = []
    for _ in range(rounds):
        t = time.perf_counter()
        fn()
        times.append((time.perf_counter() - t) * 1000)
    return statistics.median(times)


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--flags", type=int, default=5000)
    ap.add_argument("--json", action="store_true")
    args = ap.parse_args()
    from curate.review import create_app

    with tempfile.TemporaryDirectory() as tmp:
        db = Path(tmp) / "bench.db"
        fill(db, args.flags)
        app = create_app(db, Path(tmp) / "data", annotator="bench")
        c = app.test_client()
        html = c.get("/queue").get_data(as_text=True)
        csrf = re.search(r'name="csrf" value="([^"]+)"', html).group(1)
        out = {"flags": args.flags}
        out["post_next_ms"] = median_ms(lambda: c.post("/next", data={"csrf": csrf}))
        out["get_queue_ms"] = median_ms(lambda: c.get("/queue"))
        loc = c.post("/next", data={"csrf": csrf}).headers["Location"]
        out["get_flag_ms"] = median_ms(lambda: c.get(loc))
        counter = iter(range(10**6))

        def one_decision() -> None:
            url = c.post("/next", data={"csrf": csrf}).headers["Location"]
            page = c.get(url).get_data(as_text=True)
            token = re.search(r'name="token" value="([^"]+)"', page).group(1)
            listing = re.search(r'name="listing" value="([^"]*)"', page).group(1)
            fid = re.search(r"/flag/(\d+)", url).group(1)
            c.post(f"/flag/{fid}/decide", data={"csrf": csrf, "token": f"{token}{next(counter)}",
                                                "listing": listing, "action": "not_reported"})

        out["next_view_decide_ms"] = median_ms(one_decision)
    if args.json:
        print(json.dumps(out, indent=2))
    else:
        for k, v in out.items():
            print(f"{k}: {v:.0f}" if isinstance(v, float) else f"{k}: {v}")


if __name__ == "__main__":
    main()
