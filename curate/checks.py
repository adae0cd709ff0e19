"""Checks across observations: FLOPs versus parameters, Papers with Code, unknown chips."""

from __future__ import annotations

import json
import math
from collections import defaultdict

import numpy as np

from curate.build import RATIO_BAND, Builder
from curate.choose import candidate_record
from curate.names import variant_key
from curate.provenance import obs_key
from curate.sanity import family
from curate.values import RESULT_PREFIX, error_percent, model_key


def _obs_key(row: dict) -> tuple:
    return obs_key(row)


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
           cands, _obs_key(r), pwc_value=pv)


def _fact_id(row: dict, column: str) -> int | None:
    src = json.loads(row.get("sources") or "{}").get(column) or ""
    return int(src[5:]) if src.startswith("fact:") else None


def check_unknown_hardware(b: Builder, rows: list[dict]) -> None:
    """Flag chip names the catalog does not know (hardware_name set, hardware NULL): one
    question per paper, listing every observation of the paper."""
    obs_by_paper: dict[str, set] = defaultdict(set)
    for r in rows:
        obs_by_paper[r["arxiv_id"]].add(_obs_key(r))
    for arxiv_id in b.facts:
        if arxiv_id not in b.papers:
            continue
        own = b.own_facts(arxiv_id, "hardware")
        facts = [f for f in own if f.get("hardware_name") and not f.get("hardware")]
        if not facts:
            continue
        names = sorted({f["hardware_name"] for f in facts})
        b.flag("unknown_hardware", arxiv_id, "", "", "hardware",
               f"chip name(s) not in the hardware catalog: {', '.join(names)}",
               [candidate_record("hardware", f) for f in facts], None)
        spec = b.flags["|".join(["unknown_hardware", arxiv_id, "", "", "hardware"])]
        spec.observations |= obs_by_paper.get(arxiv_id, set())
