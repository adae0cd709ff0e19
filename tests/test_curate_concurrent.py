"""Curate finishes while another process writes the store throughout (real processes).

The writer does what annotators do in the review app: take the next flag (a lease,
one UPDATE), decide it (a review row and the flag closed, in one write
transaction), again and again. Curate runs as the real command on a store of
corpus-extracted papers copied onto a few hundred arXiv ids, deciding every paper
again (the hardware catalog changed) in batches of ten.
"""

from __future__ import annotations

import importlib.util
import json
import os
import subprocess
import sys
import textwrap
import time
from pathlib import Path

import pytest
from curate_corpus import curate_both_ways

from curate import curate
from db import open_store
from db.schema import ALL_PAPERS, T

pytest_plugins = ["curate_fixtures"]  # fixture extracted_store

ROOT = Path(__file__).resolve().parent.parent

WRITER = textwrap.dedent("""
    import json, sys, time
    from pathlib import Path
    from curate.review.queue import decide, lease_next
    from db import open_store

    db, stop, out = sys.argv[1:4]
    done = []
    while not Path(stop).exists():
        with open_store(db) as store:
            flag = lease_next(store, "writer", minutes=5)
            if flag is None:
                break
            cands = [c for c in json.loads(flag["candidates"] or "[]") if c.get("fact_id")]
            if cands and not isinstance(cands[0].get("value"), str):
                decide(store, flag["id"], "writer", "accept", f"w{flag['id']}",
                       fact_id=cands[0]["fact_id"], value=cands[0]["value"])
            else:
                decide(store, flag["id"], "writer", "not_reported", f"w{flag['id']}")
        done.append(time.time())
        time.sleep(0.02)
    Path(out).write_text(json.dumps(done))
""")


def _bench_scale():
    spec = importlib.util.spec_from_file_location("bench_scale",
                                                  ROOT / "benchmarks" / "bench_scale.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


@pytest.mark.slow
def test_curate_finishes_while_annotators_write(extracted_store, tmp_path):
    bench = _bench_scale()
    templates, hardware = bench.read_templates(extracted_store)
    path = tmp_path / "store.db"
    bench.create_store(path, 240, templates, hardware)
    with open_store(path) as s:
        assert curate(s).papers_decided == 240
        open_before = s.count(T.flags, "status = 'open'")
        s.db.execute(f"update {T.hardware} set fp32_base_gflops = fp32_base_gflops * 2")
    assert open_before > 500
    (tmp_path / "dlcompute.toml").write_text("[curate]\nbatch_size = 10\n")
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    stop, out = tmp_path / "stop", tmp_path / "writes.json"
    writer = subprocess.Popen([sys.executable, "-c", WRITER, str(path), str(stop), str(out)],
                              env=env, stderr=subprocess.PIPE, text=True)
    time.sleep(1.0)  # the writer is writing before curate starts, and throughout
    started = time.time()
    run = subprocess.run([sys.executable, "-m", "dlcompute", "curate", "--db", str(path),
                          "--json"], cwd=tmp_path, env=env, capture_output=True, text=True,
                         timeout=900)
    ended = time.time()
    stop.touch()
    _, writer_err = writer.communicate(timeout=120)
    assert run.returncode == 0, run.stderr
    assert "Traceback" not in run.stderr and "locked" not in run.stderr
    assert writer.returncode == 0, writer_err
    during = [t for t in json.loads(out.read_text()) if started <= t <= ended]
    assert len(during) >= 5, "the writer did not write while curate ran"
    summary = json.loads(run.stdout)
    assert summary["full"] and summary["papers_decided"] >= 240 and not summary["errors"]
    # what was decided meanwhile is curate's next run's work; then incremental == full
    with open_store(path) as s:
        assert s.count(T.curate_dirty, "arxiv_id = ?", [ALL_PAPERS]) == 0
        reviews = s.count(T.reviews)
        curate(s)
    assert reviews >= len(during)
    curate_both_ways(path, tmp_path)
