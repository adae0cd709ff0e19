"""The paper's regressions: OLS, the 10% quantile, bootstrap and leave-one-out.

Every fit either returns a :class:`Fit` with all the statistics a table needs,
or raises :class:`CannotFit` with a reason the report states (too few
observations, no variance, non-positive errors, missing values).
"""

from __future__ import annotations

import warnings
from dataclasses import asdict, dataclass, field

import numpy as np
import statsmodels.api as sm

MIN_OBSERVATIONS = 3


class CannotFit(Exception):
    """The data cannot support this fit; ``str(e)`` says why."""


@dataclass
class Fit:
    """One fitted linear model: coefficients by name, with every statistic."""

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


def ols(y: np.ndarray, x: np.ndarray, terms: list[str], *, name: str, formula: str,
        alpha: float = 0.05) -> Fit:
    """Least squares of y on a constant and the columns of x (statsmodels OLS)."""
    x = np.asarray(x, dtype=float)
    y = np.asarray(y, dtype=float)
    if x.ndim == 1:
        x = x[:, None]
    check_xy(x, y, name)
    res = sm.OLS(y, sm.add_constant(x, has_constant="add")).fit()
    ci = res.conf_int(alpha=alpha)
    names = ["const", *terms]
    return Fit(
        name=name, formula=formula, terms=names,
        **_coefficients(res, ci, names),
        r2=float(res.rsquared), adj_r2=float(res.rsquared_adj),
        f_stat=float(res.fvalue), f_p=float(res.f_pvalue),
        resid_se=float(np.sqrt(res.scale)),
        extra={"cov": np.asarray(res.cov_params()).tolist()},
    )


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


def exponent(fit: Fit, slope: str) -> dict:
    """Compute grows as performance^(-1/b); the 95% interval inverts b's interval.

    When b's interval reaches zero or above, compute need not grow with
    performance at that confidence and the upper end is unbounded (None).
    """
    b, lo, hi = fit.coef[slope], fit.ci_low[slope], fit.ci_high[slope]
    out = {"b": b, "exponent": (-1.0 / b) if b < 0 else None,
           "ci_low": None, "ci_high": None, "note": ""}
    if hi < 0:
        out["ci_low"], out["ci_high"] = sorted((-1.0 / lo, -1.0 / hi))
    elif lo < 0:
        out["ci_low"] = -1.0 / lo
        out["note"] = "the interval of b reaches 0: the upper end is unbounded"
    else:
        out["note"] = "b is not negative: error does not fall with compute in this fit"
    return out


def simple_slopes(x: np.ndarray, y: np.ndarray) -> np.ndarray:
    """Least-squares slopes of rows of y on rows of x (vectorised, one per row)."""
    xm = x - x.mean(axis=-1, keepdims=True)
    ym = y - y.mean(axis=-1, keepdims=True)
    sxx = (xm * xm).sum(axis=-1)
    with np.errstate(invalid="ignore", divide="ignore"):
        return np.where(sxx > 0, (xm * ym).sum(axis=-1) / sxx, np.nan)


def bootstrap_slope(x: np.ndarray, y: np.ndarray, *, n_boot: int, seed: int,
                    alpha: float = 0.05) -> dict:
    """Percentile bootstrap of the slope and of the exponent -1/b (pairs resampled)."""
    x = np.asarray(x, dtype=float)
    y = np.asarray(y, dtype=float)
    rng = np.random.default_rng(seed)
    idx = rng.integers(0, len(x), size=(n_boot, len(x)))
    slopes = simple_slopes(x[idx], y[idx])
    slopes = slopes[np.isfinite(slopes)]
    if len(slopes) == 0:
        raise CannotFit("bootstrap: no resample had variance in the regressor")
    lo, hi = np.quantile(slopes, [alpha / 2, 1 - alpha / 2])
    # -1/b increases with b on b < 0 (and b >= 0 means unbounded), so the
    # exponent's percentile interval is b's interval mapped through -1/b.
    return {
        "n_boot": int(n_boot), "n_valid": len(slopes), "seed": int(seed),
        "b_ci_low": float(lo), "b_ci_high": float(hi),
        "share_negative": float(np.mean(slopes < 0)),
        "exponent_ci_low": float(-1.0 / lo) if lo < 0 else None,
        "exponent_ci_high": float(-1.0 / hi) if hi < 0 else None,
    }


def leave_one_out(x: np.ndarray, y: np.ndarray, groups: list[str]) -> list[dict]:
    """Slope without each group (paper), sorted by how far dropping it moves the slope."""
    x = np.asarray(x, dtype=float)
    y = np.asarray(y, dtype=float)
    full = float(simple_slopes(x, y))
    g = np.asarray(groups, dtype=object)
    out = []
    for key in dict.fromkeys(groups):
        keep = g != key
        if keep.sum() < MIN_OBSERVATIONS:
            continue
        s = float(simple_slopes(x[keep], y[keep]))
        out.append({"paper": key, "n_dropped": int((~keep).sum()), "slope_without": s,
                    "change": s - full})
    out.sort(key=lambda r: -abs(r["change"]) if np.isfinite(r["change"]) else 0)
    return out
