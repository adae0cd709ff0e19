"""Figures: PNG and SVG files, plus the PNG as base64 for the self-contained report.

matplotlib is switched to the Agg backend when the first figure is drawn, not
at import, so importing the package leaves a caller's backend alone.
"""

from __future__ import annotations

import base64
import io
from pathlib import Path
from typing import Any

import numpy as np

from analysis.regress import Fit, band

IMPUTED_MARKER = dict(marker="^", facecolors="none", edgecolors="tab:orange",
                      label="compute imputed from parameters")
REPORTED_MARKER = dict(marker="o", color="tab:blue", alpha=0.8, label="compute reported")


def _plt():
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    return plt


def save(fig: Any, fig_dir: Path, name: str) -> dict[str, str]:
    """Write name.png and name.svg; return their paths and the PNG as base64."""
    plt = _plt()
    fig_dir.mkdir(parents=True, exist_ok=True)
    png, svg = fig_dir / f"{name}.png", fig_dir / f"{name}.svg"
    buf = io.BytesIO()
    fig.savefig(buf, format="png", dpi=110, bbox_inches="tight")
    png.write_bytes(buf.getvalue())
    fig.savefig(svg, format="svg", bbox_inches="tight")
    plt.close(fig)
    return {"png": str(png), "svg": str(svg),
            "base64": base64.b64encode(buf.getvalue()).decode("ascii")}


def _points(ax: Any, x: np.ndarray, y: np.ndarray, imputed: np.ndarray) -> None:
    imputed = imputed.astype(bool)
    if (~imputed).any():
        ax.scatter(x[~imputed], y[~imputed], s=22, **REPORTED_MARKER)
    if imputed.any():
        ax.scatter(x[imputed], y[imputed], s=30, **IMPUTED_MARKER)


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


def compute_figure(title: str, gflops: np.ndarray, error_pct: np.ndarray, imputed: np.ndarray,
                   poly: Fit | None, quant: Fit | None, *, xlabel: str) -> Any:
    """Error against compute on log-log axes, the mean fit, its band and the 10% line."""
    plt = _plt()
    fig, ax = plt.subplots(figsize=(6.4, 4.6))
    _points(ax, gflops, error_pct, imputed)
    lo, hi = np.log10(gflops.min()), np.log10(gflops.max())
    pad = 0.05 * (hi - lo or 1)
    if poly is not None:
        _line(ax, poly, lo - pad, hi + pad, label="polynomial fit (mean)", color="tab:blue",
              y_transform=_pct_from_log_fraction)
    if quant is not None:
        _line(ax, quant, lo - pad, hi + pad, label="10% quantile fit", color="tab:red",
              y_transform=_pct_from_log_fraction, with_band=False, style="--")
    _axes(ax, title, xlabel)
    return fig


def _axes(ax: Any, title: str, xlabel: str) -> None:
    ax.set_xscale("log")
    ax.set_yscale("log")
    ax.set_xlabel(xlabel)
    ax.set_ylabel("Error rate (%, log scale)")
    # Plain percent labels (15, 20, 30) read better than 2 x 10^1 on an error axis.
    from matplotlib.ticker import FuncFormatter

    plain = FuncFormatter(lambda v, _: f"{v:g}")
    ax.yaxis.set_major_formatter(plain)
    ax.yaxis.set_minor_formatter(plain)
    ax.tick_params(axis="y", which="minor", labelsize=7)
    ax.set_title(title)
    ax.grid(True, which="both", alpha=0.25)
    ax.legend(fontsize=7, loc="best")


def burden_axes(ax: Any, title: str, gflops: np.ndarray, error_pct: np.ndarray,
                imputed: np.ndarray, poly: Fit | None, expo: Fit | None) -> None:
    _points(ax, gflops, error_pct, imputed)
    lo, hi = np.log10(gflops.min()), np.log10(gflops.max())
    pad = 0.05 * (hi - lo or 1)
    if poly is not None:
        _line(ax, poly, lo - pad, hi + pad, label="polynomial: log10(error)",
              color="tab:blue", y_transform=_pct_from_log_fraction)
    if expo is not None:
        _line(ax, expo, lo - pad, hi + pad, label="exponential: 1/error",
              color="tab:green", y_transform=_pct_from_inverse_fraction, with_band=False,
              style="--")
    _axes(ax, title, "Hardware burden (GFLOPs, log scale)")


def burden_figure(title: str, *args: Any) -> Any:
    plt = _plt()
    fig, ax = plt.subplots(figsize=(6.4, 4.6))
    burden_axes(ax, title, *args)
    return fig


def burden_panel(panels: list[tuple]) -> Any:
    """All hardware-burden benchmarks side by side, as the paper's Figure 3."""
    plt = _plt()
    fig, axes = plt.subplots(1, len(panels), figsize=(4.2 * len(panels), 4.0), squeeze=False)
    for ax, args in zip(axes[0], panels, strict=True):
        burden_axes(ax, *args)
    fig.tight_layout()
    return fig


def conversion_figure(params: np.ndarray, gflops: np.ndarray, fit: Fit | None) -> Any:
    """Figure 7: GFLOPs per pass against parameters, on models with both."""
    plt = _plt()
    fig, ax = plt.subplots(figsize=(6.4, 4.6))
    ax.scatter(params, gflops, s=22, color="tab:blue", label="models with both")
    if fit is not None:
        lo, hi = np.log10(params.min()), np.log10(params.max())
        _line(ax, fit, lo, hi, label="conversion fit", color="tab:red",
              y_transform=lambda v: 10**v)
    ax.set_xscale("log")
    ax.set_yscale("log")
    ax.set_xlabel("Parameters (log scale)")
    ax.set_ylabel("GFLOPs per network pass (log scale)")
    ax.set_title("Parameters to GFLOPs conversion (Figure 7)")
    ax.grid(True, which="both", alpha=0.25)
    ax.legend(fontsize=7)
    return fig


def over_time_figure(title: str, year: np.ndarray, ratio: np.ndarray, imputed: np.ndarray,
                     ylabel: str) -> Any:
    """Figure 2b: compute relative to AlexNet over time."""
    plt = _plt()
    fig, ax = plt.subplots(figsize=(6.4, 4.6))
    _points(ax, year, ratio, imputed)
    ax.axhline(1.0, color="grey", lw=0.8, ls=":")
    ax.set_yscale("log")
    ax.set_xlabel("Year of publication")
    ax.set_ylabel(ylabel)
    ax.set_title(title)
    ax.grid(True, which="both", alpha=0.25)
    ax.legend(fontsize=7)
    return fig


def simulation_figure(result: dict) -> Any:
    """Figure 1: (a) performance against sample size, (b) against computation."""
    plt = _plt()
    fig, (a, b) = plt.subplots(1, 2, figsize=(11, 4.4))
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
        ax.set_xscale("log")
        ax.set_ylabel("Performance, -log10(normalised MSE)")
        ax.grid(True, which="both", alpha=0.25)
        ax.legend(fontsize=7)
    a.set_xlabel("Sample size n (log scale)")
    b.set_xlabel("Computation per fit (FLOPs, log scale)")
    s = result["settings"]
    a.set_title(f"(a) performance vs data ({s['sims']} simulations per point)")
    b.set_title("(b) performance vs computation")
    fig.tight_layout()
    return fig
