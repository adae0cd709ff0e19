"""Compute over time (Figure 2b) and the peak-FLOPS convention check."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd

from analysis.regress import CannotFit, ols

# Epoch AI's convention: tensor-core peak (FP16/BF16, dense) times an assumed
# utilisation; chips without tensor cores fall back to their FP32 boost peak.
DEFAULT_UTILISATION = 0.4

CONVENTIONS: dict[str, str] = {
    "fp32_base": "FP32 peak at base clock (the paper's convention)",
    "fp32_boost": "FP32 peak at boost clock (vendor headline)",
    "tensor_utilised": "tensor peak (FP32 boost where none) x utilisation (Epoch AI)",
}


@dataclass
class OverTime:
    year: np.ndarray
    ratio: np.ndarray
    imputed: np.ndarray | None  # None for hardware burden: imputation is of compute per pass
    models: np.ndarray
    reference: str
    reference_row: dict
    measure: str
    n: int


def over_time(frame: pd.DataFrame, measure: str) -> OverTime:
    """Compute relative to AlexNet's, by year (ImageNet rows of ``frame``).

    ``measure`` is ``hardware_burden`` or ``compute_per_pass``. The reference
    is the earliest AlexNet whose value was reported; an imputed one only when
    no reported one exists (and the reference says so). It is named by its
    own model and arXiv id. Raises CannotFit when AlexNet or dated rows are
    missing.
    """
    rows = frame[(frame[measure] > 0) & frame["year"].notna()]
    if rows.empty:
        raise CannotFit(f"no ImageNet observation has both a year and {measure}")
    imputed = rows["compute_imputed"].fillna(0).to_numpy() > 0
    if measure != "compute_per_pass":
        imputed = np.zeros(len(rows), dtype=bool)
    alex = rows["model"].fillna("").astype(str).str.lower().str.contains("alexnet").to_numpy()
    if not alex.any():
        raise CannotFit(f"no AlexNet observation with {measure} to normalise to "
                        f"(model name containing 'AlexNet')")
    pool = rows[alex & ~imputed] if (alex & ~imputed).any() else rows[alex]
    ref = pool.sort_values(["year", "month"], kind="stable").iloc[0]
    ref_value = float(ref[measure])
    was_imputed = measure == "compute_per_pass" and ref["compute_imputed"] > 0
    when = rows["year"] + (rows["month"].fillna(6) - 0.5) / 12
    paper = ref["arxiv_id"] if isinstance(ref["arxiv_id"], str) else "no arXiv id"
    reference = (f"{ref['model']} ({paper}, {int(ref['year'])}): {ref_value:.4g} "
                 f"{'FLOPs per pass' if measure == 'compute_per_pass' else 'FLOPs'}"
                 + (" (imputed from parameters: no AlexNet reports it)" if was_imputed else ""))
    return OverTime(when.to_numpy(), (rows[measure] / ref_value).to_numpy(),
                    imputed if measure == "compute_per_pass" else None,
                    rows["model"].astype(object).to_numpy(), reference,
                    {"model": ref["model"], "arxiv_id": ref["arxiv_id"],
                     "year": int(ref["year"]), "value": ref_value,
                     "imputed": bool(was_imputed)}, measure, len(rows))


def burden_by_convention(frame: pd.DataFrame, hardware: pd.DataFrame | None,
                         utilisation: float) -> tuple[pd.DataFrame, str]:
    """Recompute hardware burden (GFLOPs) under each convention.

    Returns the rows that could be recomputed under all three, with one column
    per convention, and a note on what was left out. Raises CannotFit with the
    reason when nothing can be recomputed.
    """
    if hardware is None or hardware.empty:
        raise CannotFit("the store's hardware table is empty (per-chip peaks unknown)")
    usable = frame[frame["hardware"].notna() & (frame["chips"] > 0)
                   & (frame["training_hours"] > 0) & (frame["error"] > 0)]
    if usable.empty:
        raise CannotFit("no observation has hardware, chips and training_hours together")
    hw = hardware.copy()
    hw["key"] = hw["chip"].str.lower()
    merged = usable.assign(key=usable["hardware"].str.lower()).merge(hw, on="key", how="left")
    seconds = merged["chips"] * merged["training_hours"] * 3600.0
    tensor = merged["tensor_gflops"].where(merged["tensor_gflops"] > 0,
                                           merged["fp32_boost_gflops"])
    merged["fp32_base"] = seconds * merged["fp32_base_gflops"]
    merged["fp32_boost"] = seconds * merged["fp32_boost_gflops"]
    merged["tensor_utilised"] = seconds * tensor * utilisation
    ok = (merged[list(CONVENTIONS)] > 0).all(axis=1)
    dropped = int((~ok).sum())
    unknown = sorted(set(merged.loc[merged["chip"].isna(), "hardware"]))
    note = (f"{int(ok.sum())} observations recomputed; {dropped} left out for a chip "
            f"missing from the catalog or lacking a peak"
            + (f" (not in the catalog: {', '.join(unknown[:10])})" if unknown else ""))
    if not ok.any():
        raise CannotFit("no observation's chip has all three peaks in the hardware table; "
                        + note)
    return merged[ok].reset_index(drop=True), note


def convention_slopes(rows: pd.DataFrame) -> list[dict]:
    """Polynomial hardware-burden slope per benchmark and convention."""
    out = []
    for bench, g in rows.groupby("benchmark", sort=True):
        y = np.log10(g["error"].to_numpy() / 100.0)
        entry: dict = {"benchmark": bench, "n": len(g)}
        for conv in CONVENTIONS:
            try:
                fit = ols(y, np.log10(g[conv].to_numpy()), ["log10_burden"],
                          name=f"{bench} {conv}", formula="log10(error) ~ log10(burden)")
                entry[conv] = {"slope": fit.coef["log10_burden"], "se": fit.se["log10_burden"],
                               "const": fit.coef["const"], "n": fit.n}
            except CannotFit as e:
                entry[conv] = {"skipped": str(e)}
        out.append(entry)
    return out
