"""Provenance an analyst can follow (observation_sources, observations_evidence), the
migration that brings older stores to it, and the Epoch AI cross-check."""

from __future__ import annotations

import json

import pytest
from test_curate_support import add_fact, add_hardware, add_paper, resnet_paper

from curate import curate
from curate.epoch import EpochError, link_arxiv_id, load_epoch, read_epoch
from db import open_store
from db.schema import T

EPOCH_HEADER = ("Model,Organization,Publication date,Domain,Parameters,Parameters notes,"
                "Training compute (FLOP),Training compute notes,Confidence,Link,Epochs,"
                "Training time (hours),Training time notes,Training hardware,Hardware quantity")


def test_each_value_points_to_its_page_and_sentence(store):
    add_hardware(store)
    ids = resnet_paper(store)
    curate(store)
    (o,) = store.db.query(f"select * from {T.observations}")
    ev = {r["column"]: r for r in store.db.query(
        f"select * from {T.observations_evidence} where observation_id = ?", [o["id"]])}
    assert set(ev) >= {"error", "compute_per_pass", "parameters", "hardware", "chips",
                       "training_hours", "hardware_burden", "peak"}
    assert ev["compute_per_pass"]["fact_id"] == ids["compute"]
    assert ev["compute_per_pass"]["evidence"] == "The 152-layer ResNet has 11.3 billion FLOPs."
    assert ev["compute_per_pass"]["value"] == o["compute_per_pass"] == 22.6e9
    assert ev["error"]["kind"] == "stated" and ev["error"]["page"] == 1
    assert ev["hardware_burden"]["kind"] == "derived"
    assert ev["peak"]["detail"] == "hardware:K80.fp32_base_gflops"
    assert ev["error"]["pdf_sha256"] == "sha-1512.03385"
    # the JSON sources stay for compatibility and agree with the link table
    assert json.loads(o["sources"])["compute_per_pass"] == f"fact:{ids['compute']}"
    # re-running rewrites, never duplicates
    curate(store)
    assert store.count(T.observation_sources, "observation_id = ? and column = 'error'",
                       [o["id"]]) == 1


def test_removed_observation_takes_its_links_along(store):
    ex = add_paper(store, "1608.06993", 2016, 8)
    fid = add_fact(store, ex, "1608.06993", "result", model="DenseNet-264",
                   benchmark="imagenet", metric="top1_error", value=22.15,
                   normalized_value=22.15, normalized_unit="percent")
    curate(store)
    assert store.count(T.observation_sources) == 1
    store.db[T.facts].update(fid, {"confidence": 0.2})  # now another paper's
    s = curate(store)
    assert s.observations_removed == 1 and store.count(T.observation_sources) == 0


def old_store(path):
    """A store as migration 0007 left it: no split or status, the old unique key, no
    link tables, the old observations_evidence view."""
    s = open_store(path)
    db = s.db
    for name in (T.observation_sources, T.flag_observations, T.epoch_models):
        db[name].drop()
    db.execute(f"drop view {T.observations_evidence}")
    db.execute("drop index idx_observations_arxiv_id_model_benchmark_metric_split")
    db.execute("drop index idx_observations_status")
    for col in ("split", "status", "status_reason"):
        db.execute(f"alter table {T.observations} drop column [{col}]")
    db[T.observations].create_index(["arxiv_id", "model", "benchmark", "metric"], unique=True)
    db.execute(f"create view {T.observations_evidence} as select o.* from {T.observations} o")
    db.execute("delete from _sqlite_migrations where name = '0008_observation_pairing'")
    db[T.papers].insert({"arxiv_id": "1512.03385", "year": 2015, "month": 12})
    db[T.observations].insert({"arxiv_id": "1512.03385", "model": "ResNet-152",
                               "benchmark": "imagenet", "metric": "top5_error", "error": 3.57})
    s.close()


def test_migration_0008_brings_an_older_store_up(tmp_path):
    path = tmp_path / "old.db"
    old_store(path)
    s = open_store(path)
    cols = s.db[T.observations].columns_dict
    assert {"split", "status", "status_reason"} <= set(cols)
    (o,) = s.db.query(f"select * from {T.observations}")
    assert (o["split"], o["status"]) == ("", "ok")
    idx = {i.name: i for i in s.db[T.observations].indexes}
    assert "idx_observations_arxiv_id_model_benchmark_metric" not in idx
    assert idx["idx_observations_arxiv_id_model_benchmark_metric_split"].unique
    assert {T.observation_sources, T.flag_observations, T.epoch_models} <= set(
        s.db.table_names())
    assert "kind" in {c.name for c in s.db[T.observations_evidence].columns}
    # one model on two splits is two observations now
    s.db[T.observations].insert({**{k: o[k] for k in ("arxiv_id", "model", "benchmark",
                                                       "metric")}, "split": "test",
                                 "error": 3.6, "status": "ok"})
    s.close()
    open_store(path).close()  # reapplying is harmless


def test_read_epoch_real_export(shared):
    models = read_epoch(shared / "epoch" / "notable_ai_models.csv")
    assert len(models) > 900
    by_name = {m.model: m for m in models}
    assert by_name["RoBERTa Large"].arxiv_id == "1907.11692"
    assert by_name["RoBERTa Large"].hardware_quantity == 1024.0
    # a Link cell with two URLs, the arXiv one second
    assert link_arxiv_id("https://ai.meta.com/research/x/\nhttps://arxiv.org/abs/2307.09288") \
        == "2307.09288"
    assert link_arxiv_id("https://www.oppo.com/en/newsroom/") is None


def epoch_file(tmp_path, *rows: str):
    p = tmp_path / "notable_ai_models.csv"
    p.write_text("\n".join([EPOCH_HEADER, *rows]) + "\n", encoding="utf-8")
    return p


def test_epoch_mismatches_are_flagged_with_both_values(store, tmp_path):
    add_hardware(store)
    resnet_paper(store)  # ResNet-152: 60.2M parameters, 8 K80s, 336 hours
    p = epoch_file(
        tmp_path,
        'ResNet-152 (ImageNet),Microsoft,2015-12-10,Vision,60200000,,,,Confident,'
        'https://arxiv.org/abs/1512.03385v1,,336,,NVIDIA Tesla K80,8',
        'ResNet-110 (CIFAR-10),Microsoft,2015-12-10,Vision,1700000,,,,Confident,'
        'https://arxiv.org/abs/1512.03385,,,,,')
    s = curate(store, epoch_paths=[p])
    assert s.epoch_loaded == 2 and store.count(T.flags, "kind = 'epoch_mismatch'") == 0
    # Epoch says 4 GPUs and 3 weeks: the paper's 8 and 2 weeks are questioned, once each
    p2 = epoch_file(
        tmp_path,
        'ResNet-152 (ImageNet),Microsoft,2015-12-10,Vision,6.02e7,,,,Confident,'
        'https://arxiv.org/abs/1512.03385,,504,"estimated",NVIDIA Tesla K80,4')
    s = curate(store, epoch_paths=[p2])
    assert s.epoch_loaded == 0  # a newer export of the same file refreshes, never doubles
    assert store.count(T.epoch_models) == 2
    got = {f["field"]: f for f in store.db.query(
        f"select * from {T.flags} where kind = 'epoch_mismatch'")}
    assert set(got) == {"chip_count", "training_time"}
    assert "8" in got["chip_count"]["reason"] and "4" in got["chip_count"]["reason"]
    assert "336" in got["training_time"]["reason"] and "504" in got["training_time"]["reason"]
    (c,) = json.loads(got["chip_count"]["candidates"])
    assert c["epoch_id"] == 1 and c["value"] == 4.0
    # the parameters agree (same model name, "(ImageNet)" qualifier aside): no flag
    assert "parameters" not in got


def test_epoch_parameters_compared_only_for_the_same_model(store, tmp_path):
    resnet_paper(store)
    p = epoch_file(tmp_path,
                   'ResNet-152 (ImageNet),Microsoft,2015-12-10,Vision,40000000,,,,Likely,'
                   'https://arxiv.org/abs/1512.03385,,,,,',
                   'ResNet-110 (CIFAR-10),Microsoft,2015-12-10,Vision,1700000,,,,Confident,'
                   'https://arxiv.org/abs/1512.03385,,,,,')
    curate(store, epoch_paths=[p])
    (f,) = store.db.query(f"select * from {T.flags} where kind = 'epoch_mismatch'")
    assert (f["model"], f["field"]) == ("ResNet-152", "parameters")
    assert "6.02e+07" in f["reason"] and "4e+07" in f["reason"]


def test_epoch_bad_files(store, tmp_path):
    with pytest.raises(EpochError, match="does not exist"):
        load_epoch(store, [tmp_path / "nope.csv"])
    bad = tmp_path / "other.csv"
    bad.write_text("name,value\nx,1\n")
    with pytest.raises(EpochError, match="missing column"):
        load_epoch(store, [bad])
    assert store.count(T.epoch_models) == 0


def test_curate_epoch_option(cli_run, tmp_path):
    p = epoch_file(tmp_path, 'BERT-Large,Google,2018-10-11,Language,340000000,,,,Confident,'
                             'https://arxiv.org/abs/1810.04805,,96,,Google TPU v2,64')
    r = cli_run("curate", "--db", "s.db", "--epoch", str(p))
    assert r.exit_code == 0 and "Epoch AI: 1 new models loaded" in r.output
    r = cli_run("curate", "--db", "s.db", "--epoch", str(tmp_path / "missing.csv"))
    assert r.exit_code == 1 and r.output.startswith("Error: ") and "--epoch" in r.output
