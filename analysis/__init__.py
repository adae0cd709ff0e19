"""analysis stage: the paper's regressions, projections and figures, from the store.

Library API (the CLI commands ``analyze`` and ``simulate`` are thin wrappers):

``analyze(store_or_none, *, observations=None, out_dir="report", benchmarks=None,
since=None, until=None, settings={}, version="unknown") -> AnalysisResult``
    Reads observations from ``store.observations`` (a ``db.Store``) or, when
    ``observations`` is a path, from a CSV/JSONL file with the same columns
    (arxiv_id, model, benchmark, year, month, metric, error [percent],
    compute_per_pass [FLOPs per example], parameters, hardware, chips,
    training_hours, hardware_burden [FLOPs], compute_imputed). Keeps the
    chosen benchmarks and years, imputes compute per pass from parameters
    (Figure 7), fits Tables 1-4, the 10% quantile (Figure 8), the year trend,
    bootstrap and leave-one-out robustness, the peak-FLOPS conventions (store
    only), the projections (Figure 4) and compute over time (Figure 2b), and
    writes to ``out_dir``: ``index.html`` (self-contained), ``tables/*.csv|md|tex``,
    ``figures/*.png|svg`` and ``results.json``. With a store, a row in
    ``analysis_runs`` (settings JSON ``{"kind": "analyze", ...}``) holds the same
    results. ``settings`` keys (all optional): ``bootstrap`` (1000 resamples),
    ``seed`` (0), ``quantile`` (0.1), ``utilisation`` (0.4, for the tensor-peak
    convention), ``projection`` (``chip_gflops``, ``co2_lbs_per_chip_hour``,
    ``usd_per_chip_hour``, ``targets`` {benchmark: [percent, percent]}).
    Parts the data cannot support are skipped with a reason
    (``AnalysisResult.skipped``, the report and results.json); bad input files
    raise ``ObservationsError`` (a DlcomputeError) naming file, line and column.

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
