"""Papers with Code: arXiv ids in URLs, and the loader on the real archived dumps."""

from __future__ import annotations

import json

import pytest

from curate.arxiv_ids import parse_arxiv_id
from curate.pwc import PwcError, load_pwc, map_benchmark, map_metric, read_pwc
from db.schema import T


@pytest.mark.parametrize("text,expected", [
    ("https://arxiv.org/abs/1512.03385", "1512.03385"),
    ("https://arxiv.org/abs/1512.03385v3", "1512.03385"),
    ("http://arxiv.org/pdf/1707.07012.pdf", "1707.07012"),
    ("https://arxiv.org/pdf/1905.11946v5.pdf", "1905.11946"),
    ("arxiv.org/abs/hep-th/9901001v2", "hep-th/9901001"),
    ("1207.4708v2", "1207.4708"),
    ("https://www.aclweb.org/anthology/P19-1527/", None),
    ("http://image-net.org/challenges/LSVRC/2012/results.html", None),
    ("", None),
])
def test_parse_arxiv_id(text, expected):
    assert parse_arxiv_id(text) == expected


def test_mapping_names():
    assert map_benchmark("Object Detection", "COCO test-dev") == "coco"
    assert map_benchmark("Pose Estimation", "COCO test-dev") is None
    assert map_benchmark("Few-Shot Image Classification", "Mini-Imagenet 5-way (1-shot)") is None
    assert map_benchmark("Machine Translation", "WMT2014 English-German") == "wmt14-en-de"
    assert map_benchmark("Machine Translation", "WMT 2014 EN-FR") == "wmt14-en-fr"
    assert map_benchmark("Named Entity Recognition", "CoNLL 2003 (English)") == "conll2003"
    assert map_metric("coco", "box AP") == "box_ap" and map_metric("coco", "APM") is None
    assert map_metric("imagenet", "Number of params") is None


def test_real_sota_extractor_tasks(shared):
    tasks = shared / "pwc" / "sota-extractor" / "tasks"
    squad = read_pwc(tasks / "squad.json")
    assert {r.benchmark for r in squad} == {"squad1.1"}
    assert {r.metric for r in squad} == {"em", "f1"}
    nlp = read_pwc(tasks / "nlp-progress.json")
    benches = {r.benchmark for r in nlp}
    assert {"conll2003", "wmt14-en-de", "wmt14-en-fr"} <= benches
    # rows without an arXiv URL (ACL anthology, press releases) are not matched
    assert all(r.arxiv_id and "." in r.arxiv_id for r in nlp)
    # BERT's SQuAD 1.1 F1 on the leaderboard is in the 90s, as a number
    f1s = [r.value for r in squad if r.metric == "f1"]
    assert all(50 < v <= 100 for v in f1s)


def test_real_axcell_leaderboards_into_store(shared, store):
    path = shared / "pwc" / "pwc-leaderboards.json"
    if not path.exists():
        pytest.skip(f"{path} is absent")
    added = load_pwc(store, [path])
    assert added > 100
    rows = list(store.db.query(
        f"select * from {T.pwc_results} where arxiv_id = '1905.11946' and benchmark = "
        f"'imagenet' and metric = 'top1_accuracy'"))
    assert rows and all(70 < r["value"] < 90 for r in rows)
    assert {r["benchmark"] for r in store.db.query(
        f"select distinct benchmark from {T.pwc_results}")} >= {"imagenet", "coco", "squad1.1"}
    assert load_pwc(store, [path]) == 0  # idempotent


def test_bad_file_names_input_and_fix(tmp_path, store):
    bad = tmp_path / "broken.json"
    bad.write_text("{not json")
    with pytest.raises(PwcError, match=r"broken\.json"):
        load_pwc(store, [bad])
    odd = tmp_path / "odd.json"
    odd.write_text(json.dumps([{"x": 1}]))
    with pytest.raises(PwcError, match="evaluation-tables"):
        read_pwc(odd)
    with pytest.raises(PwcError, match="does not exist"):
        read_pwc(tmp_path / "nope.json")
