"""Checks across observations: FLOPs versus parameters, Papers with Code, unknown chips."""

from __future__ import annotations

import math
from collections import defaultdict

import numpy as np

from curate.build import RATIO_BAND, Builder
from curate.choose import candidate_record
from curate.values import RESULT_PREFIX, model_key, models_match


def _obs_key(row: dict) -> tuple:
    return (row["arxiv_id"], model_key(row["model"]), row["benchmark"], row["metric"])


def check_flops_vs_params(b: Builder, rows: list[dict]) -> dict:
    """Flag compute far off the FLOPs-parameters relation of the store's own pairs.

    With enough pairs, fit log10(FLOPs) = a + c log10(params) and flag residuals beyond
    max(fit_max_residual decades, 3 robust SD); otherwise a generous ratio band.
    """
    pairs = {}
    for r in rows:
        f, p = r.get("compute_per_pass"), r.get("parameters")
        if f and p and f > 0 and p > 0:
            pairs[(r["arxiv_id"], model_key(r["model"]))] = (math.log10(p), math.log10(f), r)
    fit: dict = {"pairs": len(pairs)}
    if len(pairs) >= b.o.fit_min_pairs:
        x = np.array([v[0] for v in pairs.values()])
        y = np.array([v[1] for v in pairs.values()])
        slope, intercept = np.polyfit(x, y, 1)
        resid = y - (intercept + slope * x)
        # a robust scale (MAD), so that the outliers sought do not widen their own limit
        mad = 1.4826 * float(np.median(np.abs(resid - np.median(resid))))
        limit = max(b.o.fit_max_residual, 3 * mad)
        fit.update(slope=float(slope), intercept=float(intercept), limit=limit)
        for (_lp, lf, r), e in zip(pairs.values(), resid, strict=True):
            if abs(e) > limit:
                _flag_ratio(b, r, f"FLOPs per pass {10**lf:.3g} are {abs(e):.1f} decades off "
                               f"the store's fit log10 FLOPs = {intercept:.2f} + "
                               f"{slope:.2f} log10 params (limit {limit:.1f})")
    else:
        lo, hi = RATIO_BAND
        for lp, lf, r in pairs.values():
            ratio = 10 ** (lf - lp)
            if not lo <= ratio <= hi:
                _flag_ratio(b, r, f"FLOPs per pass / parameters = {ratio:.3g}, outside "
                               f"{lo:g}-{hi:g}")
    return fit


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
           _obs_key(row))


def check_pwc(b: Builder, rows: list[dict]) -> None:
    """Flag results that differ from Papers with Code for the same paper and benchmark."""
    best: dict[tuple, dict] = {}
    for r in rows:
        k = (r["arxiv_id"], r["benchmark"], r["metric"])
        if k not in best or r["error"] < best[k]["error"]:
            best[k] = r
    for r in rows:
        if '"error": "pwc:' in (r.get("sources") or ""):
            continue
        pwc = [p for p in b.pwc.get(r["arxiv_id"], [])
               if p["benchmark"] == r["benchmark"] and p["metric"] == r["metric"]]
        if not pwc:
            continue
        stated = r["error"] if r["metric"].endswith("_error") else 100.0 - r["error"]
        same = [p for p in pwc if model_key(p["model"]) == model_key(r["model"])] or \
               [p for p in pwc if models_match(p["model"], r["model"])]
        if not same:
            if best[(r["arxiv_id"], r["benchmark"], r["metric"])] is not r:
                continue
            # the paper's headline result against PwC's best for that paper
            same = sorted(pwc, key=lambda p: p["value"],
                          reverse=not r["metric"].endswith("_error"))[:1]
        nearest = min(same, key=lambda p: abs(p["value"] - stated))
        if abs(nearest["value"] - stated) <= b.o.pwc_tolerance:
            continue
        fid = _fact_id(r, "error")
        cands = []
        if fid is not None and fid in b.facts_by_id:
            cands.append(candidate_record("result", b.facts_by_id[fid]))
        cands.append({"pwc_id": nearest["id"], "value": nearest["value"], "unit": "percent"
                      if r["metric"] != "bleu" else "bleu", "model": nearest["model"],
                      "confidence": None, "stated": f"{nearest['value']:g}",
                      "evidence": f"Papers with Code ({nearest['source']}): {nearest['model']} "
                                  f"on {nearest['dataset']}, {nearest['metric_name']} = "
                                  f"{nearest['value']:g}"})
        b.flag("pwc_mismatch", r["arxiv_id"], r["model"], r["benchmark"],
               RESULT_PREFIX + r["metric"],
               f"{r['metric']} {stated:g} differs from Papers with Code's {nearest['value']:g} "
               f"by more than {b.o.pwc_tolerance:g}", cands, _obs_key(r),
               pwc_value=nearest["value"])


def _fact_id(row: dict, column: str) -> int | None:
    import json

    src = json.loads(row.get("sources") or "{}").get(column) or ""
    return int(src[5:]) if src.startswith("fact:") else None


def check_unknown_hardware(b: Builder, rows: list[dict]) -> None:
    """Flag chip names the catalog does not know (hardware_name set, hardware NULL)."""
    obs_by_model: dict[tuple, set] = defaultdict(set)
    for r in rows:
        obs_by_model[(r["arxiv_id"], model_key(r["model"]))].add(_obs_key(r))
        obs_by_model[(r["arxiv_id"], "")].add(_obs_key(r))
    for arxiv_id, fields in b.facts.items():
        if arxiv_id not in b.papers:
            continue
        groups: dict[str, list[dict]] = defaultdict(list)
        for f in fields.get("hardware", []):
            if f.get("hardware_name") and not f.get("hardware"):
                groups[f.get("model") or ""].append(f)
        for model, facts in groups.items():
            names = sorted({f["hardware_name"] for f in facts})
            cands = [candidate_record("hardware", f) for f in facts]
            b.flag("unknown_hardware", arxiv_id, model, "", "hardware",
                   f"chip name(s) not in the hardware catalog: {', '.join(names)}", cands, None)
            spec = b.flags["|".join(["unknown_hardware", arxiv_id, model_key(model), "",
                                     "hardware"])]
            spec.observations |= obs_by_model.get((arxiv_id, model_key(model)), set())
