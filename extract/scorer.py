"""The learned scorer: which candidates are the paper's own, final values.

A logistic regression per field over the features of extract.features, trained
from the labels in ../shared/gold (and annotators' review decisions) by
`dlcompute train-scorer` (extract.train). The trained model ships in the package
as a small JSON file (extract/data/scorer.json): coefficients by feature name,
the feature version they were trained on, and the hash of the labels. A model of
another feature version is refused (the candidates would be misread); without a
usable model, candidates keep the rules' own confidences.
"""

from __future__ import annotations

import json
import logging
import math
from functools import lru_cache
from pathlib import Path

from extract.features import FEATURE_VERSION
from extract.model import Fact

log = logging.getLogger(__name__)

MODEL_PATH = Path(__file__).parent / "data" / "scorer.json"
FORMAT = "dlcompute-scorer/1"
#: fields the scorer decides (hardware keeps the catalog rules' confidence)
FIELDS = ("parameters", "compute_per_pass", "training_time", "epochs", "result")


class ScorerModelError(ValueError):
    """A scorer model file that cannot be used (wrong format or feature version)."""


@lru_cache(maxsize=4)
def load_model(path: str | None = None) -> dict | None:
    """The model file's per-field coefficients; None where no model ships."""
    p = Path(path) if path else MODEL_PATH
    if not p.is_file():
        return None
    data = json.loads(p.read_text(encoding="utf-8"))
    check_model(data, p)
    return data


@lru_cache(maxsize=1)
def _shipped_model() -> dict | None:
    """The package's model, or None (said once per process) where it is unusable."""
    try:
        return load_model()
    except (ScorerModelError, json.JSONDecodeError, OSError) as e:
        log.warning("scorer model unusable (%s); using the rules' confidences", e)
        return None


def check_model(data: dict, where: object = "model") -> None:
    if data.get("format") != FORMAT:
        raise ScorerModelError(f"{where}: not a dlcompute scorer model (format "
                               f"{data.get('format')!r}); retrain: dlcompute train-scorer")
    if data.get("feature_version") != FEATURE_VERSION:
        raise ScorerModelError(
            f"{where}: trained on features v{data.get('feature_version')}, this extractor "
            f"computes v{FEATURE_VERSION}; retrain: dlcompute train-scorer")


def probability(model: dict, features: dict[str, float]) -> float:
    z = model["intercept"] + sum(model["coef"].get(k, 0.0) * v for k, v in features.items())
    return 1.0 / (1.0 + math.exp(-max(-40.0, min(40.0, z))))


def _fallback(f: Fact) -> float:
    """The rules' confidence where no model ships: table rows citing others are theirs."""
    feats = f.extra.get("features", {})
    if f.source != "table":
        return f.confidence
    if feats.get("row_cited") or feats.get("row_foreign") or feats.get("row_baseline"):
        return 0.2
    return 0.7


def score_facts(facts: list[Fact], model: dict | None = None) -> None:
    """Set each fact's confidence to the scorer's probability that it is the paper's own,
    final value (fields in FIELDS; others keep theirs)."""
    if model is None:
        model = _shipped_model()
    models = (model or {}).get("models", {})
    for f in facts:
        if f.field not in FIELDS:
            continue
        m = models.get(f.field)
        feats = f.extra.get("features", {})
        f.confidence = round(probability(m, feats) if m else _fallback(f), 3)
