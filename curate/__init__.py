"""curate stage: pair each own model's result with its compute, flag what needs a person.

Library API (what ``dlcompute curate`` and ``dlcompute run`` call)::

    from curate import curate
    summary = curate(store, pwc_paths=["evaluation-tables.json"],
                     epoch_paths=["notable_ai_models.csv"], peak="fp32_base")
    summary.observations, summary.flags_open, summary.flags_closed

``curate(store, *, pwc_paths=(), epoch_paths=(), peak="fp32_base",
conflict_confidence=0.1, value_tolerance=0.02, pwc_tolerance=0.5,
epoch_tolerance=0.1, double_review_fraction=None, fit_min_pairs=8, full=False,
batch_size=200) -> CurateSummary`` loads Papers with Code dumps into
``pwc_results`` and Epoch AI exports into ``epoch_models``, then decides again
every paper whose inputs changed since the last run (all of them with
``full``): its ``observations`` (one per own model, benchmark, metric and split;
curate.pairing: the result an own fact, compute and parameters from the same
table row, else the same named variant, else a paper-level figure when the paper
has one own model; decisions win), their per-value sources
(``observation_sources``), and its ``flags`` (missing, conflict, implausible,
pwc_mismatch, epoch_mismatch, unknown_hardware; opened, closed or reopened), one
per question, each listing the observations it changes (``flag_observations``).
It reads and writes a batch of papers at a time in short transactions, so other
processes may write the store meanwhile; running it twice changes nothing.
``curate.decide.decide_paper`` is one paper's decision.

Conventions: error is in percent (100 - accuracy / AP / F1 / EM / BLEU; error
metrics as they are); compute per pass is in FLOPs, a multiply-add counted as 2
FLOPs (``compute_unit`` keeps what the paper stated); hardware burden is chips x
peak GFLOPS x 1e9 x training seconds, the peak taken from the catalog column the
``peak`` setting names, falling back to the next column the chip has (TPUs have
only a tensor figure). An observation with a value that failed a plausibility check
no review has settled has ``status = 'held'``; the analysis leaves it out.

``load_pwc(store, paths)`` and ``load_epoch(store, paths)`` load the cross-check data
alone; ``review.create_app(db_path, ...)`` is the annotators' web app (``dlcompute
review``); ``agreement(store)`` gives Cohen's kappa between two annotators per field
with a bootstrap interval. ``curate.decisions`` checks decisions (typed or stored) and
replays reviews into the decision in force; ``curate.humanize.human`` shows values in
human units.
"""

from curate.agreement import agreement
from curate.curation import CurateSummary, curate
from curate.epoch import EpochError, load_epoch, read_epoch
from curate.pairing import PaperInput, pair_paper
from curate.pwc import PwcError, load_pwc, read_pwc

__all__ = ["CurateSummary", "EpochError", "PaperInput", "PwcError", "agreement", "curate",
           "load_epoch", "load_pwc", "pair_paper", "read_epoch", "read_pwc"]
