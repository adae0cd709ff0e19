"""The cell grammar (extract/cells.py) and what a column holds (extract/columns.py): table-driven."""

from __future__ import annotations

import json

import pytest

from extract.cells import read_cell
from extract.columns import classify, column_rules, names_a_column, row_kind
from extract.nlp import RULES_DIR

# ------------------------------------------------------------------- cells

# (cell text, [(value, attributes the value must have), ...]); attributes not named are
# the defaults (no scale, not percent, not approximate, no spread, no time unit, one part)
CELLS = [
    ("76.3", [(76.3, {})]),
    ("76.3%", [(76.3, {"percent": True})]),
    ("81.3*", [(81.3, {"marks": "*"})]),
    ("81.3†", [(81.3, {"marks": "†"})]),
    ("-0.5", [(-0.5, {})]),
    ("25.6M", [(25.6, {"scale": 1e6})]),
    ("12.0 M", [(12.0, {"scale": 1e6})]),
    ("4.5 million", [(4.5, {"scale": 1e6})]),
    ("1.2k", [(1.2, {"scale": 1e3})]),
    ("3.6×10^9", [(3.6, {"scale": 1e9})]),
    ("3.6 x 10^9", [(3.6, {"scale": 1e9})]),
    ("3.6x109", [(3.6, {"scale": 1e9})]),  # the exponent's superscript read in line
    ("3.6e9", [(3.6, {"scale": 1e9})]),
    ("1,024", [(1024.0, {})]),
    ("76.3 ± 0.2", [(76.3, {"spread": 0.2})]),
    ("76.3±0.2", [(76.3, {"spread": 0.2})]),
    ("76.3 (±0.2)", [(76.3, {"spread": 0.2})]),
    # the first number is the one the paper reports; the parenthesis holds mean ± sd
    ("76.3 (76.1±0.2)", [(76.3, {"spread": 0.2})]),
    ("76.3 (+1.2)", [(76.3, {})]),
    ("84.1/90.9", [(84.1, {"part": 0, "parts": 2}), (90.9, {"part": 1, "parts": 2})]),
    ("2-3", [(2.0, {"range_": True, "part": 0, "parts": 2}),
             (3.0, {"range_": True, "part": 1, "parts": 2})]),
    ("2–3", [(2.0, {"range_": True}), (3.0, {"range_": True})]),
    ("10-20M", [(10.0, {"range_": True, "scale": 1e6}), (20.0, {"range_": True, "scale": 1e6})]),
    ("2-3 days", [(2.0, {"range_": True, "hours_per_unit": 24.0}),
                  (3.0, {"range_": True, "hours_per_unit": 24.0})]),
    ("3.5 days", [(3.5, {"hours_per_unit": 24.0})]),
    ("12h", [(12.0, {"hours_per_unit": 1.0})]),
    ("90 min", [(90.0, {"hours_per_unit": 1 / 60})]),
    ("2 weeks", [(2.0, {"hours_per_unit": 168.0})]),
    ("<5", [(5.0, {"approx": True})]),
    ("~3", [(3.0, {"approx": True})]),
    ("≈2", [(2.0, {"approx": True})]),
]

DEFAULTS = {"scale": None, "percent": False, "approx": False, "spread": None,
            "hours_per_unit": None, "part": 0, "parts": 1, "range_": False, "marks": ""}


@pytest.mark.parametrize(("text", "want"), CELLS, ids=[c[0] for c in CELLS])
def test_cell_values(text: str, want: list[tuple[float, dict]]) -> None:
    got = read_cell(text)
    assert not got.placeholder and got.is_value
    assert len(got.values) == len(want), got
    for i, (v, (value, attrs)) in enumerate(zip(got.values, want, strict=True)):
        assert v.value == pytest.approx(value)
        expect = dict(DEFAULTS, parts=len(want), part=i) | attrs
        for name, wanted in expect.items():
            have = getattr(v, name)
            assert have == (pytest.approx(wanted) if isinstance(wanted, float) else wanted), (
                name, have)


@pytest.mark.parametrize("text", ["-", "—", "–", "−", "n/a", "N/A", "✗", "OOM", "..."])
def test_placeholders_are_cells_without_values(text: str) -> None:
    got = read_cell(text)
    assert got.placeholder and got.is_value and got.values == []


@pytest.mark.parametrize("text", [
    "[12]", "[3, 4]", "[3-5]", "(2019)",          # citations are not values
    "ResNet-50", "abc", "Top-1",                  # names
    "5-2", "28-10",                               # not a range: a name such as "WRN 28-10"
    "",
])
def test_not_values(text: str) -> None:
    got = read_cell(text)
    assert not got.values and not got.placeholder and not got.is_value


# ----------------------------------------------------------------- columns

# (own header, group header, caption, kind, scale, where the scale came from)
COLUMNS = [
    # vocabulary, any case
    ("# params", "", "", "params", None, None),
    ("#P", "", "", "params", None, None),
    ("#p", "", "", "params", None, None),
    ("Params (M)", "", "", "params", 1e6, "header"),
    ("PARAMS (M)", "", "", "params", 1e6, "header"),
    ("Para. (M)", "", "", "params", 1e6, "header"),
    ("#Params (in millions)", "", "", "params", 1e6, "header"),
    ("Million Parameters", "", "", "params", 1e6, "header"),
    ("#Param (ratio)", "", "", "params", None, None),  # "ratio" inside parentheses
    ("GFLOPs", "", "", "flops", 1e9, "header"),
    ("gflops", "", "", "flops", 1e9, "header"),
    ("FLOPs (x10^9)", "", "", "flops", 1e9, "header"),
    ("FLOPs/seq", "", "", "flops", None, None),
    ("Complexity (ops., ×10^9)", "", "", "flops", 1e9, "header"),
    ("Ops", "", "", "flops", None, None),
    ("MAdds (B)", "", "", "macs", 1e9, "header"),
    ("Mult-Adds", "", "", "macs", None, None),
    ("Million Mult-Adds", "", "", "macs", 1e6, "header"),
    ("MACs (G)", "", "", "macs", 1e9, "header"),
    ("Train time (h)", "", "", "time", 1.0, "header"),
    ("GPU days", "", "", "device_time", 24.0, "header"),
    ("Epochs", "", "", "epochs", None, None),
    # exclusions
    ("Throughput (img/s)", "", "", "exclude", None, None),
    ("Latency (ms)", "", "", "exclude", None, None),
    ("TFLOPS/GPU", "", "", "exclude", None, None),
    ("Memory (GB)", "", "", "exclude", None, None),
    ("Training FLOPs", "", "", "exclude", None, None),
    ("Params ratio", "", "", "exclude", None, None),
    ("FLOPs reduction", "", "", "exclude", None, None),
    ("Input size", "", "", "exclude", None, None),
    # group headers: a veto from a cost group, none from a benchmark; a kind from the group
    ("FLOPs", "Training cost", "", "exclude", None, None),
    ("Params (M)", "Speed", "", "exclude", None, None),
    ("FLOPs", "ImageNet", "", "flops", None, None),
    ("(G)", "FLOPs", "", "flops", 1e9, "header"),
    # scales from the caption where the header has none; the header's own scale wins
    ("Params", "", "Table 1: Parameters are in millions.", "params", 1e6, "caption"),
    ("FLOPs", "", "Table 2: FLOPs are given in billions.", "flops", 1e9, "caption"),
    ("Params", "", "Table 3: Model sizes (in millions).", "params", 1e6, "caption"),
    ("Params (K)", "", "Table 1: Parameters are in millions.", "params", 1e3, "header"),
    ("FLOPs", "", "Table 2: Parameters are in millions.", "flops", None, None),
    # not a tracked column
    ("Top-1", "", "", None, None, None),
    ("Method", "", "", None, None, None),
]


@pytest.mark.parametrize(("own", "group", "caption", "kind", "scale", "source"), COLUMNS,
                         ids=[f"{c[1]}/{c[0]}" if c[1] else c[0] for c in COLUMNS])
def test_column_kind(own: str, group: str, caption: str, kind: str | None, scale: float | None,
                     source: str | None) -> None:
    got = classify(own, group, caption)
    assert got.kind == kind, got
    assert got.scale == (pytest.approx(scale) if scale else None), got
    assert got.scale_source == source, got


def test_column_kind_from_the_group_is_marked() -> None:
    assert classify("(G)", "FLOPs").from_group
    assert not classify("FLOPs", "ImageNet").from_group
    assert classify("Params (M)").field == "parameters"
    assert classify("MACs").field == classify("GFLOPs").field == "compute_per_pass"
    assert classify("Throughput").field is None


@pytest.mark.parametrize(("header", "field", "scale"), [
    ("gigaflops/img", "compute_per_pass", 1e9),
    ("BFLOPs", "compute_per_pass", 1e9),
    ("Cost (GFLOPs)", "compute_per_pass", 1e9),
    ("TPUv3-core-days", "training_time", 24.0),
    ("teraflop/s-days", None, None),   # total training compute, not per pass
    ("petaflop/s-days", None, None),
])
def test_spelled_units(header: str, field: str | None, scale: float | None) -> None:
    got = classify(header)
    assert got.field == field and got.scale == scale, got


@pytest.mark.parametrize(("label", "kind"), [
    ("#Params (M)", "params"),
    ("# Params", "params"),
    ("Params", "params"),
    ("FLOPs", "flops"),
    ("Complexity (ops., ×10^9)", "flops"),
    ("Number of parameters", "params"),
    ("Mult-Adds (M)", "macs"),
    # the kind word must lead a short label
    ("All parameters", None),
    ("F Params", None),
    ("Params of the teacher network in total", None),
    ("ResNet-50", None),
    ("Top-1", None),
    ("Throughput", "exclude"),
])
def test_row_kind(label: str, kind: str | None) -> None:
    assert row_kind(label).kind == kind


def test_row_kind_scale_from_label_and_caption() -> None:
    assert row_kind("#Params (M)").scale == 1e6
    assert row_kind("FLOPs", "Table 4: FLOPs are in billions.").scale == 1e9


@pytest.mark.parametrize(("text", "names"), [
    ("FLOPs", True), ("Throughput", True), ("#P", True), ("Top-1", True), ("BLEU", True),
    ("ImageNet", True), ("Exact", False), ("Match", False), ("image", False),
])
def test_names_a_column(text: str, names: bool) -> None:
    assert names_a_column(text) is names


def test_column_rules_are_data_with_id_and_kind() -> None:
    lines = (RULES_DIR / "columns.jsonl").read_text(encoding="utf-8").splitlines()
    rules = [json.loads(ln) for ln in lines if ln.strip()]
    assert [r["id"] for r in rules] == [r.id for r in column_rules()]
    assert all(r["kind"] for r in rules)
    # exclusions are tried first: a "throughput" word wins over the "FLOPs" beside it
    kinds = [r.kind for r in column_rules()]
    assert kinds.index("exclude") < min(kinds.index(k) for k in ("params", "flops", "macs"))
