"""Curate, analyze, status and the review queue on synthetic stores of 1k, 10k and 100k papers.

Usage:
    PYTHONPATH=. python benchmarks/bench_scale.py [--sizes 1000,10000,100000]
        [--new 100,1000] [--cache DIR] [--code DIR] [--skip STAGE]... [--json]

Each store is made with the real schema (the measured code's own migrations,
through ``open_store``) and realistic facts: the facts that ``dlcompute
extract`` finds in the corpus PDFs (../shared/corpus/pdfs, extracted once into
a template store in the cache), copied paper by paper onto synthetic arXiv
ids with compute and parameters scaled per paper; a third of the papers get
Papers with Code rows near their results (some beyond the tolerance). Stores
are generated once and cached in ``--cache`` (keyed by the code's db package),
then copied for each measurement.

Stages, each a ``dlcompute`` subprocess timed with its peak RSS (wait4):
curate (first), reviews on 2% of the open flags (at most 2,000, through the
review queue's ``decide``) then curate, curate again with nothing new, N new
papers then curate (for each N of ``--new``), analyze, status, and the review
queue page (HTTP GET against ``dlcompute review`` on 127.0.0.1, median of 5).

``--code DIR`` measures another checkout (e.g. the code before a change, made
with ``git archive``); the stores it needs are generated with its migrations.
"""

from __future__ import annotations

import argparse
import hashlib
import json
import math
import os
import platform
import random
import resource
import shutil
import socket
import sqlite3
import statistics
import subprocess
import sys
import tempfile
import time
import urllib.request
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
SHARED = Path(os.environ.get("DLCOMPUTE_SHARED", ROOT.parent / "shared"))
GENERATOR_VERSION = "3"
STAGES = ("curate", "reviews", "again", "new", "analyze", "status", "queue")
FACT_COLUMNS = ("field", "value", "unit", "normalized_value", "normalized_unit", "model",
                "benchmark", "metric", "split", "hardware_name", "hardware", "chip_count",
                "time_kind", "page", "span_start", "span_end", "evidence", "source", "rule_id",
                "extractor_version", "confidence", "extra")
PWC_METRICS = {"imagenet": {"top1_accuracy", "top5_accuracy", "top1_error", "top5_error"},
               "cifar10": {"top1_accuracy", "top1_error"},
               "cifar100": {"top1_accuracy", "top1_error"}, "coco": {"box_ap"},
               "squad1.1": {"f1", "em"}, "conll2003": {"f1"}, "wmt14-en-fr": {"bleu"},
               "wmt14-en-de": {"bleu"}}


STATUS_CALL = """
import sys, time
from db import open_store
from db.status import store_status
with open_store(sys.argv[1]) as s:
    t = time.perf_counter(); store_status(s); print(round(time.perf_counter() - t, 3))
"""


def run_measured(cmd: list[str], env: dict, timeout: float | None = None,
                 cwd: str | None = None, max_memory_gb: float | None = None) -> dict:
    """Run a command; its wall time, peak RSS (GB), exit code and the tail of its stderr.

    ``max_memory_gb`` caps its address space, so that a command that would swell fails
    instead of starving the other jobs of a shared machine.
    """

    def cap() -> None:
        limit = int(max_memory_gb * 1024**3)
        resource.setrlimit(resource.RLIMIT_AS, (limit, limit))

    with tempfile.TemporaryFile() as out, tempfile.TemporaryFile() as err:
        t0 = time.perf_counter()
        p = subprocess.Popen(cmd, env=env, stdout=out, stderr=err, cwd=cwd,
                             preexec_fn=cap if max_memory_gb else None)
        deadline = None if timeout is None else t0 + timeout
        while True:
            pid, status, usage = os.wait4(p.pid, os.WNOHANG)
            if pid:
                break
            if deadline and time.perf_counter() > deadline:
                p.kill()
                pid, status, usage = os.wait4(p.pid, 0)
                break
            time.sleep(0.05)
        seconds = time.perf_counter() - t0
        p.returncode = os.waitstatus_to_exitcode(status)
        err.seek(0)
        out.seek(0)
        return {"seconds": round(seconds, 2), "rss_gb": round(usage.ru_maxrss / 1024**2, 3),
                "rc": p.returncode, "stderr": err.read().decode(errors="replace")[-600:],
                "stdout": out.read().decode(errors="replace")}


class Bench:
    def __init__(self, code: Path, cache: Path):
        self.code = code
        sys.path.insert(0, str(code))
        # a store is generated for one schema: the measured code's migrations
        schema = b"".join(p.read_bytes() for p in sorted((code / "db").glob("*.py")))
        key = hashlib.sha256(GENERATOR_VERSION.encode() + schema)
        self.cache = cache / key.hexdigest()[:12]
        self.cache.mkdir(parents=True, exist_ok=True)
        self.env = {**os.environ, "PYTHONPATH": str(code)}
        for var in ("DLCOMPUTE_DB", "DLCOMPUTE_DATA", "DLCOMPUTE_CONFIG"):
            self.env.pop(var, None)

    def cli(self, *args: str, timeout: float | None = None, cwd: str | None = None,
            max_memory_gb: float | None = None) -> dict:
        return run_measured([sys.executable, "-m", "dlcompute", *args], self.env, timeout,
                            cwd, max_memory_gb)

    # --- the template: what extraction finds in the corpus --------------------------------
    def templates(self) -> tuple[list[list[dict]], list[dict]]:
        path = self.cache / "template.db"
        if not path.exists():
            pdfs = SHARED / "corpus" / "pdfs"
            if not pdfs.is_dir():
                sys.exit(f"{pdfs} is absent; set DLCOMPUTE_SHARED")
            tmp = self.cache / "template-tmp.db"
            data = self.cache / "template-data"
            for args in (("ingest", str(pdfs)), ("extract", "--workers", "2")):
                r = self.cli(*args, "--db", str(tmp), "--data-dir", str(data), "--silent")
                if r["rc"]:
                    sys.exit(f"template {args[0]} failed: {r['stderr']}")
            tmp.rename(path)
        return read_templates(path)

    # --- synthetic stores ----------------------------------------------------------------
    def generated(self, n: int) -> Path:
        path = self.cache / f"gen-{n}.db"
        if path.exists():
            return path
        templates, hardware = self.templates()
        tmp = self.cache / f"gen-{n}-tmp.db"
        tmp.unlink(missing_ok=True)
        t0 = time.perf_counter()
        create_store(tmp, n, templates, hardware)
        print(f"generated {n} papers in {time.perf_counter() - t0:.0f} s", file=sys.stderr)
        tmp.rename(path)
        return path


def read_templates(path: Path) -> tuple[list[list[dict]], list[dict]]:
    """Each extracted paper's facts (in id order), and the hardware rows, of a store."""
    con = sqlite3.connect(path)
    con.row_factory = sqlite3.Row
    per: dict[str, list[dict]] = {}
    for f in con.execute(f"select arxiv_id, {', '.join(FACT_COLUMNS)} from facts "
                         f"order by arxiv_id, id"):
        per.setdefault(f["arxiv_id"], []).append(dict(f))
    hardware = [dict(r) for r in con.execute("select * from hardware")]
    con.close()
    return [per[k] for k in sorted(per)], hardware


def create_store(path: Path, n: int, templates: list[list[dict]], hardware: list[dict]) -> None:
    """A store (the code's own migrations) with the catalog and ``n`` synthetic papers."""
    from db import open_store

    with open_store(path) as store:
        store.db["hardware"].insert_all(hardware, pk="chip", replace=True)
        store.db["queries"].insert_all(
            [{"name": b, "label": b} for b in PWC_METRICS], pk="name", replace=True)
    add_papers(path, templates, 0, n)


def paper_id(i: int) -> tuple[str, int, int]:
    """A new-style arXiv id for the i-th synthetic paper, spread over 2012-2023."""
    m = i % 144
    yy, mm = 12 + m // 12, m % 12 + 1
    return f"{yy:02d}{mm:02d}.{i // 144 + 1:05d}", 2000 + yy, mm


def add_papers(path: Path, templates: list[list[dict]], first: int, count: int,
               chunk: int = 2000) -> None:
    """Append papers first..first+count-1, each a copy of a template paper's facts."""
    con = sqlite3.connect(path, isolation_level=None)
    con.execute("pragma foreign_keys = on")
    fact_sql = (f"insert into facts (extraction_id, arxiv_id, {', '.join(FACT_COLUMNS)}) "
                f"values (?, ?, {', '.join('?' * len(FACT_COLUMNS))})")
    now = "2026-01-01T00:00:00Z"
    for start in range(first, first + count, chunk):
        papers, pdfs, queries, extractions, facts, pwc = [], [], [], [], [], []
        stop = min(start + chunk, first + count)
        for i in range(start, stop):
            rng = random.Random(i)
            aid, year, month = paper_id(i)
            tpl = templates[i % len(templates)]
            sha = hashlib.sha256(aid.encode()).hexdigest()
            papers.append((aid, f"Synthetic paper {i}", year, month, "ingest", now, now))
            pdfs.append((aid, 1, sha, f"pdfs/{sha}.pdf", 1_000_000, 12, "ok", now))
            bench = next((f["benchmark"] for f in tpl if f["benchmark"] in PWC_METRICS),
                         "imagenet")
            queries.append((aid, bench, "ingest", now, now))
            extractions.append((aid, sha, tpl[0]["extractor_version"], "ok", 12, 40000, 1.0,
                                now))
            scale = 10 ** rng.uniform(-0.3, 0.3)  # one factor per paper keeps FLOPs/params
            rows = []
            for f in tpl:
                f = dict(f)
                if f["field"] in ("compute_per_pass", "parameters") and f["normalized_value"]:
                    f["normalized_value"] *= scale
                rows.append(f)
            facts.append((aid, rows))
            if rng.random() < 1 / 3:
                results = [f for f in rows if f["field"] == "result"
                           and f["metric"] in PWC_METRICS.get(f["benchmark"], ())
                           and isinstance(f["normalized_value"], float)]
                for f in rng.sample(results, min(2, len(results))):
                    value = f["normalized_value"] + rng.choice([0.0, 0.0, 0.2, 1.5])
                    pwc.append((aid, f["benchmark"], f["metric"], round(value, 2),
                                f["model"] or "", "Image Classification", f["benchmark"],
                                f["metric"], f"https://arxiv.org/abs/{aid}", "",
                                "bench-pwc.json", now))
        con.execute("begin")
        con.executemany("insert into papers (arxiv_id, title, year, month, source, first_seen, "
                        "last_seen) values (?, ?, ?, ?, ?, ?, ?)", papers)
        con.executemany("insert into pdfs (arxiv_id, version, sha256, path, size, pages, "
                        "status, fetched_at) values (?, ?, ?, ?, ?, ?, ?, ?)", pdfs)
        con.executemany("insert into paper_queries (arxiv_id, query, via, first_seen, "
                        "last_seen) values (?, ?, ?, ?, ?)", queries)
        ids = {}
        for e in extractions:
            ids[e[0]] = con.execute(
                "insert into extractions (arxiv_id, pdf_sha256, extractor_version, status, "
                "pages, chars, seconds, created_at) values (?, ?, ?, ?, ?, ?, ?, ?)",
                e).lastrowid
        con.executemany(fact_sql, ((ids[aid], aid, *(f[c] for c in FACT_COLUMNS))
                                   for aid, rows in facts for f in rows))
        con.executemany("insert or ignore into pwc_results (arxiv_id, benchmark, metric, value, "
                        "model, task, dataset, metric_name, paper_url, paper_title, source, "
                        "loaded_at) values (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)", pwc)
        con.execute("commit")
    con.execute("pragma wal_checkpoint(truncate)")
    con.close()


def add_reviews(path: Path, limit: int) -> int:
    """Decisions on 2% of the open flags (at most ``limit``), as the review app makes them."""
    from curate.review.queue import ReviewError, decide
    from db import open_store

    with open_store(path) as store:
        flags = list(store.db.query("select id, candidates from flags where status = 'open' "
                                    "order by id"))
        step = max(1, len(flags) // max(1, min(limit, len(flags) // 50)))
        done = 0
        for f in flags[::step][:limit]:
            cands = [c for c in json.loads(f["candidates"] or "[]") if c.get("fact_id")]
            try:
                if not cands:
                    raise ReviewError("no candidate to accept")
                decide(store, f["id"], "bench", "accept", f"bench-{f['id']}",
                       fact_id=cands[0]["fact_id"], value=cands[0].get("value")
                       if not isinstance(cands[0].get("value"), str) else None)
            except ReviewError:  # a candidate the app refuses (out of bounds): not reported
                decide(store, f["id"], "bench", "not_reported", f"bench-{f['id']}-n")
            done += 1
        return done


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def queue_page(b: Bench, db: Path) -> dict:
    port = free_port()
    proc = subprocess.Popen([sys.executable, "-m", "dlcompute", "review", "--db", str(db),
                             "--port", str(port), "--annotator", "bench"], env=b.env,
                            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        base = f"http://127.0.0.1:{port}"
        for _ in range(300):
            try:
                urllib.request.urlopen(base + "/annotator", timeout=2).read()
                break
            except OSError:
                time.sleep(0.1)
        out = {}
        for label, url in (("queue", "/queue"), ("queue_imagenet", "/queue?benchmark=imagenet")):
            times = []
            for _ in range(5):
                t0 = time.perf_counter()
                urllib.request.urlopen(base + url, timeout=120).read()
                times.append(time.perf_counter() - t0)
            out[label] = round(statistics.median(times), 3)
        return out
    finally:
        proc.terminate()
        proc.wait(timeout=30)


def measure(b: Bench, n: int, news: list[int], skip: set[str],
            analyze_memory_gb: float) -> dict:
    gen = b.generated(n)
    work = b.cache / f"work-{n}.db"
    for p in (work, Path(f"{work}-wal"), Path(f"{work}-shm")):
        p.unlink(missing_ok=True)
    shutil.copy(gen, work)
    db = ["--db", str(work), "--data-dir", str(b.cache / "data")]
    res: dict = {"papers": n}
    con = sqlite3.connect(gen)
    res["facts"] = con.execute("select count(*) from facts").fetchone()[0]
    con.close()

    def stage(name: str, *args: str, timeout: float | None = None,
              max_memory_gb: float | None = None) -> dict:
        r = b.cli(*args, *db, timeout=timeout, max_memory_gb=max_memory_gb)
        res[name] = {k: r[k] for k in ("seconds", "rss_gb", "rc")}
        if r["rc"]:
            res[name]["error"] = r["stderr"].strip().splitlines()[-1:] if r["stderr"] else []
        elif args[0] == "curate":
            summary = json.loads(r["stdout"])
            # what the run decided (the code before incremental curate decided every paper)
            res[name]["decided"] = summary.get("papers_decided", "all")
        print(f"{n}: {name} {res[name]}", file=sys.stderr)
        return r

    if "curate" not in skip:
        stage("curate_first", "curate", "--json")
        templates, _ = b.templates()
        if "reviews" not in skip:
            t0 = time.perf_counter()
            res["reviews_added"] = add_reviews(work, 2000)
            res["reviews_seconds"] = round(time.perf_counter() - t0, 1)
            stage("curate_after_reviews", "curate", "--json")
        if "again" not in skip:
            stage("curate_again", "curate", "--json")
        if "new" not in skip:
            total = n
            for k in news:
                add_papers(work, templates, total + 1_000_000, k)
                total += k
                stage(f"curate_new_{k}", "curate", "--json")
        con = sqlite3.connect(work)
        res["observations"] = con.execute("select count(*) from observations").fetchone()[0]
        res["flags"] = con.execute("select count(*) from flags").fetchone()[0]
        con.close()
    if "analyze" not in skip:
        stage("analyze", "analyze", "--out", str(b.cache / f"report-{n}"), timeout=3600,
              max_memory_gb=analyze_memory_gb)
    if "status" not in skip:
        stage("status", "status")
        # the command's own work, without the interpreter and imports
        r = run_measured([sys.executable, "-c", STATUS_CALL, str(work)], b.env)
        res["status_call_seconds"] = float(r["stdout"]) if r["rc"] == 0 else None
    if "queue" not in skip:
        res["queue_page"] = queue_page(b, work)
        print(f"{n}: queue {res['queue_page']}", file=sys.stderr)
    return res


def table(results: list[dict]) -> str:
    def cell(r: dict, k: str) -> str:
        v = r.get(k)
        if not v:
            return "-"
        if v.get("rc"):
            return f"fails ({v['seconds']:.0f} s, {v['rss_gb']:.2f} GB)"
        decided = f" ({v['decided']:,} papers)" if isinstance(v.get("decided"), int) else ""
        return f"{v['seconds']:.1f} s, {v['rss_gb']:.2f} GB{decided}"

    news = sorted({k for r in results for k in r if k.startswith("curate_new_")},
                  key=lambda k: int(k.rsplit("_", 1)[1]))
    head = (["papers", "facts", "curate (first)", "reviews, curate", "curate again"]
            + [f"+{k.rsplit('_', 1)[1]} papers, curate" for k in news]
            + ["analyze", "status", "queue page"])
    lines = ["| " + " | ".join(head) + " |", "|" + "---|" * len(head)]
    for r in results:
        q = r.get("queue_page") or {}
        row = [f"{r['papers']:,}", f"{r['facts']:,}", cell(r, "curate_first"),
               cell(r, "curate_after_reviews"), cell(r, "curate_again")]
        row += [cell(r, k) for k in news]
        status = cell(r, "status")
        if r.get("status_call_seconds") is not None:
            status += f" ({r['status_call_seconds']:.2f} s in the call)"
        row += [cell(r, "analyze"), status,
                f"{q['queue']:.2f} s ({q['queue_imagenet']:.2f} s filtered)" if q else "-"]
        lines.append("| " + " | ".join(row) + " |")
    return "\n".join(lines)


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--sizes", default="1000,10000,100000")
    ap.add_argument("--new", default="100,1000", help="new papers added before a curate")
    ap.add_argument("--cache", type=Path,
                    default=Path(tempfile.gettempdir()) / "dlcompute-bench-scale")
    ap.add_argument("--code", type=Path, default=ROOT, help="checkout to measure")
    ap.add_argument("--skip", action="append", default=[], choices=STAGES)
    ap.add_argument("--analyze-max-memory", type=float, default=8.0, metavar="GB",
                    help="address-space cap of analyze (it fails rather than swell)")
    ap.add_argument("--json", action="store_true")
    args = ap.parse_args()
    b = Bench(args.code.resolve(), args.cache)
    news = [int(x) for x in args.new.split(",") if x]
    startup = run_measured([sys.executable, "-c", "import dlcompute.cli"], b.env)["seconds"]
    results = []
    for n in (int(x) for x in args.sizes.split(",")):
        results.append(measure(b, n, [k for k in news if k <= max(n, 1)], set(args.skip),
                               args.analyze_max_memory))
    machine = (f"{platform.machine()}, {os.cpu_count()} cores, "
               f"{math.ceil(os.sysconf('SC_PAGE_SIZE') * os.sysconf('SC_PHYS_PAGES') / 1024**3)} "
               f"GiB, Python {platform.python_version()}")
    if args.json:
        print(json.dumps({"machine": machine, "code": str(b.code), "cli_startup": startup,
                          "results": results}, indent=2))
    else:
        print(f"machine: {machine}; code: {b.code}; dlcompute start-up (imports) {startup} s")
        print(table(results))
    return 0


if __name__ == "__main__":
    sys.exit(main())
