"""Projections (the paper's Figure 4): compute, CO2 and dollars to reach a target error.

From the hardware-burden fits (error as a fraction, burden in GFLOPs):

- polynomial (Table 3): log10(error) = a + b log10(burden)
  -> log10(burden) = (log10(error) - a) / b
- exponential (Table 4): 1/error = a + b log10(burden)
  -> log10(burden) = (1/error - a) / b

Costs scale linearly with compute, so everything is carried as log10 (the
exponential form reaches 10^181 GFLOPs for CoNLL, beyond what a float prints
usefully): log10(lbs) = log10(GFLOPs) + log10(lbs per GFLOP).
"""

from __future__ import annotations

import math
from dataclasses import asdict, dataclass

import numpy as np

# The five benchmarks of the hardware-burden analysis, in the paper's order.
BURDEN_BENCHMARKS: tuple[str, ...] = ("imagenet", "coco", "squad1.1", "conll2003",
                                      "wmt14-en-fr")
LABELS: dict[str, str] = {
    "imagenet": "ImageNet", "coco": "MS COCO", "squad1.1": "SQuAD 1.1",
    "conll2003": "CoNLL 2003", "wmt14-en-fr": "WMT 2014 En-Fr",
    "wmt14-en-de": "WMT 2014 En-De", "cifar10": "CIFAR-10", "cifar100": "CIFAR-100",
}

# Today's best error (percent) and the two targets of the paper's Figure 4.
PAPER_TODAY: dict[str, float] = {"imagenet": 11.5, "coco": 46.7, "squad1.1": 4.621,
                                 "conll2003": 6.5, "wmt14-en-fr": 54.4}
DEFAULT_TARGETS: dict[str, tuple[float, float]] = {
    "imagenet": (5.0, 1.0), "coco": (30.0, 10.0), "squad1.1": (2.0, 1.0),
    "conll2003": (2.0, 1.0), "wmt14-en-fr": (30.0, 10.0),
}

# The paper's own hardware-burden coefficients: (constant, slope).
PAPER_POLYNOMIAL: dict[str, tuple[float, float]] = {  # Table 3
    "imagenet": (0.10, -0.07), "coco": (-0.002, -0.02), "squad1.1": (0.35, -0.13),
    "conll2003": (-0.96, -0.02), "wmt14-en-fr": (0.03, -0.02),
}
PAPER_EXPONENTIAL: dict[str, tuple[float, float]] = {  # Table 4
    "imagenet": (-4.15, 0.87), "coco": (0.84, 0.09), "squad1.1": (-19.80, 2.99),
    "conll2003": (8.59, 0.50), "wmt14-en-fr": (0.76, 0.09),
}


@dataclass(frozen=True)
class CostConstants:
    """How GFLOPs of hardware burden become pounds of CO2 and dollars.

    Defaults: Strubell, Ganesh and McCallum (2019), "Energy and Policy
    Considerations for Deep Learning in NLP", Table 3, BERT-base trained on 64
    V100 GPUs for 79.2 hours: 1,438 lbs CO2e and $3,751-$12,571 of cloud
    compute, i.e. 0.2837 lbs and $0.74 (lowest price) per V100-hour. A
    V100-hour is 13,435 GFLOPS (SXM2 FP32 base clock, the paper's peak
    convention) x 3,600 s. This gives 5.9e-9 lbs and 1.5e-8 $ per GFLOP, close
    to the 1e-8 the paper's published projections imply.
    """

    chip_gflops: float = 13_435.0
    co2_lbs_per_chip_hour: float = 1438.0 / (64 * 79.2)
    usd_per_chip_hour: float = 3751.0 / (64 * 79.2)
    source: str = ("Strubell et al. 2019, Table 3 (BERT-base, 64 V100 x 79.2 h: 1,438 lbs "
                   "CO2e, $3,751 lowest cloud price); V100 SXM2 FP32 base 13,435 GFLOPS")

    def __post_init__(self) -> None:
        for name in ("chip_gflops", "co2_lbs_per_chip_hour", "usd_per_chip_hour"):
            v = getattr(self, name)
            if not (isinstance(v, int | float) and math.isfinite(v) and v > 0):
                raise ValueError(f"[projection] {name} must be a positive number, not {v!r}")

    @property
    def lbs_per_gflop(self) -> float:
        return self.co2_lbs_per_chip_hour / (self.chip_gflops * 3600.0)

    @property
    def usd_per_gflop(self) -> float:
        return self.usd_per_chip_hour / (self.chip_gflops * 3600.0)

    def to_dict(self) -> dict:
        d = asdict(self)
        d["lbs_per_gflop"] = self.lbs_per_gflop
        d["usd_per_gflop"] = self.usd_per_gflop
        return d


def log10_burden_polynomial(error_fraction: float, const: float, slope: float) -> float:
    """log10(GFLOPs) at which the polynomial fit reaches this error."""
    if not error_fraction > 0:
        raise ValueError(f"error must be positive, not {error_fraction}")
    if slope == 0:
        return math.inf
    return (math.log10(error_fraction) - const) / slope


def log10_burden_exponential(error_fraction: float, const: float, slope: float) -> float:
    """log10(GFLOPs) at which the exponential fit (1/error on log10 burden) reaches it."""
    if not error_fraction > 0:
        raise ValueError(f"error must be positive, not {error_fraction}")
    if slope == 0:
        return math.inf
    return (1.0 / error_fraction - const) / slope


@dataclass
class ProjectionRow:
    """Compute and costs to reach one error under both forms (all log10).

    ``*_ci_low``/``*_ci_high`` bound log10 GFLOPs by the bootstrap over papers
    (None: not computed, or unbounded above); ``note`` says why a form has no
    projection; ``point`` names the model behind "Today".
    """

    benchmark: str
    label: str  # Today | Target 1 | Target 2
    error_percent: float
    poly_log10_gflops: float | None
    poly_log10_co2_lbs: float | None
    poly_log10_usd: float | None
    exp_log10_gflops: float | None
    exp_log10_co2_lbs: float | None
    exp_log10_usd: float | None
    poly_ci_low: float | None = None
    poly_ci_high: float | None = None
    exp_ci_low: float | None = None
    exp_ci_high: float | None = None
    metric: str = ""
    point: str = ""
    note: str = ""


def _costs(log_gflops: float | None, c: CostConstants) -> tuple:
    if log_gflops is None or not math.isfinite(log_gflops):
        return None, None, None
    return (log_gflops, log_gflops + math.log10(c.lbs_per_gflop),
            log_gflops + math.log10(c.usd_per_gflop))


def project(benchmark: str, today_percent: float, targets: tuple[float, ...],
            polynomial: tuple[float, float] | None, exponential: tuple[float, float] | None,
            constants: CostConstants) -> list[ProjectionRow]:
    """Rows for today and each target; a missing fit leaves its columns None."""
    rows = []
    labels = ["Today", *[f"Target {i + 1}" for i in range(len(targets))]]
    for label, pct in zip(labels, (today_percent, *targets), strict=True):
        frac = pct / 100.0
        p = log10_burden_polynomial(frac, *polynomial) if polynomial else None
        e = log10_burden_exponential(frac, *exponential) if exponential else None
        rows.append(ProjectionRow(benchmark, label, pct, *_costs(p, constants),
                                  *_costs(e, constants)))
    return rows


def projection_draws(error_fraction: float, a: np.ndarray, b: np.ndarray, *,
                     form: str) -> np.ndarray:
    """log10 GFLOPs to reach the error under each bootstrap line (inf where it never does).

    ``form`` is ``polynomial`` (needs b < 0) or ``exponential`` (needs b > 0).
    """
    y = math.log10(error_fraction) if form == "polynomial" else 1.0 / error_fraction
    falls = b < 0 if form == "polynomial" else b > 0
    with np.errstate(divide="ignore", invalid="ignore"):
        return np.where(falls, (y - a) / b, np.inf)


def paper_projection(constants: CostConstants) -> list[ProjectionRow]:
    """Figure 4 recomputed from the paper's own Tables 3 and 4."""
    rows: list[ProjectionRow] = []
    for b in BURDEN_BENCHMARKS:
        rows += project(b, PAPER_TODAY[b], DEFAULT_TARGETS[b], PAPER_POLYNOMIAL[b],
                        PAPER_EXPONENTIAL[b], constants)
    return rows
