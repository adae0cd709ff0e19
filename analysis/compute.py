"""Tables 1-2, Figure 8, the exponent and its robustness: compute per pass, one slice at a time."""

from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd

from analysis import figures
from analysis.regress import (
    CannotFit,
    bootstrap_papers,
    exponent,
    leave_one_out,
    ols,
    quantile,
)
from analysis.report import Section, Table, num, regression_table
from analysis.select import family_label, paper_ids
from analysis.state import RunState, Slice, counts_text, robustness, robustness_table

YEAR_ORIGIN = 2012  # the year trend counts years since AlexNet, so the constant stays readable
COMPUTE_TERMS = {"const": "Constant", "log10_gflops": "log10(Computation per Network Update)",
                 "year": f"Year (since {YEAR_ORIGIN})"}
LEAVE_ONE_OUT_SHOWN = 10


def _x(rows: pd.DataFrame) -> np.ndarray:
    return np.log10(rows["compute_per_pass"].to_numpy() / 1e9)


def _y(rows: pd.DataFrame) -> np.ndarray:
    return np.log10(rows["error"].to_numpy() / 100.0)


def _interval(lo: float | None, hi: float | None) -> str:
    return f"[{num(lo)}, {num(hi) or 'unbounded'}]"


def compute_per_pass(sl: Slice, state: RunState) -> None:
    """Tables 1 and 2, Figure 8, the exponent and its robustness, for one slice."""
    metrics = ", ".join(sorted(set(sl.rows["metric"].dropna().astype(str)))) or "not given"
    sec = Section(f"{sl.name}: computation per network pass (Tables 1-2, Figure 8)",
                  f"Metric: {family_label(sl.family)} (as stored: {metrics}); every fit of "
                  f"this section uses this metric only.")
    state.sections.append(sec)
    with_x = sl.rows[sl.rows["compute_per_pass"] > 0]
    rows = state.chosen(with_x)
    res: dict[str, Any] = {
        "benchmark": sl.bench, "metric": sl.family, "metric_label": family_label(sl.family),
        "best_per_paper": state.best_per_paper,
        "counts": {"n": len(rows), "n_imputed": int((rows["compute_imputed"] > 0).sum()),
                   "papers": int(pd.Series(paper_ids(rows)).nunique()) if len(rows) else 0}}
    state.results.setdefault("compute_per_pass", {})[sl.key] = res
    if rows.empty:
        state.skip(sec, f"{sl.name} compute per pass", "no observation has compute per pass")
        return
    x, y = _x(rows), _y(rows)
    err = rows["error"].to_numpy() / 100.0
    papers = paper_ids(rows)
    f = f"{sl.name}:"
    expo = state.fit(sec, f"{f} exponential form", ols, err, x, ["log10_gflops"],
                     name=f"{sl.key} exponential", formula="error ~ log10(GFLOPs)",
                     groups=papers)
    poly = state.fit(sec, f"{f} polynomial form", ols, y, x, ["log10_gflops"],
                     name=f"{sl.key} polynomial", formula="log10(error) ~ log10(GFLOPs)",
                     groups=papers)
    dated = rows["year"].notna().to_numpy()
    trend = state.fit(sec, f"{f} year trend", ols, y[dated],
                      np.column_stack([x[dated], rows["year"].to_numpy()[dated] - YEAR_ORIGIN]),
                      ["log10_gflops", "year"], name=f"{sl.key} polynomial + year",
                      formula=f"log10(error) ~ log10(GFLOPs) + (year - {YEAR_ORIGIN})",
                      groups=papers[dated])
    q = state.settings["quantile"]
    quant = state.fit(sec, f"{f} {q:.0%} quantile regression", quantile, y, x, ["log10_gflops"],
                      q=q, name=f"{sl.key} quantile {q}", formula="log10(error) ~ log10(GFLOPs)")
    for key, fit in (("exponential", expo), ("polynomial", poly), ("year_trend", trend),
                     ("quantile", quant)):
        res[key] = fit.to_dict() if fit else None
    counts = counts_text(rows) + ("; best model per paper" if state.best_per_paper else "")
    state.table(sec, regression_table(
        f"table1_{sl.file_key}", f"Table 1 ({sl.name}): exponential (1) and polynomial (2) forms",
        [("(1) Error rate", expo), ("(2) log10(Error rate)", poly)],
        {k: v for k, v in COMPUTE_TERMS.items() if k != "year"},
        note=f"Error ({family_label(sl.family)}) as a fraction, compute in GFLOPs per "
             f"network pass.", counts=counts))
    state.table(sec, regression_table(
        f"table2_{sl.file_key}", f"Table 2 ({sl.name}): with a year trend",
        [("(1) log10(Error rate)", poly), ("(2) log10(Error rate)", trend)], COMPUTE_TERMS,
        note=f"Year counted from {YEAR_ORIGIN}.",
        counts=f"{counts}; {int(dated.sum())} with a year"))
    summary = _summary(sl, state, sec, res, x, y, papers, poly, trend, quant)
    if summary:
        state.table(sec, Table(f"exponent_{sl.file_key}",
                               f"{sl.name}: scaling exponent and its intervals",
                               ["Quantity", "Value", "95% interval / detail"], summary,
                               counts=counts))
    entries = robustness(state, sec, state.variants(with_x, imputation=True), _x, _y,
                         "log10_gflops", f"{sl.key} compute per pass")
    res["robustness"] = entries
    state.table(sec, robustness_table(f"robustness_{sl.file_key}",
                                      f"{sl.name}: robustness of the compute-per-pass slope",
                                      entries, counts_text(with_x)))
    if poly is not None or quant is not None:
        points = figures.thin(figures.Points(10**x, 100 * err, rows["model"].to_numpy(),
                                             rows["compute_imputed"].to_numpy()),
                              seed=state.settings["seed"])
        state.figure(sec, figures.compute_figure(
            f"{sl.name}: error vs computation per network pass", points, poly, quant,
            xlabel="Computation per network pass (GFLOPs, log scale)",
            ylabel=family_label(sl.family).capitalize()),
            f"compute_{sl.file_key}",
            f"{sl.name}: error against GFLOPs per pass, polynomial fit with 95% band and "
            f"the {q:.0%} quantile line ({counts}{figures.shown(points)})")


def _summary(sl: Slice, state: RunState, sec: Section, res: dict, x: np.ndarray,
             y: np.ndarray, papers: np.ndarray, poly: Any, trend: Any,
             quant: Any) -> list[list[str]]:
    summary: list[list[str]] = []
    if poly is not None:
        ex = exponent(poly, "log10_gflops")
        res["exponent"] = ex
        summary.append(["Scaling exponent -1/b (compute ~ performance^x), OLS interval",
                        num(ex["exponent"]), _interval(ex["ci_low"], ex["ci_high"])
                        + (f" ({ex['note']})" if ex["note"] else "")])
        if "ci_low_cluster" in ex:
            summary.append(["Exponent interval, errors clustered by paper", "",
                            _interval(ex["ci_low_cluster"], ex["ci_high_cluster"])
                            + (f" ({ex['note_cluster']})" if ex["note_cluster"] else "")])
            summary.append(["Slope b, standard error clustered by paper",
                            num(poly.coef["log10_gflops"]),
                            f"SE {num(poly.se_cluster['log10_gflops'])} (plain OLS "
                            f"{num(poly.se['log10_gflops'])}); {poly.n_clusters} papers"])
        try:
            boot = bootstrap_papers(x, y, papers, n_boot=state.settings["bootstrap"],
                                    seed=state.settings["seed"])
            boot.pop("draws")
            res["bootstrap"] = boot
            summary.append([f"Bootstrap over papers ({boot['n_boot']} resamples of "
                            f"{boot['n_papers']} papers): slope b", num(poly.coef["log10_gflops"]),
                            f"[{num(boot['b_ci_low'])}, {num(boot['b_ci_high'])}]"])
            summary.append(["Bootstrap over papers: exponent", "",
                            _interval(boot["exponent_ci_low"], boot["exponent_ci_high"])])
        except CannotFit as e:
            state.skip(sec, f"{sl.name}: bootstrap", str(e))
        loo = leave_one_out(x, y, papers, top=LEAVE_ONE_OUT_SHOWN)
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
        q = state.settings["quantile"]
        summary.append([f"{q:.0%} quantile slope", num(quant.coef["log10_gflops"]),
                        f"[{num(quant.ci_low['log10_gflops'])}, "
                        f"{num(quant.ci_high['log10_gflops'])}]"])
    return summary
