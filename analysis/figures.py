"""Figures: PNG and SVG files, plus the PNG as base64 for the self-contained report.

matplotlib is switched to the Agg backend when the first figure is drawn, not
at import, so importing the package leaves a caller's backend alone.

Every scatter shows at most ``MAX_POINTS`` points (a seeded random sample,
well-known models always kept; the caption says how many are shown), names
the well-known models of ``famous_models.json`` and prints its fitted
equations.
"""

from __future__ import annotations

import base64
import io
import json
import re
from dataclasses import dataclass
from functools import cache
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from analysis.data import model_key
from analysis.regress import Fit, band

MAX_POINTS = 3000
IMPUTED_MARKER = dict(marker="^", facecolors="none", edgecolors="tab:orange",
                      label="compute per pass imputed from parameters")
REPORTED_MARKER = dict(marker="o", color="tab:blue", alpha=0.8,
                       label="compute per pass reported")
PLAIN_MARKER = dict(marker="o", color="tab:blue", alpha=0.8, label="models")


@dataclass
class Points:
    """What a scatter shows: x, y, the model names and (for compute) which were imputed."""

    x: np.ndarray
    y: np.ndarray
    models: np.ndarray
    imputed: np.ndarray | None = None  # None: imputation does not apply to this measure
    n_total: int = 0

    def __post_init__(self) -> None:
        self.n_total = self.n_total or len(self.x)


@cache
def famous_names() -> tuple[tuple[str, str], ...]:
    """(reduced key, display name), most specific first, from famous_models.json."""
    names = json.loads(Path(__file__).with_name("famous_models.json").read_text(
        encoding="utf-8"))["names"]
    keyed = [(model_key(n), n) for n in names]
    return tuple(sorted(keyed, key=lambda kn: -len(kn[0])))


@cache
def _famous_pattern() -> tuple[re.Pattern, dict[str, str]]:
    # "resnet50" names "resnet50senet" but not "resnet500"; the first (longest) key wins.
    keys = famous_names()
    alternatives = "|".join(re.escape(k) + (r"(?!\d)" if k[-1].isdigit() else "")
                            for k, _ in keys)
    return re.compile(f"^(?:{alternatives})"), dict(keys)


def famous_labels(models: np.ndarray) -> np.ndarray:
    """The well-known name each model goes by ("ResNet50 (SENet)" -> "ResNet-50") or None."""
    pattern, names = _famous_pattern()
    keys = pd.Series(models, dtype=object).map(model_key)
    found = keys.str.extract(f"({pattern.pattern})", expand=False)
    return found.map(names).to_numpy(dtype=object)


def famous_label(model: Any) -> str | None:
    name = famous_labels(np.array([model], dtype=object))[0]
    return name if isinstance(name, str) else None


def labels_for(models: np.ndarray, y: np.ndarray) -> dict[int, str]:
    """One point per well-known name (its lowest y): index -> name."""
    names = pd.Series(famous_labels(models))
    named = names.notna().to_numpy()
    if not named.any():
        return {}
    frame = pd.DataFrame({"name": names[named].to_numpy(), "y": np.asarray(y)[named],
                          "i": np.flatnonzero(named)})
    best = frame.sort_values(["y", "i"], kind="stable").drop_duplicates("name")
    return dict(zip(best["i"].astype(int), best["name"], strict=True))


def thin(points: Points, seed: int = 0, limit: int = MAX_POINTS) -> Points:
    """At most ``limit`` points: a seeded random sample plus every labelled point."""
    n = len(points.x)
    if n <= limit:
        return points
    keep = set(labels_for(points.models, points.y))
    rng = np.random.default_rng(seed)
    sample = rng.choice(n, size=limit - len(keep), replace=False) if limit > len(keep) else []
    idx = np.array(sorted(keep.union(int(i) for i in sample)))
    return Points(points.x[idx], points.y[idx], points.models[idx],
                  None if points.imputed is None else points.imputed[idx], n_total=n)


def shown(points: Points) -> str:
    """Caption words for a thinned figure ("" when every point is drawn)."""
    if len(points.x) >= points.n_total:
        return ""
    return f"; {len(points.x):,} of {points.n_total:,} points drawn (random sample)"


def _plt():
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    return plt


def _figure(ncols: int = 1, size: tuple[float, float] = (6.4, 4.6)) -> tuple[Any, Any]:
    return _plt().subplots(1, ncols, figsize=size, squeeze=False, layout="constrained")


_SUPERSCRIPT = str.maketrans("-0123456789", "⁻⁰¹²³⁴⁵⁶⁷⁸⁹")


def _decades(v: float, _: Any = None) -> str:
    """10¹² as plain text: log-axis labels without mathtext, which is slow to typeset."""
    e = np.log10(v) if v > 0 else np.nan
    if not np.isfinite(e) or abs(e - round(e)) > 1e-6:
        return ""
    n = round(float(e))
    return "1" if n == 0 else f"10{str(n).translate(_SUPERSCRIPT)}"


def _log_x(ax: Any) -> None:
    from matplotlib.ticker import FuncFormatter, LogLocator, NullFormatter

    ax.set_xscale("log")
    ax.xaxis.set_major_formatter(FuncFormatter(_decades))
    ax.xaxis.set_minor_formatter(NullFormatter())
    # Minor ticks only at 2 and 5: every tick is an artist laid out twice per file.
    ax.xaxis.set_minor_locator(LogLocator(subs=(2.0, 5.0)))


def save(fig: Any, fig_dir: Path, name: str) -> dict[str, str]:
    """Write name.png and name.svg; return their paths and the PNG as base64."""
    plt = _plt()
    fig_dir.mkdir(parents=True, exist_ok=True)
    png, svg = fig_dir / f"{name}.png", fig_dir / f"{name}.svg"
    import matplotlib

    buf = io.BytesIO()
    # Figures are laid out when made (constrained layout): no "tight" second pass here.
    fig.savefig(buf, format="png", dpi=110)
    png.write_bytes(buf.getvalue())
    # Text stays text in the SVG (searchable, selectable, smaller than glyph paths).
    with matplotlib.rc_context({"svg.fonttype": "none"}):
        fig.savefig(svg, format="svg")
    plt.close(fig)
    return {"png": str(png), "svg": str(svg),
            "base64": base64.b64encode(buf.getvalue()).decode("ascii")}


def _points(ax: Any, p: Points) -> None:
    if p.imputed is None:
        ax.scatter(p.x, p.y, s=22, **PLAIN_MARKER)
    else:
        imputed = p.imputed.astype(bool)
        if (~imputed).any():
            ax.scatter(p.x[~imputed], p.y[~imputed], s=22, **REPORTED_MARKER)
        if imputed.any():
            ax.scatter(p.x[imputed], p.y[imputed], s=30, **IMPUTED_MARKER)
    for i, name in labels_for(p.models, p.y).items():
        ax.annotate(name, (p.x[i], p.y[i]), xytext=(4, 3), textcoords="offset points",
                    fontsize=6.5, color="#333")


def equation(fit: Fit, lhs: str, rhs: str) -> str:
    """'log10(error) = -0.51 - 0.107 log10(GFLOPs)  R2 0.46, n 110 (38 papers)'."""
    a, b = fit.coef[fit.terms[0]], fit.coef[fit.terms[1]]
    papers = f" ({fit.n_clusters} papers)" if fit.n_clusters else ""
    return (f"{lhs} = {a:.3g} {'-' if b < 0 else '+'} {abs(b):.3g} {rhs}   "
            f"R2 {fit.r2:.2f}, n {fit.n}{papers}")


def _equations(ax: Any, lines: list[str]) -> None:
    if lines:
        ax.text(0.01, 0.01, "\n".join(lines), transform=ax.transAxes, fontsize=6.5,
                va="bottom", ha="left", bbox=dict(boxstyle="round", fc="white", ec="#ccc",
                                                  alpha=0.85))


def _line(ax: Any, fit: Fit, lo: float, hi: float, *, label: str, color: str,
          y_transform: Any, with_band: bool = True, style: str = "-") -> None:
    xs = np.linspace(lo, hi, 100)
    yhat, ylo, yhi = band(fit, xs)
    ax.plot(10**xs, y_transform(yhat), style, color=color, label=label)
    if with_band:
        ax.fill_between(10**xs, y_transform(ylo), y_transform(yhi), color=color, alpha=0.18,
                        label="95% confidence band")


def _pct_from_log_fraction(v: np.ndarray) -> np.ndarray:
    return 100.0 * 10**v


def _pct_from_inverse_fraction(v: np.ndarray) -> np.ndarray:
    with np.errstate(divide="ignore", invalid="ignore"):
        out = 100.0 / v
    return np.where(v > 0, out, np.nan)


def compute_figure(title: str, points: Points, poly: Fit | None, quant: Fit | None, *,
                   xlabel: str, ylabel: str) -> Any:
    """Error against compute on log-log axes, the mean fit, its band and the 10% line."""
    fig, axes = _figure()
    ax = axes[0][0]
    _points(ax, points)
    lo, hi = np.log10(points.x.min()), np.log10(points.x.max())
    pad = 0.05 * (hi - lo or 1)
    lines = []
    if poly is not None:
        _line(ax, poly, lo - pad, hi + pad, label="polynomial fit (mean)", color="tab:blue",
              y_transform=_pct_from_log_fraction)
        lines.append(equation(poly, "log10(error)", "log10(GFLOPs)"))
    if quant is not None:
        _line(ax, quant, lo - pad, hi + pad, label=f"{quant.extra.get('q', 0.1):.0%} "
              "quantile fit", color="tab:red", y_transform=_pct_from_log_fraction,
              with_band=False, style="--")
        a, b = quant.coef["const"], quant.coef[quant.terms[1]]
        lines.append(f"quantile: log10(error) = {a:.3g} {'-' if b < 0 else '+'} {abs(b):.3g}"
                     f" log10(GFLOPs)")
    _axes(ax, title, xlabel, ylabel, points.y)
    _equations(ax, lines)
    return fig


def _axes(ax: Any, title: str, xlabel: str, ylabel: str, y: np.ndarray) -> None:
    _log_x(ax)
    ax.set_yscale("log")
    # The axes follow the points: a fitted curve running off to 10^5 % must not
    # stretch the error axis over decades (and thousands of tick labels).
    lo, hi = float(np.min(y)), float(np.max(y))
    ax.set_ylim(lo / 1.3, hi * 1.3)
    ax.set_xlabel(xlabel)
    ax.set_ylabel(f"{ylabel} (%, log scale)")
    from matplotlib.ticker import FuncFormatter, NullFormatter

    # Plain percent labels (15, 20, 30) read better than 2 x 10^1 on an error axis.
    plain = FuncFormatter(lambda v, _: f"{v:g}")
    ax.yaxis.set_major_formatter(plain)
    ax.yaxis.set_minor_formatter(plain if hi / lo < 30 else NullFormatter())
    ax.tick_params(axis="y", which="minor", labelsize=7)
    ax.set_title(title, fontsize=10)
    ax.grid(True, which="both", alpha=0.25)
    ax.legend(fontsize=7, loc="upper right")


def burden_axes(ax: Any, title: str, points: Points, poly: Fit | None, expo: Fit | None,
                ylabel: str) -> None:
    _points(ax, points)
    lo, hi = np.log10(points.x.min()), np.log10(points.x.max())
    pad = 0.05 * (hi - lo or 1)
    lines = []
    if poly is not None:
        _line(ax, poly, lo - pad, hi + pad, label="polynomial: log10(error)",
              color="tab:blue", y_transform=_pct_from_log_fraction)
        lines.append(equation(poly, "log10(error)", "log10(burden)"))
    if expo is not None:
        _line(ax, expo, lo - pad, hi + pad, label="exponential: 1/error",
              color="tab:green", y_transform=_pct_from_inverse_fraction, with_band=False,
              style="--")
        lines.append(equation(expo, "1/error", "log10(burden)"))
    _axes(ax, title, "Hardware burden (GFLOPs, log scale)", ylabel, points.y)
    _equations(ax, lines)


def burden_figure(title: str, points: Points, poly: Fit | None, expo: Fit | None,
                  ylabel: str) -> Any:
    fig, axes = _figure()
    burden_axes(axes[0][0], title, points, poly, expo, ylabel)
    return fig


def burden_panel(panels: list[tuple]) -> Any:
    """All hardware-burden benchmarks side by side, as the paper's Figure 3."""
    fig, axes = _figure(len(panels), (4.6 * len(panels), 4.2))
    for ax, args in zip(axes[0], panels, strict=True):
        burden_axes(ax, *args)
    return fig


def conversion_figure(title: str, points: Points, suspect: Points | None,
                      fit: Fit | None) -> Any:
    """Figure 7: GFLOPs per pass against parameters, on models with both."""
    from matplotlib.ticker import FuncFormatter, NullFormatter

    fig, axes = _figure()
    ax = axes[0][0]
    ax.scatter(points.x, points.y, s=22, color="tab:blue", label="models with both")
    if suspect is not None and len(suspect.x):
        ax.scatter(suspect.x, suspect.y, s=30, marker="x", color="tab:red",
                   label="parameter count off the relation (not used)")
    for i, name in labels_for(points.models, -points.y).items():
        ax.annotate(name, (points.x[i], points.y[i]), xytext=(4, 3), fontsize=6.5,
                    textcoords="offset points", color="#333")
    if fit is not None:
        lo, hi = np.log10(points.x.min()), np.log10(points.x.max())
        _line(ax, fit, lo, hi, label="conversion fit", color="tab:red",
              y_transform=lambda v: 10**v)
        _equations(ax, [equation(fit, "log10(GFLOPs)", "log10(parameters)")])
    _log_x(ax)
    ax.set_yscale("log")
    ax.yaxis.set_major_formatter(FuncFormatter(_decades))
    ax.yaxis.set_minor_formatter(NullFormatter())
    ax.set_xlabel("Parameters (log scale)")
    ax.set_ylabel("GFLOPs per network pass (log scale)")
    ax.set_title(title, fontsize=10)
    ax.grid(True, which="both", alpha=0.25)
    ax.legend(fontsize=7, loc="upper left")
    return fig


def over_time_figure(title: str, points: Points, ylabel: str) -> Any:
    """Figure 2b: compute relative to AlexNet over time."""
    from matplotlib.ticker import FuncFormatter, NullFormatter

    fig, axes = _figure()
    ax = axes[0][0]
    _points(ax, points)
    ax.axhline(1.0, color="grey", lw=0.8, ls=":")
    ax.set_yscale("log")
    ax.yaxis.set_major_formatter(FuncFormatter(_decades))
    ax.yaxis.set_minor_formatter(NullFormatter())
    ax.set_xlabel("Year of publication")
    ax.set_ylabel(ylabel)
    ax.set_title(title, fontsize=10)
    ax.grid(True, which="both", alpha=0.25)
    ax.legend(fontsize=7)
    return fig


def simulation_figure(result: dict) -> Any:
    """Figure 1: (a) performance against sample size, (b) against computation."""
    fig, axes = _figure(2, (11, 4.4))
    a, b = axes[0]
    sizes = np.asarray(result["sizes"], dtype=float)
    names = {"oracle": "oracle (10 right features)", "expert": "expert (9 right, 1 wrong)",
             "flexible": "flexible (least squares, all 1000)",
             "lasso": "regularised (Lasso, all 1000)"}
    for m, label in names.items():
        perf = np.asarray(result["performance"][m])
        a.plot(sizes, perf, marker=".", label=label)
        b.plot(10 ** np.asarray(result["log10_flops"][m]), perf, marker=".", label=label)
    level = result["oracle_at_match"]
    for ax in (a, b):
        ax.axhline(level, color="grey", lw=0.8, ls=":")
        _log_x(ax)
        ax.set_ylabel("Performance, -log10(normalised MSE)")
        ax.grid(True, which="both", alpha=0.25)
        ax.legend(fontsize=7)
    a.set_xlabel("Sample size n (log scale)")
    b.set_xlabel("Computation per fit (FLOPs, log scale)")
    s = result["settings"]
    a.set_title(f"(a) performance vs data ({s['sims']} simulations per point)")
    b.set_title("(b) performance vs computation")
    return fig
