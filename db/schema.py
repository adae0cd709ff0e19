"""Table and column names of the store, and the migrations that create them.

This module is the one place that owns names: other code refers to tables as
``T.papers`` and so on. ``TABLES`` is the current schema: migration 0001 creates it in a
new store, and each later migration brings an older store up to it (adding only what
is missing, so it is harmless on a new store). The schema only changes by appending a
migration; an applied migration is never edited.
"""

from __future__ import annotations

from sqlite_utils import Database, Migrations

MIGRATION_SET = "dlcompute"
# PRAGMA application_id marks the file as a dlcompute store ("DLCP").
APPLICATION_ID = 0x444C4350


class T:
    """Table and view names."""

    papers = "papers"
    queries = "queries"
    paper_queries = "paper_queries"
    crawl_runs = "crawl_runs"
    pdfs = "pdfs"
    extractions = "extractions"
    facts = "facts"
    hardware = "hardware"
    flags = "flags"
    reviews = "reviews"
    pwc_results = "pwc_results"
    observations = "observations"
    analysis_runs = "analysis_runs"
    meta = "dlcompute_meta"
    curate_dirty = "curate_dirty"  # papers whose curate inputs changed since curate decided them
    curate_pairs = "curate_pairs"  # each paper's (parameters, FLOPs) pairs for curate's fit
    flag_counts = "flag_counts"  # flags by status, kind, field and benchmark, kept by triggers
    flag_benchmarks = "flag_benchmarks"  # benchmarks a paper's model-level flags belong to
    # views
    paper_benchmarks = "paper_benchmarks"
    facts_evidence = "facts_evidence"
    open_flags = "open_flags"
    observations_evidence = "observations_evidence"


# Column definitions. Types are Python types as sqlite-utils takes them.
# Identifiers (arXiv ids) are always text: 1501.00010 keeps its zero.
TABLES: dict[str, dict] = {
    T.papers: {
        "columns": {
            "arxiv_id": str,  # without version: 1811.06965, hep-th/9901001
            "version": int,  # latest version seen
            "title": str,
            "abstract": str,
            "authors": str,  # JSON list of names
            "categories": str,  # JSON list
            "primary_category": str,
            "published": str,  # ISO 8601 UTC
            "updated": str,
            "doi": str,
            "journal_ref": str,
            "comment": str,
            "pdf_url": str,
            "year": int,  # from the arXiv id, the paper's way of dating
            "month": int,
            "source": str,  # api | oai | ingest
            "first_seen": str,
            "last_seen": str,
        },
        "pk": "arxiv_id",
        "not_null": {"arxiv_id"},
        "indexes": [["year", "month"], ["published"]],
    },
    T.queries: {
        "columns": {
            "name": str,  # benchmark name: imagenet, coco, ...
            "label": str,
            "metrics": str,  # JSON list
            "terms": str,  # JSON list of arXiv search terms
            "search_query": str,  # the arXiv API query string built from terms
            "updated_at": str,
        },
        "pk": "name",
    },
    T.paper_queries: {
        "columns": {
            "arxiv_id": str,
            "query": str,
            "via": str,  # api | oai | ingest
            "first_seen": str,
            "last_seen": str,
        },
        "pk": ("arxiv_id", "query"),
        "foreign_keys": [("arxiv_id", T.papers, "arxiv_id"), ("query", T.queries, "name")],
        "indexes": [["query"]],
    },
    T.crawl_runs: {
        "columns": {
            "id": int,
            "kind": str,  # api | oai | ingest
            "benchmark": str,
            "window_start": str,
            "window_end": str,
            "started_at": str,
            "finished_at": str,
            "requests": int,
            "seen": int,
            "new": int,
            "updated": int,
            "pdfs_fetched": int,
            "pdfs_failed": int,
            "status": str,  # running | ok | failed | interrupted
            "error": str,
        },
        "pk": "id",
        "indexes": [["benchmark", "started_at"], ["status"]],
    },
    T.pdfs: {
        "columns": {
            "arxiv_id": str,
            "version": int,  # 0 where unknown (ingested without a version)
            "sha256": str,
            "path": str,  # relative to the data dir
            "size": int,
            "pages": int,
            "url": str,
            "status": str,  # ok | failed
            "error": str,
            "attempts": int,
            "fetched_at": str,
        },
        "pk": ("arxiv_id", "version"),
        "foreign_keys": [("arxiv_id", T.papers, "arxiv_id")],
        "indexes": [["sha256"], ["status"]],
    },
    T.extractions: {
        "columns": {
            "id": int,
            "arxiv_id": str,
            "pdf_sha256": str,
            "extractor_version": str,
            "status": str,  # ok | no_text | failed | timeout | memory
            "error": str,
            "pages": int,
            "chars": int,
            "seconds": float,
            "created_at": str,
            "attempts": int,  # extract runs in a row that tried this PDF (0003)
            "next_attempt_after": str,  # ISO UTC; a failed one's retry after a back-off (0003)
        },
        "pk": "id",
        "foreign_keys": [("arxiv_id", T.papers, "arxiv_id")],
        "indexes": [["arxiv_id"], ["extractor_version", "status"]],
        "unique": [["arxiv_id", "pdf_sha256", "extractor_version"]],
    },
    T.facts: {
        "columns": {
            "id": int,
            "extraction_id": int,
            "arxiv_id": str,
            # parameters | compute_per_pass | hardware | training_time | epochs | result
            "field": str,
            "value": float,  # as stated: 25.6
            "unit": str,  # as stated: M, GFLOPs, days, %
            # absolute: count, flops, multiply-adds, hours, device_hours, epochs, percent, bleu
            "normalized_value": float,
            "normalized_unit": str,
            "model": str,
            "benchmark": str,  # results
            "metric": str,  # results: top1_error, top5_accuracy, box_ap, f1, em, bleu
            "split": str,
            "hardware_name": str,  # hardware, as the paper writes it
            "hardware": str,  # canonical chip of the catalog
            "chip_count": float,
            "time_kind": str,  # wall_clock | device_hours
            "row_id": str,  # the table row the fact was read from: p4.t1.r17
            "page": int,  # 1-based
            "span_start": int,  # character offsets in the page's normalised text
            "span_end": int,
            "evidence": str,  # the sentence or table row
            "source": str,  # text | table
            "rule_id": str,
            "extractor_version": str,
            "confidence": float,
            "extra": str,  # JSON for anything rule-specific
        },
        "pk": "id",
        "foreign_keys": [
            ("arxiv_id", T.papers, "arxiv_id"),
            ("extraction_id", T.extractions, "id"),
        ],
        "indexes": [["arxiv_id", "field"], ["extraction_id"], ["field"], ["benchmark"]],
    },
    T.hardware: {
        "columns": {
            "chip": str,  # canonical short name: V100, TPU v3, GTX 1080 Ti
            "variant": str,
            "vendor": str,
            "kind": str,  # gpu | tpu | cpu
            "aliases": str,  # JSON list
            "release_date": str,
            "fp32_base_gflops": float,
            "fp32_boost_gflops": float,
            "tensor_gflops": float,
            "tdp_watts": float,
            "devices_per_board": float,
            "cores_per_chip": float,
            "source": str,
            "notes": str,
            "catalog_version": str,
        },
        "pk": "chip",
    },
    T.flags: {
        "columns": {
            "id": int,
            "key": str,  # kind|arxiv_id|model|benchmark|field: one flag per issue
            "arxiv_id": str,
            "model": str,
            "benchmark": str,
            "field": str,
            "kind": str,  # missing | conflict | implausible | pwc_mismatch | unknown_hardware
            "reason": str,
            "candidates": str,  # JSON list of {fact_id, value, unit, confidence, ...}
            "pwc_value": float,
            "priority": int,  # observations this flag unblocks
            "status": str,  # open | closed
            "resolution": str,
            "double_review": int,  # 1 when sampled for a second annotator
            "lease_annotator": str,
            "lease_expires": str,
            "created_at": str,
            "updated_at": str,
            "closed_at": str,
        },
        "pk": "id",
        "not_null": {"key"},
        "foreign_keys": [("arxiv_id", T.papers, "arxiv_id")],
        "indexes": [["status", "priority"], ["arxiv_id"], ["kind"], ["field"]],
        "unique": [["key"]],
    },
    T.reviews: {
        "columns": {
            "id": int,
            "flag_id": int,
            "annotator": str,
            "created_at": str,
            "action": str,  # accept | correct | not_reported | skip | undo
            "before": str,  # JSON
            "after": str,  # JSON
            "value": float,
            "unit": str,
            "fact_id": int,
            "undoes": int,  # review id an undo (or a changed decision) replaces
            "note": str,
            "token": str,  # the form's one-time token: one review per submitted form
            "role": str,  # annotator | adjudicator (REVIEW_ROLES)
        },
        "pk": "id",
        "foreign_keys": [("flag_id", T.flags, "id")],
        "indexes": [["flag_id"], ["annotator"]],
        "unique": [["token"]],
    },
    T.pwc_results: {
        "columns": {
            "id": int,
            "arxiv_id": str,
            "benchmark": str,
            "metric": str,
            "value": float,
            "model": str,
            "task": str,
            "dataset": str,
            "metric_name": str,  # as in the dump
            "paper_url": str,
            "paper_title": str,
            "source": str,  # file it came from
            "loaded_at": str,
        },
        "pk": "id",
        "indexes": [["arxiv_id", "benchmark"]],
        "unique": [["source", "arxiv_id", "benchmark", "metric", "model", "value"]],
    },
    T.observations: {
        "columns": {
            "id": int,
            "arxiv_id": str,
            "model": str,
            "benchmark": str,
            "year": int,
            "month": int,
            "metric": str,
            "error": float,  # percent, 0-100
            "compute_per_pass": float,  # FLOPs; multiply-adds counted as 2 FLOPs
            "parameters": float,
            "hardware": str,
            "chips": float,
            "training_hours": float,
            "hardware_burden": float,  # FLOPs: chips x peak FLOP/s x seconds
            "compute_imputed": int,  # 1 when compute_per_pass came from parameters
            "compute_unit": str,  # flops | multiply-adds, as the paper stated
            "sources": str,  # JSON: column -> fact:ID | review:ID | pwc:ID | imputed
            "updated_at": str,
        },
        "pk": "id",
        "foreign_keys": [("arxiv_id", T.papers, "arxiv_id")],
        "indexes": [["benchmark"], ["arxiv_id"]],
        "unique": [["arxiv_id", "model", "benchmark", "metric"]],
    },
    T.analysis_runs: {
        "columns": {
            "id": int,
            "started_at": str,
            "finished_at": str,
            "dlcompute_version": str,
            "status": str,
            "out_dir": str,
            "n_observations": int,
            "settings": str,  # JSON
            "results": str,  # JSON, same as results.json
            "error": str,
        },
        "pk": "id",
    },
    T.meta: {
        "columns": {"key": str, "value": str},
        "pk": "key",
    },
}

VIEWS: dict[str, str] = {
    T.paper_benchmarks: f"""
        select p.arxiv_id, p.title, p.year, p.month, pq.query as benchmark, pq.via,
               pq.first_seen
        from {T.paper_queries} pq join {T.papers} p on p.arxiv_id = pq.arxiv_id
    """,
    T.facts_evidence: f"""
        select f.id, f.arxiv_id, p.title, p.year, p.month, f.field, f.model, f.benchmark,
               f.metric, f.value, f.unit, f.normalized_value, f.normalized_unit,
               f.hardware, f.chip_count, f.time_kind, f.page, f.evidence, f.source,
               f.rule_id, f.confidence, f.extractor_version, e.pdf_sha256
        from {T.facts} f
        left join {T.papers} p on p.arxiv_id = f.arxiv_id
        left join {T.extractions} e on e.id = f.extraction_id
    """,
    T.open_flags: f"""
        select fl.id, fl.arxiv_id, p.title, fl.kind, fl.field, fl.model, fl.benchmark,
               fl.reason, fl.priority, fl.created_at
        from {T.flags} fl left join {T.papers} p on p.arxiv_id = fl.arxiv_id
        where fl.status = 'open'
    """,
    T.observations_evidence: f"""
        select o.*, p.title, p.published
        from {T.observations} o left join {T.papers} p on p.arxiv_id = o.arxiv_id
    """,
}

migrations = Migrations(MIGRATION_SET)


def _create(db: Database, name: str) -> None:
    spec = TABLES[name]
    db[name].create(
        spec["columns"],
        pk=spec["pk"],
        not_null=spec.get("not_null"),
        foreign_keys=spec.get("foreign_keys"),
    )
    for cols in spec.get("indexes", []):
        db[name].create_index(cols, if_not_exists=True)
    for cols in spec.get("unique", []):
        db[name].create_index(cols, unique=True, if_not_exists=True)


@migrations(name="0001_initial")
def m0001_initial(db: Database) -> None:
    # Order matters: tables referenced by foreign keys first.
    for name in TABLES:
        _create(db, name)
    for name, sql in VIEWS.items():
        db.create_view(name, sql)
    db[T.meta].insert({"key": "application", "value": "dlcompute"}, replace=True)


@migrations(name="0003_extraction_attempts")
def m0003_extraction_attempts(db: Database) -> None:
    """extractions: how many extract runs in a row tried the PDF (``attempts``) and, for
    a failed one, when a later run may try it again (``next_attempt_after``, ISO UTC)."""
    columns = db[T.extractions].columns_dict  # a store created by this version's 0001 has them
    for name, kind in (("attempts", int), ("next_attempt_after", str)):
        if name not in columns:
            db[T.extractions].add_column(name, kind)
    db.execute(f"update {T.extractions} set attempts = 1 where attempts is null")


# Who recorded a review: an annotator (one of the two of a double review) or an
# adjudicator, whose decision settles a disagreement.
REVIEW_ROLES = ("annotator", "adjudicator")
APPEND_ONLY = "reviews are append-only: record a new review (an undo or a revision) instead"


@migrations(name="0004_reviews_append_only")
def m0004_reviews_append_only(db: Database) -> None:
    """reviews: a token column (one review per form), a role, and no UPDATE or DELETE.

    The token was kept only in the ``after`` JSON, where one malformed row broke every
    lookup; the triggers make the append-only rule the database's, not only the code's.
    """
    columns = db[T.reviews].columns_dict  # a store created by this version's 0001 has them
    for name in ("token", "role"):
        if name not in columns:
            db[T.reviews].add_column(name, str)
    db[T.reviews].create_index(["token"], unique=True, if_not_exists=True)
    # the token of a review written before the column, from its JSON (CASE: json_extract
    # raises on malformed JSON); a token seen twice stays with its first review only
    def token(table: str) -> str:
        return f"(case when json_valid({table}.after) then json_extract({table}.after, " \
               f"'$.token') end)"

    db.execute(f"""update {T.reviews} set token = {token(T.reviews)}
                   where token is null and {token(T.reviews)} is not null
                   and id = (select min(r.id) from {T.reviews} r
                             where {token('r')} = {token(T.reviews)})
                   and not exists (select 1 from {T.reviews} u
                                   where u.token = {token(T.reviews)})""")
    for verb in ("update", "delete"):
        db.execute(f"""create trigger if not exists {T.reviews}_no_{verb}
                       before {verb} on {T.reviews}
                       begin select raise(abort, '{APPEND_ONLY}'); end""")


@migrations(name="0006_facts_row_id")
def m0006_facts_row_id(db: Database) -> None:
    # Facts read from one table row describe one model: curate pairs them by this id.
    # (A store created by this version's 0001 has the column already.)
    if "row_id" not in db[T.facts].columns_dict:
        db[T.facts].add_column("row_id", str)
    db[T.facts].create_index(["arxiv_id", "row_id"], if_not_exists=True)


def migration_names() -> list[str]:
    """Names of every migration this version of dlcompute knows."""
    return [m.name for m in migrations._migrations]


# --- 0007: change marks for curate, flag counts, indexes for the queue and status -----

# curate_dirty's arxiv_id for "every paper" (a hardware catalog or settings change).
ALL_PAPERS = "*"


@migrations(name="0007_curate_changes")
def m0007_curate_changes(db: Database) -> None:
    # db.triggers builds its SQL from the names here, so it is imported when run, not above
    from db.triggers import CURATE_INPUTS_0007, count_flags, track_curate_input

    db.execute(f"""create table {T.curate_dirty} (
        seq integer primary key autoincrement,
        arxiv_id text not null,  -- a paper, or '*': every paper
        input text not null      -- the table whose change marked it
    )""")
    db.execute(f"create unique index idx_{T.curate_dirty}_arxiv_id on {T.curate_dirty} (arxiv_id)")
    db[T.curate_pairs].create({"arxiv_id": str, "model_key": str, "log_params": float,
                               "log_flops": float}, pk=("arxiv_id", "model_key"),
                              not_null={"arxiv_id", "model_key"})
    for source in CURATE_INPUTS_0007:
        track_curate_input(db, source)
    # everything the store holds was decided without change tracking: decide it all again
    db.execute(f"insert into {T.curate_dirty} (arxiv_id, input) values (?, 'migration')",
               [ALL_PAPERS])
    count_flags(db)
    # what the review queue and status filter and sort by
    for sql in (
        f"create index if not exists idx_flags_status_priority_desc on {T.flags} "
        f"(status, priority desc)",
        f"create index if not exists idx_flags_benchmark on {T.flags} (benchmark)",
        f"create index if not exists idx_extractions_status_arxiv_id on {T.extractions} "
        f"(status, arxiv_id)",
        # the queue's "not decided by this annotator, not undone" test, per flag
        f"create index if not exists idx_reviews_flag_id_annotator on {T.reviews} "
        f"(flag_id, annotator)",
        f"create index if not exists idx_reviews_undoes on {T.reviews} (undoes)",
        f"create index if not exists idx_crawl_runs_started_at on {T.crawl_runs} (started_at)",
        f"create index if not exists idx_analysis_runs_started_at on {T.analysis_runs} "
        f"(started_at)",
    ):
        db.execute(sql)
