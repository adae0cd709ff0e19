"""analysis stage: the paper's regressions, projections and figures, from the store.

Library API (the CLI commands ``analyze`` and ``simulate`` are thin wrappers):

``analyze(store_or_none, *, observations=None, out_dir="report", benchmarks=None,
since=None, until=None, settings={}, version="unknown", known_benchmarks=None)
-> AnalysisResult``
    Reads observations from ``store.observations`` (a ``db.Store``; only the
    columns below, streamed) or, when ``observations`` is a path, from a
    CSV/JSONL file (LF or CRLF) with the same columns (arxiv_id, model,
    benchmark, year, month, metric, error [percent], compute_per_pass [FLOPs
    per example], parameters, hardware, chips, training_hours,
    hardware_burden [FLOPs], compute_imputed [true/false, yes/no, 1/0]).
    Keeps the chosen benchmarks and years, matches open flags to the
    observations they are about (store only), imputes compute per pass from
    parameters per benchmark family behind a quality gate (Figure 7), and
    fits each benchmark once per metric family (``analysis.select``; ImageNet
    top-1 is Table 1, top-5 its own table): Tables 1-4 with plain and
    clustered-by-paper standard errors, the 10% quantile (Figure 8), the year
    trend, a bootstrap over papers, leave-one-paper-out, robustness rows
    (without imputed compute, best model per paper, without flagged
    observations), the peak-FLOPS conventions (store only), the projections
    (Figure 4; only from a slope that falls and is significant at 5%) and
    compute over time (Figure 2b). Writes to ``out_dir``: ``index.html``
    (self-contained), ``tables/*.csv|md|tex``, ``figures/*.png|svg`` and
    ``results.json``. With a store, a row in ``analysis_runs`` (settings JSON
    ``{"kind": "analyze", ...}``) holds the same results. ``settings`` keys
    (all optional, ``analysis.DEFAULTS``): ``bootstrap`` (1000 resamples of
    papers), ``seed`` (0), ``quantile`` (0.1), ``utilisation`` (0.4, for the
    tensor-peak convention), ``imputation_min_pairs`` (10),
    ``imputation_min_r2`` (0.5), ``best_per_paper`` (False: every fit on the
    lowest-error model of each paper), ``reviewed_only`` (False: leave out
    observations with open flags; store only), ``projection``
    (``chip_gflops``, ``co2_lbs_per_chip_hour``, ``usd_per_chip_hour``,
    ``targets`` {benchmark: [percent, percent]}). ``known_benchmarks``: the
    configured names; a name in ``benchmarks`` that is neither known nor in
    the data raises ``UnknownBenchmarkError``. Parts the data cannot support
    are skipped with a reason (``AnalysisResult.skipped``, the report and
    results.json); bad input files raise ``ObservationsError`` (a
    DlcomputeError) naming file, line and column.

``simulate(store_or_none, *, out_dir="report", sims=1000, seed=0, workers=None,
version="unknown", sizes=None, dim=1000, progress=None) -> dict``
    The theory simulation of Figure 1 (see ``analysis.theory``), spread over
    ``workers`` processes; ``progress(k)`` is called as simulations finish.
    Writes ``out_dir/simulation.json`` and ``figures/fig1_simulation.png|svg``
    and, with a store, an ``analysis_runs`` row with ``"kind": "simulate"``;
    the next ``analyze`` shows the latest one.

The package never imports ``dlcompute``: the caller passes the version string.
"""

from __future__ import annotations

from analysis.data import REQUIRED_COLUMNS, ObservationsError
from analysis.run import DEFAULTS, AnalysisError, AnalysisResult, UnknownBenchmarkError, analyze
from analysis.simio import run_simulation as simulate

__all__ = ["DEFAULTS", "REQUIRED_COLUMNS", "AnalysisError", "AnalysisResult",
           "ObservationsError", "UnknownBenchmarkError", "analyze", "simulate"]
