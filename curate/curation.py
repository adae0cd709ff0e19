"""``curate()``: load Papers with Code, rebuild observations, sync flags, in one transaction."""

from __future__ import annotations

import hashlib
import json
import logging
from dataclasses import dataclass, field
from pathlib import Path

from curate.build import Builder, BuildOptions, FlagSpec
from curate.checks import check_flops_vs_params, check_pwc, check_unknown_hardware
from curate.choose import decision_value, differ, snapshot_ids
from curate.epoch import check_epoch, load_epoch
from curate.provenance import OBS_KEY, delete_observation, link_flags, obs_key, write_sources
from curate.pwc import load_pwc
from curate.values import Decision, decisions_by_target, effective_decisions, model_key
from db import Store
from db.schema import T
from db.store import utcnow

log = logging.getLogger(__name__)

OBS_COLUMNS = ("year", "month", "error", "compute_per_pass", "parameters", "hardware", "chips",
               "training_hours", "hardware_burden", "compute_imputed", "compute_unit", "sources",
               "status", "status_reason")


@dataclass
class CurateSummary:
    """What one curate run did."""

    observations: int = 0
    observations_added: int = 0
    observations_updated: int = 0
    observations_removed: int = 0
    flags_open: int = 0
    flags_closed: int = 0
    flags_new: int = 0
    flags_reopened: int = 0
    flags_closed_now: int = 0
    pwc_loaded: int = 0
    epoch_loaded: int = 0
    open_by_kind: dict[str, int] = field(default_factory=dict)
    fit: dict = field(default_factory=dict)
    errors: list[str] = field(default_factory=list)  # papers skipped, with the reason


def sampled(key: str, fraction: float) -> int:
    """Deterministic sample of flags for double review: the same flags on every run."""
    if fraction <= 0:
        return 0
    h = int(hashlib.sha256(key.encode()).hexdigest()[:8], 16) / 0xFFFFFFFF
    return int(h < fraction)


def curate(store: Store, *, pwc_paths: tuple | list = (), peak: str = "fp32_base",
           conflict_confidence: float = 0.1, value_tolerance: float = 0.02,
           pwc_tolerance: float = 0.5, double_review_fraction: float | None = None,
           fit_min_pairs: int = 8, epoch_paths: tuple | list = (),
           epoch_tolerance: float = 0.1) -> CurateSummary:
    """Choose the values the analysis uses and flag what needs a person.

    Loads the Papers with Code dumps in ``pwc_paths`` into ``pwc_results``, rebuilds
    ``observations`` (one per paper, model, benchmark and metric) from annotators'
    decisions, the best-confidence facts and Papers with Code (in that order), and
    opens, updates, closes or reopens ``flags``. Idempotent; all in one transaction.
    ``double_review_fraction`` (None: leave as is) samples open, unreviewed flags for
    a second annotator. ``epoch_paths`` loads Epoch AI exports into ``epoch_models``, the
    second cross-check (values differing by more than ``epoch_tolerance``, relative).
    """
    options = BuildOptions(peak=peak, conflict_confidence=conflict_confidence,
                           value_tolerance=value_tolerance, pwc_tolerance=pwc_tolerance,
                           fit_min_pairs=fit_min_pairs)
    summary = CurateSummary()
    with store.transaction():
        summary.pwc_loaded = load_pwc(store, [Path(p) for p in pwc_paths])
        summary.epoch_loaded = load_epoch(store, [Path(p) for p in epoch_paths])
        builder = Builder(store, options, decisions_by_target(store))
        rows: list[dict] = []
        wanted = set(builder.facts) | set(_extracted(store))
        for arxiv_id in sorted(wanted):
            try:
                rows.extend(builder.build_paper(arxiv_id))
            except (TypeError, ValueError, KeyError, ArithmeticError) as e:
                # one malformed paper must not stop the batch: report it, go on
                log.warning("curate: paper %s skipped: %r", arxiv_id, e)
                summary.errors.append(f"{arxiv_id}: {e!r}")
        summary.fit = check_flops_vs_params(builder, rows)
        check_pwc(builder, rows)
        check_epoch(builder, rows, epoch_tolerance)
        check_unknown_hardware(builder, rows)
        _write_observations(store, rows, summary)
        _sync_flags(store, builder, effective_decisions(store), double_review_fraction, summary)
        link_flags(store.db, builder.flags)
    summary.observations = store.count(T.observations)
    summary.flags_open = store.count(T.flags, "status = 'open'")
    summary.flags_closed = store.count(T.flags, "status = 'closed'")
    summary.open_by_kind = {r["kind"]: r["n"] for r in store.db.query(
        f"select kind, count(*) as n from {T.flags} where status = 'open' group by kind "
        f"order by kind")}
    return summary


def _extracted(store: Store) -> list[str]:
    return [r["arxiv_id"] for r in store.db.query(
        f"select distinct arxiv_id from {T.extractions} where status = 'ok'")]


def _write_observations(store: Store, rows: list[dict], summary: CurateSummary) -> None:
    now = utcnow()
    existing = {obs_key(r): r for r in store.db.query(f"select * from {T.observations}")}
    seen = set()
    table = store.db[T.observations]
    for row in rows:
        k = obs_key(row)
        if k in seen:
            continue  # two spellings of one model: the first (best) wins
        seen.add(k)
        full = {c: row.get(c) for c in OBS_COLUMNS}
        old = existing.get(k)
        if old is None:
            oid = table.insert({**dict(zip(OBS_KEY, k, strict=True)), **full,
                                "updated_at": now}).last_pk
            summary.observations_added += 1
        else:
            oid = old["id"]
            if any(old[c] != full[c] for c in OBS_COLUMNS):
                table.update(oid, {**full, "updated_at": now})
                summary.observations_updated += 1
        write_sources(store.db, oid, row.get("_sources", ()))
    for k, old in existing.items():
        if k not in seen:
            delete_observation(store.db, old["id"])
            summary.observations_removed += 1


def _new_evidence(spec: FlagSpec, d: Decision, facts_by_id: dict[int, dict],
                  tolerance: float) -> list[dict]:
    """Candidates the annotator did not see whose value contradicts the decision."""
    seen = snapshot_ids(d.before)
    decided = decision_value(spec.field, d, facts_by_id)
    if isinstance(decided, tuple):
        decided = decided[0]
    out = []
    for c in spec.candidates:
        if c.get("fact_id") is None or c["fact_id"] in seen or c["fact_id"] == d.fact_id:
            continue
        if decided == "not_reported" or decided is None or differ(c.get("value"), decided,
                                                                  tolerance):
            out.append(c)
    return out


def _sync_flags(store: Store, b: Builder, decisions: dict[int, Decision],
                fraction: float | None, summary: CurateSummary) -> None:
    now = utcnow()
    table = store.db[T.flags]
    existing = {f["key"]: f for f in store.db.query(f"select * from {T.flags}")}
    reviewed = {r["flag_id"] for r in store.db.query(f"select distinct flag_id from {T.reviews}")}
    for key, spec in b.flags.items():
        content = {
            "arxiv_id": spec.arxiv_id, "model": spec.model, "benchmark": spec.benchmark,
            "field": spec.field, "kind": spec.kind, "reason": spec.reason,
            "candidates": json.dumps(spec.candidates, sort_keys=True),
            "pwc_value": spec.pwc_value, "priority": len(spec.observations),
        }
        old = existing.get(key)
        if old is None:
            table.insert({"key": key, **content, "status": "open",
                          "double_review": sampled(key, fraction or 0.0),
                          "created_at": now, "updated_at": now})
            summary.flags_new += 1
            continue
        changes = {c: v for c, v in content.items() if old[c] != v}
        if fraction is not None and old["id"] not in reviewed and old["status"] == "open":
            dr = sampled(key, fraction)
            if dr != old["double_review"]:
                changes["double_review"] = dr
        if old["status"] == "closed":
            d = decisions.get(old["id"])
            fresh = _new_evidence(spec, d, b.facts_by_id, b.o.value_tolerance) if d else None
            if d is None or fresh:
                changes.update(status="open", resolution=None, closed_at=None)
                if fresh:
                    changes["reason"] = (f"{spec.reason}; reopened: new evidence "
                                         f"(fact {', '.join(str(c['fact_id']) for c in fresh)}) "
                                         f"contradicts review {d.review_id}")
                summary.flags_reopened += 1
        if changes:
            table.update(old["id"], {**changes, "updated_at": now})
    for key, old in existing.items():
        if key not in b.flags and old["status"] == "open":
            table.update(old["id"], {"status": "closed", "resolution": "auto: no longer detected",
                                     "closed_at": now, "updated_at": now,
                                     "lease_annotator": None, "lease_expires": None})
            summary.flags_closed_now += 1


__all__ = ["CurateSummary", "curate", "model_key"]
