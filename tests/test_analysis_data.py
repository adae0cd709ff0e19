"""Reading observations files: columns, values, and errors that name file, line and column."""

from __future__ import annotations

import json

import pytest

from analysis.data import REQUIRED_COLUMNS, ObservationsError, read_observations_file


def _csv(path, rows, header=REQUIRED_COLUMNS):
    lines = [",".join(header)] + [",".join(str(r.get(c, "")) for c in header) for r in rows]
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return path


ROW = {"arxiv_id": "1512.03385", "model": "ResNet-50", "benchmark": "imagenet", "year": 2015,
       "month": 12, "metric": "top1", "error": 24.7, "compute_per_pass": 7.6e9,
       "parameters": 2.5e7, "compute_imputed": 0}


def test_csv_reads_values_and_keeps_empty_as_unknown(tmp_path):
    obs = read_observations_file(_csv(tmp_path / "o.csv", [ROW]))
    row = obs.frame.iloc[0]
    assert row["error"] == 24.7 and row["compute_per_pass"] == 7.6e9
    assert row["hardware"] is None and row["hardware_burden"] != row["hardware_burden"]  # NaN
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
