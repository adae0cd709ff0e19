"""Parameters -> FLOPs per pass (the paper's Figure 7), per benchmark family, with a gate.

The relation between a model's size and its compute per pass differs by
domain (a convolution reuses each weight thousands of times per image, a
translation model a few dozen times per token), so it is fitted per
benchmark family and used only where it is good enough: at least
``min_pairs`` models reporting both, and an R2 of at least ``min_r2``.

Parameters are checked to be parameters: a model whose parameter count sits
more than ``TOLERANCE_DECADES`` off its family's FLOPs relation (a paper
that reported multiply-adds in a parameters column, say) is listed and
neither fitted on nor imputed from; so is a parameters-only model outside
the range the relation was fitted on by more than that.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
import pandas as pd

from analysis.data import model_key
from analysis.regress import CannotFit, Fit, ols
from analysis.select import paper_ids

# Benchmarks whose models share one parameters -> FLOPs relation.
IMPUTATION_FAMILIES: dict[str, str] = {
    "wmt14-en-fr": "wmt14", "wmt14-en-de": "wmt14", "cifar10": "cifar", "cifar100": "cifar",
}
TOLERANCE_DECADES = 1.0  # 10x off the relation is not a modelling difference, it is a unit
DEFAULT_MIN_PAIRS = 10
DEFAULT_MIN_R2 = 0.5


@dataclass
class Conversion:
    """One family's conversion: the fit, whether it passed the gate, what it did."""

    family: str
    benchmarks: list[str]
    fit: Fit | None
    n_pairs: int
    passed: bool
    reason: str
    n_params_only: int = 0
    n_imputed: int = 0
    pairs: pd.DataFrame = field(default_factory=pd.DataFrame)  # parameters, gflops, suspect
    suspects: pd.DataFrame = field(default_factory=pd.DataFrame)

    def to_dict(self, min_pairs: int, min_r2: float) -> dict:
        listed = self.suspects.head(50)
        return {"family": self.family, "benchmarks": self.benchmarks,
                "fit": self.fit.to_dict() if self.fit else None, "n_pairs": self.n_pairs,
                "gate": {"min_pairs": min_pairs, "min_r2": min_r2, "passed": self.passed,
                         "reason": self.reason},
                "n_params_only": self.n_params_only, "n_imputed": self.n_imputed,
                "n_suspect_parameters": len(self.suspects),
                "suspect_parameters": listed.to_dict(orient="records")}


def family_of(bench: str) -> str:
    return IMPUTATION_FAMILIES.get(bench, bench)


def _fit(pairs: pd.DataFrame, family: str) -> Fit:
    return ols(np.log10(pairs["gflops"].to_numpy()), np.log10(pairs["parameters"].to_numpy()),
               ["log10_parameters"], name=f"conversion {family}",
               formula="log10(GFLOPs per pass) ~ log10(parameters)",
               groups=pairs["paper"].to_numpy())


def _offset(fit: Fit, pairs: pd.DataFrame) -> np.ndarray:
    """Decades between each pair's reported compute and the relation's."""
    a, b = fit.coef["const"], fit.coef["log10_parameters"]
    return np.log10(pairs["gflops"].to_numpy()) - (a + b * np.log10(
        pairs["parameters"].to_numpy()))


def convert(rows: pd.DataFrame, family: str, *, min_pairs: int,
            min_r2: float) -> tuple[pd.Series, pd.Series, Conversion]:
    """Imputed compute per pass (FLOPs; NaN where not imputed) and suspect reasons per row."""
    benches = sorted(set(rows["benchmark"].astype(str)))
    imputed = pd.Series(np.nan, index=rows.index)
    suspect = pd.Series("", index=rows.index, dtype=object)
    reported = (rows["compute_per_pass"] > 0) & (rows["compute_imputed"] == 0)
    has_params = rows["parameters"] > 0
    both = rows[reported & has_params]
    pairs = pd.DataFrame({"paper": paper_ids(both), "model": both["model"].map(model_key),
                          "parameters": both["parameters"].to_numpy(),
                          "gflops": both["compute_per_pass"].to_numpy() / 1e9},
                         index=both.index)
    # One pair per model: the same model appears once per metric.
    pairs = pairs[~pairs.duplicated(["paper", "model"])]
    pairs["suspect"] = False
    fit: Fit | None = None
    reason = ""
    try:
        fit = _fit(pairs, family)
        for _ in range(2):  # flag units that are off, refit without them, check again
            off = np.abs(_offset(fit, pairs)) > TOLERANCE_DECADES
            if not off.any() or off.all():
                break
            pairs["suspect"] = pairs["suspect"] | off
            fit = _fit(pairs[~pairs["suspect"]], family)
    except CannotFit as e:
        fit, reason = None, str(e)
    good = pairs[~pairs["suspect"]]
    for idx in pairs.index[pairs["suspect"]]:
        suspect[idx] = "parameter count far off the FLOPs relation of its own row"
    need = ~(rows["compute_per_pass"] > 0) & has_params
    conv = Conversion(family, benches, fit, len(good), False, reason,
                      n_params_only=int(need.sum()), pairs=pairs)
    if fit is not None:
        if len(good) < min_pairs:
            conv.reason = (f"only {len(good)} models report both parameters and FLOPs; "
                           f"imputation needs {min_pairs} ([analysis] imputation_min_pairs)")
        elif (fit.r2 or 0.0) < min_r2:
            conv.reason = (f"the relation explains too little (R2 {fit.r2:.2f} < {min_r2}, "
                           f"[analysis] imputation_min_r2)")
        else:
            conv.passed = True
    if fit is not None and need.any():
        lo, hi = np.log10(good["parameters"].min()), np.log10(good["parameters"].max())
        logp = np.log10(rows.loc[need, "parameters"])
        outside = (logp < lo - TOLERANCE_DECADES) | (logp > hi + TOLERANCE_DECADES)
        suspect[outside.index[outside]] = (
            f"parameter count outside the range the relation was fitted on "
            f"({10 ** lo:.2g}-{10 ** hi:.2g}) by more than {10 ** TOLERANCE_DECADES:.0f}x")
        if conv.passed:
            ok = outside.index[~outside]
            a, b = fit.coef["const"], fit.coef["log10_parameters"]
            imputed[ok] = 1e9 * 10 ** (a + b * logp[~outside])
            conv.n_imputed = len(ok)
    flagged = rows[suspect != ""]
    conv.suspects = pd.DataFrame({
        "arxiv_id": flagged["arxiv_id"].astype(object).to_numpy(),
        "model": flagged["model"].astype(object).to_numpy(),
        "benchmark": flagged["benchmark"].astype(str).to_numpy(),
        "parameters": flagged["parameters"].to_numpy(),
        "compute_per_pass": flagged["compute_per_pass"].to_numpy(),
        "why": suspect[flagged.index].to_numpy()}).drop_duplicates(["arxiv_id", "model"])
    return imputed, suspect, conv


def impute(frame: pd.DataFrame, *, min_pairs: int = DEFAULT_MIN_PAIRS,
           min_r2: float = DEFAULT_MIN_R2) -> tuple[pd.DataFrame, list[Conversion]]:
    """Compute per pass imputed from parameters, family by family.

    Returns the frame with ``compute_per_pass``/``compute_imputed`` filled
    where a conversion passed its gate and a ``parameters_suspect`` column
    (the reason, "" when the count looks like parameters), and one
    :class:`Conversion` per family that has parameters.
    """
    frame = frame.copy()
    frame["parameters_suspect"] = ""
    fams = frame["benchmark"].astype(str).map(family_of)
    conversions = []
    for family in sorted(set(fams[frame["parameters"] > 0])):
        sel = fams == family
        imputed, suspect, conv = convert(frame[sel], family, min_pairs=min_pairs,
                                         min_r2=min_r2)
        done = imputed.index[imputed.notna()]
        frame.loc[done, "compute_per_pass"] = imputed[done]
        frame.loc[done, "compute_imputed"] = 1.0
        frame.loc[suspect.index, "parameters_suspect"] = suspect
        conversions.append(conv)
    return frame, conversions
