"""Decisions at the boundary and on load: numbers, units, chips, bounds, human units,
replay (revisions, undo, double review, adjudication), append-only reviews, kappa."""

from __future__ import annotations

import json
import sqlite3

import pytest
from test_curate_support import HARDWARE, add_fact, add_hardware, add_paper

from curate import curate
from curate.agreement import cohen_kappa, kappa_interval
from curate.decisions import (
    DecisionError,
    check_correction,
    chip_names,
    parse_number,
    replay,
    stored_problem,
)
from curate.decisions import decisions_in_force as effective_decisions
from curate.humanize import human
from db import open_store
from db.schema import APPEND_ONLY, APPLICATION_ID, T, migrations


@pytest.mark.parametrize("text,expected", [
    ("25.6", 25.6), ("1,234", 1234.0), ("1,234,567.5", 1234567.5), (" 7 ", 7.0),
    ("1.5e9", 1.5e9), (".5", 0.5), ("-3", -3.0), ("", None), ("   ", None),
])
def test_parse_number_reads_numbers(text, expected):
    assert parse_number(text) == expected


@pytest.mark.parametrize("text,words", [
    ("1,2,3", "thousands"), ("12,34", "thousands"), ("1e400", "too large"),
    ("inf", "not a number"), ("nan", "not a number"), ("Infinity", "not a number"),
    ("9" * 400, "characters long"), ("25.6M", "unit box"), ("0x10", "not a number"),
    ("1.2.3", "not a number"), ("-", "not a number"), ("e5", "not a number"),
])
def test_parse_number_refuses_with_the_fix(text, words):
    with pytest.raises(ValueError, match=words):
        parse_number(text)


CHIPS = {"v100": "V100", "tesla v100": "V100", "k80": "K80", "tpu v3": "TPU v3"}


@pytest.mark.parametrize("fld,value,unit,bad_fields,words", [
    ("compute_per_pass", "1e400", "GFLOPs", {"value"}, "too large"),
    ("compute_per_pass", "inf", "GFLOPs", {"value"}, "not a number"),
    ("compute_per_pass", "nan", "GFLOPs", {"value"}, "not a number"),
    ("compute_per_pass", "9" * 400, "GFLOPs", {"value"}, "characters long"),
    ("compute_per_pass", "-4.1", "GFLOPs", {"value"}, "positive"),
    ("compute_per_pass", "5e20", "GFLOPs", {"value"}, "physical bounds"),
    ("compute_per_pass", "1,2,3", "GFLOPs", {"value"}, "thousands"),
    ("compute_per_pass", "5", "<b>bananas</b>", {"unit"}, "<b>bananas</b>"),
    ("compute_per_pass", "", "GFLOPs", {"value"}, "needs a number"),
    ("compute_per_pass", "1e400", "parsecs", {"value", "unit"}, "parsecs"),
    ("parameters", "-25.6", "M", {"value"}, "positive"),
    ("parameters", "25.6", "bananas", {"unit"}, "not known"),
    ("parameters", "0.5", "", {"value"}, "physical bounds"),
    ("training_time", "-3", "days", {"value"}, "positive"),
    ("training_time", "3", "banana days", {"unit"}, "not known"),
    ("training_time", "900", "years", {"unit"}, "not known"),
    ("training_time", "200", "weeks", {"value"}, "physical bounds"),
    ("chip_count", "-8", "", {"value"}, "positive"),
    ("chip_count", "2.5", "GPUs", {"value"}, "whole number"),
    ("chip_count", "8", "bananas", {"unit"}, "chip count"),
    ("hardware", "", "FooChip 9000", {"unit"}, "not in the hardware catalog"),
    ("hardware", "-4", "V100", {"value"}, "positive"),
    ("hardware", "4", "<b>V100</b>", {"unit"}, "not a chip name"),
    ("hardware", "4", "", {"unit"}, "chip's name"),
    ("result:top1_accuracy", "101", "%", {"value"}, "physical bounds"),
    ("result:top1_accuracy", "75", "parsecs", {"unit"}, "score unit"),
])
def test_corrections_refused_field_by_field(fld, value, unit, bad_fields, words):
    with pytest.raises(DecisionError) as e:
        check_correction(fld, value, unit, CHIPS)
    assert set(e.value.problems) == bad_fields
    assert words in " ".join(e.value.problems.values())


@pytest.mark.parametrize("fld,value,unit,stored", [
    ("compute_per_pass", "4.1", "GFLOPs", (4.1, "GFLOPs")),
    ("compute_per_pass", "1,234", "MFLOPs", (1234.0, "MFLOPs")),
    ("compute_per_pass", "11.3", "GMACs", (11.3, "GMACs")),
    ("parameters", "25.6", "M", (25.6, "M")),
    ("parameters", "340", "million", (340.0, "million")),
    ("training_time", "3.5", "days", (3.5, "days")),
    ("training_time", "250", "GPU-hours", (250.0, "GPU-hours")),
    ("chip_count", "8", "", (8.0, None)),
    ("hardware", "4", "tesla v100", (4.0, "V100")),  # the catalog's own name is stored
    ("hardware", "", "TPU v3", (None, "TPU v3")),
    ("result:top5_error", "3.57", "%", (3.57, "%")),
])
def test_good_corrections_pass(fld, value, unit, stored):
    checked = check_correction(fld, value, unit, CHIPS)
    assert (checked.value, checked.unit) == stored


def test_an_unknown_chip_needs_the_new_chip_path():
    with pytest.raises(DecisionError, match="new chip"):
        check_correction("hardware", "8", "FooChip 9000", CHIPS)
    checked = check_correction("hardware", "8", "FooChip 9000", CHIPS, new_chip=True)
    assert checked.unit == "FooChip 9000" and checked.new_chip
    # markup is no chip name, new or not
    with pytest.raises(DecisionError):
        check_correction("hardware", "8", "<script>x</script>", CHIPS, new_chip=True)


@pytest.mark.parametrize("value,kind,text", [
    (4099999999.9999995, "compute_per_pass", "4.1 GFLOPs"),
    (11.3e9 * 2, "flops", "22.6 GFLOPs"),
    (25.6e6, "parameters", "25.6 M"),
    (60_200_000, "count", "60.2 M"),
    (1.5e9, "parameters", "1.5 B"),
    (84.0, "training_time", "3.5 days"),
    (336.0, "hours", "14 days"),
    (5.5, "hours", "5.5 hours"),
    (0.5, "hours", "30 minutes"),
    (250.0, "device_hours", "10.4 device-days"),
    (8.0, "chip_count", "8"),
    (7.3, "result:top5_error", "7.3%"),
    (28.4, "bleu", "28.4 BLEU"),
    (1080.0, "compute_per_pass", "1.08 kFLOPs"),
    (float("inf"), "compute_per_pass", "infinite"),
    (float("nan"), "parameters", "not a number"),
    ("V100", "hardware", "V100"),
    (None, "parameters", ""),
])
def test_human_units(value, kind, text):
    assert human(value, kind) == text


def _row(rid, action, annotator="alice", **kw):
    return {"id": rid, "flag_id": 1, "action": action, "annotator": annotator,
            "value": kw.pop("value", None), "unit": kw.pop("unit", None),
            "fact_id": kw.pop("fact_id", None), "undoes": kw.pop("undoes", None),
            "role": kw.pop("role", None), "after": kw.pop("after", "{}"), "before": "{}",
            **kw}


def test_replay_revisions_undo_and_invalid_rows():
    rows = [_row(1, "correct", value=4.1, unit="GFLOPs"),
            _row(2, "correct", value=float("inf"), unit="GFLOPs"),  # unusable: skipped whole
            _row(3, "correct", value=5.0, unit="<b>bananas</b>"),
            _row(4, "correct", value=4.2, unit="GFLOPs", undoes=1)]  # a revision of 1
    fr = replay(rows, "compute_per_pass", False, {}, CHIPS)
    assert set(fr.invalid) == {2, 3}
    assert fr.state == "settled" and fr.decision["id"] == 4
    fr = replay([*rows, _row(5, "undo", undoes=4)], "compute_per_pass", False, {}, CHIPS)
    assert fr.state == "open" and fr.decision is None


def test_replay_double_review_needs_agreement_or_an_adjudicator():
    a = _row(1, "correct", "alice", value=4.1, unit="GFLOPs")
    same = _row(2, "correct", "bob", value=4100, unit="MFLOPs")  # the same value, typed apart
    other = _row(2, "correct", "bob", value=3.0, unit="GFLOPs")
    assert replay([a], "compute_per_pass", True, {}, CHIPS).state == "second"
    assert replay([a, same], "compute_per_pass", True, {}, CHIPS).state == "settled"
    fr = replay([a, other], "compute_per_pass", True, {}, CHIPS)
    assert fr.state == "disputed" and fr.decision is None  # bob's later word does not win
    judge = _row(3, "correct", "carol", value=3.5, unit="GFLOPs", role="adjudicator")
    later = _row(4, "correct", "bob", value=9.0, unit="GFLOPs", undoes=2)
    fr = replay([a, other, judge, later], "compute_per_pass", True, {}, CHIPS)
    assert fr.state == "settled" and fr.decision["id"] == 3


def test_stored_decisions_checked_like_typed_ones(store):
    add_hardware(store)
    chips = chip_names(store)
    assert chips["tesla v100"] == "V100" and len(set(chips.values())) == len(HARDWARE)
    ok = {"action": "accept", "value": None, "unit": "Titan Black", "fact_id": None,
          "id": 1, "flag_id": 1, "annotator": "a"}
    assert stored_problem("hardware", ok, {}, chips) is None  # taken from the paper's text
    bad = {**ok, "action": "correct"}
    assert "catalog" in stored_problem("hardware", bad, {}, chips)
    new = {**bad, "after": json.dumps({"new_chip": True})}
    assert stored_problem("hardware", new, {}, chips) is None
    text = {**bad, "unit": "M", "value": "lots"}
    assert "not a number" in stored_problem("parameters", text, {}, chips)


def _decided_store(store):
    ex = add_paper(store, "1608.06993", 2016, 8)
    add_fact(store, ex, "1608.06993", "result", model="DenseNet", benchmark="imagenet",
             metric="top1_accuracy", value=77.0, normalized_value=77.0,
             normalized_unit="percent")
    for v in (25.6, 15.3):
        add_fact(store, ex, "1608.06993", "parameters", value=v, unit="M",
                 normalized_value=v * 1e6, normalized_unit="count", confidence=0.8)
    curate(store)
    (flag,) = store.db.query(f"select * from {T.flags}")
    return flag


@pytest.mark.parametrize("value,unit", [
    (float("inf"), "M"), (float("nan"), "M"), (1e300, "M"), (-25.6, "M"), (25.6, "<b>x</b>"),
])
def test_curate_skips_unusable_stored_decisions(store, value, unit):
    flag = _decided_store(store)
    good = store.db[T.reviews].insert({
        "flag_id": flag["id"], "annotator": "a", "action": "correct", "value": 20.0,
        "unit": "M", "created_at": "2026-01-01T00:00:00Z", "before": "{}"}).last_pk
    store.db[T.reviews].insert({
        "flag_id": flag["id"], "annotator": "b", "action": "correct", "value": value,
        "unit": unit, "created_at": "2026-01-01T00:01:00Z",
        "after": '{"value": Infinity}', "before": "not json"})
    assert effective_decisions(store)[flag["id"]].review_id == good
    curate(store)
    (o,) = store.db.query(f"select * from {T.observations}")
    assert o["parameters"] == 20e6 and json.loads(o["sources"])["parameters"] == f"review:{good}"


def test_reviews_refuse_update_and_delete(store):
    flag = _decided_store(store)
    rid = store.db[T.reviews].insert({"flag_id": flag["id"], "annotator": "a",
                                      "action": "not_reported"}).last_pk
    with pytest.raises(sqlite3.IntegrityError, match="append-only"):
        store.db.execute(f"update {T.reviews} set action = 'accept' where id = ?", [rid])
    with pytest.raises(sqlite3.IntegrityError, match="append-only"):
        store.db.execute(f"delete from {T.reviews} where id = ?", [rid])
    with pytest.raises(sqlite3.IntegrityError):
        store.db[T.reviews].insert({"flag_id": flag["id"], "token": "t", "action": "skip"})
        store.db[T.reviews].insert({"flag_id": flag["id"], "token": "t", "action": "skip"})
    assert store.db[T.reviews].get(rid)["action"] == "not_reported"
    assert APPEND_ONLY.startswith("reviews are append-only")


def test_migration_keeps_old_reviews_and_their_tokens(tmp_path):
    from sqlite_utils import Database

    path = tmp_path / "old.db"
    db = Database(path)
    migrations.apply(db, stop_before="0004_reviews_append_only")
    db.execute(f"pragma application_id = {APPLICATION_ID}")
    db[T.flags].insert({"id": 1, "key": "k", "status": "open"})
    db[T.reviews].insert_all([
        {"flag_id": 1, "action": "skip", "after": json.dumps({"token": "abc"})},
        {"flag_id": 1, "action": "correct", "value": float("inf"),
         "after": '{"value": Infinity, "token": "def"}'},
        {"flag_id": 1, "action": "skip", "after": json.dumps({"token": "abc"})},
    ])
    db.close()
    s = open_store(path)
    try:
        rows = list(s.db.query(f"select id, token from {T.reviews} order by id"))
        # malformed JSON keeps its row without a token; a repeated token stays on the first
        assert [r["token"] for r in rows] == ["abc", None, None]
        with pytest.raises(sqlite3.IntegrityError):
            s.db.execute(f"delete from {T.reviews}")
    finally:
        s.close()


def test_kappa_and_its_interval_on_a_textbook_table():
    # Wikipedia's Cohen's kappa example: 20 yes/yes, 5 yes/no, 10 no/yes, 15 no/no -> 0.4;
    # the large-sample standard error sqrt(po (1 - po) / (n (1 - pe)^2)) is 0.13
    pairs = [("y", "y")] * 20 + [("y", "n")] * 5 + [("n", "y")] * 10 + [("n", "n")] * 15
    assert cohen_kappa(pairs) == pytest.approx(0.4)
    lo, hi = kappa_interval(pairs)
    assert 0.10 < lo < 0.20 and 0.60 < hi < 0.70
    assert kappa_interval(pairs) == (lo, hi)  # seeded: the same interval every time
    lo4, hi4 = kappa_interval(pairs * 4)
    assert hi4 - lo4 < (hi - lo) * 0.7  # four times the flags: about half the width
