"""Values as a person reads them: 4.1 GFLOPs, 25.6 M, 3.5 days, 7.3%.

One function for every place that shows a value (the review app's candidates,
observations and history, the audit page), so a number looks the same everywhere.
"""

from __future__ import annotations

import math

from curate.values import RESULT_PREFIX

_SI = ((1e18, "E"), (1e15, "P"), (1e12, "T"), (1e9, "G"), (1e6, "M"), (1e3, "k"))
_COUNT = ((1e12, "T"), (1e9, "B"), (1e6, "M"), (1e3, "K"))

# What a value of each field, or of each normalised unit, measures.
KIND_OF_FIELD = {"compute_per_pass": "flops", "parameters": "count", "chip_count": "chips",
                 "chips": "chips", "training_time": "hours", "training_hours": "hours",
                 "hardware_burden": "flops_total", "error": "percent"}
KIND_OF_UNIT = {"flops": "flops", "multiply-adds": "macs", "count": "count", "hours": "hours",
                "wall_clock": "hours", "device_hours": "device_hours", "percent": "percent",
                "bleu": "bleu", "epochs": "epochs"}


def significant(x: float, digits: int = 3) -> str:
    """``x`` to ``digits`` significant digits, without trailing zeros: 4.1, 25.6, 1080."""
    if x == 0:
        return "0"
    text = f"{x:.{digits}g}"
    if "e" in text:  # %g switches to exponents from 1e3 on at 3 digits: write it out
        text = f"{x:.{max(0, digits - 1 - math.floor(math.log10(abs(x))))}f}"
    return text.rstrip("0").rstrip(".") if "." in text else text


def _prefixed(x: float, table: tuple, unit: str, sep: str = " ") -> str:
    for scale, prefix in table:
        if abs(x) >= scale:
            return f"{significant(x / scale)}{sep}{prefix}{unit}"
    return f"{significant(x)}{sep}{unit}".rstrip()


def _duration(hours: float, suffix: str = "") -> str:
    if abs(hours) >= 48:
        return f"{significant(hours / 24)} {suffix}days"
    if abs(hours) >= 1:
        return f"{significant(hours)} {suffix}hours"
    return f"{significant(hours * 60)} {suffix}minutes"


def human(value: float | str | None, kind: str | None) -> str:
    """``value`` in the units a person reads for ``kind``.

    ``kind`` is a field (compute_per_pass, parameters, training_time, chip_count,
    result:<metric>), an observation column, or a normalised unit (flops,
    multiply-adds, count, hours, device_hours, percent, bleu). Text (a chip name)
    is returned as it is; None as an empty string; inf and nan as words.
    """
    if value is None:
        return ""
    if isinstance(value, str):
        return value
    x = float(value)
    if not math.isfinite(x):
        return "not a number" if math.isnan(x) else ("-" if x < 0 else "") + "infinite"
    k = KIND_OF_FIELD.get(kind or "") or KIND_OF_UNIT.get(kind or "") or (
        "percent" if (kind or "").startswith(RESULT_PREFIX) else "")
    if k == "flops":
        return _prefixed(x, _SI, "FLOPs", sep=" ")
    if k == "flops_total":
        return _prefixed(x, _SI, "FLOP", sep=" ")
    if k == "macs":
        return _prefixed(x, _SI, "MACs", sep=" ")
    if k == "count":
        return _prefixed(x, _COUNT, "", sep=" ")
    if k == "hours":
        return _duration(x)
    if k == "device_hours":
        return _duration(x, "device-")
    if k == "percent":
        return f"{significant(x, 4)}%"
    if k == "bleu":
        return f"{significant(x, 4)} BLEU"
    if k == "chips":
        return significant(x, 6)
    if k == "epochs":
        return f"{significant(x, 4)} epochs"
    return significant(x, 4)
