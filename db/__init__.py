"""The dlcompute store: one SQLite file, its schema and its migrations.

Every stage reads and writes through this package; no stage opens SQLite itself.
"""

from db.errors import DlcomputeError
from db.schema import TABLES, VIEWS, T
from db.store import (
    NotAStoreError,
    Store,
    StoreError,
    StoreTooNewError,
    open_store,
    utcnow,
)

__all__ = [
    "TABLES",
    "VIEWS",
    "DlcomputeError",
    "NotAStoreError",
    "Store",
    "StoreError",
    "StoreTooNewError",
    "T",
    "open_store",
    "utcnow",
]
