"""The dlcompute store: one SQLite file, its schema and its migrations.

Every stage reads and writes through this package; no stage opens SQLite itself.
Names are imported on first use (sqlite-utils pulls in pandas, a third of a
second), so that ``from db.errors import DlcomputeError`` stays cheap.
"""

from __future__ import annotations

import importlib
from typing import Any

_WHERE = {
    "DlcomputeError": "db.errors",
    "TABLES": "db.schema", "VIEWS": "db.schema", "T": "db.schema",
    "NotAStoreError": "db.store", "Store": "db.store", "StoreError": "db.store",
    "StoreTooNewError": "db.store", "open_store": "db.store", "utcnow": "db.store",
}

__all__ = sorted(_WHERE)


def __getattr__(name: str) -> Any:
    module = _WHERE.get(name)
    if module is None:
        raise AttributeError(f"module 'db' has no attribute {name!r}")
    value = getattr(importlib.import_module(module), name)
    globals()[name] = value
    return value
