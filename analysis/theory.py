"""The theory simulation of the paper's Figure 1.

A linear model y = x . theta + noise in ``dim`` dimensions (1000) with
``nonzero`` (10) coefficients equal to 1 at random positions, x isotropic
Gaussian, noise N(0, sigma^2). Four estimators:

- oracle: least squares on the 10 right features;
- expert: least squares on 9 right features and 1 wrong one;
- flexible: least squares on all 1000 (the minimum-norm solution while n < 1000);
- regularised: Lasso on all 1000 (scikit-learn, coordinate descent), with the
  theory value alpha = sigma * sqrt(2 ln(dim) / n) for scikit-learn's objective
  (1/2n)||y - Xw||^2 + alpha ||w||_1 (Bickel, Ritov and Tsybakov 2009), sigma
  known. A fixed rule keeps 1000 simulations affordable where cross-validation
  would fit dozens of Lassos per point.

Performance is -log10(normalised MSE): for isotropic Gaussian queries the
expected squared prediction error of theta_hat against theta is
||theta_hat - theta||^2, normalised by ||theta||^2. Computation per fit, in
FLOPs: least squares on k features of n samples 2 n k min(n, k) + k^3 / 3
(QR or normal equations); Lasso 4 n d per coordinate-descent sweep times the
sweeps scikit-learn reports (a dot product and a residual update per
coordinate).

Every simulation draws from its own child of ``numpy.random.SeedSequence(seed)``,
so results do not depend on how simulations are spread over processes.
"""

from __future__ import annotations

import concurrent.futures as cf
import math
import multiprocessing
import os
import warnings
from collections.abc import Callable, Sequence
from dataclasses import asdict, dataclass

import numpy as np

MODELS: tuple[str, ...] = ("oracle", "expert", "flexible", "lasso")
# n = dim (1000) is left out: least squares is exactly determined there and its
# error spikes (the interpolation threshold), which says nothing about scaling.
DEFAULT_SIZES: tuple[int, ...] = (12, 13, 15, 20, 30, 50, 75, 100, 150, 175, 200, 300, 500,
                                  750, 1250, 1500, 2000, 3000)


@dataclass
class SimulationSettings:
    """What to simulate; the defaults are the paper's."""

    sims: int = 1000
    dim: int = 1000
    nonzero: int = 10
    noise: float = 1.0
    seed: int = 0
    sizes: tuple[int, ...] = DEFAULT_SIZES
    match_at: int = 15  # the oracle's sample size the others are compared with

    def __post_init__(self) -> None:
        if self.sims < 1:
            raise ValueError(f"sims must be at least 1, not {self.sims}")
        if not 1 <= self.nonzero < self.dim:
            raise ValueError(f"nonzero must be in 1..dim-1, not {self.nonzero}")
        self.sizes = tuple(sorted({int(n) for n in self.sizes}))
        if not self.sizes or self.sizes[0] <= self.nonzero:
            raise ValueError(f"every sample size must exceed nonzero={self.nonzero} so the "
                             f"oracle's least squares is determined; got {self.sizes}")


@dataclass
class SimulationResult:
    """Mean performance and computation per model and sample size."""

    settings: dict
    sizes: list[int]
    performance: dict[str, list[float]]  # mean -log10(nMSE)
    performance_se: dict[str, list[float]]
    log10_flops: dict[str, list[float]]  # log10 of mean FLOPs
    oracle_at_match: float
    needed_to_match: dict[str, float | None]  # n reaching the oracle's level at match_at

    def to_dict(self) -> dict:
        return asdict(self)


def _ls_flops(n: int, k: int) -> float:
    return 2.0 * n * k * min(n, k) + k**3 / 3.0


def one_simulation(child: np.random.SeedSequence, s: SimulationSettings) -> np.ndarray:
    """Performance and FLOPs, shape (2, models, sizes), for one draw of the data."""
    from sklearn.exceptions import ConvergenceWarning
    from sklearn.linear_model import Lasso

    rng = np.random.default_rng(child)
    d, k = s.dim, s.nonzero
    support = rng.choice(d, size=k, replace=False)
    theta = np.zeros(d)
    theta[support] = 1.0
    norm2 = float(theta @ theta)
    wrong = rng.choice(np.setdiff1d(np.arange(d), support))
    expert = np.append(support[:-1], wrong)
    n_max = s.sizes[-1]
    x = rng.standard_normal((n_max, d))
    y = x @ theta + s.noise * rng.standard_normal(n_max)
    out = np.empty((2, len(MODELS), len(s.sizes)))
    lasso = Lasso(fit_intercept=False, warm_start=True, max_iter=20_000, tol=1e-4,
                  selection="cyclic")
    for j, n in enumerate(s.sizes):
        xn, yn = x[:n], y[:n]
        errs = []
        for features in (support, expert):
            est = np.zeros(d)
            est[features] = np.linalg.lstsq(xn[:, features], yn, rcond=None)[0]
            errs.append(float(np.sum((est - theta) ** 2)))
        est = np.linalg.lstsq(xn, yn, rcond=None)[0]
        errs.append(float(np.sum((est - theta) ** 2)))
        lasso.set_params(alpha=s.noise * math.sqrt(2.0 * math.log(d) / n))
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", ConvergenceWarning)
            lasso.fit(xn, yn)
        errs.append(float(np.sum((lasso.coef_ - theta) ** 2)))
        out[0, :, j] = -np.log10(np.maximum(np.array(errs) / norm2, 1e-300))
        out[1, :, j] = [_ls_flops(n, k), _ls_flops(n, k), _ls_flops(n, d),
                        4.0 * n * d * max(int(lasso.n_iter_), 1)]
    return out


def _chunk(children: list[np.random.SeedSequence], s: SimulationSettings) -> np.ndarray:
    from threadpoolctl import threadpool_limits

    # One BLAS thread per process: the processes already fill the cores.
    with threadpool_limits(1):
        return np.stack([one_simulation(c, s) for c in children])


def _crossing(sizes: Sequence[int], perf: Sequence[float], level: float) -> float | None:
    """Smallest n (log-linear interpolation) at which the mean curve first reaches level."""
    for j, p in enumerate(perf):
        if p >= level:
            if j == 0:
                return float(sizes[0])
            x0, x1 = math.log(sizes[j - 1]), math.log(sizes[j])
            p0 = perf[j - 1]
            frac = (level - p0) / (p - p0) if p != p0 else 1.0
            return float(math.exp(x0 + frac * (x1 - x0)))
    return None


def simulate(settings: SimulationSettings | None = None, *, workers: int | None = None,
             progress: Callable[[int], None] | None = None) -> SimulationResult:
    """Run the simulations, spread over ``workers`` processes (default: all cores).

    ``progress(k)`` is called with the number of simulations just finished.
    """
    s = settings or SimulationSettings()
    children = np.random.SeedSequence(s.seed).spawn(s.sims)
    workers = max(1, min(workers or os.cpu_count() or 1, s.sims))
    per_chunk = max(1, min(25, math.ceil(s.sims / (workers * 4))))
    chunks = [children[i:i + per_chunk] for i in range(0, s.sims, per_chunk)]
    results: list[np.ndarray | None] = [None] * len(chunks)
    if workers == 1:
        for i, c in enumerate(chunks):
            results[i] = _chunk(c, s)
            if progress:
                progress(len(c))
    else:
        ctx = multiprocessing.get_context("spawn")
        with cf.ProcessPoolExecutor(max_workers=workers, mp_context=ctx) as pool:
            futures = {pool.submit(_chunk, c, s): i for i, c in enumerate(chunks)}
            for fut in cf.as_completed(futures):
                results[futures[fut]] = fut.result()
                if progress:
                    progress(len(chunks[futures[fut]]))
    allsims = np.concatenate([r for r in results if r is not None])  # (sims, 2, m, sizes)
    perf = allsims[:, 0].mean(axis=0)
    se = allsims[:, 0].std(axis=0, ddof=1) / math.sqrt(s.sims) if s.sims > 1 \
        else np.zeros_like(perf)
    flops = np.log10(allsims[:, 1].mean(axis=0))
    sizes = list(s.sizes)
    match_at = s.match_at if s.match_at in sizes else sizes[0]
    level = float(perf[0, sizes.index(match_at)])
    needed = {m: _crossing(sizes, list(perf[i]), level) for i, m in enumerate(MODELS)}
    settings_dict = asdict(s)
    settings_dict["sizes"] = sizes
    settings_dict["match_at"] = match_at
    settings_dict["lasso_alpha"] = "noise * sqrt(2 ln(dim) / n)"
    return SimulationResult(
        settings=settings_dict, sizes=sizes,
        performance={m: perf[i].tolist() for i, m in enumerate(MODELS)},
        performance_se={m: se[i].tolist() for i, m in enumerate(MODELS)},
        log10_flops={m: flops[i].tolist() for i, m in enumerate(MODELS)},
        oracle_at_match=level, needed_to_match=needed,
    )
