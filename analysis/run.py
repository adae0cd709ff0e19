"""``analyze``: observations in; tables, figures, results.json, index.html and a run row out."""

from __future__ import annotations

import json
import logging
import math
import shutil
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from analysis import extras, figures
from analysis.burden import ProjectionSettingsError, hardware_burden, projections
from analysis.compute import compute_per_pass
from analysis.data import (
    Observations,
    filter_observations,
    match_flags,
    read_hardware,
    read_observations_file,
    read_observations_store,
    read_open_flags,
)
from analysis.impute import DEFAULT_MIN_PAIRS, DEFAULT_MIN_R2, Conversion, impute
from analysis.project import BURDEN_BENCHMARKS
from analysis.regress import CannotFit
from analysis.report import Section, Table, num, regression_table, render_html, write_table
from analysis.select import PRIMARY_FAMILY, families, family_label, metric_family, paper_ids
from analysis.state import RunState, Slice, bench_order, label
from db.errors import DlcomputeError

log = logging.getLogger(__name__)

DEFAULTS: dict[str, Any] = {"bootstrap": 1000, "seed": 0, "quantile": 0.1,
                            "utilisation": extras.DEFAULT_UTILISATION, "projection": {},
                            "imputation_min_pairs": DEFAULT_MIN_PAIRS,
                            "imputation_min_r2": DEFAULT_MIN_R2,
                            "best_per_paper": False, "reviewed_only": False}
FLAGGED_LISTED = 200  # flagged observations named in results.json (all in the table file)


class AnalysisError(DlcomputeError):
    """The analysis cannot start: no observations source, or an unusable output folder."""


class UnknownBenchmarkError(AnalysisError):
    """``benchmarks`` names a benchmark that is neither configured nor in the data."""


@dataclass
class AnalysisResult:
    """What ``analyze`` wrote and found."""

    out_dir: Path
    index_html: Path
    results_json: Path
    results: dict
    skipped: list[dict] = field(default_factory=list)  # {"what", "reason"}
    n_observations: int = 0
    run_id: int | None = None


def _valid_errors(frame: pd.DataFrame, state: RunState) -> pd.DataFrame:
    bad = ~((frame["error"] > 0) & (frame["error"] <= 100))
    if bad.any():
        by = frame[bad].groupby(frame.loc[bad, "benchmark"].astype(object).fillna("(none)"),
                                sort=True).size()
        for bench, n in by.items():
            state.skip(None, f"{n} {label(str(bench))} observation(s)",
                       "error missing, non-positive or above 100%: left out of every fit")
    return frame[~bad & frame["benchmark"].notna()].reset_index(drop=True)


def _conversion(frame: pd.DataFrame, state: RunState) -> pd.DataFrame:
    """Figure 7 per benchmark family: fit, gate, parameter check, imputation."""
    min_pairs = int(state.settings["imputation_min_pairs"])
    min_r2 = float(state.settings["imputation_min_r2"])
    sec = Section("Parameters to FLOPs conversion (Figure 7)",
                  "log10(GFLOPs per pass) = a + b log10(parameters), fitted per benchmark "
                  "family on models that report both (one row per paper and model), used to "
                  "impute compute per pass where only parameters are known, and only when "
                  f"at least {min_pairs} models report both and R2 >= {min_r2} "
                  "([analysis] imputation_min_pairs, imputation_min_r2). A parameter count "
                  "more than 10x off its family's relation, or outside the range it was "
                  "fitted on by more than 10x, is listed below and neither fitted on nor "
                  "imputed from. Imputed points are open triangles in the compute figures.")
    state.sections.append(sec)
    frame, conversions = impute(frame, min_pairs=min_pairs, min_r2=min_r2)
    state.results["conversion"] = {c.family: c.to_dict(min_pairs, min_r2) for c in conversions}
    if not conversions:
        state.skip(sec, "imputation", "no observation reports parameters")
        return frame
    body = [[c.family, ", ".join(label(b) for b in c.benchmarks), str(c.n_pairs),
             num(c.fit.r2) if c.fit else "", "yes" if c.passed else f"no: {c.reason}",
             str(c.n_params_only), str(c.n_imputed), str(len(c.suspects))]
            for c in conversions]
    state.table(sec, Table("imputation", "Imputation per benchmark family, with its gate",
                           ["Family", "Benchmarks", "Models with both", "R2", "Imputed?",
                            "Parameters only", "Imputed", "Suspect parameter counts"], body))
    for c in conversions:
        _conversion_outputs(c, sec, state)
    suspects = pd.concat([c.suspects for c in conversions], ignore_index=True)
    if not suspects.empty:
        state.table(sec, Table(
            "suspect_parameters", "Parameter counts that do not look like parameters",
            ["arXiv id", "Model", "Benchmark", "Parameters", "Compute per pass (FLOPs)", "Why"],
            [[str(r.arxiv_id or ""), str(r.model or ""), label(r.benchmark),
              num(r.parameters), num(r.compute_per_pass), r.why]
             for r in suspects.itertuples()],
            note="Not imputed from and not used in the conversion fit."))
    return frame


def _conversion_outputs(c: Conversion, sec: Section, state: RunState) -> None:
    if c.fit is None:
        state.skip(sec, f"{c.family} parameters-to-FLOPs conversion", c.reason)
        return
    if not c.passed:
        state.skip(sec, f"{c.family} imputation", f"{c.reason}: {c.n_params_only} "
                   f"observations with parameters only stay without compute per pass")
    state.table(sec, regression_table(
        f"conversion_{c.family}", f"Conversion ({c.family}): log10(GFLOPs per pass) on "
        f"log10(parameters)", [("log10(GFLOPs)", c.fit)],
        {"const": "Constant", "log10_parameters": "log10(Parameters)"},
        counts=f"{c.n_pairs} models with both; {c.n_imputed} observations imputed"))
    good, bad = c.pairs[~c.pairs["suspect"]], c.pairs[c.pairs["suspect"]]

    def pts(p: pd.DataFrame) -> figures.Points:
        return figures.Points(p["parameters"].to_numpy(), p["gflops"].to_numpy(),
                              p["model"].to_numpy())

    state.figure(sec, figures.conversion_figure(
        f"Parameters to GFLOPs ({c.family}, Figure 7)", figures.thin(pts(good)),
        pts(bad), c.fit), f"fig7_conversion_{c.family}",
        f"{c.family}: GFLOPs per pass against parameters, with the conversion fit")


def _slices(frame: pd.DataFrame, present: list[str]) -> list[Slice]:
    """One slice per benchmark and metric family, the paper's metric first."""
    out = []
    for bench in present:
        rows = frame[frame["benchmark"] == bench]
        fams = families(bench, rows["family"])
        main = PRIMARY_FAMILY.get(bench, fams[0] if fams else None)
        for fam in fams:
            out.append(Slice(bench, fam, rows[rows["family"] == fam], fam == main))
    return out


def _over_time(frame: pd.DataFrame, state: RunState) -> None:
    sec = Section("Compute over time, relative to AlexNet (Figure 2b)")
    state.sections.append(sec)
    imagenet = frame[(frame["benchmark"] == "imagenet") & (frame["family"] == "top1")]
    out = {}
    for measure, what in (("hardware_burden", "Hardware burden"),
                          ("compute_per_pass", "Computation per pass")):
        try:
            ot = extras.over_time(imagenet, measure)
        except CannotFit as e:
            state.skip(sec, f"ImageNet {what.lower()} over time", str(e))
            continue
        out[measure] = {"reference": ot.reference, "reference_row": ot.reference_row,
                        "n": ot.n}
        points = figures.thin(figures.Points(ot.year, ot.ratio, ot.models, ot.imputed),
                              seed=state.settings["seed"])
        state.figure(sec, figures.over_time_figure(
            f"ImageNet (top-1 rows): {what.lower()} relative to AlexNet", points,
            f"{what} / AlexNet's (log scale)"), f"fig2b_{measure}",
            f"{what} of ImageNet models relative to {ot.reference}; {ot.n} observations"
            f"{figures.shown(points)}")
    state.results["over_time"] = out


def _conventions(slices: list[Slice], obs: Observations, store: Any, state: RunState) -> None:
    sec = Section("Peak-FLOPS convention and hardware-burden slopes")
    state.sections.append(sec)
    state.results["peak_conventions"] = None
    if not obs.from_store or store is None:
        state.skip(sec, "peak-FLOPS conventions", "needs the store's hardware table; "
                   "observations came from a file")
        return
    mains = [sl.rows for sl in slices if sl.main]
    if not mains:
        state.skip(sec, "peak-FLOPS conventions", "no benchmark has observations in its "
                   "main metric")
        return
    try:
        rows, note = extras.burden_by_convention(pd.concat(mains), read_hardware(store),
                                                 float(state.settings["utilisation"]))
    except CannotFit as e:
        state.skip(sec, "peak-FLOPS conventions", str(e))
        return
    slopes = extras.convention_slopes(rows)
    state.results["peak_conventions"] = {"note": note, "conventions": extras.CONVENTIONS,
                                         "utilisation": state.settings["utilisation"],
                                         "slopes": slopes}
    body = [[label(s["benchmark"]), str(s["n"]),
             *[num(s[c].get("slope")) or s[c].get("skipped", "") for c in extras.CONVENTIONS]]
            for s in slopes]
    state.table(sec, Table("peak_conventions", "Polynomial burden slope b by peak convention",
                           ["Benchmark", "N", *extras.CONVENTIONS.values()], body,
                           note=f"Each benchmark's main metric. Utilisation "
                                f"{state.settings['utilisation']}.", counts=note))


def _simulation(store: Any, out_dir: Path, state: RunState) -> None:
    from analysis.simio import latest_simulation

    sec = Section("Theory simulation (Figure 1)")
    state.sections.append(sec)
    sim = latest_simulation(store, out_dir)
    state.results["simulation"] = sim
    if sim is None:
        state.skip(sec, "simulation", "no simulation yet; run: dlcompute simulate")
        return
    need = sim["needed_to_match"]
    sec.text = (f"{sim['settings']['sims']} simulations per point (seed "
                f"{sim['settings']['seed']}). Observations needed to match the oracle's "
                f"performance at n = {sim['settings']['match_at']}: flexible "
                f"{num(need.get('flexible'), 0) or 'not reached'}, Lasso "
                f"{num(need.get('lasso'), 0) or 'not reached'} (paper: about 1,500 and 175).")
    state.figure(sec, figures.simulation_figure(sim), "fig1_simulation",
                 "Oracle, expert, flexible and Lasso: performance against data and computation")


def _flags_section(frame: pd.DataFrame, n_left_out: int, obs: Observations, store: Any,
                   state: RunState) -> Section:
    """Which observations have open flags, and what they do to the main fits."""
    sec = Section("Observations with open flags")
    if not state.flags_known:
        sec.text = ("Observations came from a file: flags are in the store, not checked."
                    if store is None or not obs.from_store else "")
        state.results["open_flags"] = None
        return sec
    flagged = frame[frame["flag"] != ""]
    info: dict[str, Any] = {"n_observations_flagged": len(flagged),
                            "reviewed_only": bool(state.settings["reviewed_only"]),
                            "n_left_out": n_left_out}
    if state.settings["reviewed_only"]:
        sec.text = (f"--reviewed-only: {n_left_out} observation(s) with open flags were left "
                    f"out of every fit.")
    elif flagged.empty:
        sec.text = "No open flag is about an observation used here."
    else:
        sec.text = (f"{len(flagged)} observation(s) have open flags; resolving them (dlcompute "
                    f"review, then curate) may change the results. The main fits with and "
                    f"without them are below; --reviewed-only leaves them out of every fit.")
    effect = []
    for kind, res_key, what in (("compute per pass", "compute_per_pass", "polynomial"),
                                ("hardware burden", "hardware_burden", "polynomial")):
        for key, res in (state.results.get(res_key) or {}).items():
            variants = {e["variant"].split(" (")[0]: e for e in res.get("robustness", [])}
            main, clean = variants.get("main fit"), variants.get(
                "without observations with open flags")
            if not main or not clean or main.get("b") is None:
                continue
            effect.append({"fit": f"{key} {kind} ({what})", "n": main["n"],
                           "n_without": clean["n"], "b": main["b"], "b_without": clean.get("b"),
                           "se_cluster": main.get("se_cluster"),
                           "se_cluster_without": clean.get("se_cluster")})
    info["effect"] = effect
    info["listed"] = [{"arxiv_id": r.arxiv_id, "model": r.model, "benchmark": r.benchmark,
                       "metric": r.metric, "flag": r.flag}
                      for r in flagged.head(FLAGGED_LISTED).itertuples()]
    state.results["open_flags"] = info
    if effect and not state.settings["reviewed_only"]:
        t = Table("flags_effect", "Main fits with and without the flagged observations",
                  ["Fit", "N", "Slope b", "N without flagged", "Slope b without flagged",
                   "Change"],
                  [[e["fit"], str(e["n"]), num(e["b"]), str(e["n_without"]),
                    num(e["b_without"]),
                    num(None if e["b_without"] is None else e["b_without"] - e["b"])]
                   for e in effect])
        state.table(sec, t)
    if not flagged.empty and not state.settings["reviewed_only"]:
        state.table(sec, Table(
            "flagged_observations", "Observations with open flags",
            ["arXiv id", "Model", "Benchmark", "Metric", "Open flag"],
            [[str(r.arxiv_id or ""), str(r.model or ""), label(str(r.benchmark)),
              str(r.metric or ""), r.flag] for r in flagged.itertuples()]))
    return sec


def _clean(v: Any) -> Any:
    if isinstance(v, float):
        return v if math.isfinite(v) else None
    if isinstance(v, dict):
        return {str(k): _clean(x) for k, x in v.items()}
    if isinstance(v, list | tuple):
        return [_clean(x) for x in v]
    if isinstance(v, np.generic):
        return _clean(v.item())
    return v


def analyze(store: Any, *, observations: str | Path | None = None, out_dir: str | Path = "report",
            benchmarks: list[str] | None = None, since: int | None = None,
            until: int | None = None, settings: dict | None = None,
            version: str = "unknown",
            known_benchmarks: list[str] | None = None) -> AnalysisResult:
    """Run the whole analysis; see the package docstring."""
    from analysis.simio import finish_run, start_run

    settings = {**DEFAULTS, **(settings or {})}
    _check_settings(settings)
    if settings["reviewed_only"] and (observations is not None or store is None):
        raise AnalysisError("--reviewed-only needs the store's observations and flags; "
                            "drop --observations")
    if observations is not None:
        obs = read_observations_file(observations)
    elif store is not None:
        obs = read_observations_store(store)
    else:
        raise AnalysisError("No observations: pass a store or an observations file "
                            "(--observations FILE)")
    _check_benchmarks(benchmarks, known_benchmarks, obs.frame)
    out = Path(out_dir)
    if out.exists() and not out.is_dir():
        raise AnalysisError(f"Output {out} is a file; choose a folder with --out")
    for sub in ("tables", "figures"):
        shutil.rmtree(out / sub, ignore_errors=True)  # no stale tables from an earlier run
    out.mkdir(parents=True, exist_ok=True)
    run_settings = {"kind": "analyze", "observations": obs.source, "benchmarks": benchmarks,
                    "since": since, "until": until, **settings}
    run_id = start_run(store, version, str(out), run_settings) if store is not None else None
    try:
        result = _analyze(store, obs, out, benchmarks, since, until, settings, version,
                          run_settings)
    except ProjectionSettingsError as e:
        finish_run(store, run_id, status="failed", n=0, results=None, error=str(e))
        raise AnalysisError(str(e)) from e
    except Exception as e:
        finish_run(store, run_id, status="failed", n=0, results=None, error=str(e))
        raise
    result.run_id = run_id
    finish_run(store, run_id, status="done", n=result.n_observations, results=result.results)
    return result


def _check_settings(settings: dict) -> None:
    if not (isinstance(settings["imputation_min_pairs"], int)
            and settings["imputation_min_pairs"] >= 3):
        raise AnalysisError(f"[analysis] imputation_min_pairs must be a whole number of at "
                            f"least 3, not {settings['imputation_min_pairs']!r}")
    r2 = settings["imputation_min_r2"]
    if not (isinstance(r2, int | float) and 0 <= r2 <= 1):
        raise AnalysisError(f"[analysis] imputation_min_r2 must be between 0 and 1, not {r2!r}")
    if not (isinstance(settings["bootstrap"], int) and settings["bootstrap"] >= 10):
        raise AnalysisError(f"[analysis] bootstrap must be at least 10 resamples, not "
                            f"{settings['bootstrap']!r}")


def _check_benchmarks(benchmarks: list[str] | None, known: list[str] | None,
                      frame: pd.DataFrame) -> None:
    """An unknown --benchmark is an error naming the known ones (a typo must not pass)."""
    if not benchmarks or known is None:
        return
    present = set(frame["benchmark"].dropna().astype(str).str.lower())
    names = {k.lower() for k in known} | present
    unknown = [b for b in benchmarks if b.lower() not in names]
    if unknown:
        raise UnknownBenchmarkError(
            f"Unknown benchmark(s) {', '.join(unknown)}; known: "
            f"{', '.join(sorted(names))} (add one under [benchmarks.NAME] in dlcompute.toml)")


def _prepare(store: Any, obs: Observations, benchmarks: list[str] | None, since: int | None,
             until: int | None, state: RunState) -> tuple[pd.DataFrame, int, int]:
    """The frame every fit draws from: filtered, flagged, valid, imputed."""
    frame = filter_observations(obs.frame, benchmarks=benchmarks, since=since, until=until)
    frame["benchmark"] = frame["benchmark"].astype(object).str.lower().astype("category")
    frame["family"] = frame["metric"].astype(object).map(metric_family).astype("category")
    n_all = len(frame)
    frame["flag"] = ""
    if state.flags_known:
        frame["flag"] = match_flags(frame, read_open_flags(store))
    n_left_out = 0
    if state.settings["reviewed_only"]:
        n_left_out = int((frame["flag"] != "").sum())
        frame = frame[frame["flag"] == ""].reset_index(drop=True)
    frame = _valid_errors(frame, state)
    frame = _conversion(frame, state)
    return frame, n_all, n_left_out


def _analyze(store: Any, obs: Observations, out: Path, benchmarks: list[str] | None,
             since: int | None, until: int | None, settings: dict, version: str,
             run_settings: dict) -> AnalysisResult:
    state = RunState(out, settings, flags_known=obs.from_store and store is not None)
    frame, n_all, n_left_out = _prepare(store, obs, benchmarks, since, until, state)
    present = bench_order(sorted(set(frame["benchmark"].astype(str))))
    wanted = [b.lower() for b in benchmarks] if benchmarks else present
    for b in wanted:
        if b not in present:
            state.skip(None, label(b), "no usable observations for this benchmark")
    slices = _slices(frame, present)
    counts = {sl.key: {"metric": family_label(sl.family), "n": len(sl.rows),
                       "papers": int(pd.Series(paper_ids(sl.rows)).nunique()),
                       "with_compute": int((sl.rows["compute_per_pass"] > 0).sum()),
                       "imputed": int((sl.rows["compute_imputed"] > 0).sum()),
                       "with_burden": int((sl.rows["hardware_burden"] > 0).sum()),
                       "with_open_flags": int((sl.rows["flag"] != "").sum())}
              for sl in slices}
    state.results.update({"dlcompute_version": version, "settings": run_settings,
                          "source": obs.source, "n_observations": n_all, "counts": counts})
    for sl in slices:
        compute_per_pass(sl, state)
    burden_slices = [s for s in slices if s.main and s.bench in BURDEN_BENCHMARKS] + \
        [s for s in slices if not (s.main and s.bench in BURDEN_BENCHMARKS)]
    projections(hardware_burden(burden_slices, state), state)
    _over_time(frame, state)
    _conventions(slices, obs, store, state)
    _simulation(store, out, state)
    flags_sec = _flags_section(frame, n_left_out, obs, store, state)
    state.results["skipped"] = state.skipped
    results = _clean(state.results)
    results_json = out / "results.json"
    results_json.write_text(json.dumps(results, indent=2), encoding="utf-8")
    data_sec = _data_section(frame, n_all, obs, counts, state, wanted)
    index = out / "index.html"
    index.write_text(render_html(
        title="dlcompute analysis: the computational limits of deep learning",
        intro=[("dlcompute version", version), ("Observations", obs.source),
               ("Benchmarks", ", ".join(label(b) for b in present) or "none"),
               ("Years", f"{since or 'any'} to {until or 'any'}"),
               ("Models", "the best model of each paper (--best-per-paper)"
                if settings["best_per_paper"] else "every model"),
               ("Conventions", "one metric family per fit (ImageNet Table 1: top-1 error); "
                "fits take error as a fraction and compute in GFLOPs; a multiply-add counts "
                "as 2 FLOPs; standard errors plain (as the paper) and clustered by paper; "
                "bootstrap over papers; figures show error in percent")],
        sections=[data_sec, flags_sec, *state.sections],
        settings_text=json.dumps(_clean(run_settings), indent=2)), encoding="utf-8")
    return AnalysisResult(out, index, results_json, results, state.skipped, n_all)


def _data_section(frame: pd.DataFrame, n_all: int, obs: Observations, counts: dict,
                  state: RunState, wanted: list[str]) -> Section:
    sec = Section("Data", f"{n_all} observations read from {obs.source}; {len(frame)} with a "
                  f"usable error. Each benchmark is fitted once per metric family; the "
                  f"paper's metric first.")
    count_rows = [[k, c["metric"], *(str(c[f]) for f in ("n", "papers", "with_compute",
                                                         "imputed", "with_burden",
                                                         "with_open_flags"))]
                  for k, c in counts.items()]
    sec.tables.append(Table("counts", "Observations per benchmark and metric",
                            ["Benchmark", "Metric", "N", "Papers", "With compute per pass",
                             "Compute imputed", "With hardware burden", "With open flags"],
                            count_rows))
    write_table(sec.tables[0], state.out_dir / "tables")
    sec.skipped = [f"{s['what']}: {s['reason']}" for s in state.skipped
                   if "observation(s)" in s["what"] or s["what"] in
                   {label(b) for b in wanted}]
    return sec
