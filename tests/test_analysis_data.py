"""Reading observations files: columns, values, and errors that name file, line and column."""

from __future__ import annotations

import json

import pandas as pd
import pytest

from analysis.data import (
    NUMBER_COLUMNS,
    REQUIRED_COLUMNS,
    ObservationsError,
    match_flags,
    read_observations_file,
)


def _csv(path, rows, header=REQUIRED_COLUMNS):
    lines = [",".join(header)] + [",".join(str(r.get(c, "")) for c in header) for r in rows]
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return path


ROW = {"arxiv_id": "1512.03385", "model": "ResNet-50", "benchmark": "imagenet", "year": 2015,
       "month": 12, "metric": "top1_error", "error": 24.7, "compute_per_pass": 7.6e9,
       "parameters": 2.5e7, "compute_imputed": 0}


def test_csv_reads_values_and_keeps_empty_as_unknown(tmp_path):
    obs = read_observations_file(_csv(tmp_path / "o.csv", [ROW]))
    row = obs.frame.iloc[0]
    assert row["error"] == 24.7 and row["compute_per_pass"] == 7.6e9
    assert pd.isna(row["hardware"]) and pd.isna(row["hardware_burden"])
    assert not obs.from_store


def test_extra_columns_are_kept_and_ignored(tmp_path):
    header = (*REQUIRED_COLUMNS, "notes")
    obs = read_observations_file(_csv(tmp_path / "o.csv", [{**ROW, "notes": "x"}], header))
    assert obs.frame.iloc[0]["notes"] == "x"


def test_missing_column_is_named(tmp_path):
    header = [c for c in REQUIRED_COLUMNS if c != "error"]
    with pytest.raises(ObservationsError, match=r"o\.csv, line 1: missing column\(s\) error"):
        read_observations_file(_csv(tmp_path / "o.csv", [ROW], header))


def test_unparsable_value_names_file_line_and_column(tmp_path):
    rows = [ROW, {**ROW, "compute_per_pass": "lots"}]
    with pytest.raises(ObservationsError,
                       match=r"o\.csv, line 3, column compute_per_pass: 'lots' is not a number"):
        read_observations_file(_csv(tmp_path / "o.csv", rows))


def test_jsonl_and_its_errors(tmp_path):
    p = tmp_path / "o.jsonl"
    full = {c: ROW.get(c) for c in REQUIRED_COLUMNS}
    p.write_text(json.dumps(full) + "\n\n" + json.dumps({**full, "year": "soon"}) + "\n")
    with pytest.raises(ObservationsError, match=r"o\.jsonl, line 3, column year"):
        read_observations_file(p)
    p.write_text(json.dumps(full) + "\n" + json.dumps({"model": "x"}) + "\n")
    with pytest.raises(ObservationsError, match=r"line 2: missing column"):
        read_observations_file(p)
    p.write_text(json.dumps(full) + "\n")
    assert read_observations_file(p).frame.iloc[0]["model"] == "ResNet-50"


def test_missing_file_says_so(tmp_path):
    with pytest.raises(ObservationsError, match="does not exist"):
        read_observations_file(tmp_path / "nope.csv")


@pytest.mark.parametrize(("written", "value"), [
    ("true", 1.0), ("TRUE", 1.0), ("Yes", 1.0), ("1", 1.0), ("false", 0.0), ("No", 0.0),
    ("0", 0.0), ("", 0.0)])
def test_compute_imputed_reads_yes_no_words(tmp_path, written, value):
    obs = read_observations_file(_csv(tmp_path / "o.csv", [{**ROW, "compute_imputed": written}]))
    assert obs.frame.iloc[0]["compute_imputed"] == value


def test_compute_imputed_that_is_not_yes_or_no_names_the_words(tmp_path):
    with pytest.raises(ObservationsError, match=r"line 2, column compute_imputed: 'maybe' is "
                                                r"not a yes/no value; write true/false"):
        read_observations_file(_csv(tmp_path / "o.csv", [{**ROW, "compute_imputed": "maybe"}]))
    p = tmp_path / "o.jsonl"
    p.write_text(json.dumps({**{c: ROW.get(c) for c in REQUIRED_COLUMNS},
                             "compute_imputed": True}) + "\n")
    assert read_observations_file(p).frame.iloc[0]["compute_imputed"] == 1.0


def test_crlf_and_byte_order_mark_are_read_like_plain_files(tmp_path):
    plain = _csv(tmp_path / "plain.csv", [ROW, {**ROW, "model": "ResNet-101"}])
    text = plain.read_text(encoding="utf-8")
    crlf = tmp_path / "crlf.csv"
    crlf.write_bytes(("\ufeff" + text).replace("\n", "\r\n").encode("utf-8"))
    a, b = read_observations_file(plain).frame, read_observations_file(crlf).frame
    assert list(b.columns[:len(REQUIRED_COLUMNS)]) == list(REQUIRED_COLUMNS)
    assert b["model"].tolist() == ["ResNet-50", "ResNet-101"]
    assert b["compute_imputed"].tolist() == [0.0, 0.0]
    assert a[list(NUMBER_COLUMNS)].equals(b[list(NUMBER_COLUMNS)])
    jl = tmp_path / "o.jsonl"
    jl.write_bytes((json.dumps({c: ROW.get(c) for c in REQUIRED_COLUMNS}) + "\r\n").encode())
    assert read_observations_file(jl).frame.iloc[0]["error"] == 24.7


def test_flags_match_their_paper_model_and_benchmark():
    frame = pd.DataFrame({"arxiv_id": ["1", "1", "1", "2", "3"],
                          "model": ["ResNet-50", "ResNet-101", "ResNet-50", "X", "Y"],
                          "benchmark": ["imagenet", "imagenet", "coco", "imagenet", "coco"]})
    flags = pd.DataFrame({"id": [1, 2, 3], "arxiv_id": ["1", "2", "9"],
                          "model": ["resnet 50", None, "Y"], "benchmark": ["imagenet", "", None],
                          "field": ["compute_per_pass", "hardware", "parameters"],
                          "kind": ["missing", "conflict", "missing"],
                          "reason": ["no FLOPs", "two chips", "none"], "priority": [1, 1, 1]})
    got = match_flags(frame, flags).tolist()
    assert got[0] == "missing compute_per_pass: no FLOPs"
    assert got[1:3] == ["", ""]  # another model; another benchmark
    assert got[3] == "conflict hardware: two chips"  # a paper-level flag is about every model
    assert got[4] == ""  # a flag on another paper


def test_store_values_are_checked_and_a_bad_one_is_named_by_its_id(store):
    from analysis.data import read_observations_store
    from db.schema import T

    with store.transaction() as db:
        db[T.papers].insert({"arxiv_id": "1512.03385"})
        db[T.observations].insert_all([{**ROW, "model": "a", "compute_imputed": 1},
                                       {**ROW, "model": "b", "error": " 30.5 "}])
    frame = read_observations_store(store).frame
    assert frame["compute_imputed"].tolist() == [1.0, 0.0]
    assert frame["error"].tolist() == [24.7, 30.5]
    with store.transaction() as db:
        bad = db[T.observations].insert({**ROW, "model": "c", "compute_per_pass": "lots"})
    with pytest.raises(ObservationsError, match=rf"table observations id {bad.last_pk}, "
                                                r"column compute_per_pass: 'lots' is not"):
        read_observations_store(store)
