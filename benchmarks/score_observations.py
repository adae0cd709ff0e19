"""Score the pipeline's observations against the hand-made pairs, in one command.

Usage:
    PYTHONPATH=. python benchmarks/score_observations.py [--gold FILE]... [--corpus]
                                                         [--workers N] [--keep DIR] [--json]

Builds a store in a temporary folder the way a user would: ``dlcompute ingest``
of the labelled papers' PDFs (../shared/corpus/pdfs), ``dlcompute extract``,
``dlcompute curate`` (no review, no Papers with Code), ``dlcompute export
observations --format jsonl``, then scores that file with
../shared/tools/score_observations.py against each gold file (default:
../shared/gold/observations-dev.jsonl and dev-b.jsonl). Papers not on arXiv
(alexnet_nips2012, ...) are ingested one by one under their gold id with a date
from their name (``ingest --id NAME --date YYYY-12``), so every labelled paper is
scored.

With ``--corpus`` it also builds a store of every corpus PDF, curates it without
review and reports what issue 12 and 14 ask of it: flags per paper (median, max,
by kind) and the ImageNet top-1 polynomial and exponential fits of ``dlcompute
analyze`` on the observations the analysis would use (top-1 only, held ones out).
"""

from __future__ import annotations

import argparse
import csv
import json
import os
import re
import shutil
import statistics
import subprocess
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
SHARED = Path(os.environ.get("DLCOMPUTE_SHARED", ROOT.parent / "shared"))
sys.path.insert(0, str(ROOT))

OBS_COLUMNS = ["arxiv_id", "model", "benchmark", "year", "month", "metric", "error",
               "compute_per_pass", "parameters", "hardware", "chips", "training_hours",
               "hardware_burden", "compute_imputed"]


def dlcompute(*args: str, cwd: Path) -> str:
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    r = subprocess.run([sys.executable, "-m", "dlcompute", *args], cwd=cwd, env=env,
                       capture_output=True, text=True)
    if r.returncode != 0:
        sys.exit(f"dlcompute {' '.join(args)} failed: {r.stderr.strip()}")
    return r.stdout


def build(tmp: Path, files: list[Path], workers: int) -> Path:
    """ingest + extract + curate of ``files`` into tmp/store.db; returns the store path."""
    from crawler.ids import InvalidArxivId, parse_arxiv_id

    pdfs = tmp / "pdfs"
    pdfs.mkdir(parents=True, exist_ok=True)
    odd = []
    for f in files:
        try:
            parse_arxiv_id(f.name)
            (pdfs / f.name).symlink_to(f)
        except InvalidArxivId:
            odd.append(f)
    db, data = tmp / "store.db", tmp / "data"
    common = ["--db", str(db), "--data-dir", str(data), "--silent"]
    dlcompute("ingest", str(pdfs), *common, cwd=tmp)
    for f in odd:
        year = re.search(r"(19|20)\d\d", f.stem)
        dlcompute("ingest", str(f), "--id", f.stem, "--date",
                  f"{year.group(0) if year else 2012}-12", *common, cwd=tmp)
    dlcompute("extract", "--workers", str(workers), *common, cwd=tmp)
    dlcompute("curate", *common, cwd=tmp)
    return db


def score(db: Path, tmp: Path, gold: Path) -> dict:
    out = tmp / "observations.jsonl"
    if not out.exists():
        out.write_text(dlcompute("export", "observations", "--format", "jsonl", "--db", str(db),
                                 "--silent", cwd=tmp))
    r = subprocess.run([sys.executable, str(SHARED / "tools" / "score_observations.py"),
                        "--gold", str(gold), "--pred", str(out), "--json"],
                       capture_output=True, text=True, check=True)
    return json.loads(r.stdout)


def corpus_report(db: Path, tmp: Path) -> dict:
    """Flags per paper and the ImageNet top-1 fits of a store curated without review."""
    from db import open_store
    from db.schema import T

    with open_store(db) as store:
        papers = [r["arxiv_id"] for r in store.db.query(
            f"select distinct arxiv_id from {T.extractions} where status = 'ok'")]
        per = {p: 0 for p in papers}
        for r in store.db.query(f"select arxiv_id, count(*) as n from {T.flags} "
                                f"where status = 'open' group by arxiv_id"):
            per[r["arxiv_id"]] = r["n"]
        kinds = {r["kind"]: r["n"] for r in store.db.query(
            f"select kind, count(*) as n from {T.flags} where status = 'open' group by kind")}
        rows = [dict(r) for r in store.db.query(
            f"select {', '.join(OBS_COLUMNS)} from {T.observations} where benchmark = "
            f"'imagenet' and metric in ('top1_error', 'top1_accuracy') and status != 'held'")]
        held = store.count(T.observations, "status = 'held'")
    top1 = tmp / "imagenet-top1.csv"
    with open(top1, "w", newline="", encoding="utf-8") as fh:
        w = csv.DictWriter(fh, fieldnames=OBS_COLUMNS)
        w.writeheader()
        w.writerows(rows)
    dlcompute("analyze", "--observations", str(top1), "--benchmark", "imagenet", "--out",
              str(tmp / "report"), "--db", str(tmp / "analysis.db"), "--silent", cwd=tmp)
    res = json.loads((tmp / "report" / "results.json").read_text())
    fits = {}
    for form, m in res["compute_per_pass"]["imagenet"].items():
        if isinstance(m, dict) and "coef" in m and "log10_gflops" in m["coef"]:
            fits[form] = {"n": m["n"], "slope": round(m["coef"]["log10_gflops"], 4),
                          "ci": [round(m["ci_low"]["log10_gflops"], 4),
                                 round(m["ci_high"]["log10_gflops"], 4)],
                          "r2": round(m["r2"], 3)}
    counts = sorted(per.values())
    return {"papers": len(papers), "flags_open": sum(counts),
            "flags_per_paper_median": statistics.median(counts) if counts else 0,
            "flags_per_paper_max": max(counts, default=0), "flags_by_kind": kinds,
            "observations_held": held, "imagenet_top1_fits": fits}


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--gold", action="append", type=Path,
                    help="gold file with observations (repeatable) [default: "
                         "observations-dev.jsonl and dev-b.jsonl]")
    ap.add_argument("--corpus", action="store_true",
                    help="also curate every corpus PDF and report flags and fits")
    ap.add_argument("--workers", type=int, default=2)
    ap.add_argument("--keep", type=Path, help="build in this folder and keep it")
    ap.add_argument("--json", action="store_true")
    a = ap.parse_args()
    if not SHARED.is_dir():
        sys.exit(f"{SHARED} is absent; set DLCOMPUTE_SHARED")
    golds = a.gold or [SHARED / "gold" / "observations-dev.jsonl", SHARED / "gold" / "dev-b.jsonl"]
    corpus = SHARED / "corpus" / "pdfs"
    files: dict[str, Path] = {}
    for g in golds:
        for line in g.read_text(encoding="utf-8").splitlines():
            if line.strip():
                paper = json.loads(line)
                files[paper["arxiv_id"]] = corpus / paper.get("file", paper["arxiv_id"] + ".pdf")
    tmp = Path(a.keep or tempfile.mkdtemp(prefix="dlcompute-obs-"))
    tmp.mkdir(parents=True, exist_ok=True)
    summary: dict = {"papers": len(files)}
    try:
        db = build(tmp / "gold", sorted(files.values()), a.workers)
        summary["scores"] = {g.name: score(db, tmp / "gold", g) for g in golds}
        if a.corpus:
            cdb = build(tmp / "corpus", sorted(corpus.glob("*.pdf")), a.workers)
            summary["corpus"] = corpus_report(cdb, tmp / "corpus")
    finally:
        if a.keep is None:
            shutil.rmtree(tmp, ignore_errors=True)
    if a.json:
        print(json.dumps(summary, indent=1))
        return 0
    for name, s in summary["scores"].items():
        print(f"{name} ({s['papers']} papers)")
        for key in ("compute pairs", "parameter pairs", "imagenet top-1 compute pairs"):
            m = s[key]
            print(f"  {key:<30} P {m['precision']:.3f}  R {m['recall']:.3f}  F1 {m['f1']:.3f}"
                  f"  ({m['matched']} of {m['pred']} predicted, {m['gold']} labelled)")
        u = s["pred rows with compute whose result no label has"]
        share = u["rows"] / u["of"] if u["of"] else 0.0
        print(f"  rows with compute whose result no label has: {u['rows']} of {u['of']} "
              f"({share:.1%})")
    if "corpus" in summary:
        c = summary["corpus"]
        print(f"corpus ({c['papers']} papers): flags per paper median "
              f"{c['flags_per_paper_median']}, max {c['flags_per_paper_max']}, "
              f"{c['flags_open']} open {c['flags_by_kind']}; {c['observations_held']} held")
        for form, f in c["imagenet_top1_fits"].items():
            print(f"  ImageNet top-1 {form}: slope {f['slope']} (95% CI {f['ci'][0]} to "
                  f"{f['ci'][1]}), R2 {f['r2']}, n {f['n']}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
