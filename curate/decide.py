"""One paper's decision: its observation rows, its flags, its pairs for the store's fit.

``decide_paper`` is a function of the paper's own inputs (``Inputs``), the curate
options and the store-wide FLOPs-parameters ``Fit``; nothing else. Curate runs it
for the papers whose inputs changed and writes the result in place of the paper's
previous one, so changing what a paper's build does means changing this module or
``Builder.build_paper``, never the engine around them.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass, field

from curate.build import Builder, BuildOptions, FlagSpec
from curate.checks import Fit, check_flops_vs_params, check_pwc, check_unknown_hardware, fit_pairs
from curate.epoch import check_epoch
from curate.inputs import Inputs

log = logging.getLogger(__name__)

# What a malformed fact raises in the rules (text where a number belongs, a missing key).
BUILD_ERRORS = (TypeError, ValueError, KeyError, ArithmeticError)


@dataclass
class PaperDecision:
    """What curate writes for one paper."""

    arxiv_id: str
    rows: list[dict] = field(default_factory=list)
    flags: dict[str, FlagSpec] = field(default_factory=dict)
    # model key -> (log10 parameters, log10 FLOPs): this paper's share of the store's fit
    pairs: dict[str, tuple[float, float]] = field(default_factory=dict)
    error: str | None = None  # set when the paper could not be decided: nothing is written


def decide_paper(b: Builder, arxiv_id: str, fit: Fit, wanted: bool) -> PaperDecision:
    """Rows, flags and fit pairs of one paper; ``error`` instead when its facts are malformed.

    The checks run in the order the flags' first reasons depend on: the build's own,
    then compute against the store's fit, Papers with Code, Epoch AI, unknown chips.
    """
    b.flags = {}
    try:
        rows = b.build_paper(arxiv_id) if wanted else []
        pairs = fit_pairs(rows)
        check_flops_vs_params(b, pairs, fit)
        check_pwc(b, rows)
        check_epoch(b, rows, b.o.epoch_tolerance)
        if wanted:
            check_unknown_hardware(b, rows, arxiv_id)
    except BUILD_ERRORS as e:
        # one malformed paper must not stop the batch: report it, keep what it had
        log.warning("curate: paper %s skipped: %r", arxiv_id, e)
        return PaperDecision(arxiv_id, error=f"{arxiv_id}: {e!r}")
    return PaperDecision(arxiv_id, rows, b.flags,
                         {k: (lp, lf) for k, (lp, lf, _r) in pairs.items()})


def decide_batch(inputs: Inputs, options: BuildOptions, fit: Fit,
                 arxiv_ids: list[str]) -> list[PaperDecision]:
    b = Builder(inputs, options)
    return [decide_paper(b, a, fit, a in inputs.wanted) for a in arxiv_ids]


def batch_pairs(inputs: Inputs, options: BuildOptions,
                arxiv_ids: list[str]) -> dict[str, dict[str, tuple[float, float]]]:
    """Each paper's fit pairs alone (the rows, without flags): what the fit is made of."""
    b = Builder(inputs, options)
    out = {}
    for a in arxiv_ids:
        try:
            rows = b.build_paper(a) if a in inputs.wanted else []
        except BUILD_ERRORS:
            continue  # decide_paper reports it
        out[a] = {k: (lp, lf) for k, (lp, lf, _r) in fit_pairs(rows).items()}
    return out
