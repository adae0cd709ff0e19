"""A Datasette metadata file for the store: what each table and column holds, in which unit.

``datasette_metadata(store)`` describes every table and view the store has,
column by column, from the store itself (so a column a migration adds shows up,
and a test fails until it is described here). ``write_metadata(db_path)``
writes it beside the store as ``STEM.metadata.json``::

    datasette dlcompute.db -m dlcompute.metadata.json
"""

from __future__ import annotations

import json
import os
from pathlib import Path
from typing import Any

from db.schema import TABLES, VIEWS, T

TABLE_DESCRIPTIONS: dict[str, str] = {
    T.papers: "One row per paper (arXiv id without version, or a name for a paper not on "
              "arXiv), from the arXiv API, OAI-PMH, a metadata snapshot, ingest or the "
              "bundled sample.",
    T.queries: "The benchmarks and the arXiv search terms that find their papers.",
    T.paper_queries: "Which benchmark's query found which paper, and how.",
    T.crawl_runs: "Every crawl, harvest and ingest run: window, requests, counts, status.",
    T.pdfs: "Each paper version's PDF in the content-addressed cache under the data dir.",
    T.extractions: "One row per PDF and extractor version: status, pages, time.",
    T.facts: "Candidate facts extracted from the PDFs, each with page, span, evidence, rule "
             "and confidence.",
    T.hardware: "The hardware catalog: chips and their peak GFLOPS (FP32 base and boost, "
                "tensor).",
    T.flags: "What curate asks a person to check: missing, conflicting or implausible "
             "values, Papers with Code mismatches, unknown hardware.",
    T.reviews: "Annotators' decisions, append-only (the database refuses UPDATE and DELETE; "
               "an undo or a changed decision is a new row).",
    T.pwc_results: "Results loaded from Papers with Code's archived dumps.",
    T.observations: "One row per paper, own model, benchmark, metric and split: the values "
                    "the analysis uses (held ones wait for a review).",
    T.observation_sources: "Where each observation value came from: one row per value, "
                           "with the fact, review, Papers with Code or Epoch AI row.",
    T.flag_observations: "The observations each flag's answer changes.",
    T.epoch_models: "Epoch AI's notable models (CC BY), matched to papers by arXiv id: the "
                    "second cross-check.",
    T.analysis_runs: "Every analyze and simulate run, with its settings and results JSON.",
    T.meta: "dlcompute's own bookkeeping (crawl coverage, last harvest).",
    T.paper_benchmarks: "Papers with the benchmarks whose queries found them.",
    T.facts_evidence: "Facts with their paper's title and date and the PDF's hash.",
    T.open_flags: "Flags still open, with the paper's title.",
    T.observations_evidence: "One row per observation value: its source and the page, "
                             "table row and sentence (or review, Papers with Code row) "
                             "it came from.",
}

# column -> description (with the unit); a column of the same name means the same
# thing in every table and view unless TABLE_COLUMNS says otherwise.
COLUMNS: dict[str, str] = {
    "arxiv_id": "arXiv id without version (1811.06965), or a name for a paper not on arXiv",
    "version": "arXiv version number (0 when unknown)",
    "title": "paper title", "abstract": "paper abstract",
    "authors": "JSON list of author names", "categories": "JSON list of arXiv categories",
    "primary_category": "arXiv primary category",
    "published": "first submission, ISO 8601 UTC", "updated": "latest version, ISO 8601 UTC",
    "doi": "DOI", "journal_ref": "journal reference", "comment": "author comment on arXiv",
    "pdf_url": "PDF address given by arXiv",
    "year": "year of the paper (from the arXiv id, or the given date)",
    "month": "month of the paper, 1-12",
    "source": "where the row came from",
    "first_seen": "first seen, ISO 8601 UTC", "last_seen": "last seen, ISO 8601 UTC",
    "name": "benchmark name (imagenet, coco, ...)", "label": "benchmark label",
    "metrics": "JSON list of the benchmark's metrics",
    "terms": "JSON list of arXiv search terms", "search_query": "the arXiv API query",
    "updated_at": "last change, ISO 8601 UTC", "query": "benchmark name",
    "via": "api | oai | ingest | sample", "id": "row id",
    "kind": "what kind of row (see the table's description)",
    "benchmark": "benchmark name (imagenet, coco, squad1.1, conll2003, wmt14-en-fr, ...)",
    "window_start": "start of the submission window, YYYYMMDDHHMM UTC",
    "window_end": "end of the submission window, YYYYMMDDHHMM UTC",
    "started_at": "start, ISO 8601 UTC", "finished_at": "end, ISO 8601 UTC",
    "requests": "HTTP requests made", "seen": "records seen", "new": "papers new",
    "pdfs_fetched": "PDFs downloaded", "pdfs_failed": "PDFs that failed",
    "status": "status of the row", "error": "why it failed, if it did",
    "sha256": "SHA-256 of the PDF", "path": "PDF path, relative to the data dir",
    "size": "bytes", "pages": "pages", "url": "where the PDF came from",
    "attempts": "download attempts", "fetched_at": "when fetched, ISO 8601 UTC",
    "pdf_sha256": "SHA-256 of the PDF read",
    "extractor_version": "dlcompute extractor version",
    "chars": "characters of text read", "seconds": "seconds taken",
    "created_at": "created, ISO 8601 UTC", "extraction_id": "extractions.id",
    "field": "parameters | compute_per_pass | hardware | training_time | epochs | result",
    "value": "the value as the paper states it, in unit",
    "unit": "the unit as stated (M, GFLOPs, days, %)",
    "normalized_value": "the value in normalized_unit",
    "normalized_unit": "count, flops, multiply-adds, hours, device_hours, epochs, percent, "
                       "bleu",
    "model": "model name as the paper gives it (empty: the paper's own model)",
    "metric": "top1_error, top5_accuracy, box_ap, f1, em, bleu, ...",
    "split": "dataset split of a result", "hardware_name": "hardware as the paper writes it",
    "hardware": "canonical chip of the hardware catalog",
    "chip_count": "number of chips", "time_kind": "wall_clock | device_hours",
    "page": "page of the PDF, 1-based",
    "span_start": "character offset in the page's normalised text",
    "span_end": "character offset in the page's normalised text",
    "evidence": "the sentence or table row the value came from",
    "rule_id": "the extraction rule that found it", "confidence": "0 to 1",
    "extra": "JSON for anything rule-specific",
    "chip": "canonical chip name", "variant": "chip variant", "vendor": "vendor",
    "aliases": "JSON list of other names", "release_date": "release date",
    "fp32_base_gflops": "peak FP32 GFLOPS at base clock (the paper's convention)",
    "fp32_boost_gflops": "peak FP32 GFLOPS at boost clock",
    "tensor_gflops": "peak tensor (FP16/BF16) GFLOPS", "tdp_watts": "TDP, watts",
    "devices_per_board": "devices per board (a K80 board is 2 GPUs)",
    "cores_per_chip": "cores per chip (TPU TensorCores)", "notes": "notes",
    "catalog_version": "hardware catalog version",
    "key": "one flag per issue: kind|arxiv_id|model|benchmark|field",
    "reason": "why the flag was raised", "candidates": "JSON list of candidate values",
    "pwc_value": "Papers with Code's value", "priority": "observations this flag unblocks",
    "resolution": "how the flag was closed", "double_review": "1 when sampled for two annotators",
    "lease_annotator": "annotator holding the flag", "lease_expires": "lease end, ISO 8601 UTC",
    "closed_at": "closed, ISO 8601 UTC", "flag_id": "flags.id", "annotator": "annotator name",
    "action": "accept | correct | not_reported | skip | undo", "before": "JSON before",
    "after": "JSON after", "fact_id": "facts.id chosen", "undoes": "reviews.id undone",
    "note": "annotator note", "task": "Papers with Code task", "dataset": "Papers with Code dataset",
    "metric_name": "metric name in the dump", "paper_url": "paper address in the dump",
    "paper_title": "paper title in the dump", "loaded_at": "loaded, ISO 8601 UTC",
    "error_percent": "error, percent",
    "compute_per_pass": "FLOPs per forward pass (a multiply-add counts as 2 FLOPs)",
    "parameters": "parameters (count)", "chips": "chips used for training",
    "training_hours": "training time, hours (wall clock)",
    "hardware_burden": "chips x peak FLOP/s x training seconds, FLOPs",
    "compute_imputed": "1 when compute_per_pass was imputed from parameters",
    "compute_unit": "flops | multiply-adds, as the paper stated",
    "sources": "JSON: column -> fact:ID | review:ID | pwc:ID | imputed",
    "dlcompute_version": "dlcompute version", "out_dir": "report folder",
    "n_observations": "observations analysed", "settings": "settings JSON",
    "results": "results JSON (as results.json)",
    "row_id": "table row a fact was read from: p4.t1.r17 (page 4, table 1, row 17)",
    "status_reason": "why the observation is held out of the fits",
    "observation_id": "observations.id", "column": "the observation column the value fills",
    "review_id": "reviews.id of the decision the value came from",
    "pwc_id": "pwc_results.id the value came from", "epoch_id": "epoch_models.id",
    "detail": "what else identifies the source (a peak's catalog column)",
    "organization": "developer", "publication_date": "publication date",
    "domain": "Epoch AI's domain (Vision, Language, ...)",
    "training_compute": "whole training run, FLOP (Epoch AI, often estimated)",
    "training_hardware": "chips as Epoch AI names them",
    "hardware_quantity": "number of chips (Epoch AI)",
    "training_time_hours": "training time, hours (Epoch AI)", "epochs": "training epochs",
    "parameters_notes": "Epoch AI's notes on the parameter count",
    "compute_notes": "Epoch AI's notes on the training compute",
    "training_time_notes": "Epoch AI's notes on the training time",
    "link": "Epoch AI's link to the paper (the arXiv id is parsed from it)",
    "stated_value": "the value as printed in the paper", "stated_unit": "its unit as printed",
    "review_action": "accept | correct | not_reported", "review_note": "annotator note",
    "pwc_model": "model name in Papers with Code", "pwc_source": "dump file",
}
TABLE_COLUMNS: dict[tuple[str, str], str] = {
    (T.papers, "source"): "api | oai | ingest | sample",
    (T.extractions, "attempts"): "extract runs in a row that tried this PDF",
    (T.extractions, "next_attempt_after"): "when a later extract may try this failed PDF "
                                            "again, ISO 8601 UTC (empty: no retry)",
    (T.observations, "error"): "error in percent: 100 - accuracy / box AP / F1 / BLEU",
    (T.observations_evidence, "error"): "error in percent: 100 - accuracy / box AP / F1 / BLEU",
    (T.facts, "source"): "text | table", (T.facts_evidence, "source"): "text | table",
    (T.pwc_results, "source"): "dump file it came from",
    (T.pwc_results, "value"): "the value in the dump",
    (T.meta, "value"): "value (JSON or text)",
    (T.flags, "kind"): "missing | conflict | implausible | pwc_mismatch | epoch_mismatch | "
                       "unknown_hardware",
    (T.open_flags, "kind"): "missing | conflict | implausible | pwc_mismatch | epoch_mismatch | "
                            "unknown_hardware",
    (T.observations, "split"): "val | test | test-dev | minival | dev; empty when the paper "
                               "does not say",
    (T.observations, "status"): "ok | held (a value failed a plausibility check no review "
                                "has settled; left out of the fits)",
    (T.observations_evidence, "status"): "ok | held",
    (T.observation_sources, "kind"): "stated | row | name | paper | review | pwc | catalog | "
                                     "derived",
    (T.observations_evidence, "kind"): "stated | row | name | paper | review | pwc | catalog "
                                       "| derived",
    (T.observations_evidence, "value"): "the observation's value in this column",
    (T.epoch_models, "source"): "Epoch AI file it came from",
    (T.epoch_models, "model"): "model name in Epoch AI",
    (T.epoch_models, "confidence"): "Epoch AI's confidence in its figures",
    (T.epoch_models, "parameters"): "parameters (count, Epoch AI)",
    (T.crawl_runs, "kind"): "api | oai | ingest", (T.hardware, "kind"): "gpu | tpu | cpu",
    (T.meta, "key"): "setting name", (T.flags, "status"): "open | closed",
    (T.reviews, "token"): "the review form's one-time token: one review per submitted form",
    (T.reviews, "role"): "annotator | adjudicator (whose decision settles a disagreement)",
    (T.reviews, "undoes"): "reviews.id this undo or changed decision replaces",
    (T.analysis_runs, "status"): "running | done | failed",
}


def _columns(store: Any, name: str) -> list[str]:
    return [r[1] for r in store.db.execute(f"pragma table_info([{name}])").fetchall()]


def describe(table: str, column: str) -> str | None:
    return TABLE_COLUMNS.get((table, column)) or COLUMNS.get(column)


def datasette_metadata(store: Any, database: str) -> dict[str, Any]:
    """Datasette's metadata.json for the store: every table and view, every column."""
    from dlcompute import __version__

    tables: dict[str, Any] = {}
    for name in [*TABLES, *VIEWS]:
        cols = _columns(store, name)
        tables[name] = {
            "description": TABLE_DESCRIPTIONS.get(name, ""),
            "columns": {c: describe(name, c) or "" for c in cols},
        }
    return {
        "title": "dlcompute store",
        "description": "Compute and results of deep-learning papers, extracted by dlcompute "
                       f"{__version__}: every observation points back to its facts, their "
                       "page and sentence in the PDF.",
        "source": "dlcompute",
        "databases": {database: {"tables": tables}},
    }


def metadata_path(db_path: str | os.PathLike) -> Path:
    p = Path(db_path)
    return p.with_name(p.stem + ".metadata.json")


def write_metadata(db_path: str | os.PathLike) -> Path:
    """Write ``STEM.metadata.json`` beside the store; returns its path."""
    from db.store import open_store

    with open_store(db_path) as store:
        meta = datasette_metadata(store, Path(db_path).stem)
    out = metadata_path(db_path)
    out.write_text(json.dumps(meta, indent=2) + "\n", encoding="utf-8")
    return out
