"""The shipped extractor on the labelled dev papers, scored by the shared scorer.

Only the floor of issue 11 is asserted: the in-sample F1 of `dlcompute extract-pdf` (with
the shipped scorer model) on ../shared/gold/dev.jsonl does not fall below 0.845. No
per-field or per-paper figure is pinned: those are the lead's to tune, and the figure the
README reports is the leave-one-paper-out one of `dlcompute train-scorer --lopo`.
"""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

#: issue 11: "In-sample dev F1 does not fall below today's (0.845)"
IN_SAMPLE_FLOOR = 0.845


def test_in_sample_dev_f1_does_not_fall(shared: Path, corpus: Path, tmp_path: Path) -> None:
    """About 35 s: the 38 dev PDFs extracted by one `extract-pdf` process."""
    gold = shared / "gold" / "dev.jsonl"
    script = shared / "tools" / "score_extraction.py"
    for path in (gold, script):
        if not path.is_file():
            pytest.skip(f"{path} is absent")
    papers = [d for d in map(json.loads, gold.read_text(encoding="utf-8").splitlines()) if d]
    pdfs = [corpus / d["file"] for d in papers]
    if not all(p.is_file() for p in pdfs):
        pytest.skip("some dev PDFs are absent from the corpus")
    r = subprocess.run([sys.executable, "-m", "dlcompute", "extract-pdf", "--silent",
                        *map(str, pdfs)], capture_output=True, text=True, check=True, cwd=tmp_path)
    lines = [json.loads(ln) for ln in r.stdout.splitlines()]
    assert sum(d["status"] == "ok" for d in lines) >= len(papers) - 1  # 1901.02860: no text layer
    assert sorted(d["arxiv_id"] for d in lines) == sorted(d["arxiv_id"] for d in papers)
    # every kept fact shows its evidence
    for d in lines:
        for fld in ("parameters", "compute_per_pass", "hardware", "training_time_hours",
                    "epochs", "results"):
            for item in d[fld]:
                assert item["quote"] and item["page"] >= 1 and item["rule_id"], (d["arxiv_id"],
                                                                                  fld, item)
    pred = tmp_path / "pred.jsonl"
    pred.write_text(r.stdout, encoding="utf-8")
    s = subprocess.run([sys.executable, str(script), "--gold", str(gold), "--pred", str(pred),
                        "--json"], capture_output=True, text=True, check=True)
    overall = json.loads(s.stdout)["overall"]
    assert overall["f1"] >= IN_SAMPLE_FLOOR, overall
