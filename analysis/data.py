"""Observations in: from the store's ``observations`` table or a CSV/JSONL file.

Every value is checked on the way in; a file with a missing column or a value
that does not parse is rejected with the file, line and column named. Rows are
gathered column by column (no dict per row), so a store of 300,000
observations is read in a few hundred megabytes.
"""

from __future__ import annotations

import csv
import json
import math
import re
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
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
# Repeated labels (benchmark, metric, chip) cost one string each as categories.
CATEGORY_COLUMNS = ("benchmark", "metric", "hardware")
TRUE_WORDS = frozenset({"true", "yes", "1", "1.0"})
FALSE_WORDS = frozenset({"false", "no", "0", "0.0"})
_EMPTY = frozenset({"", "nan", "null", "none", "na"})


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
    if text.lower() in _EMPTY:
        return math.nan
    try:
        return float(text)
    except ValueError:
        raise ObservationsError(
            f"{where}, column {column}: {text!r} is not a number; "
            f"write a number (e.g. 1.2e9) or leave the cell empty") from None


def _boolean(raw: Any, where: str, column: str) -> float:
    """compute_imputed: true/false, yes/no, 1/0 in any case; empty means no."""
    if raw is None or isinstance(raw, bool):
        return float(bool(raw))
    if isinstance(raw, int | float) and raw in (0, 1):
        return float(raw)
    text = str(raw).strip().lower()
    if text in TRUE_WORDS:
        return 1.0
    if text in FALSE_WORDS or text in _EMPTY:
        return 0.0
    raise ObservationsError(f"{where}, column {column}: {raw!r} is not a yes/no value; "
                            f"write true/false, yes/no or 1/0 (or leave it empty)")


_EMPTY_CELLS = ["", "nan", "NaN", "NAN", "null", "NULL", "None", "none", "NA", "na"]


def _numbers(values: list, column: str, where: Callable[[int], str]) -> np.ndarray:
    """A numeric column, converted at once; a bad cell raises with its place named."""
    raw = pd.Series(values, dtype=object)
    out = pd.to_numeric(raw, errors="coerce").to_numpy(dtype=float)
    flags = np.fromiter((v is True or v is False for v in values), bool, len(values))
    # Cells that did not convert and are not plainly empty take the careful path.
    doubtful = np.flatnonzero((np.isnan(out) & raw.notna().to_numpy()
                               & ~raw.isin(_EMPTY_CELLS).to_numpy()) | flags)
    for i in doubtful:
        out[i] = _number(values[i], where(int(i)), column)
    return out


def _booleans(values: list, column: str, where: Callable[[int], str]) -> np.ndarray:
    words = pd.Series(values, dtype=object).astype(str).str.strip().str.lower()
    out = words.map({**dict.fromkeys(TRUE_WORDS, 1.0), **dict.fromkeys(FALSE_WORDS, 0.0),
                     **dict.fromkeys(_EMPTY, 0.0)}).to_numpy(dtype=float)
    for i in np.flatnonzero(np.isnan(out)):
        out[i] = _boolean(values[i], where(int(i)), column)  # raises, naming the cell
    return out


def _texts(values: list) -> pd.Series:
    raw = pd.Series(values, dtype=object)
    text = raw.where(raw.isna(), raw.astype(str)).str.strip()
    return text.where(text.notna() & (text != ""), None)


class _Columns:
    """Values gathered column by column, checked and converted a column at a time.

    ``where(i)`` names the place of row i (file and line, or table and id) for
    an error message.
    """

    def __init__(self, columns: Iterable[str], where: Callable[[Any], str]):
        self.data: dict[str, list] = {c: [] for c in columns}
        self.refs: list = []
        self.where = where

    def add(self, raw: dict[str, Any], ref: Any) -> None:
        for key, values in self.data.items():
            values.append(raw.get(key))
        self.refs.append(ref)

    def frame(self) -> pd.DataFrame:
        def where(i: int) -> str:
            return self.where(self.refs[i])

        columns: dict[str, Any] = {}
        for c, values in self.data.items():
            if c == "compute_imputed":
                columns[c] = _booleans(values, c, where)
            elif c in NUMBER_COLUMNS:
                columns[c] = _numbers(values, c, where)
            elif c in TEXT_COLUMNS:
                columns[c] = _texts(values)
            else:
                columns[c] = pd.Series(values, dtype=object)  # extra columns: kept, ignored
        frame = pd.DataFrame(columns)
        for c in CATEGORY_COLUMNS:
            if c in frame:
                frame[c] = frame[c].astype("category")
        return frame


def read_observations_file(path: str | Path) -> Observations:
    """Read a CSV or JSONL (by extension; ``.json`` lines also) file of observations.

    Line endings may be LF or CRLF; a UTF-8 byte-order mark is ignored.
    """
    path = Path(path)
    if not path.is_file():
        raise ObservationsError(f"Observations file {path} does not exist; "
                                f"check the path given to --observations")
    jsonl = path.suffix.lower() in (".jsonl", ".json", ".ndjson")
    cols = _read_jsonl(path) if jsonl else _read_csv(path)
    return Observations(cols.frame(), str(path), from_store=False)


def _read_jsonl(path: Path) -> _Columns:
    def where(lineno: int) -> str:
        return f"{path}, line {lineno}"

    cols: _Columns | None = None
    with open(path, encoding="utf-8-sig") as fh:
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
            if cols is None:
                cols = _Columns([*REQUIRED_COLUMNS, *(k for k in raw if k not in
                                                      REQUIRED_COLUMNS)], where)
            cols.add(raw, lineno)
    return cols or _Columns(REQUIRED_COLUMNS, where)


def _read_csv(path: Path) -> _Columns:
    with open(path, encoding="utf-8-sig", newline="") as fh:
        reader = csv.DictReader(fh)
        header = [h.strip() for h in reader.fieldnames or []]
        reader.fieldnames = header
        missing = [c for c in REQUIRED_COLUMNS if c not in header]
        if missing:
            raise ObservationsError(
                f"{path}, line 1: missing column(s) {', '.join(missing)}; "
                f"the header needs: {', '.join(REQUIRED_COLUMNS)}")
        cols = _Columns([*REQUIRED_COLUMNS, *(h for h in header if h not in REQUIRED_COLUMNS)],
                         lambda lineno: f"{path}, line {lineno}")
        for raw in reader:
            cols.add(raw, reader.line_num)
    return cols


def read_observations_store(store: Any) -> Observations:
    """The columns the analysis needs from the store's observations table, streamed;
    without those curate holds for review (``status = 'held'``: a value failed a
    plausibility check nobody has settled)."""
    from db.schema import T

    cols = _Columns(REQUIRED_COLUMNS, lambda i: f"{store.path} table {T.observations} id {i}")
    names = ", ".join(f"[{c}]" for c in REQUIRED_COLUMNS)
    cursor = store.db.execute(f"select id, {names} from {T.observations} "
                              f"where coalesce(status, 'ok') != 'held'")
    while batch := cursor.fetchmany(20_000):
        for row in batch:
            for values, value in zip(cols.data.values(), row[1:], strict=True):
                values.append(value)
            cols.refs.append(row[0])
    return Observations(cols.frame(), f"{store.path} ({T.observations})", from_store=True)


def filter_observations(frame: pd.DataFrame, *, benchmarks: list[str] | None,
                        since: int | None, until: int | None) -> pd.DataFrame:
    """Keep the chosen benchmarks and years (inclusive)."""
    keep = np.ones(len(frame), dtype=bool)
    if benchmarks:
        wanted = {b.lower() for b in benchmarks}
        keep &= frame["benchmark"].astype(object).fillna("").str.lower().isin(wanted).to_numpy()
    if since is not None:
        keep &= (frame["year"] >= since).to_numpy()
    if until is not None:
        keep &= (frame["year"] <= until).to_numpy()
    return frame[keep].reset_index(drop=True)


def read_hardware(store: Any) -> pd.DataFrame | None:
    """The store's hardware catalog (chip and per-chip peaks), or None if it is empty."""
    from db.schema import T

    rows = list(store.db.query(
        f"select chip, fp32_base_gflops, fp32_boost_gflops, tensor_gflops from {T.hardware}"))
    return pd.DataFrame(rows) if rows else None


FLAG_COLUMNS = ("id", "arxiv_id", "model", "benchmark", "field", "kind", "reason", "priority")


def read_open_flags(store: Any) -> pd.DataFrame:
    """Every open flag: what it is about (arxiv_id, model, benchmark) and why."""
    from db.schema import T

    cursor = store.db.execute(
        f"select {', '.join(FLAG_COLUMNS)} from {T.flags} where status = 'open' "
        f"order by priority desc, id")
    return pd.DataFrame(cursor.fetchall(), columns=list(FLAG_COLUMNS))


def model_key(name: Any) -> str:
    """A model name reduced for matching: "ResNet-50 (ours)" -> "resnet50ours"."""
    if not isinstance(name, str):
        return ""  # None or NaN: no model named
    return re.sub(r"[^a-z0-9]+", "", name.lower())


def match_flags(frame: pd.DataFrame, flags: pd.DataFrame) -> pd.Series:
    """For each observation, the open flag about it ("" when none).

    A flag is about an observation when it names the observation's paper and,
    if it names them, the same model (names compared letters and digits only)
    and benchmark: a paper-level flag (no model) is about every model of the
    paper, a flag without a benchmark about every benchmark.
    """
    out = pd.Series("", index=frame.index, dtype=object)
    if flags.empty or frame.empty:
        return out
    fl = pd.DataFrame({
        "arxiv_id": flags["arxiv_id"].astype(object),
        "f_model": flags["model"].map(model_key),
        "f_bench": flags["benchmark"].fillna("").astype(str).str.lower(),
        "text": (flags["kind"].fillna("") + " " + flags["field"].fillna("") + ": "
                 + flags["reason"].fillna("")).str.strip(),
    })
    obs = pd.DataFrame({"arxiv_id": frame["arxiv_id"].astype(object),
                        "o_model": frame["model"].map(model_key),
                        "o_bench": frame["benchmark"].astype(object).fillna("").astype(str)
                        .str.lower(),
                        "row": np.arange(len(frame))})
    obs = obs[obs["arxiv_id"].isin(set(fl["arxiv_id"].dropna()))]
    if obs.empty:
        return out
    pairs = obs.merge(fl, on="arxiv_id", how="inner")
    about = (((pairs["f_model"] == "") | (pairs["f_model"] == pairs["o_model"]))
             & ((pairs["f_bench"] == "") | (pairs["f_bench"] == pairs["o_bench"])))
    first = pairs[about].drop_duplicates("row")
    out.iloc[first["row"].to_numpy()] = first["text"].to_numpy()
    return out
