"""Units, model names and annotators' decisions: the small vocabulary curate works in."""

from __future__ import annotations

import functools
import re
from dataclasses import dataclass
from typing import Any

from db import DlcomputeError

ERROR_METRICS = {"top1_error", "top5_error"}
RESULT_PREFIX = "result:"
# Fields a flag can name besides "result:<metric>".
MODEL_FIELDS = ("compute_per_pass", "parameters", "hardware", "chip_count", "training_time")
DECISION_ACTIONS = ("accept", "correct", "not_reported")


class UnitError(DlcomputeError):
    """A corrected value's unit is not one curate knows."""


# Model names repeat across a paper's facts and results, and the pairing compares every
# fact's name with every result's: the caches make that a lookup (the values are the same).
@functools.lru_cache(maxsize=1 << 16)
def model_key(name: str | None) -> str:
    """A model name reduced for matching: "ResNet-50 (ours)" -> "resnet50ours"."""
    return re.sub(r"[^a-z0-9]+", "", (name or "").lower())


def models_match(a: str | None, b: str | None) -> bool:
    ka, kb = model_key(a), model_key(b)
    return bool(ka) and bool(kb) and (ka == kb or ka in kb or kb in ka)


@functools.lru_cache(maxsize=1 << 16)
def model_tokens(name: str | None) -> frozenset[str]:
    """Words and numbers of a model name: "ResNet-152 (ensemble)" -> {resnet, 152, ensemble}."""
    return frozenset(re.findall(r"[a-z]+|\d+(?:\.\d+)?", (name or "").lower()))


@functools.lru_cache(maxsize=1 << 18)
def model_similarity(a: str | None, b: str | None) -> float:
    """Jaccard similarity of the two names' tokens (0 when either is empty)."""
    ta, tb = model_tokens(a), model_tokens(b)
    return len(ta & tb) / len(ta | tb) if ta and tb else 0.0


def error_percent(metric: str, value: float) -> float:
    """Error in percent: error metrics as they are, 100 - accuracy / AP / F1 / EM / BLEU."""
    return value if metric in ERROR_METRICS else 100.0 - value


_PREFIX = {"": 1.0, "k": 1e3, "m": 1e6, "g": 1e9, "b": 1e9, "t": 1e12, "p": 1e15}


def compute_from_unit(value: float, unit: str) -> tuple[float, str]:
    """(absolute count, "flops" | "multiply-adds") from a value as written: 4.1 GFLOPs."""
    u = (unit or "").strip().lower().replace(" ", "").replace("-", "")
    m = re.fullmatch(r"([kmgbtp]?)(flops?|macs?|multiplyadds?|multadds?|madds?)", u)
    if not m:
        raise UnitError(f"Compute unit {unit!r} is not known; use FLOPs, GFLOPs, MACs, GMACs "
                        f"or multiply-adds (with a k/M/G/T/P prefix)")
    kind = "flops" if m.group(2).startswith("flop") else "multiply-adds"
    return value * _PREFIX[m.group(1)], kind


def count_from_unit(value: float, unit: str) -> float:
    """Parameters as a count from 25.6 M, 1.5 B, 340 million."""
    u = (unit or "").strip().lower()
    words = {"": 1.0, "count": 1.0, "k": 1e3, "thousand": 1e3, "m": 1e6, "million": 1e6,
             "b": 1e9, "g": 1e9, "billion": 1e9, "t": 1e12, "trillion": 1e12}
    if u not in words:
        raise UnitError(f"Parameter unit {unit!r} is not known; use K, M, B or leave it empty")
    return value * words[u]


def hours_from_unit(value: float, unit: str) -> tuple[float, str]:
    """(hours, "wall_clock" | "device_hours") from 3 days, 250 GPU-hours, 90 minutes."""
    u = (unit or "").strip().lower().replace("-", " ").replace("_", " ")
    device = any(w in u for w in ("gpu", "tpu", "device", "chip", "core"))
    scale = {"minute": 1 / 60, "min": 1 / 60, "hour": 1.0, "hr": 1.0, "h": 1.0, "day": 24.0,
             "week": 168.0, "month": 730.0}
    base = u.split()[-1].rstrip("s") if u else ""
    if base not in scale:
        raise UnitError(f"Time unit {unit!r} is not known; use minutes, hours, days or weeks "
                        f"(GPU-hours, TPU-days for device time)")
    return value * scale[base], "device_hours" if device else "wall_clock"


@dataclass
class Decision:
    """The annotator decision in force for one flag."""

    review_id: int
    flag_id: int
    action: str  # accept | correct | not_reported
    value: float | None
    unit: str | None
    fact_id: int | None
    annotator: str
    before: dict[str, Any]
    # (arxiv_id, model, benchmark, metric) of each observation the review page listed as
    # changed by this answer; None for reviews recorded before pages listed them.
    observations: list[tuple[str, str, str, str]] | None = None

    def applies_to(self, arxiv_id: str, model: str | None, benchmark: str) -> bool:
        """True when this decision may set a value of that observation.

        A decision reaches only the observations its page listed (model and benchmark
        compared as curate does); an older decision without a list reaches what its
        flag's key reaches.
        """
        if self.observations is None:
            return True
        mk = model_key(model)
        return any(a == arxiv_id and model_key(m) == mk and b == benchmark
                   for a, m, b, _ in self.observations)
