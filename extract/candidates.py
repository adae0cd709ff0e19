"""Candidate facts from the rows of tables: every field, generously, with their evidence.

Rules generate; they do not decide. Every value cell under a column of a tracked
kind (parameters, per-pass compute, training time, epochs, a benchmark metric)
becomes a candidate Fact that keeps its row (`Fact.row_id`, the table and row it
came from), so a result and the compute on the same row can be paired exactly.
Whether a candidate is the paper's own, final value is left to the scorer
(extract.scorer), which reads the features recorded in `Fact.extra["features"]`
(extract.features).
"""

from __future__ import annotations

import math
import re
from dataclasses import dataclass, field

from extract import results as res
from extract.cells import CellValue
from extract.columns import ColumnKind, classify, row_kind
from extract.features import is_layer
from extract.model import Fact
from extract.tables import Column, Row, Table

#: plausible absolute ranges for a table value of each field
RANGES = {"parameters": (1e4, 2e12), "compute_per_pass": (1e5, 1e16),
          "training_time": (1 / 60, 24 * 365 * 5), "epochs": (1, 5000)}


@dataclass
class TableContext:
    """What candidates of one table share."""

    table: Table
    ctx: res.PaperContext
    page_benches: tuple[str, ...]
    rules: res.Rules
    #: what the table's cells share, found once (the benchmark of a metric, ...)
    memo: dict = field(default_factory=dict)


def _norm_unit(kind: str) -> str:
    return {"params": "count", "flops": "flops", "macs": "multiply-adds",
            "time": "hours", "device_time": "device_hours", "epochs": "epochs"}[kind]


def _guess_scale(field: str, value: float) -> float:
    """A scale where header, caption and cell give none: sizes are printed in millions,
    per-pass compute in billions (or millions when the number is large)."""
    if field == "parameters":
        return 1e6 if value < 5000 else 1.0
    if field == "compute_per_pass":
        return 1e9 if value < 100 else (1e6 if value < 1e5 else 1.0)
    return 1.0


def _value(kind: ColumnKind, v: CellValue) -> tuple[float, str] | None:
    """(normalised value, where the scale came from) of a cell under a column of `kind`."""
    field = kind.field
    if v.percent or v.value <= 0:
        return None
    if field in ("parameters", "compute_per_pass"):
        if v.scale is not None:
            return v.value * v.scale, "cell"
        if kind.scale is not None:
            return v.value * kind.scale, kind.scale_source or "header"
        return v.value * _guess_scale(field, v.value), "guess"
    if field == "training_time":
        n = v.value * (v.scale or 1.0)  # "2.5k" TPU-core-days
        if v.hours_per_unit is not None:
            return n * v.hours_per_unit, "cell"
        if kind.scale is not None:
            return n * kind.scale, kind.scale_source or "header"
        return None  # a time without a unit says too little
    if field == "epochs":
        if v.value * 2 != int(v.value * 2):
            return None  # epochs are whole (or half) numbers; 37.7 is something else
        return v.value, "cell"
    return None


def _row_fact(tc: TableContext, row: Row, field: str, value: float, stated: CellValue,
              unit: str, norm_unit: str, rule_id: str, model: str, extra: dict,
              **kw) -> Fact:
    t = tc.table
    return Fact(field=field, value=stated.value, unit=unit, normalized_value=value,
                normalized_unit=norm_unit, page=t.page, span_start=-1, span_end=-1,
                evidence=row.text[:500], rule_id=rule_id, confidence=0.5, source="table",
                model=model[:160] or None, row_id=t.row_id(row), extra=extra, **kw)


def _transposed_rows(t: Table) -> dict[int, ColumnKind]:
    """Rows whose label names what they hold ("#Params (M)", "FLOPs", "Top-1"): in such a
    table the columns are models (the model names are the column headers)."""
    out = {}
    for r in t.rows:
        if not r.label:
            continue
        k = row_kind(r.label, t.caption)
        if k.kind not in (None, "exclude"):
            out[r.index] = k
    return out


def column_model(col: Column) -> str:
    return col.own_header if col.header else ""


def size_candidates(tc: TableContext) -> list[Fact]:
    """Parameters, per-pass compute, training time and epochs from a table's cells."""
    t = tc.table
    out: list[Fact] = []
    kinds: dict[int, ColumnKind] = {}
    for col in t.columns:
        kinds[col.index] = classify(col.own_header, col.group_header, t.caption)
    transposed = _transposed_rows(t)
    # a table of a network's layers (an architecture table): the sizes of its layer rows
    # are parts of one model, not models; a row naming the whole ("Total") still counts
    layers = {r.index for r in t.rows if is_layer(r.label)}
    if len(layers) < 3 or len(layers) < 0.4 * len(t.rows):
        layers = set()
    for row in t.rows:
        if row.index in layers:
            continue
        row_kind = transposed.get(row.index)
        for n, cell in row.cells.items():
            if row_kind is not None:
                kind, model, layout = row_kind, column_model(t.columns[n]), "transposed"
            else:
                parts = row.subheader.get(n)
                kind = kinds[n] if not parts else classify(parts[-1], " ".join(parts[:-1]),
                                                           t.caption)
                model, layout = row.label, "rows"
            field = kind.field
            if field is None:
                continue
            for v in cell.read().values:
                got = _value(kind, v)
                if got is None:
                    continue
                value, scale_source = got
                lo, hi = RANGES[field]
                if not lo <= value <= hi:
                    continue
                unit = v.raw.strip()
                extra = {"table": t.id, "column": t.columns[n].header_text[:80],
                         "group": row.group[:80], "caption": t.caption[:200],
                         "notes": " ".join(row.notes)[:120], "row": row.index,
                         "rows": len(t.rows),
                         "scale_source": scale_source, "layout": layout,
                         "approx": v.approx, "range": v.range_, "bold": cell.bold,
                         "column_kind": kind.kind, "from_group": kind.from_group}
                kw = {}
                if field == "training_time":
                    kw["time_kind"] = "device_hours" if kind.kind == "device_time" else "wall_clock"
                out.append(_row_fact(tc, row, field, value, v, unit, _norm_unit(kind.kind),
                                     kind.rule_id or "col", model, extra, **kw))
    return out


def hardware_candidates(tc: TableContext, year: int | None, month: int | None) -> list[Fact]:
    """Chips named in the rows of a table that reports training (a column of training time
    or epochs): "RNNsearch-50 ... 111 Quadro K-6000 ...". A chip in a latency table is not
    training hardware."""
    from extract.hardware import find_hardware

    t = tc.table
    kinds = {classify(c.own_header, c.group_header, t.caption).kind for c in t.columns}
    if not kinds & {"time", "device_time", "epochs"}:
        return []
    out: list[Fact] = []
    seen: set[str] = set()
    for row in t.rows:
        for m in find_hardware(" ".join([row.label, *row.notes]), year=year, month=month):
            if m.kind not in ("gpu", "tpu") or m.chip in seen:
                continue
            seen.add(m.chip)
            cited = bool(re.search(r"\[\d|\bet al\b", row.text))
            out.append(Fact(field="hardware", value=None, unit=None, normalized_value=None,
                            normalized_unit=None, page=t.page, span_start=-1, span_end=-1,
                            evidence=row.text[:500], rule_id="hardware-table-row-v1",
                            confidence=0.2 if cited else 0.6, source="table",
                            model=row.label[:160] or None, hardware_name=m.name,
                            hardware=m.chip, row_id=t.row_id(row), extra={"table": t.id}))
    return out


def table_candidates(tables: list[Table], ctx: res.PaperContext, page_texts: dict[int, str],
                     rules: res.Rules | None = None, year: int | None = None,
                     month: int | None = None) -> list[Fact]:
    """Every candidate of every table of a paper."""
    from extract.result_tables import result_candidates

    rules = rules or res.load_rules()
    out: list[Fact] = []
    benches: dict[int, tuple[str, ...]] = {}
    for t in tables:
        if t.page not in benches:
            benches[t.page] = res.benches_on_page(page_texts.get(t.page, ""), rules)
        tc = TableContext(t, ctx, benches[t.page], rules)
        out += size_candidates(tc)
        out += result_candidates(tc)
        out += hardware_candidates(tc, year, month)
    return out


def log_distance(value: float, lo: float, hi: float) -> float:
    """Decades outside [lo, hi] (0 inside)."""
    if value <= 0:
        return 10.0
    lv = math.log10(value)
    return max(0.0, math.log10(lo) - lv, lv - math.log10(hi))
