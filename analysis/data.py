"""Observations in: from the store's ``observations`` table or a CSV/JSONL file.

Every value is checked on the way in; a file with a missing column or a value
that does not parse is rejected with the file, line and column named.
"""

from __future__ import annotations

import csv
import json
import math
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pandas as pd

from db.errors import DlcomputeError

REQUIRED_COLUMNS: tuple[str, ...] = (
    "arxiv_id", "model", "benchmark", "year", "month", "metric", "error",
    "compute_per_pass", "parameters", "hardware", "chips", "training_hours",
    "hardware_burden", "compute_imputed",
)
TEXT_COLUMNS = ("arxiv_id", "model", "benchmark", "metric", "hardware")
NUMBER_COLUMNS = ("year", "month", "error", "compute_per_pass", "parameters", "chips",
                  "training_hours", "hardware_burden", "compute_imputed")


class ObservationsError(DlcomputeError):
    """An observations file or table cannot be read; the message names where and why."""


@dataclass
class Observations:
    """The observations an analysis runs on, and where they came from."""

    frame: pd.DataFrame
    source: str
    from_store: bool


def _number(raw: Any, where: str, column: str) -> float:
    if raw is None:
        return math.nan
    if isinstance(raw, bool):
        raise ObservationsError(f"{where}, column {column}: {raw!r} is not a number; "
                                f"write a number or leave the cell empty")
    if isinstance(raw, int | float):
        return float(raw)
    text = str(raw).strip()
    if text == "" or text.lower() in ("nan", "null", "none", "na"):
        return math.nan
    try:
        return float(text)
    except ValueError:
        raise ObservationsError(
            f"{where}, column {column}: {text!r} is not a number; "
            f"write a number (e.g. 1.2e9) or leave the cell empty") from None


def _row(raw: dict[str, Any], where: str) -> dict[str, Any]:
    row: dict[str, Any] = {}
    for key, value in raw.items():
        if key in NUMBER_COLUMNS:
            row[key] = _number(value, where, key)
        elif key in TEXT_COLUMNS:
            row[key] = None if value is None or str(value).strip() == "" else str(value).strip()
        else:
            row[key] = value  # extra columns are kept and ignored
    return row


def read_observations_file(path: str | Path) -> Observations:
    """Read a CSV or JSONL (by extension; ``.json`` lines also) file of observations."""
    path = Path(path)
    if not path.is_file():
        raise ObservationsError(f"Observations file {path} does not exist; "
                                f"check the path given to --observations")
    rows: list[dict[str, Any]] = []
    suffix = path.suffix.lower()
    if suffix in (".jsonl", ".json", ".ndjson"):
        with open(path, encoding="utf-8") as fh:
            for lineno, line in enumerate(fh, 1):
                if not line.strip():
                    continue
                try:
                    raw = json.loads(line)
                except json.JSONDecodeError as e:
                    raise ObservationsError(f"{path}, line {lineno}: not valid JSON ({e.msg}); "
                                            f"write one JSON object per line") from None
                if not isinstance(raw, dict):
                    raise ObservationsError(f"{path}, line {lineno}: expected a JSON object")
                missing = [c for c in REQUIRED_COLUMNS if c not in raw]
                if missing:
                    raise ObservationsError(
                        f"{path}, line {lineno}: missing column(s) {', '.join(missing)}; "
                        f"every line needs: {', '.join(REQUIRED_COLUMNS)}")
                rows.append(_row(raw, f"{path}, line {lineno}"))
    else:
        with open(path, encoding="utf-8", newline="") as fh:
            reader = csv.DictReader(fh)
            header = reader.fieldnames or []
            missing = [c for c in REQUIRED_COLUMNS if c not in header]
            if missing:
                raise ObservationsError(
                    f"{path}, line 1: missing column(s) {', '.join(missing)}; "
                    f"the header needs: {', '.join(REQUIRED_COLUMNS)}")
            for raw in reader:
                rows.append(_row(raw, f"{path}, line {reader.line_num}"))
    return Observations(_frame(rows), str(path), from_store=False)


def read_observations_store(store: Any) -> Observations:
    """The store's observations table, without those curate holds for review
    (``status = 'held'``: a value failed a plausibility check nobody has settled)."""
    from db.schema import T

    cols = ", ".join(f"[{c}]" for c in REQUIRED_COLUMNS)
    rows = [_row(dict(r), f"{store.path} table {T.observations} id {r['id']}")
            for r in store.db.query(f"select id, {cols} from {T.observations} "
                                    f"where coalesce(status, 'ok') != 'held'")]
    for r in rows:
        r.pop("id", None)
    return Observations(_frame(rows), f"{store.path} ({T.observations})", from_store=True)


def _frame(rows: list[dict[str, Any]]) -> pd.DataFrame:
    frame = pd.DataFrame(rows, columns=list(REQUIRED_COLUMNS) if not rows else None)
    for c in REQUIRED_COLUMNS:
        if c not in frame:
            frame[c] = math.nan if c in NUMBER_COLUMNS else None
    for c in NUMBER_COLUMNS:
        frame[c] = pd.to_numeric(frame[c], errors="coerce").astype(float)
    frame["compute_imputed"] = frame["compute_imputed"].fillna(0.0)
    return frame


def filter_observations(frame: pd.DataFrame, *, benchmarks: list[str] | None,
                        since: int | None, until: int | None) -> pd.DataFrame:
    """Keep the chosen benchmarks and years (inclusive)."""
    keep = pd.Series(True, index=frame.index)
    if benchmarks:
        wanted = {b.lower() for b in benchmarks}
        keep &= frame["benchmark"].fillna("").str.lower().isin(wanted)
    if since is not None:
        keep &= frame["year"] >= since
    if until is not None:
        keep &= frame["year"] <= until
    return frame[keep].reset_index(drop=True)


def read_hardware(store: Any) -> pd.DataFrame | None:
    """The store's hardware catalog (chip and per-chip peaks), or None if it is empty."""
    from db.schema import T

    rows = list(store.db.query(
        f"select chip, fp32_base_gflops, fp32_boost_gflops, tensor_gflops from {T.hardware}"))
    return pd.DataFrame(rows) if rows else None


def read_open_flags(store: Any, arxiv_ids: set[str], benchmarks: set[str]) -> list[dict]:
    """Open flags on the papers or benchmarks an analysis used."""
    from db.schema import T

    out = []
    for r in store.db.query(
            f"select id, arxiv_id, model, benchmark, field, kind, reason, priority "
            f"from {T.flags} where status = 'open' order by priority desc, id"):
        if r["arxiv_id"] in arxiv_ids or (r["benchmark"] or "").lower() in benchmarks:
            out.append(dict(r))
    return out
