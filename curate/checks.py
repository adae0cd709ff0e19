"""Checks across observations: FLOPs versus parameters, Papers with Code, unknown chips."""

from __future__ import annotations

import json
import math
from collections import defaultdict
from dataclasses import dataclass

import numpy as np

from curate.build import RATIO_BAND, Builder, BuildOptions, FlagSpec
from curate.choose import candidate_record
from curate.names import variant_key
from curate.provenance import obs_key
from curate.sanity import family
from curate.values import RESULT_PREFIX, error_percent, model_key


@dataclass(frozen=True)
class Fit:
    """The store-wide relation FLOPs = f(parameters) that compute is checked against.

    With at least ``fit_min_pairs`` pairs: log10(FLOPs) = intercept + slope log10(params),
    and a pair is off when its residual exceeds ``limit`` decades. With fewer: a generous
    ratio band (``slope`` None).
    """

    pairs: int = 0
    slope: float | None = None
    intercept: float | None = None
    limit: float | None = None

    def as_dict(self) -> dict:
        out: dict = {"pairs": self.pairs}
        if self.slope is not None:
            out.update(slope=self.slope, intercept=self.intercept, limit=self.limit)
        return out

    @classmethod
    def from_dict(cls, d: dict) -> Fit:
        return cls(int(d.get("pairs", 0)), d.get("slope"), d.get("intercept"), d.get("limit"))

    def reason(self, lp: float, lf: float) -> str | None:
        """Why the pair (log10 params, log10 FLOPs) is implausible, or None."""
        if self.slope is None:
            lo, hi = RATIO_BAND
            ratio = 10 ** (lf - lp)
            if not lo <= ratio <= hi:
                return f"FLOPs per pass / parameters = {ratio:.3g}, outside {lo:g}-{hi:g}"
            return None
        e = lf - (self.intercept + self.slope * lp)
        if abs(e) > self.limit:
            return (f"FLOPs per pass {10**lf:.3g} are {abs(e):.1f} decades off the store's "
                    f"fit log10 FLOPs = {self.intercept:.2f} + {self.slope:.2f} log10 params "
                    f"(limit {self.limit:.1f})")
        return None


def _off(fit: Fit, lp: np.ndarray, lf: np.ndarray) -> np.ndarray:
    """Fit.reason(lp, lf) is not None, for arrays (the same arithmetic)."""
    if fit.slope is None:
        lo, hi = RATIO_BAND
        ratio = 10.0 ** (lf - lp)
        return ~((lo <= ratio) & (ratio <= hi))
    return np.abs(lf - (fit.intercept + fit.slope * lp)) > fit.limit


def flags_moved(old: Fit | None, new: Fit, lp: np.ndarray,
                lf: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Which pairs are off under one fit and not the other, and which are off under both
    with another reason (the fit's figures are in the reason)."""
    if old is None:
        return np.ones(len(lp), dtype=bool), np.zeros(len(lp), dtype=bool)
    a, b = _off(old, lp, lf), _off(new, lp, lf)
    reworded = np.zeros(len(lp), dtype=bool)
    for i in np.flatnonzero(a & b):
        x, y = float(lp[i]), float(lf[i])
        reworded[i] = old.reason(x, y) != new.reason(x, y)
    return a != b, reworded


def fit_flag_key(arxiv_id: str, model: str) -> str:
    """The key of the flag ``check_flops_vs_params`` raises for a model."""
    return FlagSpec("implausible", arxiv_id, model, "", "compute_per_pass", "", []).key


def fit_pairs(rows: list[dict]) -> dict[str, tuple[float, float, dict]]:
    """One paper's pairs: model key -> (log10 params, log10 FLOPs, the row); last row wins."""
    pairs = {}
    for r in rows:
        f, p = r.get("compute_per_pass"), r.get("parameters")
        if f and p and f > 0 and p > 0:
            pairs[model_key(r["model"])] = (math.log10(p), math.log10(f), r)
    return pairs


def fit_store(lp: np.ndarray, lf: np.ndarray, options: BuildOptions) -> Fit:
    """The fit over every pair of the store (in a fixed order: the same pairs, the same fit).

    A robust scale (MAD) sets the limit, so that the outliers sought do not widen it.
    """
    n = len(lp)
    if n < options.fit_min_pairs:
        return Fit(n)
    slope, intercept = np.polyfit(lp, lf, 1)
    resid = lf - (intercept + slope * lp)
    mad = 1.4826 * float(np.median(np.abs(resid - np.median(resid))))
    return Fit(n, float(slope), float(intercept), max(options.fit_max_residual, 3 * mad))


def check_flops_vs_params(b: Builder, pairs: dict[str, tuple[float, float, dict]],
                          fit: Fit) -> None:
    """Flag compute far off the store's FLOPs-parameters relation (one paper's pairs)."""
    for lp, lf, r in pairs.values():
        reason = fit.reason(lp, lf)
        if reason:
            _flag_ratio(b, r, reason)


def _flag_ratio(b: Builder, row: dict, reason: str) -> None:
    src = row.get("sources") or ""
    if '"compute_per_pass": "review:' in src:
        return  # an annotator already vouched for this value
    facts = b.facts[row["arxiv_id"]]
    cands = [candidate_record("compute_per_pass", f) for f in facts.get("compute_per_pass", [])
             if f"fact:{f['id']}" in src]
    cands += [candidate_record("parameters", f) for f in facts.get("parameters", [])
              if f"fact:{f['id']}" in src]
    b.flag("implausible", row["arxiv_id"], row["model"], "", "compute_per_pass", reason, cands,
           obs_key(row))
    hold(row, reason)


def hold(row: dict, reason: str) -> None:
    """Keep an observation out of the fits until a review settles ``reason``."""
    row["status"] = "held"
    row["status_reason"] = "; ".join(r for r in (row.get("status_reason"), reason) if r)


def _pwc_error(p: dict) -> float:
    return error_percent(p["metric"], p["value"])


def check_pwc(b: Builder, rows: list[dict]) -> None:
    """Compare results with Papers with Code like with like, once per question.

    A PwC row naming one of the paper's models (the same variant) is compared with
    that model's observation; where PwC names none of them, the paper's best result
    on the benchmark and metric is compared with PwC's best for the paper.
    """
    groups: dict[tuple, list[dict]] = defaultdict(list)
    for r in rows:
        if '"error": "pwc:' not in (r.get("sources") or ""):
            groups[(r["arxiv_id"], r["benchmark"], family(r["metric"]))].append(r)
    for (aid, bench, fam), obs in groups.items():
        pwc = [p for p in b.pwc.get(aid, []) if p["benchmark"] == bench
               and family(p["metric"]) == fam]
        if not pwc:
            continue
        pairs = []
        for r in obs:
            same = [p for p in pwc if variant_key(p["model"]) == variant_key(r["model"])]
            if same:
                pairs.append((r, min(same, key=lambda p: abs(_pwc_error(p) - r["error"]))))
        if not pairs:
            pairs = [(min(obs, key=lambda r: r["error"]), min(pwc, key=_pwc_error))]
        for r, p in pairs:
            if abs(_pwc_error(p) - r["error"]) > b.o.pwc_tolerance:
                _flag_pwc(b, r, p)


def _flag_pwc(b: Builder, r: dict, p: dict) -> None:
    stated = r["error"] if r["metric"].endswith("_error") else 100.0 - r["error"]
    pv = p["value"] if p["metric"].endswith("_error") == r["metric"].endswith("_error") \
        else 100.0 - p["value"]
    fid = _fact_id(r, "error")
    cands = []
    if fid is not None and fid in b.facts_by_id:
        cands.append(candidate_record("result", b.facts_by_id[fid]))
    cands.append({"pwc_id": p["id"], "value": pv, "unit": "percent"
                  if r["metric"] != "bleu" else "bleu", "model": p["model"],
                  "confidence": None, "stated": f"{p['value']:g}",
                  "evidence": f"Papers with Code ({p['source']}): {p['model']} "
                              f"on {p['dataset']}, {p['metric_name']} = {p['value']:g}"})
    b.flag("pwc_mismatch", r["arxiv_id"], r["model"], r["benchmark"],
           RESULT_PREFIX + r["metric"],
           f"{r['model'] or 'the paper'}: {r['metric']} {stated:g} differs from Papers with "
           f"Code's {pv:g} ({p['model'] or 'unnamed'}) by more than {b.o.pwc_tolerance:g}",
           cands, obs_key(r), pwc_value=pv)


def _fact_id(row: dict, column: str) -> int | None:
    src = json.loads(row.get("sources") or "{}").get(column) or ""
    return int(src[5:]) if src.startswith("fact:") else None


def check_unknown_hardware(b: Builder, rows: list[dict], arxiv_id: str) -> None:
    """Flag chip names the catalog does not know (hardware_name set, hardware NULL): one
    question per paper, listing every observation of the paper."""
    if arxiv_id not in b.papers:
        return
    facts = [f for f in b.own_facts(arxiv_id, "hardware")
             if f.get("hardware_name") and not f.get("hardware")]
    if not facts:
        return
    names = sorted({f["hardware_name"] for f in facts})
    b.flag("unknown_hardware", arxiv_id, "", "", "hardware",
           f"chip name(s) not in the hardware catalog: {', '.join(names)}",
           [candidate_record("hardware", f) for f in facts], None)
    spec = b.flags["|".join(["unknown_hardware", arxiv_id, "", "", "hardware"])]
    spec.observations |= {obs_key(r) for r in rows if r["arxiv_id"] == arxiv_id}
