"""The paper's regressions: OLS (plain and clustered by paper), the 10% quantile,
the bootstrap over papers and leave-one-paper-out.

Every fit either returns a :class:`Fit` with all the statistics a table needs,
or raises :class:`CannotFit` with a reason the report states (too few
observations, no variance, non-positive errors, missing values).

Rows of one paper are not independent (one lab, one training recipe, one
table), so every OLS fit given the papers also carries standard errors
clustered by paper, and the bootstrap resamples papers, not rows. The
bootstrap and leave-one-out work on per-paper sufficient statistics (count,
sums of x, y, x^2, xy): a resample costs one pass over the papers and never
builds an n_boot x n matrix.
"""

from __future__ import annotations

import math
import warnings
from dataclasses import asdict, dataclass, field

import numpy as np
import pandas as pd
import statsmodels.api as sm

MIN_OBSERVATIONS = 3
SIGNIFICANCE = 0.05


class CannotFit(Exception):
    """The data cannot support this fit; ``str(e)`` says why."""


@dataclass
class Fit:
    """One fitted linear model: coefficients by name, with every statistic.

    ``se``/``p``/``ci_*`` are the plain OLS ones the paper printed; the
    ``*_cluster`` ones are clustered by paper (empty when the papers were not
    given or there is only one).
    """

    name: str
    formula: str
    terms: list[str]
    coef: dict[str, float]
    se: dict[str, float]
    t: dict[str, float]
    p: dict[str, float]
    ci_low: dict[str, float]
    ci_high: dict[str, float]
    n: int
    df_model: float
    df_resid: float
    r2: float | None = None
    adj_r2: float | None = None
    f_stat: float | None = None
    f_p: float | None = None
    resid_se: float | None = None
    method: str = "OLS"
    n_clusters: int | None = None
    se_cluster: dict[str, float] = field(default_factory=dict)
    p_cluster: dict[str, float] = field(default_factory=dict)
    ci_low_cluster: dict[str, float] = field(default_factory=dict)
    ci_high_cluster: dict[str, float] = field(default_factory=dict)
    extra: dict = field(default_factory=dict)

    def to_dict(self) -> dict:
        return asdict(self)


def check_xy(x: np.ndarray, y: np.ndarray, what: str) -> None:
    """Raise CannotFit when x/y cannot carry a regression."""
    if x.ndim == 1:
        x = x[:, None]
    if len(y) == 0:
        raise CannotFit(f"{what}: no observations")
    if not (np.all(np.isfinite(x)) and np.all(np.isfinite(y))):
        raise CannotFit(f"{what}: NaN or infinite values in the data")
    if len(y) < MIN_OBSERVATIONS:
        raise CannotFit(f"{what}: only {len(y)} observation(s), need at least "
                        f"{MIN_OBSERVATIONS}")
    if len(y) <= x.shape[1] + 1:
        raise CannotFit(f"{what}: {len(y)} observations cannot fit {x.shape[1] + 1} "
                        f"coefficients with a residual degree of freedom")
    for j in range(x.shape[1]):
        if np.ptp(x[:, j]) == 0:
            raise CannotFit(f"{what}: regressor {j + 1} has no variance "
                            f"(all values {x[0, j]:g})")
    if np.ptp(y) == 0:
        raise CannotFit(f"{what}: the outcome has no variance (all values {y[0]:g})")


def group_codes(groups: np.ndarray | list | pd.Series) -> np.ndarray:
    """Integer codes 0..G-1 of the groups, in order of first appearance."""
    return pd.factorize(pd.Series(groups, dtype=object), use_na_sentinel=False)[0]


def ols(y: np.ndarray, x: np.ndarray, terms: list[str], *, name: str, formula: str,
        alpha: float = 0.05, groups: np.ndarray | list | None = None) -> Fit:
    """Least squares of y on a constant and the columns of x (statsmodels OLS).

    With ``groups`` (the paper of each row), the fit also carries standard
    errors clustered by group (statsmodels ``cov_type="cluster"`` with the
    small-sample correction; t with G - 1 degrees of freedom).
    """
    x = np.asarray(x, dtype=float)
    y = np.asarray(y, dtype=float)
    if x.ndim == 1:
        x = x[:, None]
    check_xy(x, y, name)
    design = sm.add_constant(x, has_constant="add")
    res = sm.OLS(y, design).fit()
    ci = res.conf_int(alpha=alpha)
    names = ["const", *terms]
    fit = Fit(
        name=name, formula=formula, terms=names,
        **_coefficients(res, ci, names),
        r2=float(res.rsquared), adj_r2=float(res.rsquared_adj),
        f_stat=float(res.fvalue), f_p=float(res.f_pvalue),
        resid_se=float(np.sqrt(res.scale)),
        extra={"cov": np.asarray(res.cov_params()).tolist()},
    )
    if groups is not None:
        _cluster(fit, res, group_codes(groups), names, alpha)
    return fit


def _cluster(fit: Fit, res, codes: np.ndarray, names: list[str], alpha: float) -> None:
    n_groups = int(codes.max()) + 1 if len(codes) else 0
    fit.n_clusters = n_groups
    if n_groups < 2:
        fit.extra["cluster_note"] = "all observations come from one paper"
        return
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # few clusters: statsmodels warns, the note says so
        rc = res.get_robustcov_results(cov_type="cluster", groups=codes, use_correction=True,
                                       use_t=True)
    ci = rc.conf_int(alpha=alpha)

    def named(values) -> dict[str, float]:
        return dict(zip(names, map(float, values), strict=True))

    fit.se_cluster = named(rc.bse)
    fit.p_cluster = named(rc.pvalues)
    fit.ci_low_cluster = named(ci[:, 0])
    fit.ci_high_cluster = named(ci[:, 1])


def _coefficients(res, ci: np.ndarray, names: list[str]) -> dict:
    """The per-term statistics and degrees of freedom of a statsmodels result."""
    def named(values) -> dict[str, float]:
        return dict(zip(names, map(float, values), strict=True))

    return {"coef": named(res.params), "se": named(res.bse), "t": named(res.tvalues),
            "p": named(res.pvalues), "ci_low": named(ci[:, 0]), "ci_high": named(ci[:, 1]),
            "n": int(res.nobs), "df_model": float(res.df_model),
            "df_resid": float(res.df_resid)}


def quantile(y: np.ndarray, x: np.ndarray, terms: list[str], *, q: float, name: str,
             formula: str) -> Fit:
    """Quantile regression at q (statsmodels QuantReg), e.g. the 10% frontier."""
    x = np.asarray(x, dtype=float)
    y = np.asarray(y, dtype=float)
    if x.ndim == 1:
        x = x[:, None]
    check_xy(x, y, name)
    with warnings.catch_warnings():
        # Few points leave the sparsity estimate undefined: the standard errors come
        # back NaN (reported as empty) while the coefficients are still the exact fit.
        warnings.simplefilter("ignore")
        res = sm.QuantReg(y, sm.add_constant(x, has_constant="add")).fit(q=q)
    ci = res.conf_int()
    names = ["const", *terms]
    return Fit(
        name=name, formula=formula, terms=names,
        **_coefficients(res, ci, names),
        r2=float(res.prsquared), method=f"QuantReg q={q}",
        extra={"cov": np.asarray(res.cov_params()).tolist(), "q": q},
    )


def band(fit: Fit, xs: np.ndarray, alpha: float = 0.05) -> tuple[np.ndarray, ...]:
    """Fitted line and its (1 - alpha) confidence band for the mean, one regressor."""
    from scipy import stats

    a, b = fit.coef[fit.terms[0]], fit.coef[fit.terms[1]]
    cov = np.asarray(fit.extra["cov"])
    design = np.column_stack([np.ones_like(xs), xs])
    se = np.sqrt(np.einsum("ij,jk,ik->i", design, cov, design))
    tq = stats.t.ppf(1 - alpha / 2, fit.df_resid)
    yhat = a + b * xs
    return yhat, yhat - tq * se, yhat + tq * se


def _inverse(lo: float | None, hi: float | None) -> tuple[float | None, float | None, str]:
    """b's interval mapped through -1/b (increasing on b < 0; b >= 0 is unbounded)."""
    if lo is None or hi is None or not (math.isfinite(lo) and math.isfinite(hi)):
        return None, None, ""
    if hi < 0:
        low, high = sorted((-1.0 / lo, -1.0 / hi))
        return low, high, ""
    if lo < 0:
        return -1.0 / lo, None, "the interval of b reaches 0: the upper end is unbounded"
    return None, None, "b is not negative: error does not fall with compute in this fit"


def exponent(fit: Fit, slope: str) -> dict:
    """Compute grows as performance^(-1/b); the 95% intervals invert b's intervals.

    ``ci_*`` invert the plain OLS interval, ``ci_*_cluster`` the interval
    clustered by paper. When b's interval reaches zero or above, compute need
    not grow with performance at that confidence and the upper end is
    unbounded (None).
    """
    b = fit.coef[slope]
    lo, hi, note = _inverse(fit.ci_low[slope], fit.ci_high[slope])
    out = {"b": b, "exponent": (-1.0 / b) if b < 0 else None,
           "ci_low": lo, "ci_high": hi, "note": note}
    if slope in fit.se_cluster:
        clo, chi, cnote = _inverse(fit.ci_low_cluster[slope], fit.ci_high_cluster[slope])
        out.update({"ci_low_cluster": clo, "ci_high_cluster": chi, "note_cluster": cnote})
    return out


def projection_refusal(fit: Fit, slope: str, *, sign: int,
                       alpha: float = SIGNIFICANCE) -> str | None:
    """Why this fit may not be extrapolated, or None when it may.

    A projection needs error to fall with compute: a slope of the given sign
    (-1 for log10(error), +1 for 1/error) that is significant at ``alpha``
    with the plain and with the clustered standard errors alike.
    """
    b = fit.coef[slope]
    direction = "negative" if sign < 0 else "positive"
    if not (b * sign > 0):
        return (f"slope b = {b:.3g} is not {direction}: error does not fall with "
                f"compute in this fit")
    if fit.n_clusters is not None and fit.n_clusters < 2:
        return "all observations come from one paper: its slope says nothing beyond it"
    p_plain = fit.p[slope]
    p_cluster = fit.p_cluster.get(slope)
    p = max(p_plain, p_cluster) if p_cluster is not None else p_plain
    if not (p < alpha):
        where = (f"p = {p_cluster:.2g} clustered by paper, {p_plain:.2g} plain"
                 if p_cluster is not None else f"p = {p_plain:.2g}")
        return f"slope b = {b:.3g} is not significant at {alpha:.0%} ({where})"
    return None


class PaperStats:
    """Per-paper sufficient statistics of a one-regressor fit of y on x.

    Papers are numbered in order of first appearance; a slope and intercept
    of any reweighting of papers follow from five sums.
    """

    def __init__(self, x: np.ndarray, y: np.ndarray, groups: np.ndarray | list):
        x = np.asarray(x, dtype=float)
        y = np.asarray(y, dtype=float)
        codes = group_codes(groups)
        self.n_papers = int(codes.max()) + 1 if len(codes) else 0
        self.labels = pd.unique(pd.Series(groups, dtype=object))
        # Centring first keeps the sums of squares accurate on large samples.
        self.x0, self.y0 = float(x.mean()), float(y.mean())
        xc, yc = x - self.x0, y - self.y0

        def per(v: np.ndarray) -> np.ndarray:
            return np.bincount(codes, weights=v, minlength=self.n_papers)

        self.sums = np.column_stack([per(np.ones_like(xc)), per(xc), per(yc), per(xc * xc),
                                     per(xc * yc)])

    def line(self, totals: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """(intercept, slope) for rows of totals [n, sx, sy, sxx, sxy]."""
        n, sx, sy, sxx, sxy = (totals[..., i] for i in range(5))
        with np.errstate(invalid="ignore", divide="ignore"):
            den = n * sxx - sx * sx
            b = np.where(den > 1e-12 * np.maximum(n * sxx, 1e-300), (n * sxy - sx * sy) / den,
                         np.nan)
            a = (sy - b * sx) / n + self.y0 - b * self.x0
        return a, b

    def bootstrap(self, n_boot: int, seed: int) -> tuple[np.ndarray, np.ndarray]:
        """Intercepts and slopes of ``n_boot`` resamples of papers (with replacement).

        Each resample draws ``n_papers`` paper indices with
        ``rng.integers(0, n_papers, n_papers)``; memory stays O(papers).
        """
        rng = np.random.default_rng(seed)
        totals = np.empty((n_boot, 5))
        for k in range(n_boot):
            idx = rng.integers(0, self.n_papers, self.n_papers)
            # How often each paper was drawn, times its sums: no drawn-rows copy.
            totals[k] = np.bincount(idx, minlength=self.n_papers) @ self.sums
        return self.line(totals)

    def without_each(self) -> np.ndarray:
        """The slope with each paper left out, in paper order."""
        total = self.sums.sum(axis=0)
        return self.line(total[None, :] - self.sums)[1]


def bootstrap_papers(x: np.ndarray, y: np.ndarray, groups: np.ndarray | list, *,
                     n_boot: int, seed: int, alpha: float = 0.05) -> dict:
    """Percentile bootstrap over papers of the slope and of the exponent -1/b.

    The draws (``"draws"``: intercepts and slopes) are kept for intervals of
    anything that depends on the line, such as projections.
    """
    stats_ = PaperStats(x, y, groups)
    if stats_.n_papers < 2:
        raise CannotFit("bootstrap over papers: all observations come from one paper")
    a, b = stats_.bootstrap(n_boot, seed)
    ok = np.isfinite(b)
    if not ok.any():
        raise CannotFit("bootstrap: no resample had variance in the regressor")
    a, b = a[ok], b[ok]
    lo, hi = np.quantile(b, [alpha / 2, 1 - alpha / 2])
    # -1/b increases with b on b < 0 (and b >= 0 means unbounded), so the
    # exponent's percentile interval is b's interval mapped through -1/b.
    elo, ehi, _ = _inverse(float(lo), float(hi))
    return {
        "n_boot": int(n_boot), "n_valid": int(ok.sum()), "seed": int(seed),
        "n_papers": stats_.n_papers, "resamples": "papers",
        "b_ci_low": float(lo), "b_ci_high": float(hi),
        "share_negative": float(np.mean(b < 0)),
        "exponent_ci_low": elo, "exponent_ci_high": ehi,
        "draws": (a, b),
    }


def percentile_interval(values: np.ndarray, alpha: float = 0.05) -> tuple[float | None, ...]:
    """Percentile interval of draws that may be infinite (None = unbounded)."""
    values = np.asarray(values, dtype=float)
    values = values[~np.isnan(values)]
    if len(values) == 0:
        return None, None
    lo, hi = np.quantile(values, [alpha / 2, 1 - alpha / 2], method="inverted_cdf")
    return (float(lo) if np.isfinite(lo) else None, float(hi) if np.isfinite(hi) else None)


def leave_one_out(x: np.ndarray, y: np.ndarray, groups: list[str] | np.ndarray,
                  top: int | None = None) -> list[dict]:
    """Slope without each group (paper), sorted by how far dropping it moves the slope."""
    stats_ = PaperStats(x, y, groups)
    full = float(stats_.line(stats_.sums.sum(axis=0))[1])
    slopes = stats_.without_each()
    remaining = len(np.asarray(y)) - stats_.sums[:, 0]
    keep = (remaining >= MIN_OBSERVATIONS) & np.isfinite(slopes)
    change = np.where(keep, slopes - full, 0.0)
    order = np.argsort(-np.abs(change), kind="stable")
    order = order[keep[order]]
    if top is not None:
        order = order[:top]
    return [{"paper": str(stats_.labels[i]), "n_dropped": int(stats_.sums[i, 0]),
             "slope_without": float(slopes[i]), "change": float(change[i])} for i in order]
