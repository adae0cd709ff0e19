"""``analyze``: observations in; tables, figures, results.json, index.html and a run row out."""

from __future__ import annotations

import json
import logging
import math
import shutil
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from analysis import extras, figures
from analysis.data import (
    Observations,
    filter_observations,
    read_hardware,
    read_observations_file,
    read_observations_store,
    read_open_flags,
)
from analysis.project import (
    BURDEN_BENCHMARKS,
    DEFAULT_TARGETS,
    LABELS,
    CostConstants,
    paper_projection,
    project,
)
from analysis.regress import CannotFit, Fit, bootstrap_slope, exponent, leave_one_out, ols, quantile
from analysis.report import Section, Table, num, regression_table, render_html, write_table
from db.errors import DlcomputeError

log = logging.getLogger(__name__)

YEAR_ORIGIN = 2012  # the year trend counts years since AlexNet, so the constant stays readable
DEFAULTS: dict[str, Any] = {"bootstrap": 1000, "seed": 0, "quantile": 0.1,
                            "utilisation": extras.DEFAULT_UTILISATION, "projection": {}}
COMPUTE_TERMS = {"const": "Constant", "log10_gflops": "log10(Computation per Network Update)",
                 "year": f"Year (since {YEAR_ORIGIN})"}
BURDEN_TERMS = {"const": "Constant", "log10_burden": "log10(Hardware Burden)"}


class AnalysisError(DlcomputeError):
    """The analysis cannot start: no observations source, or an unusable output folder."""


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


def label(bench: str) -> str:
    return LABELS.get(bench, bench)


def bench_order(names: list[str]) -> list[str]:
    known = [b for b in BURDEN_BENCHMARKS if b in names]
    return known + sorted(b for b in names if b not in known)


class _Run:
    """The state one analysis builds up: results, sections, skipped parts."""

    def __init__(self, out_dir: Path, settings: dict):
        self.out_dir = out_dir
        self.settings = settings
        self.results: dict[str, Any] = {}
        self.skipped: list[dict] = []
        self.sections: list[Section] = []

    def skip(self, section: Section | None, what: str, reason: str) -> None:
        log.info("skipped %s: %s", what, reason)
        self.skipped.append({"what": what, "reason": reason})
        if section is not None:
            section.skipped.append(f"{what}: {reason}")

    def figure(self, section: Section, fig: Any, name: str, caption: str) -> None:
        saved = figures.save(fig, self.out_dir / "figures", name)
        section.figures.append({"name": name, "caption": caption, "base64": saved["base64"]})

    def table(self, section: Section, t: Table) -> None:
        write_table(t, self.out_dir / "tables")
        section.tables.append(t)

    def fit(self, section: Section, what: str, fn: Any, *args: Any, **kw: Any) -> Fit | None:
        try:
            return fn(*args, **kw)
        except CannotFit as e:
            self.skip(section, what, str(e))
            return None
        except (np.linalg.LinAlgError, ValueError, ZeroDivisionError) as e:
            # A numerically degenerate sample must not take the other benchmarks down.
            self.skip(section, what, f"the fit failed numerically ({e})")
            return None


def _valid_errors(frame: pd.DataFrame, run: _Run) -> pd.DataFrame:
    bad = ~((frame["error"] > 0) & (frame["error"] <= 100))
    if bad.any():
        by = frame[bad].groupby(frame["benchmark"].fillna("(none)")).size()
        for bench, n in by.items():
            run.skip(None, f"{n} {label(str(bench))} observation(s)",
                     "error missing, non-positive or above 100%: left out of every fit")
    return frame[~bad & frame["benchmark"].notna()].reset_index(drop=True)


def _conversion(frame: pd.DataFrame, run: _Run) -> pd.DataFrame:
    """Figure 7: fit log10(GFLOPs) on log10(parameters); impute compute where missing."""
    sec = Section("Parameters to FLOPs conversion (Figure 7)",
                  "log10(GFLOPs per pass) = a + b log10(parameters), fitted on models that "
                  "report both (one row per paper and model), used to impute compute per pass "
                  "where only parameters are known. Imputed points are marked in every figure "
                  "(open triangles) and counted in every table.")
    run.sections.append(sec)
    both = frame[(frame["compute_per_pass"] > 0) & (frame["parameters"] > 0)
                 & (frame["compute_imputed"] == 0)]
    both = both.drop_duplicates(subset=["arxiv_id", "model"])
    fit = run.fit(sec, "parameters-to-FLOPs conversion", ols,
                  np.log10(both["compute_per_pass"].to_numpy() / 1e9),
                  np.log10(both["parameters"].to_numpy()), ["log10_parameters"],
                  name="conversion", formula="log10(GFLOPs per pass) ~ log10(parameters)")
    frame = frame.copy()
    need = ~(frame["compute_per_pass"] > 0) & (frame["parameters"] > 0)
    run.results["conversion"] = {"fit": fit.to_dict() if fit else None,
                                 "n_models": len(both), "n_imputed": 0}
    if fit is None:
        if need.any():
            run.skip(sec, "imputation", f"{int(need.sum())} observations have parameters only "
                                        f"and stay without compute per pass")
        return frame
    a, b = fit.coef["const"], fit.coef["log10_parameters"]
    frame.loc[need, "compute_per_pass"] = 1e9 * 10 ** (a + b * np.log10(
        frame.loc[need, "parameters"]))
    frame.loc[need, "compute_imputed"] = 1.0
    run.results["conversion"]["n_imputed"] = int(need.sum())
    run.table(sec, regression_table(
        "conversion", "Conversion: log10(GFLOPs per pass) on log10(parameters)",
        [("log10(GFLOPs)", fit)], {"const": "Constant", "log10_parameters": "log10(Parameters)"},
        counts=f"{len(both)} models with both; {int(need.sum())} observations imputed"))
    run.figure(sec, figures.conversion_figure(both["parameters"].to_numpy(),
                                              both["compute_per_pass"].to_numpy() / 1e9, fit),
               "fig7_conversion", "GFLOPs per pass against parameters, with the conversion fit")
    return frame


def _counts(g: pd.DataFrame) -> str:
    imp = int((g["compute_imputed"] > 0).sum())
    return (f"{len(g)} observations from {g['arxiv_id'].nunique()} papers, "
            f"{imp} with compute imputed from parameters")


def _compute_per_pass(bench: str, g: pd.DataFrame, run: _Run) -> None:
    """Tables 1 and 2, Figure 8, the exponent and its robustness, for one benchmark."""
    name = label(bench)
    sec = Section(f"{name}: computation per network pass (Tables 1-2, Figure 8)")
    run.sections.append(sec)
    rows = g[g["compute_per_pass"] > 0]
    res: dict[str, Any] = {"counts": {"n": len(rows),
                                      "n_imputed": int((rows["compute_imputed"] > 0).sum())}}
    run.results.setdefault("compute_per_pass", {})[bench] = res
    if rows.empty:
        run.skip(sec, f"{name} compute per pass", "no observation has compute per pass")
        return
    x = np.log10(rows["compute_per_pass"].to_numpy() / 1e9)
    err = rows["error"].to_numpy() / 100.0
    y = np.log10(err)
    f = f"{name}:"
    expo = run.fit(sec, f"{f} exponential form", ols, err, x, ["log10_gflops"],
                   name=f"{bench} exponential", formula="error ~ log10(GFLOPs)")
    poly = run.fit(sec, f"{f} polynomial form", ols, y, x, ["log10_gflops"],
                   name=f"{bench} polynomial", formula="log10(error) ~ log10(GFLOPs)")
    dated = rows["year"].notna().to_numpy()
    trend = run.fit(sec, f"{f} year trend", ols, y[dated],
                    np.column_stack([x[dated], rows["year"].to_numpy()[dated] - YEAR_ORIGIN]),
                    ["log10_gflops", "year"], name=f"{bench} polynomial + year",
                    formula=f"log10(error) ~ log10(GFLOPs) + (year - {YEAR_ORIGIN})")
    q = run.settings["quantile"]
    quant = run.fit(sec, f"{f} {q:.0%} quantile regression", quantile, y, x, ["log10_gflops"],
                    q=q, name=f"{bench} quantile {q}", formula="log10(error) ~ log10(GFLOPs)")
    for key, fit in (("exponential", expo), ("polynomial", poly), ("year_trend", trend),
                     ("quantile", quant)):
        res[key] = fit.to_dict() if fit else None
    counts = _counts(rows)
    run.table(sec, regression_table(
        f"table1_{bench}", f"Table 1 ({name}): exponential (1) and polynomial (2) forms",
        [("(1) Error rate", expo), ("(2) log10(Error rate)", poly)],
        {k: v for k, v in COMPUTE_TERMS.items() if k != "year"},
        note="Error as a fraction, compute in GFLOPs per network pass.", counts=counts))
    run.table(sec, regression_table(
        f"table2_{bench}", f"Table 2 ({name}): with a year trend",
        [("(1) log10(Error rate)", poly), ("(2) log10(Error rate)", trend)], COMPUTE_TERMS,
        note=f"Year counted from {YEAR_ORIGIN}.",
        counts=f"{counts}; {int(dated.sum())} with a year"))
    summary: list[list[str]] = []
    if poly is not None:
        ex = exponent(poly, "log10_gflops")
        res["exponent"] = ex
        summary.append(["Scaling exponent -1/b (compute ~ performance^x)", num(ex["exponent"]),
                        f"[{num(ex['ci_low'])}, {num(ex['ci_high']) or 'unbounded'}]"
                        + (f" ({ex['note']})" if ex["note"] else "")])
        try:
            boot = bootstrap_slope(x, y, n_boot=run.settings["bootstrap"],
                                   seed=run.settings["seed"])
            res["bootstrap"] = boot
            summary.append([f"Bootstrap ({boot['n_boot']} resamples) exponent interval", "",
                            f"[{num(boot['exponent_ci_low'])}, "
                            f"{num(boot['exponent_ci_high']) or 'unbounded'}]"])
            summary.append(["Bootstrap slope b interval", num(poly.coef["log10_gflops"]),
                            f"[{num(boot['b_ci_low'])}, {num(boot['b_ci_high'])}]"])
        except CannotFit as e:
            run.skip(sec, f"{f} bootstrap", str(e))
        groups = [a or m or "?" for a, m in zip(rows["arxiv_id"], rows["model"], strict=True)]
        loo = leave_one_out(x, y, groups)
        res["leave_one_out"] = loo
        if loo:
            top = loo[0]
            summary.append(["Most influential paper (leave one out)", top["paper"],
                            f"slope {num(top['slope_without'])} without it "
                            f"(change {num(top['change'])}, {top['n_dropped']} obs.)"])
    if trend is not None:
        b, c = trend.coef["log10_gflops"], trend.coef["year"]
        years = b / c if c != 0 else None
        res["years_per_10x_compute"] = years
        summary.append(["Years of algorithmic progress worth 10x compute (b / year coef.)",
                        num(years), "" if years and years > 0 else
                        "not interpretable: the two coefficients differ in sign"])
    if quant is not None:
        summary.append([f"{q:.0%} quantile slope", num(quant.coef["log10_gflops"]),
                        f"[{num(quant.ci_low['log10_gflops'])}, "
                        f"{num(quant.ci_high['log10_gflops'])}]"])
    if summary:
        run.table(sec, Table(f"exponent_{bench}", f"{name}: scaling exponent and robustness",
                             ["Quantity", "Value", "95% interval / detail"], summary,
                             counts=counts))
    if poly is not None or quant is not None:
        run.figure(sec, figures.compute_figure(
            f"{name}: error vs computation per network pass", 10**x, 100 * err,
            rows["compute_imputed"].to_numpy(), poly, quant,
            xlabel="Computation per network pass (GFLOPs, log scale)"),
            f"compute_{bench}", f"{name}: error against GFLOPs per pass, polynomial fit "
                                f"with 95% band and the {q:.0%} quantile line ({counts})")


def _hardware_burden(frame: pd.DataFrame, benches: list[str], run: _Run) -> dict:
    """Tables 3 and 4, one figure per benchmark and the panel (Figures 3 and 10)."""
    sec = Section("Hardware burden (Tables 3-4, Figures 3 and 10)",
                  "Hardware burden = chips x peak FLOP/s x training seconds, in GFLOPs. "
                  "Polynomial: log10(error) = a + b log10(burden). Exponential: "
                  "1/error = a + b log10(burden). Error as a fraction.")
    run.sections.append(sec)
    fits: dict[str, tuple[Fit | None, Fit | None]] = {}
    panels, out = [], {}
    for bench in benches:
        name = label(bench)
        rows = frame[(frame["benchmark"] == bench) & (frame["hardware_burden"] > 0)]
        if rows.empty:
            run.skip(sec, f"{name} hardware burden", "no observation has a hardware burden")
            fits[bench] = (None, None)
            continue
        x = np.log10(rows["hardware_burden"].to_numpy() / 1e9)
        err = rows["error"].to_numpy() / 100.0
        poly = run.fit(sec, f"{name} polynomial burden fit", ols, np.log10(err), x,
                       ["log10_burden"], name=f"{bench} burden polynomial",
                       formula="log10(error) ~ log10(burden GFLOPs)")
        expo = run.fit(sec, f"{name} exponential burden fit", ols, 1.0 / err, x,
                       ["log10_burden"], name=f"{bench} burden exponential",
                       formula="1/error ~ log10(burden GFLOPs)")
        fits[bench] = (poly, expo)
        out[bench] = {"n": len(rows), "n_imputed": int((rows["compute_imputed"] > 0).sum()),
                      "polynomial": poly.to_dict() if poly else None,
                      "exponential": expo.to_dict() if expo else None}
        args = (name, 10**x, 100 * err, rows["compute_imputed"].to_numpy(), poly, expo)
        if bench in BURDEN_BENCHMARKS:
            panels.append(args)
        run.figure(sec, figures.burden_figure(*args), f"burden_{bench}",
                   f"{name}: error against hardware burden, both forms ({_counts(rows)})")
    run.results["hardware_burden"] = out
    counts = "; ".join(f"{label(b)} {v['n']}" for b, v in out.items())
    cols3 = [(label(b), fits[b][0]) for b in benches]
    cols4 = [(label(b), fits[b][1]) for b in benches]
    if any(f for _, f in cols3):
        run.table(sec, regression_table(
            "table3_burden_polynomial", "Table 3: hardware burden, polynomial model "
            "(log10(error))", cols3, BURDEN_TERMS, counts=counts))
    if any(f for _, f in cols4):
        run.table(sec, regression_table(
            "table4_burden_exponential", "Table 4: hardware burden, exponential model "
            "(1/error)", cols4, BURDEN_TERMS, counts=counts))
    if panels:
        run.figure(sec, figures.burden_panel(panels), "fig3_burden_panel",
                   "All hardware-burden benchmarks side by side (Figure 3)")
    return fits


def _log_text(v: float | None) -> str:
    return "" if v is None else f"10^{v:.1f}"


def _projection_table(name: str, title: str, rows: list, counts: str, note: str) -> Table:
    body = [[label(r.benchmark), r.label, f"{r.error_percent:g}%",
             _log_text(r.poly_log10_gflops), _log_text(r.poly_log10_co2_lbs),
             _log_text(r.poly_log10_usd), _log_text(r.exp_log10_gflops),
             _log_text(r.exp_log10_co2_lbs), _log_text(r.exp_log10_usd)] for r in rows]
    header = ["Benchmark", "Point", "Error", "Poly. GFLOPs", "Poly. CO2 (lbs)", "Poly. $",
              "Exp. GFLOPs", "Exp. CO2 (lbs)", "Exp. $"]
    return Table(name, title, header, body, note=note, counts=counts)


def _projections(frame: pd.DataFrame, fits: dict, run: _Run) -> None:
    """Figure 4: today's best error and two targets, under both forms, with costs."""
    conf = dict(run.settings.get("projection") or {})
    targets_conf = conf.pop("targets", {}) or {}
    try:
        constants = CostConstants(**{k: float(v) for k, v in conf.items()
                                     if k in ("chip_gflops", "co2_lbs_per_chip_hour",
                                              "usd_per_chip_hour")})
    except ValueError as e:
        raise AnalysisError(str(e)) from e
    sec = Section("Projections (Figure 4)",
                  f"Compute (GFLOPs of hardware burden) to reach today's best error and two "
                  f"targets, from the hardware-burden fits, with CO2 and dollars at "
                  f"{constants.lbs_per_gflop:.3g} lbs and ${constants.usd_per_gflop:.3g} per "
                  f"GFLOP. Source: {constants.source}. Override in dlcompute.toml [projection].")
    run.sections.append(sec)
    rows = []
    for bench, (poly, expo) in fits.items():
        targets = tuple(targets_conf.get(bench, DEFAULT_TARGETS.get(bench, ())))
        if not targets:
            run.skip(sec, f"{label(bench)} projection", "no targets set for this benchmark "
                     "(add [projection.targets] to dlcompute.toml)")
            continue
        if poly is None and expo is None:
            run.skip(sec, f"{label(bench)} projection", "no hardware-burden fit")
            continue
        today = float(frame.loc[frame["benchmark"] == bench, "error"].min())
        rows += project(bench, today, targets,
                        (poly.coef["const"], poly.coef["log10_burden"]) if poly else None,
                        (expo.coef["const"], expo.coef["log10_burden"]) if expo else None,
                        constants)
    paper_rows = paper_projection(constants)
    run.results["projection"] = {"constants": constants.to_dict(),
                                 "rows": [asdict(r) for r in rows],
                                 "paper_rows": [asdict(r) for r in paper_rows]}
    if rows:
        run.table(sec, _projection_table(
            "projection", "Projection from today's data", rows,
            "today = best error among the benchmark's observations",
            "Orders of magnitude (log10 values in results.json)."))
    run.table(sec, _projection_table(
        "projection_paper", "Projection from the paper's own Tables 3 and 4", paper_rows,
        "the paper's coefficients and 'today' errors", "For comparison with Figure 4."))


def _over_time(frame: pd.DataFrame, run: _Run) -> None:
    sec = Section("Compute over time, relative to AlexNet (Figure 2b)")
    run.sections.append(sec)
    imagenet = frame[frame["benchmark"] == "imagenet"]
    out = {}
    for measure, what in (("hardware_burden", "Hardware burden"),
                          ("compute_per_pass", "Computation per pass")):
        try:
            ot = extras.over_time(imagenet, measure)
        except CannotFit as e:
            run.skip(sec, f"ImageNet {what.lower()} over time", str(e))
            continue
        out[measure] = {"reference": ot.reference, "n": ot.n}
        run.figure(sec, figures.over_time_figure(
            f"ImageNet: {what.lower()} relative to AlexNet", ot.year, ot.ratio, ot.imputed,
            f"{what} / AlexNet's (log scale)"), f"fig2b_{measure}",
            f"{what} of ImageNet models relative to {ot.reference}; {ot.n} observations")
    run.results["over_time"] = out


def _conventions(frame: pd.DataFrame, obs: Observations, store: Any, run: _Run) -> None:
    sec = Section("Peak-FLOPS convention and hardware-burden slopes")
    run.sections.append(sec)
    run.results["peak_conventions"] = None
    if not obs.from_store or store is None:
        run.skip(sec, "peak-FLOPS conventions", "needs the store's hardware table; "
                 "observations came from a file")
        return
    try:
        rows, note = extras.burden_by_convention(frame, read_hardware(store),
                                                 float(run.settings["utilisation"]))
    except CannotFit as e:
        run.skip(sec, "peak-FLOPS conventions", str(e))
        return
    slopes = extras.convention_slopes(rows)
    run.results["peak_conventions"] = {"note": note, "conventions": extras.CONVENTIONS,
                                       "utilisation": run.settings["utilisation"],
                                       "slopes": slopes}
    body = [[label(s["benchmark"]), str(s["n"]),
             *[num(s[c].get("slope")) or s[c].get("skipped", "") for c in extras.CONVENTIONS]]
            for s in slopes]
    run.table(sec, Table("peak_conventions", "Polynomial burden slope b by peak convention",
                         ["Benchmark", "N", *extras.CONVENTIONS.values()], body,
                         note=f"Utilisation {run.settings['utilisation']}.", counts=note))


def _simulation(store: Any, out_dir: Path, run: _Run) -> None:
    from analysis.simio import latest_simulation

    sec = Section("Theory simulation (Figure 1)")
    run.sections.append(sec)
    sim = latest_simulation(store, out_dir)
    run.results["simulation"] = sim
    if sim is None:
        run.skip(sec, "simulation", "no simulation yet; run: dlcompute simulate")
        return
    need = sim["needed_to_match"]
    sec.text = (f"{sim['settings']['sims']} simulations per point (seed "
                f"{sim['settings']['seed']}). Observations needed to match the oracle's "
                f"performance at n = {sim['settings']['match_at']}: flexible "
                f"{num(need.get('flexible'), 0) or 'not reached'}, Lasso "
                f"{num(need.get('lasso'), 0) or 'not reached'} (paper: about 1,500 and 175).")
    run.figure(sec, figures.simulation_figure(sim), "fig1_simulation",
               "Oracle, expert, flexible and Lasso: performance against data and computation")


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
            version: str = "unknown") -> AnalysisResult:
    """Run the whole analysis; see the package docstring."""
    from analysis.simio import finish_run, start_run

    settings = {**DEFAULTS, **(settings or {})}
    if observations is not None:
        obs = read_observations_file(observations)
    elif store is not None:
        obs = read_observations_store(store)
    else:
        raise AnalysisError("No observations: pass a store or an observations file "
                            "(--observations FILE)")
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
    except Exception as e:
        finish_run(store, run_id, status="failed", n=0, results=None, error=str(e))
        raise
    result.run_id = run_id
    finish_run(store, run_id, status="done", n=result.n_observations, results=result.results)
    return result


def _analyze(store: Any, obs: Observations, out: Path, benchmarks: list[str] | None,
             since: int | None, until: int | None, settings: dict, version: str,
             run_settings: dict) -> AnalysisResult:
    run = _Run(out, settings)
    frame = filter_observations(obs.frame, benchmarks=benchmarks, since=since, until=until)
    frame["benchmark"] = frame["benchmark"].str.lower()
    n_all = len(frame)
    frame = _valid_errors(frame, run)
    frame = _conversion(frame, run)
    present = bench_order(sorted(set(frame["benchmark"])))
    wanted = [b.lower() for b in benchmarks] if benchmarks else present
    for b in wanted:
        if b not in present:
            run.skip(None, label(b), "no usable observations for this benchmark")
    counts = {b: {"n": int((frame["benchmark"] == b).sum()),
                  "papers": int(frame.loc[frame["benchmark"] == b, "arxiv_id"].nunique()),
                  "with_compute": int(((frame["benchmark"] == b)
                                       & (frame["compute_per_pass"] > 0)).sum()),
                  "imputed": int(((frame["benchmark"] == b)
                                  & (frame["compute_imputed"] > 0)).sum()),
                  "with_burden": int(((frame["benchmark"] == b)
                                      & (frame["hardware_burden"] > 0)).sum())}
              for b in present}
    run.results.update({"dlcompute_version": version, "settings": run_settings,
                        "source": obs.source, "n_observations": n_all, "counts": counts})
    for b in present:
        _compute_per_pass(b, frame[frame["benchmark"] == b], run)
    burden_benches = [b for b in present if b in BURDEN_BENCHMARKS] + \
        [b for b in present if b not in BURDEN_BENCHMARKS]
    fits = _hardware_burden(frame, burden_benches, run)
    _projections(frame, fits, run)
    _over_time(frame, run)
    _conventions(frame, obs, store, run)
    _simulation(store, out, run)
    flags = None
    if store is not None:
        flags = read_open_flags(store, set(frame["arxiv_id"].dropna()), set(present))
        flags_note = (f"{len(flags)} open flag(s) on the papers and benchmarks used; "
                      f"resolving them (dlcompute review) may change the results."
                      if flags else "No open flags on the papers and benchmarks used.")
    else:
        flags_note = "Observations came from a file: flags are in the store, not checked."
    run.results["open_flags"] = flags
    run.results["skipped"] = run.skipped
    results = _clean(run.results)
    results_json = out / "results.json"
    results_json.write_text(json.dumps(results, indent=2), encoding="utf-8")
    count_rows = [[label(b), *map(str, c.values())] for b, c in counts.items()]
    data_sec = Section("Data", f"{n_all} observations read from {obs.source}; "
                       f"{len(frame)} with a usable error.")
    data_sec.tables.append(Table("counts", "Observations per benchmark",
                                 ["Benchmark", "N", "Papers", "With compute per pass",
                                  "Compute imputed", "With hardware burden"], count_rows))
    write_table(data_sec.tables[0], out / "tables")
    data_sec.skipped = [f"{s['what']}: {s['reason']}" for s in run.skipped
                        if "observation(s)" in s["what"] or s["what"] in
                        {label(b) for b in wanted}]
    index = out / "index.html"
    index.write_text(render_html(
        title="dlcompute analysis: the computational limits of deep learning",
        intro=[("dlcompute version", version), ("Observations", obs.source),
               ("Benchmarks", ", ".join(label(b) for b in present) or "none"),
               ("Years", f"{since or 'any'} to {until or 'any'}"),
               ("Conventions", "fits take error as a fraction and compute in GFLOPs; "
                "a multiply-add counts as 2 FLOPs; figures show error in percent")],
        sections=[data_sec, *run.sections], flags=flags, flags_note=flags_note,
        settings_text=json.dumps(_clean(run_settings), indent=2)), encoding="utf-8")
    return AnalysisResult(out, index, results_json, results, run.skipped, n_all)
