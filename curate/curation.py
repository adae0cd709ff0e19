"""``curate()``: decide again the papers whose inputs changed, a batch at a time.

Triggers (``db/triggers.py``, ``CurateInput``) mark a paper in ``curate_dirty``
whenever one of its facts, extractions, reviews, Papers with Code rows or its
date changes; a hardware catalog change, new curate settings or new rules mark
every paper (arxiv_id ``*``). Curate takes the marked papers in batches: it
reads a batch's inputs in one short read transaction, decides each paper
outside any transaction, then in one short write transaction checks that no
paper's mark moved meanwhile (a moved paper is left marked and decided again
in the next round), writes observations, flags and fit pairs in place of the
old ones, and clears the marks. Annotators and other commands can write the
store at any time: no transaction lasts longer than one batch's read or write.

The one store-wide check, compute against the FLOPs-parameters fit over every
pair of the store, is kept exact: the changed papers' pairs are computed first
(a pre-pass that builds their rows only), the fit is made from those and the
stored pairs of every other paper (``curate_pairs``), and papers whose flag
would differ between the fit their flags were written with and the new one are
decided again with the changed papers. So a run builds each changed paper
twice (pre-pass and decision); when every paper is marked, every paper.
"""

from __future__ import annotations

import contextlib
import hashlib
import heapq
import json
import logging
import sqlite3
from collections.abc import Iterator
from dataclasses import asdict, dataclass, field
from pathlib import Path

import numpy as np

from curate import (
    build,
    checks,
    choose,
    decide,
    entities,
    epoch,
    inputs,
    names,
    pairing,
    provenance,
    sanity,
    values,
    write,
)
from curate.build import BuildOptions
from curate.checks import Fit, fit_flag_key, fit_store, flags_moved
from curate.decide import PaperDecision, batch_pairs, decide_batch
from curate.epoch import load_epoch
from curate.inputs import load_catalog, load_inputs
from curate.provenance import link_flags
from curate.pwc import load_pwc
from curate.review.queue import immediate
from curate.values import model_key
from curate.write import (
    Changes,
    reword_fit_flags,
    sample_open_flags,
    sampled,
    sync_flags,
    write_observations,
    write_pairs,
)
from db import DlcomputeError, Store
from db.schema import ALL_PAPERS, T
from db.status import flag_counts
from db.store import utcnow

log = logging.getLogger(__name__)

META_RULES = "curate.rules"  # hash of the code that decides: new rules decide all again
META_OPTIONS = "curate.options"  # the BuildOptions the observations and flags were made with
META_FIT = "curate.fit"  # the FLOPs-parameters fit the flags were written with
META_SAMPLED = "curate.double_review_fraction"  # every open unreviewed flag is sampled at it
RULE_MODULES = (build, checks, choose, decide, entities, epoch, inputs, names, pairing, provenance,
                sanity, values, write)
MAX_ROUNDS = 6
BATCH_SIZE = 200
WRITE_ATTEMPTS = 5


class CurateBusyError(DlcomputeError):
    """The store stayed locked by another writer for longer than curate waits."""


@dataclass
class CurateSummary(Changes):
    """What one curate run did."""

    observations: int = 0
    flags_open: int = 0
    flags_closed: int = 0
    pwc_loaded: int = 0
    epoch_loaded: int = 0
    open_by_kind: dict[str, int] = field(default_factory=dict)
    fit: dict = field(default_factory=dict)
    errors: list[str] = field(default_factory=list)  # papers skipped, with the reason
    full: bool = False  # every paper was decided again (asked, or new settings or rules)
    papers_decided: int = 0
    papers_redone: int = 0  # their inputs changed while curate ran: decided again
    papers_pending: int = 0  # still marked at the end (the next run takes them)


def rules_fingerprint() -> str:
    """A hash of the source of every module that decides a paper."""
    h = hashlib.sha256()
    for mod in RULE_MODULES:
        h.update(Path(mod.__file__).read_bytes())
    return h.hexdigest()[:16]


@contextlib.contextmanager
def snapshot(store: Store) -> Iterator[None]:
    """One read transaction: every query inside sees the same state of the store."""
    store.db.conn.execute("begin")
    try:
        yield
    finally:
        store.db.conn.execute("commit")


def _marks(ids: list) -> str:
    return ",".join("?" * len(ids))


def _mark(store: Store, ids: list[str], why: str) -> None:
    """Mark papers as curate's triggers do (a new seq for each)."""
    for start in range(0, len(ids), 500):
        chunk = ids[start:start + 500]
        store.db.execute(f"delete from {T.curate_dirty} where arxiv_id in ({_marks(chunk)})",
                         chunk)
        store.db.conn.executemany(f"insert into {T.curate_dirty} (arxiv_id, input) "
                                  f"values (?, ?)", [(a, why) for a in chunk])


def _seqs(store: Store, ids: list[str]) -> dict[str, int]:
    return {r["arxiv_id"]: r["seq"] for r in store.db.query(
        f"select arxiv_id, seq from {T.curate_dirty} where arxiv_id in ({_marks(ids)})", ids)}


class _Run:
    """One curate run over the store: rounds until no paper is left marked."""

    def __init__(self, store: Store, options: BuildOptions, fraction: float | None,
                 batch_size: int, summary: CurateSummary):
        self.store = store
        self.o = options
        self.fraction = fraction
        self.batch_size = batch_size
        self.summary = summary
        self.failed: set[str] = set()
        fit = store.get_meta(META_FIT)
        self.fit: Fit | None = Fit.from_dict(json.loads(fit)) if fit else None
        self.refit = False

    def prepare(self, full: bool) -> None:
        """Mark every paper when asked, or when the settings or the rules changed."""
        options = json.dumps(asdict(self.o), sort_keys=True)
        rules = rules_fingerprint()
        with self._write():
            why = ("full" if full else
                   "rules" if self.store.get_meta(META_RULES) != rules else
                   "options" if self.store.get_meta(META_OPTIONS) != options else None)
            if why:
                _mark(self.store, [ALL_PAPERS], why)
                self.store.set_meta(META_RULES, rules)
                self.store.set_meta(META_OPTIONS, options)

    def run(self) -> None:
        for _ in range(MAX_ROUNDS):
            with snapshot(self.store):
                everything = next(iter(self.store.db.query(
                    f"select seq, input from {T.curate_dirty} where arxiv_id = ?",
                    [ALL_PAPERS])), None)
                catalog = load_catalog(self.store.db)
            if everything is None and not self.refit and not self._pending(after="", limit=1):
                break
            self._round(everything, catalog)
        self.summary.papers_pending = self.store.count(T.curate_dirty)
        self.summary.fit = (self.fit or Fit()).as_dict()
        if self.fraction is not None and self.store.get_meta(META_SAMPLED) != str(self.fraction):
            self._sample_all()

    # --- iterating papers ----------------------------------------------------------------
    def _pending(self, after: str, limit: int) -> list[str]:
        """Marked papers after ``after`` (in arxiv_id order), without those that failed."""
        out: list[str] = []
        while len(out) < limit:
            rows = [r["arxiv_id"] for r in self.store.db.query(
                f"select arxiv_id from {T.curate_dirty} where arxiv_id > ? and arxiv_id != ? "
                f"order by arxiv_id limit ?", [after, ALL_PAPERS, limit])]
            if not rows:
                break
            out += [a for a in rows if a not in self.failed]
            after = rows[-1]
        return out[:limit]

    def _papers(self, after: str, limit: int) -> list[str]:
        return [r["arxiv_id"] for r in self.store.db.query(
            f"select arxiv_id from {T.papers} where arxiv_id > ? order by arxiv_id limit ?",
            [after, limit])]

    def _batches(self, every_paper: bool) -> Iterator[list[str]]:
        after = ""
        while True:
            ids = (self._papers if every_paper else self._pending)(after, self.batch_size)
            if not ids:
                return
            yield ids
            after = ids[-1]

    # --- one round -------------------------------------------------------------------------
    def _round(self, everything: dict | None, catalog: dict[str, dict]) -> None:
        pre: dict[str, dict[str, tuple[float, float]]] = {}
        for ids in self._batches(every_paper=everything is not None):
            with snapshot(self.store):
                batch = load_inputs(self.store, ids, catalog)
            pre.update(batch_pairs(batch, self.o, ids))
        fit, changed, reasons = self._refit(pre, everything is None)
        with self._write():
            _mark(self.store, sorted(changed), "fit")
            reword_fit_flags(self.store.db, reasons, utcnow())
            self.store.set_meta(META_FIT, json.dumps(fit.as_dict()))
        self.fit, self.refit = fit, False
        if everything is not None:
            self.summary.full = True
        for ids in self._batches(every_paper=everything is not None):
            self._decide_and_write(ids, catalog, pre)
        if everything is not None:
            with self._write():
                self.store.db.execute(f"delete from {T.curate_dirty} where arxiv_id = ? "
                                      f"and seq = ?", [ALL_PAPERS, everything["seq"]])

    def _refit(self, pre: dict[str, dict[str, tuple[float, float]]],
               find_changed: bool) -> tuple[Fit, set[str], list[tuple[str, str, str, str]]]:
        """The fit over every pair (``pre`` in place of the stored pairs of its papers); the
        papers whose compute is off under one of the fit their flags were written with and
        this one but not the other; and (key, arxiv_id, old, new) reasons of the flags off under
        both.

        Pairs go into the fit in (arxiv_id, model key) order, so the same pairs give the
        same fit to the last bit, however the run came to them.
        """
        with snapshot(self.store):
            stored = [r for r in self.store.db.conn.execute(
                f"select arxiv_id, model_key, log_params, log_flops from {T.curate_pairs} "
                f"order by arxiv_id, model_key") if r[0] not in pre]
        fresh = sorted((a, k, lp, lf) for a, ps in pre.items() for k, (lp, lf) in ps.items())
        pairs = list(heapq.merge(stored, fresh))
        fit = fit_store(np.array([p[2] for p in pairs], dtype=float),
                        np.array([p[3] for p in pairs], dtype=float), self.o)
        if not find_changed or fit == self.fit or not stored:
            return fit, set(), []
        lp = np.array([p[2] for p in stored], dtype=float)
        lf = np.array([p[3] for p in stored], dtype=float)
        flipped, reworded = flags_moved(self.fit, fit, lp, lf)
        reasons = [(fit_flag_key(stored[i][0], stored[i][1]), stored[i][0],
                    self.fit.reason(float(lp[i]), float(lf[i])),
                    fit.reason(float(lp[i]), float(lf[i]))) for i in np.flatnonzero(reworded)]
        return fit, {stored[i][0] for i in np.flatnonzero(flipped)}, reasons

    def _decide_and_write(self, ids: list[str], catalog: dict[str, dict],
                          pre: dict[str, dict[str, tuple[float, float]]]) -> None:
        with snapshot(self.store):
            seqs = _seqs(self.store, ids)
            batch = load_inputs(self.store, ids, catalog)
        decided = decide_batch(batch, self.o, self.fit, ids)
        ok = []
        for d in decided:
            if d.error:
                self.failed.add(d.arxiv_id)
                self.summary.errors.append(d.error)
            else:
                ok.append(d)
        for attempt in range(WRITE_ATTEMPTS):
            try:
                with self._write():
                    now = _seqs(self.store, ids)
                    moved = {a for a in ids if now.get(a) != seqs.get(a)}
                    self._write_batch([d for d in ok if d.arxiv_id not in moved], batch, pre)
                break
            except sqlite3.OperationalError as e:
                if "locked" not in str(e) and "busy" not in str(e):
                    raise
                log.warning("curate: store busy (%s); batch from %s again (%d)", e, ids[0],
                            attempt + 1)
        else:
            raise CurateBusyError(
                f"Store {self.store.path} stayed locked by another writer; what curate "
                f"decided so far is saved: run dlcompute curate again when it is free")
        self.summary.papers_redone += len(moved & {d.arxiv_id for d in ok})
        self.summary.papers_decided += len(ok) - len(moved & {d.arxiv_id for d in ok})

    def _write_batch(self, decided: list[PaperDecision], batch: inputs.Inputs,
                     pre: dict[str, dict[str, tuple[float, float]]]) -> None:
        if not decided:
            return
        db = self.store.db
        ids = [d.arxiv_id for d in decided]
        stored: dict[str, dict[str, tuple[float, float]]] = {a: {} for a in ids}
        for r in db.query(f"select * from {T.curate_pairs} where arxiv_id in ({_marks(ids)})",
                          ids):
            stored[r["arxiv_id"]][r["model_key"]] = (r["log_params"], r["log_flops"])
        # the fit assumed these pairs; other ones (inputs changed after the pre-pass) move it
        self.refit |= any(d.pairs != pre.get(d.arxiv_id, stored[d.arxiv_id]) for d in decided)
        now = utcnow()
        before = (self.summary.flags_new, self.summary.flags_reopened)
        write_observations(db, decided, now, self.summary)
        sync_flags(db, decided, batch, self.o.value_tolerance, self.fraction, now, self.summary)
        write_pairs(db, decided)
        link_flags(db, {k: f for d in decided for k, f in d.flags.items()}, ids)
        if self.fraction is None and before != (self.summary.flags_new,
                                                self.summary.flags_reopened):
            # flags opened without sampling: a later run with a fraction samples them all
            db.execute(f"delete from {T.meta} where key = ?", [META_SAMPLED])
        db.execute(f"delete from {T.curate_dirty} where arxiv_id in ({_marks(ids)})", ids)

    def _sample_all(self) -> None:
        after: int | None = 0
        while after is not None:
            with self._write():
                after = sample_open_flags(self.store.db, self.fraction, after, 5000)
        with self._write():
            self.store.set_meta(META_SAMPLED, str(self.fraction))

    def _write(self):
        return immediate(self.store)


def curate(store: Store, *, pwc_paths: tuple | list = (), peak: str = "fp32_base",
           conflict_confidence: float = 0.1, value_tolerance: float = 0.02,
           pwc_tolerance: float = 0.5, double_review_fraction: float | None = None,
           fit_min_pairs: int = 8, full: bool = False,
           batch_size: int = BATCH_SIZE, epoch_paths: tuple | list = (),
           epoch_tolerance: float = 0.1) -> CurateSummary:
    """Pair each own model's result with its compute and flag what needs a person.

    Loads the Papers with Code dumps in ``pwc_paths`` into ``pwc_results`` and the Epoch
    AI exports in ``epoch_paths`` into ``epoch_models``, then decides again each paper
    whose inputs changed since the last run (every paper with ``full``): its
    ``observations`` (one per own model, benchmark, metric and split; curate.pairing),
    their per-value sources, and its ``flags`` (opened, updated, closed or reopened,
    each listing the observations its answer changes). Idempotent; reads and writes in
    short transactions of ``batch_size`` papers, so other processes may write the store
    meanwhile. ``double_review_fraction`` (None: leave as is) samples open, unreviewed
    flags for a second annotator; Epoch AI values differing by more than
    ``epoch_tolerance`` (relative) raise a flag.
    """
    options = BuildOptions(peak=peak, conflict_confidence=conflict_confidence,
                           value_tolerance=value_tolerance, pwc_tolerance=pwc_tolerance,
                           fit_min_pairs=fit_min_pairs, epoch_tolerance=epoch_tolerance)
    if batch_size < 1:
        raise ValueError(f"batch_size {batch_size}: must be at least 1")
    summary = CurateSummary()
    summary.pwc_loaded = load_pwc(store, [Path(p) for p in pwc_paths])
    summary.epoch_loaded = load_epoch(store, [Path(p) for p in epoch_paths])
    run = _Run(store, options, double_review_fraction, batch_size, summary)
    run.prepare(full)
    run.run()
    summary.observations = store.count(T.observations)
    counts = flag_counts(store)
    summary.open_by_kind = counts.get("open", {})
    summary.flags_open = sum(summary.open_by_kind.values())
    summary.flags_closed = sum(counts.get("closed", {}).values())
    return summary


__all__ = ["CurateBusyError", "CurateSummary", "curate", "model_key", "sampled"]
