"""Tables 3-4 and Figures 3 and 10 (hardware burden), and the projections of Figure 4.

A projection is the one place the analysis extrapolates, so it is made only
from a fit whose slope says error falls with compute and is significant at
5% with the plain and the clustered standard errors alike; otherwise the
projection table says why that form has none. Intervals come from the
bootstrap over papers.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass
from typing import Any

import numpy as np
import pandas as pd

from analysis import figures
from analysis.project import (
    DEFAULT_TARGETS,
    CostConstants,
    ProjectionRow,
    paper_projection,
    project,
    projection_draws,
)
from analysis.regress import (
    CannotFit,
    Fit,
    bootstrap_papers,
    ols,
    percentile_interval,
    projection_refusal,
)
from analysis.report import Section, Table, regression_table
from analysis.select import family_label, paper_ids
from analysis.state import RunState, Slice, counts_text, label, robustness, robustness_table

BURDEN_TERMS = {"const": "Constant", "log10_burden": "log10(Hardware Burden)"}


class ProjectionSettingsError(ValueError):
    """[projection] holds a value CostConstants rejects."""


@dataclass
class BurdenFits:
    """One slice's two burden fits and their bootstrap lines (intercepts, slopes)."""

    slice: Slice
    poly: Fit | None = None
    expo: Fit | None = None
    poly_draws: tuple[np.ndarray, np.ndarray] | None = None
    exp_draws: tuple[np.ndarray, np.ndarray] | None = None


def _x(rows: pd.DataFrame) -> np.ndarray:
    return np.log10(rows["hardware_burden"].to_numpy() / 1e9)


def _y(rows: pd.DataFrame) -> np.ndarray:
    return np.log10(rows["error"].to_numpy() / 100.0)


def _burden_slice(sl: Slice, state: RunState, sec: Section, out: dict,
                  panels: list) -> BurdenFits:
    fits = BurdenFits(sl)
    with_x = sl.rows[sl.rows["hardware_burden"] > 0]
    rows = state.chosen(with_x)
    if rows.empty:
        state.skip(sec, f"{sl.name} hardware burden", "no observation has a hardware burden")
        return fits
    x = _x(rows)
    err = rows["error"].to_numpy() / 100.0
    papers = paper_ids(rows)
    fits.poly = state.fit(sec, f"{sl.name} polynomial burden fit", ols, np.log10(err), x,
                          ["log10_burden"], name=f"{sl.key} burden polynomial",
                          formula="log10(error) ~ log10(burden GFLOPs)", groups=papers)
    fits.expo = state.fit(sec, f"{sl.name} exponential burden fit", ols, 1.0 / err, x,
                          ["log10_burden"], name=f"{sl.key} burden exponential",
                          formula="1/error ~ log10(burden GFLOPs)", groups=papers)
    entry: dict[str, Any] = {
        "benchmark": sl.bench, "metric": sl.family, "metric_label": family_label(sl.family),
        "best_per_paper": state.best_per_paper, "n": len(rows),
        "papers": int(pd.Series(papers).nunique()),
        "polynomial": fits.poly.to_dict() if fits.poly else None,
        "exponential": fits.expo.to_dict() if fits.expo else None}
    for form, fit, yy in (("polynomial", fits.poly, np.log10(err)),
                          ("exponential", fits.expo, 1.0 / err)):
        if fit is None:
            continue
        try:
            boot = bootstrap_papers(x, yy, papers, n_boot=state.settings["bootstrap"],
                                    seed=state.settings["seed"])
        except CannotFit as e:
            state.skip(sec, f"{sl.name} {form} burden bootstrap", str(e))
            continue
        draws = boot.pop("draws")
        if form == "polynomial":
            fits.poly_draws = draws
        else:
            fits.exp_draws = draws
        entry[f"{form}_bootstrap"] = boot
    entry["robustness"] = robustness(state, sec, state.variants(with_x, imputation=False),
                                     _x, _y, "log10_burden", f"{sl.key} burden")
    out[sl.key] = entry
    points = figures.thin(figures.Points(10**x, 100 * err, rows["model"].to_numpy()),
                          seed=state.settings["seed"])
    args = (sl.name, points, fits.poly, fits.expo, family_label(sl.family).capitalize())
    if sl.main:
        panels.append(args)
    state.figure(sec, figures.burden_figure(f"{sl.name}: error vs hardware burden", *args[1:]),
                 f"burden_{sl.file_key}",
                 f"{sl.name}: error against hardware burden, both forms "
                 f"({counts_text(rows, imputation=False)}{figures.shown(points)})")
    return fits


def hardware_burden(slices: list[Slice], state: RunState) -> list[BurdenFits]:
    """Tables 3 and 4, one figure per slice and the panel (Figures 3 and 10)."""
    how = ("the best model (lowest error) of each paper, as the paper's Tables 3-4"
           if state.best_per_paper else "every model (--best-per-paper keeps each paper's "
           "best, as the paper's Tables 3-4 did)")
    sec = Section("Hardware burden (Tables 3-4, Figures 3 and 10)",
                  "Hardware burden = chips x peak FLOP/s x training seconds, in GFLOPs. "
                  "Polynomial: log10(error) = a + b log10(burden). Exponential: "
                  f"1/error = a + b log10(burden). Error as a fraction. Fitted on {how}.")
    state.sections.append(sec)
    out: dict[str, Any] = {}
    panels: list = []
    all_fits = [_burden_slice(sl, state, sec, out, panels) for sl in slices]
    state.results["hardware_burden"] = out
    counts = "; ".join(f"{v['benchmark']} ({v['metric_label']}) {v['n']}" for v in out.values())
    cols3 = [(f.slice.name, f.poly) for f in all_fits]
    cols4 = [(f.slice.name, f.expo) for f in all_fits]
    if any(f for _, f in cols3):
        state.table(sec, regression_table(
            "table3_burden_polynomial", "Table 3: hardware burden, polynomial model "
            "(log10(error))", cols3, BURDEN_TERMS, counts=counts))
    if any(f for _, f in cols4):
        state.table(sec, regression_table(
            "table4_burden_exponential", "Table 4: hardware burden, exponential model "
            "(1/error)", cols4, BURDEN_TERMS, counts=counts))
    entries = [{**e, "variant": f"{out[k]['benchmark']} ({out[k]['metric_label']}): "
                               f"{e['variant']}"}
               for k in out for e in out[k]["robustness"]]
    if entries:
        state.table(sec, robustness_table("robustness_burden",
                                          "Robustness of the polynomial burden slope",
                                          entries, counts))
    if panels:
        state.figure(sec, figures.burden_panel(panels), "fig3_burden_panel",
                     "All hardware-burden benchmarks side by side (Figure 3)")
    return all_fits


def _log_text(v: float | None) -> str:
    return "" if v is None else f"10^{v:.1f}"


def _with_interval(v: float | None, lo: float | None, hi: float | None) -> str:
    if v is None:
        return "-"
    text = _log_text(v)
    if lo is not None:
        text += f" [{_log_text(lo)}, {_log_text(hi) or 'unbounded'}]"
    return text


def projection_table(name: str, title: str, rows: list[ProjectionRow], counts: str,
                     note: str) -> Table:
    body = [[label(r.benchmark), r.label + (f": {r.point}" if r.point else ""),
             f"{r.error_percent:g}%" + (f" {r.metric}" if r.metric else ""),
             _with_interval(r.poly_log10_gflops, r.poly_ci_low, r.poly_ci_high),
             _log_text(r.poly_log10_co2_lbs), _log_text(r.poly_log10_usd),
             _with_interval(r.exp_log10_gflops, r.exp_ci_low, r.exp_ci_high),
             _log_text(r.exp_log10_co2_lbs), _log_text(r.exp_log10_usd), r.note]
            for r in rows]
    header = ["Benchmark", "Point", "Error", "Poly. GFLOPs [95% interval]", "Poly. CO2 (lbs)",
              "Poly. $", "Exp. GFLOPs [95% interval]", "Exp. CO2 (lbs)", "Exp. $",
              "Why a form has no projection"]
    return Table(name, title, header, body, note=note, counts=counts)


def _constants(conf: dict) -> CostConstants:
    try:
        return CostConstants(**{k: float(v) for k, v in conf.items()
                                if k in ("chip_gflops", "co2_lbs_per_chip_hour",
                                         "usd_per_chip_hour")})
    except ValueError as e:
        raise ProjectionSettingsError(str(e)) from e


def _refusals(fits: BurdenFits) -> dict[str, str]:
    """Why each form may not be projected ({} when both may)."""
    out = {}
    for form, fit, sign in (("polynomial", fits.poly, -1), ("exponential", fits.expo, +1)):
        reason = "no fit" if fit is None else projection_refusal(fit, "log10_burden", sign=sign)
        if reason:
            out[form] = reason
    return out


def _today(sl: Slice) -> tuple[float, str]:
    """The lowest error of the slice's metric family, with the model and paper it is."""
    best = sl.rows.loc[sl.rows["error"].idxmin()]
    paper = best["arxiv_id"] if isinstance(best["arxiv_id"], str) else "no arXiv id"
    return float(best["error"]), f"{best['model']} ({paper})"


def _project_slice(fits: BurdenFits, targets: tuple[float, ...],
                   constants: CostConstants) -> tuple[list[ProjectionRow], dict[str, str]]:
    sl = fits.slice
    refused = _refusals(fits)
    today, point = _today(sl)
    poly = None if "polynomial" in refused else (fits.poly.coef["const"],
                                                  fits.poly.coef["log10_burden"])
    expo = None if "exponential" in refused else (fits.expo.coef["const"],
                                                   fits.expo.coef["log10_burden"])
    rows = project(sl.bench, today, targets, poly, expo, constants)
    note = "; ".join(f"{form}: {why}" for form, why in refused.items())
    for r in rows:
        r.metric, r.note = family_label(sl.family), note
        if r.label == "Today":
            r.point = point
        frac = r.error_percent / 100.0
        if poly is not None and fits.poly_draws is not None:
            r.poly_ci_low, r.poly_ci_high = percentile_interval(
                projection_draws(frac, *fits.poly_draws, form="polynomial"))
        if expo is not None and fits.exp_draws is not None:
            r.exp_ci_low, r.exp_ci_high = percentile_interval(
                projection_draws(frac, *fits.exp_draws, form="exponential"))
    return rows, refused


def projections(all_fits: list[BurdenFits], state: RunState) -> None:
    """Figure 4: today's best error and two targets, under both forms, with costs."""
    conf = dict(state.settings.get("projection") or {})
    targets_conf = conf.pop("targets", {}) or {}
    constants = _constants(conf)
    sec = Section("Projections (Figure 4)",
                  f"Compute (GFLOPs of hardware burden) to reach today's best error and two "
                  f"targets, from the hardware-burden fits of each benchmark's main metric, "
                  f"with CO2 and dollars at {constants.lbs_per_gflop:.3g} lbs and "
                  f"${constants.usd_per_gflop:.3g} per GFLOP. Source: {constants.source}. "
                  f"Override in dlcompute.toml [projection]. A form is projected only when "
                  f"its slope says error falls with compute and is significant at 5% (plain "
                  f"and clustered by paper); intervals: bootstrap over papers.")
    state.sections.append(sec)
    rows: list[ProjectionRow] = []
    refused: list[dict] = []
    for fits in all_fits:
        sl = fits.slice
        if not sl.main:
            continue
        targets = tuple(targets_conf.get(sl.bench, DEFAULT_TARGETS.get(sl.bench, ())))
        if not targets:
            state.skip(sec, f"{sl.name} projection", "no targets set for this benchmark "
                       "(add [projection.targets] to dlcompute.toml)")
            continue
        got, why = _project_slice(fits, targets, constants)
        refused += [{"benchmark": sl.bench, "metric": sl.family, "form": f, "reason": r}
                    for f, r in why.items()]
        if len(why) == 2:
            state.skip(sec, f"{sl.name} projection", "; ".join(f"{f}: {r}"
                                                              for f, r in why.items()))
        rows += got
    paper_rows = paper_projection(constants)
    state.results["projection"] = {"constants": constants.to_dict(),
                                   "rows": [asdict(r) for r in rows], "refused": refused,
                                   "paper_rows": [asdict(r) for r in paper_rows]}
    if rows:
        state.table(sec, projection_table(
            "projection", "Projection from today's data", rows,
            "today = the lowest error in the benchmark's main metric, named by model and "
            "paper", "Orders of magnitude (log10 values in results.json); '-': no projection "
            "from that form, for the reason in the last column."))
    state.table(sec, projection_table(
        "projection_paper", "Projection from the paper's own Tables 3 and 4", paper_rows,
        "the paper's coefficients and 'today' errors", "For comparison with Figure 4."))

