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
    observation_sources = "observation_sources"
    flag_observations = "flag_observations"
    epoch_models = "epoch_models"
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
            "kind": str,  # missing | conflict | implausible | pwc_mismatch | epoch_mismatch | unknown_hardware
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
            "split": str,  # val | test | test-dev | minival | dev ...; "" when not stated
            "error": float,  # percent, 0-100
            "compute_per_pass": float,  # FLOPs; multiply-adds counted as 2 FLOPs
            "parameters": float,
            "hardware": str,
            "chips": float,
            "training_hours": float,
            "hardware_burden": float,  # FLOPs: chips x peak FLOP/s x seconds
            "compute_imputed": int,  # 1 when compute_per_pass came from parameters
            "compute_unit": str,  # flops | multiply-adds, as the paper stated
            "sources": str,  # JSON: column -> fact:ID | review:ID | pwc:ID (see observation_sources)
            # ok | held: a value failed a plausibility check no review has settled; the
            # analysis leaves held observations out of its fits until they are reviewed
            "status": str,
            "status_reason": str,
            "updated_at": str,
        },
        "pk": "id",
        "foreign_keys": [("arxiv_id", T.papers, "arxiv_id")],
        "indexes": [["benchmark"], ["arxiv_id"], ["status"]],
        "unique": [["arxiv_id", "model", "benchmark", "metric", "split"]],
    },
    # Where each observation value came from: one row per value (and per source).
    T.observation_sources: {
        "columns": {
            "id": int,
            "observation_id": int,
            "column": str,  # error | compute_per_pass | parameters | hardware | chips | ...
            # stated (the result itself) | row (same table row) | name (same named variant
            # elsewhere) | paper (paper-level figure, one own model) | review | pwc |
            # catalog (a chip's peak) | derived (computed from the other values)
            "kind": str,
            "fact_id": int,
            "review_id": int,
            "pwc_id": int,
            "epoch_id": int,
            "detail": str,  # e.g. the catalog column of a peak: hardware:V100.fp32_base_gflops
        },
        "pk": "id",
        "foreign_keys": [("observation_id", T.observations, "id")],
        "indexes": [["observation_id"], ["fact_id"], ["review_id"]],
    },
    # The observations a flag's answer changes (what the review page lists).
    T.flag_observations: {
        "columns": {"flag_id": int, "observation_id": int},
        "pk": ("flag_id", "observation_id"),
        "foreign_keys": [("flag_id", T.flags, "id"), ("observation_id", T.observations, "id")],
        "indexes": [["observation_id"]],
    },
    # Epoch AI's notable models (CC BY), the second cross-check beside Papers with Code.
    T.epoch_models: {
        "columns": {
            "id": int,
            "arxiv_id": str,  # from the Link column; NULL when it names no arXiv paper
            "model": str,
            "organization": str,
            "publication_date": str,
            "domain": str,
            "parameters": float,
            "training_compute": float,  # FLOP, whole training run
            "training_hardware": str,
            "hardware_quantity": float,
            "training_time_hours": float,
            "epochs": float,
            "confidence": str,
            "parameters_notes": str,
            "compute_notes": str,
            "training_time_notes": str,
            "link": str,
            "source": str,  # file it came from
            "loaded_at": str,
        },
        "pk": "id",
        "indexes": [["arxiv_id"]],
        "unique": [["source", "model"]],
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
    # One row per observation value: where it came from, down to the page and the
    # sentence or table row (facts.evidence), the review or the Papers with Code row.
    T.observations_evidence: f"""
        select o.id as observation_id, o.arxiv_id, p.title, o.model, o.benchmark, o.metric,
               o.split, o.status, s.column,
               case s.column when 'error' then o.error
                    when 'compute_per_pass' then o.compute_per_pass
                    when 'parameters' then o.parameters when 'chips' then o.chips
                    when 'training_hours' then o.training_hours
                    when 'hardware_burden' then o.hardware_burden end as value,
               s.kind, s.fact_id, f.page, f.row_id, f.evidence, f.value as stated_value,
               f.unit as stated_unit, f.confidence, f.rule_id, e.pdf_sha256,
               s.review_id, r.annotator, r.action as review_action, r.note as review_note,
               s.pwc_id, w.model as pwc_model, w.value as pwc_value, w.source as pwc_source,
               s.epoch_id, s.detail
        from {T.observations} o
        join {T.observation_sources} s on s.observation_id = o.id
        left join {T.papers} p on p.arxiv_id = o.arxiv_id
        left join {T.facts} f on f.id = s.fact_id
        left join {T.extractions} e on e.id = f.extraction_id
        left join {T.reviews} r on r.id = s.review_id
        left join {T.pwc_results} w on w.id = s.pwc_id
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


@migrations(name="0008_observation_pairing")
def m0008_observation_pairing(db: Database) -> None:
    # Observations gain their split (part of their key) and a status the analysis reads;
    # provenance moves from a JSON string to a link table; flags list the observations
    # their answer changes; Epoch AI's models join Papers with Code as a cross-check.
    # (A store created by this version's 0001 has all of it already.)
    cols = db[T.observations].columns_dict
    for name in ("split", "status", "status_reason"):
        if name not in cols:
            db[T.observations].add_column(name, str)
    db.execute(f"update {T.observations} set split = '' where split is null")
    db.execute(f"update {T.observations} set status = 'ok' where status is null")
    db.execute("drop index if exists idx_observations_arxiv_id_model_benchmark_metric")
    db[T.observations].create_index(["arxiv_id", "model", "benchmark", "metric", "split"],
                                    unique=True, if_not_exists=True)
    db[T.observations].create_index(["status"], if_not_exists=True)
    for name in (T.observation_sources, T.flag_observations, T.epoch_models):
        if not db[name].exists():
            _create(db, name)
    db.execute(f"drop view if exists {T.observations_evidence}")
    db.create_view(T.observations_evidence, VIEWS[T.observations_evidence])
    # an Epoch AI row for a paper is one of its curate inputs, like a Papers with Code row
    from db.triggers import CurateInput, track_curate_input

    track_curate_input(db, CurateInput(T.epoch_models))


def migration_names() -> list[str]:
    """Names of every migration this version of dlcompute knows."""
    return [m.name for m in migrations._migrations]
