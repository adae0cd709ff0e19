"""What the analysis tests share: an empty observation and a CSV writer."""

from __future__ import annotations

import csv
from pathlib import Path

from analysis.data import REQUIRED_COLUMNS

BASE: dict = {c: None for c in REQUIRED_COLUMNS}  # an observation with every column unknown


def write_csv(path: Path, rows: list[dict]) -> Path:
    """An observations file as `analyze --observations` reads it."""
    with open(path, "w", newline="", encoding="utf-8") as fh:
        w = csv.DictWriter(fh, fieldnames=REQUIRED_COLUMNS)
        w.writeheader()
        w.writerows(rows)
    return path
