"""Writing extraction results and the hardware catalog into the store.

One writer (the parent process of ``dlcompute extract``) calls these functions;
workers never touch SQLite. Each paper is written in one transaction: its
extraction row and all its facts appear together or not at all, so a run that
is killed at any point leaves the store consistent and the next run resumes.
"""

from __future__ import annotations

import json
import logging
from collections.abc import Iterable
from dataclasses import asdict

from db import Store
from db.schema import TABLES, T
from db.store import utcnow
from extract.catalog import catalog_version, load_catalog

log = logging.getLogger(__name__)

META_CATALOG_VERSION = "hardware_catalog_version"


def load_hardware(store: Store) -> int:
    """Upsert every catalog row into the ``hardware`` table; return the number of rows.

    Rows no longer in the catalog are removed, so the table is the catalog.
    """
    version = catalog_version()
    rows = []
    for chip in load_catalog():
        row = asdict(chip)
        row.pop("epoch_name", None)
        row["aliases"] = json.dumps(list(chip.aliases))
        row["catalog_version"] = version
        rows.append(row)
    keys = [r["chip"] for r in rows]
    with store.transaction() as db:
        db[T.hardware].upsert_all(rows, pk="chip")
        db.execute(
            f"delete from {T.hardware} where chip not in ({','.join('?' * len(keys))})", keys)
        db[T.meta].insert({"key": META_CATALOG_VERSION, "value": version}, replace=True)
    log.info("hardware catalog %s: %d chips loaded", version, len(rows))
    return len(rows)


def hardware_loaded(store: Store) -> bool:
    """True when the store holds the current catalog version."""
    return store.get_meta(META_CATALOG_VERSION) == catalog_version()


def ensure_hardware(store: Store) -> int:
    """Load the catalog unless the store already holds this version; return rows loaded."""
    return 0 if hardware_loaded(store) else load_hardware(store)


FACT_COLUMNS = frozenset(TABLES[T.facts]["columns"])


def _fact_row(fact: dict, arxiv_id: str, extraction_id: int, version: str) -> dict:
    row = {k: v for k, v in fact.items() if k in FACT_COLUMNS}
    extra = fact.get("extra")
    extra = dict(extra) if isinstance(extra, dict) else ({} if extra is None else extra)
    # Attributes the facts table has no column for are kept, not dropped.
    unknown = {k: v for k, v in fact.items() if k not in FACT_COLUMNS}
    if unknown and isinstance(extra, dict):
        extra.update(unknown)
    row["extra"] = json.dumps(extra, sort_keys=True, default=str) \
        if isinstance(extra, dict) else extra
    row["arxiv_id"] = arxiv_id
    row["extraction_id"] = extraction_id
    row["extractor_version"] = version
    row.pop("id", None)
    return row


def write_extraction(store: Store, *, arxiv_id: str, pdf_sha256: str | None,
                     extractor_version: str, status: str, error: str | None,
                     pages: int | None, chars: int | None, seconds: float | None,
                     facts: Iterable[dict]) -> int:
    """Replace this paper's extraction (same extractor version) by a new one, atomically.

    Deletes the paper's earlier extraction rows and facts of ``extractor_version``
    (any PDF hash), inserts the extraction row and its facts; returns the new
    extraction id.
    """
    facts = list(facts)
    with store.transaction() as db:
        old = [r["id"] for r in db.query(
            f"select id from {T.extractions} where arxiv_id = ? and extractor_version = ?",
            [arxiv_id, extractor_version])]
        if old:
            marks = ",".join("?" * len(old))
            db.execute(f"delete from {T.facts} where extraction_id in ({marks})", old)
            db.execute(f"delete from {T.extractions} where id in ({marks})", old)
        db.execute(f"delete from {T.facts} where arxiv_id = ? and extractor_version = ?",
                   [arxiv_id, extractor_version])
        cur = db[T.extractions].insert({
            "arxiv_id": arxiv_id, "pdf_sha256": pdf_sha256,
            "extractor_version": extractor_version, "status": status, "error": error,
            "pages": pages, "chars": chars, "seconds": seconds, "created_at": utcnow(),
        })
        extraction_id = int(cur.last_pk)
        if facts:
            db[T.facts].insert_all(
                [_fact_row(f, arxiv_id, extraction_id, extractor_version) for f in facts])
    return extraction_id


def gold_records(store: Store, *, extractor_version: str | None = None):
    """One object per extracted paper in the shape of the gold labels (``export facts``).

    Uses each paper's facts of ``extractor_version`` (default: the current one).
    """
    from extract import EXTRACTOR_VERSION, to_gold_shape
    from extract.catalog import canonical_name

    version = extractor_version or EXTRACTOR_VERSION
    papers = [r["arxiv_id"] for r in store.db.query(
        f"select distinct arxiv_id from {T.extractions} where extractor_version = ? "
        f"order by arxiv_id", [version])]
    for arxiv_id in papers:
        facts = list(store.db.query(
            f"select * from {T.facts} where arxiv_id = ? and extractor_version = ? "
            f"order by id", [arxiv_id, version]))
        for f in facts:
            # Store rows keep `extra` as JSON text; the model's records hold a dict.
            if isinstance(f.get("extra"), str):
                try:
                    f["extra"] = json.loads(f["extra"])
                except ValueError:
                    f["extra"] = {}
        record = to_gold_shape(arxiv_id, facts)
        # Gold labels name both Titan X cards "Titan X": drop the catalog's variant.
        for item in record.get("hardware", []):
            if item.get("canonical"):
                item["canonical"] = canonical_name(item["canonical"])
        yield record
