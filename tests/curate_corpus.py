"""Comparing what curate decided in two stores (no tests here).

``snapshot`` is what curate decided, without row ids and times;
``curate_both_ways`` curates a store incrementally and a copy of it in full.
The corpus stores they run on are fixtures in ``curate_fixtures``.
"""

from __future__ import annotations

import json
import sqlite3
from pathlib import Path

from curate import curate
from db import open_store
from db.schema import T

# ResNet, SSD, DenseNet, MobileNet, BERT, EfficientNet: all with Papers with Code rows
PAPERS = ("1512.03385", "1512.02325", "1608.06993", "1704.04861", "1810.04805", "1905.11946")


def copy_store(src: Path, dst: Path) -> Path:
    """A consistent copy of a store (SQLite's backup, WAL included)."""
    with sqlite3.connect(src) as a, sqlite3.connect(dst) as b:
        a.backup(b)
    return dst


def snapshot(path: Path) -> dict[str, list[str]]:
    """Observations, flags and curate's fit pairs, as sorted JSON lines without ids or times."""
    con = sqlite3.connect(path)
    con.row_factory = sqlite3.Row
    skip = {"id", "created_at", "updated_at", "closed_at"}
    out = {}
    for table in (T.observations, T.flags, T.curate_pairs):
        rows = con.execute(f"select * from {table}")
        out[table] = sorted(json.dumps({k: r[k] for k in r.keys() if k not in skip},  # noqa: SIM118
                                       sort_keys=True) for r in rows)
    con.close()
    return out


def curate_both_ways(path: Path, tmp: Path, **kwargs):
    """Curate ``path`` incrementally and a copy of it in full; assert both decided the same.

    Returns the incremental run's summary.
    """
    full = copy_store(path, tmp / f"full-{len(list(tmp.glob('full-*')))}.db")
    with open_store(path) as s:
        summary = curate(s, **kwargs)
    with open_store(full) as s:
        full_summary = curate(s, full=True, **kwargs)
    assert full_summary.full
    got, want = snapshot(path), snapshot(full)
    for table in want:
        assert got[table] == want[table], f"{table} differs between incremental and full"
    assert summary.fit == full_summary.fit
    return summary
