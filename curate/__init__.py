"""curate stage: choose the values the analysis uses, flag what needs a person.

Library API (what ``dlcompute curate`` and ``dlcompute run`` call)::

    from curate import curate
    summary = curate(store, pwc_paths=["evaluation-tables.json"], peak="fp32_base")
    summary.observations, summary.flags_open, summary.flags_closed

``curate(store, *, pwc_paths=(), peak="fp32_base", conflict_confidence=0.1,
value_tolerance=0.02, pwc_tolerance=0.5, double_review_fraction=None,
fit_min_pairs=8, full=False, batch_size=200) -> CurateSummary`` loads Papers
with Code dumps into ``pwc_results``, then decides again every paper whose
inputs changed since the last run (all of them with ``full``): its
``observations`` (one per model, benchmark and metric: decision >
best-confidence fact > Papers with Code) and its ``flags`` (missing, conflict,
implausible, pwc_mismatch, unknown_hardware; opened, closed or reopened). It
reads and writes a batch of papers at a time in short transactions, so other
processes may write the store meanwhile; running it twice changes nothing.
``curate.decide.decide_paper`` is one paper's decision.

Conventions: error is in percent (100 - accuracy / AP / F1 / EM / BLEU; error
metrics as they are); compute per pass is in FLOPs, a multiply-add counted as 2
FLOPs (``compute_unit`` keeps what the paper stated); hardware burden is chips x
peak GFLOPS x 1e9 x training seconds, the peak taken from the catalog column the
``peak`` setting names, falling back to the next column the chip has (TPUs have
only a tensor figure); ``observations.sources`` names where each value came from.

``load_pwc(store, paths)`` loads dumps alone; ``review.create_app(db_path, ...)``
is the annotators' web app (``dlcompute review``); ``agreement(store)`` gives
Cohen's kappa between two annotators per field with a bootstrap interval.
``curate.decisions`` checks decisions (typed or stored) and replays reviews into
the decision in force; ``curate.humanize.human`` shows values in human units.
"""

from curate.agreement import agreement
from curate.curation import CurateSummary, curate
from curate.pwc import PwcError, load_pwc, read_pwc

__all__ = ["CurateSummary", "PwcError", "agreement", "curate", "load_pwc", "read_pwc"]
