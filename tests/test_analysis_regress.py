"""The regression wrappers against independent computations (numpy least squares, loops)."""

from __future__ import annotations

import numpy as np
import pytest
from scipy import stats

from analysis.regress import (
    CannotFit,
    band,
    bootstrap_papers,
    exponent,
    leave_one_out,
    ols,
    percentile_interval,
    projection_refusal,
    quantile,
)


def _data(n=60, seed=3):
    rng = np.random.default_rng(seed)
    x = rng.uniform(-1, 3, n)
    z = rng.uniform(0, 8, n)
    y = -0.51 - 0.11 * x - 0.04 * z + rng.normal(0, 0.05, n)
    return x, z, y


def test_ols_matches_numpy_lstsq_and_textbook_formulas():
    x, z, y = _data()
    fit = ols(y, np.column_stack([x, z]), ["x", "z"], name="t", formula="y ~ x + z")
    design = np.column_stack([np.ones_like(x), x, z])
    beta, *_ = np.linalg.lstsq(design, y, rcond=None)
    resid = y - design @ beta
    n, k = design.shape
    sigma2 = resid @ resid / (n - k)
    se = np.sqrt(np.diag(sigma2 * np.linalg.inv(design.T @ design)))
    r2 = 1 - resid @ resid / np.sum((y - y.mean()) ** 2)
    adj = 1 - (1 - r2) * (n - 1) / (n - k)
    f = (r2 / (k - 1)) / ((1 - r2) / (n - k))
    got = np.array([fit.coef[t] for t in ("const", "x", "z")])
    np.testing.assert_allclose(got, beta, rtol=0, atol=1e-9)
    np.testing.assert_allclose([fit.se[t] for t in ("const", "x", "z")], se, atol=1e-9)
    assert fit.r2 == pytest.approx(r2, abs=1e-9)
    assert fit.adj_r2 == pytest.approx(adj, abs=1e-9)
    assert fit.f_stat == pytest.approx(f, rel=1e-9)
    assert fit.resid_se == pytest.approx(np.sqrt(sigma2), abs=1e-9)
    assert fit.n == n and fit.df_resid == n - k and fit.df_model == k - 1
    tq = stats.t.ppf(0.975, n - k)
    assert fit.ci_low["x"] == pytest.approx(beta[1] - tq * se[1], abs=1e-9)
    assert fit.ci_high["x"] == pytest.approx(beta[1] + tq * se[1], abs=1e-9)
    p = 2 * stats.t.sf(abs(beta[1] / se[1]), n - k)
    assert fit.p["x"] == pytest.approx(p, rel=1e-6, abs=1e-300)


def test_known_coefficients_are_recovered():
    rng = np.random.default_rng(0)
    x = rng.uniform(0, 4, 5000)
    y = 0.31 - 0.06 * x + rng.normal(0, 0.01, 5000)
    fit = ols(y, x, ["x"], name="t", formula="")
    assert fit.coef["const"] == pytest.approx(0.31, abs=2e-3)
    assert fit.coef["x"] == pytest.approx(-0.06, abs=1e-3)
    assert fit.ci_low["x"] < -0.06 < fit.ci_high["x"]


def test_confidence_band_contains_line_and_widens_away_from_mean():
    x, _, y = _data()
    fit = ols(y, x, ["x"], name="t", formula="")
    xs = np.array([x.mean(), x.max() + 5])
    yhat, lo, hi = band(fit, xs)
    assert np.all(lo < yhat) and np.all(yhat < hi)
    assert (hi - lo)[1] > (hi - lo)[0]


@pytest.mark.parametrize(("x", "y", "why"), [
    (np.array([1.0, 2.0]), np.array([1.0, 2.0]), "only 2"),
    (np.array([]), np.array([]), "no observations"),
    (np.array([1.0, 1.0, 1.0, 1.0]), np.array([1.0, 2.0, 3.0, 4.0]), "no variance"),
    (np.array([1.0, 2.0, 3.0, 4.0]), np.array([5.0, 5.0, 5.0, 5.0]), "no variance"),
    (np.array([1.0, np.nan, 3.0, 4.0]), np.array([1.0, 2.0, 3.0, 4.0]), "NaN"),
    (np.array([[1.0, 0.0], [2.0, 5.0], [3.0, 1.0]]), np.array([1.0, 2.0, 4.0]),
     "residual degree"),
])
def test_data_that_cannot_support_a_fit_says_why(x, y, why):
    with pytest.raises(CannotFit, match=why):
        ols(y, x, ["x"] if x.ndim == 1 else ["x", "z"], name="t", formula="")


def test_three_points_are_enough_for_one_regressor():
    fit = ols(np.array([1.0, 2.0, 2.5]), np.array([1.0, 2.0, 3.0]), ["x"], name="t", formula="")
    assert fit.n == 3 and fit.df_resid == 1


def test_quantile_line_sits_below_about_ten_percent():
    rng = np.random.default_rng(5)
    x = rng.uniform(0, 3, 2000)
    y = -0.5 - 0.1 * x + rng.normal(0, 0.1, 2000)
    fit = quantile(y, x, ["x"], q=0.1, name="q", formula="")
    below = np.mean(y < fit.coef["const"] + fit.coef["x"] * x)
    assert below == pytest.approx(0.10, abs=0.01)
    # For a homoscedastic normal error the 10% line is the mean line shifted by z_0.1 sigma.
    assert fit.coef["const"] == pytest.approx(-0.5 + stats.norm.ppf(0.1) * 0.1, abs=0.02)


def test_exponent_inverts_the_slope_and_its_interval():
    x, _, y = _data(n=51)
    fit = ols(y, x, ["x"], name="t", formula="")
    ex = exponent(fit, "x")
    assert ex["exponent"] == pytest.approx(-1 / fit.coef["x"])
    assert ex["ci_low"] == pytest.approx(-1 / fit.ci_low["x"])
    assert ex["ci_high"] == pytest.approx(-1 / fit.ci_high["x"])
    assert ex["ci_low"] < ex["exponent"] < ex["ci_high"]


def test_paper_imagenet_exponent_is_about_nine():
    # Table 1: b = -0.11 (se 0.02, df 49) -> Performance^9, 95% CI 7 to 13.9 as in the paper.
    tq = stats.t.ppf(0.975, 49)
    lo, hi = -0.11 - tq * 0.02, -0.11 + tq * 0.02
    assert pytest.approx(9.09, abs=0.01) == -1 / -0.11
    assert -1 / lo == pytest.approx(6.6, abs=0.5) and -1 / hi == pytest.approx(14.0, abs=0.5)


def test_exponent_with_interval_reaching_zero_is_unbounded():
    rng = np.random.default_rng(1)
    x = rng.uniform(0, 1, 8)
    y = rng.normal(0, 1, 8) - 0.01 * x
    fit = ols(y, x, ["x"], name="t", formula="")
    ex = exponent(fit, "x")
    assert ex["ci_high"] is None and ex["note"]


def _papers(n_papers=25, seed=2):
    """Rows grouped in papers of 1-6 models, as a store holds them."""
    rng = np.random.default_rng(seed)
    sizes = rng.integers(1, 7, n_papers)
    groups = np.repeat([f"p{g}" for g in range(n_papers)], sizes)
    x = rng.uniform(-1, 3, len(groups))
    y = -0.5 - 0.1 * x + np.repeat(rng.normal(0, 0.05, n_papers), sizes) + rng.normal(
        0, 0.03, len(groups))
    return x, y, groups


def test_bootstrap_resamples_papers_as_a_plain_loop_does():
    x, y, groups = _papers()
    got = bootstrap_papers(x, y, groups, n_boot=300, seed=11)
    papers = list(dict.fromkeys(groups))
    rng = np.random.default_rng(11)
    slopes, consts = [], []
    for _ in range(300):
        drawn = rng.integers(0, len(papers), len(papers))
        rows = np.concatenate([np.flatnonzero(groups == papers[g]) for g in drawn])
        b, a = np.polyfit(x[rows], y[rows], 1)
        slopes.append(b)
        consts.append(a)
    lo, hi = np.quantile(slopes, [0.025, 0.975])
    assert got["resamples"] == "papers" and got["n_papers"] == 25
    assert got["b_ci_low"] == pytest.approx(lo, abs=1e-9)
    assert got["b_ci_high"] == pytest.approx(hi, abs=1e-9)
    assert got["exponent_ci_low"] == pytest.approx(-1 / lo, abs=1e-9)
    intercepts, draws = got["draws"]
    np.testing.assert_allclose(draws, slopes, atol=1e-9)
    np.testing.assert_allclose(intercepts, consts, atol=1e-9)


def test_bootstrap_needs_two_papers():
    x, y, _ = _papers()
    with pytest.raises(CannotFit, match="one paper"):
        bootstrap_papers(x, y, ["same"] * len(x), n_boot=20, seed=0)


def test_bootstrap_memory_does_not_grow_with_resamples_times_rows():
    # 200,000 rows in 70,000 papers: an n_boot x n index matrix would be 1.6 GB.
    import tracemalloc

    rng = np.random.default_rng(0)
    n = 200_000
    groups = rng.integers(0, 70_000, n)
    x = rng.uniform(0, 3, n)
    y = -0.1 * x + rng.normal(0, 0.1, n)
    tracemalloc.start()
    got = bootstrap_papers(x, y, groups, n_boot=1000, seed=0)
    _, peak = tracemalloc.get_traced_memory()
    tracemalloc.stop()
    assert peak < 100e6
    assert got["b_ci_low"] < -0.1 < got["b_ci_high"]


def test_clustered_standard_errors_match_the_sandwich_formula():
    x, y, groups = _papers(n_papers=12)
    fit = ols(y, x, ["x"], name="t", formula="", groups=groups)
    design = np.column_stack([np.ones_like(x), x])
    bread = np.linalg.inv(design.T @ design)
    beta = bread @ design.T @ y
    u = y - design @ beta
    meat = np.zeros((2, 2))
    for g in np.unique(groups):
        s = design[groups == g].T @ u[groups == g]
        meat += np.outer(s, s)
    n, k, g_count = len(y), 2, len(np.unique(groups))
    c = g_count / (g_count - 1) * (n - 1) / (n - k)
    se = np.sqrt(np.diag(c * bread @ meat @ bread))
    assert fit.n_clusters == 12
    assert fit.se_cluster["x"] == pytest.approx(se[1], rel=1e-9)
    assert fit.se_cluster["const"] == pytest.approx(se[0], rel=1e-9)
    tq = stats.t.ppf(0.975, g_count - 1)
    assert fit.ci_high_cluster["x"] == pytest.approx(beta[1] + tq * se[1], rel=1e-9)
    p = 2 * stats.t.sf(abs(beta[1] / se[1]), g_count - 1)
    assert fit.p_cluster["x"] == pytest.approx(p, rel=1e-6)
    # The plain statistics are untouched (the paper printed those).
    assert fit.se["x"] == pytest.approx(np.sqrt(u @ u / (n - k) * bread[1, 1]), rel=1e-9)


def test_one_paper_has_no_clustered_errors():
    x, y, _ = _papers()
    fit = ols(y, x, ["x"], name="t", formula="", groups=["one"] * len(x))
    assert fit.n_clusters == 1 and fit.se_cluster == {}
    assert "one paper" in projection_refusal(fit, "x", sign=-1)


def test_projection_is_refused_unless_the_slope_falls_and_is_significant():
    x, y, groups = _papers(n_papers=30)
    falling = ols(y, x, ["x"], name="t", formula="", groups=groups)
    assert projection_refusal(falling, "x", sign=-1) is None
    assert "not positive" in projection_refusal(falling, "x", sign=+1)
    rising = ols(-y, x, ["x"], name="t", formula="", groups=groups)
    assert "not negative" in projection_refusal(rising, "x", sign=-1)
    rng = np.random.default_rng(0)
    flat = ols(rng.normal(0, 1, len(x)) - 0.01 * x, x, ["x"], name="t", formula="",
               groups=groups)
    assert flat.coef["x"] < 0 and flat.p["x"] > 0.05
    assert "not significant at 5%" in projection_refusal(flat, "x", sign=-1)


def test_significance_is_judged_on_the_larger_p_value():
    # A paper effect correlated with x: plain p tiny, clustered p not below 5%.
    rng = np.random.default_rng(3)
    groups = np.repeat(np.arange(5), 20)
    x = np.repeat(rng.uniform(0, 3, 5), 20) + rng.normal(0, 0.05, 100)
    y = -0.02 * x + np.repeat(rng.normal(0, 0.1, 5), 20) + rng.normal(0, 0.01, 100)
    fit = ols(y, x, ["x"], name="t", formula="", groups=groups)
    reason = projection_refusal(fit, "x", sign=-1)
    if fit.p["x"] < 0.05 <= fit.p_cluster["x"]:
        assert "clustered by paper" in reason
    else:
        pytest.fail(f"the data did not separate the two p-values: {fit.p}, {fit.p_cluster}")


def test_percentile_interval_of_draws_that_never_reach_the_target():
    draws = np.array([1.0, 2.0, 3.0, np.inf, np.inf] * 20)
    lo, hi = percentile_interval(draws)
    assert lo == 1.0 and hi is None
    assert percentile_interval(np.arange(1, 101, dtype=float)) == (3.0, 98.0)


def test_leave_one_out_finds_the_planted_paper():
    x, _, y = _data(n=30)
    x = np.append(x, [8.0, 8.5])
    y = np.append(y, [0.5, 0.6])  # one paper far off the line, at high leverage
    groups = [f"p{i}" for i in range(30)] + ["outlier", "outlier"]
    loo = leave_one_out(x, y, groups)
    assert loo[0]["paper"] == "outlier" and loo[0]["n_dropped"] == 2
    for entry in loo[:5]:
        keep = np.array(groups) != entry["paper"]
        assert entry["slope_without"] == pytest.approx(np.polyfit(x[keep], y[keep], 1)[0],
                                                       abs=1e-9)
    assert len(leave_one_out(x, y, groups, top=3)) == 3
