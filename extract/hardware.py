"""Training-hardware mentions: chip names resolved via extract.catalog, with chip counts.

Uses `extract.catalog.find_mentions` / `resolve` (owned by extract-infra) when
that module exists; until then a small built-in alias table stands in, with
the same call shapes, so the rules don't change when the catalog arrives.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from extract.nlp import NUM, parse_number

try:  # the hardware catalog (branch extract-infra)
    from extract import catalog as _catalog
except ImportError:  # pragma: no cover - depends on merge state
    _catalog = None


@dataclass(frozen=True)
class Mention:
    start: int
    end: int
    name: str           # as written
    chip: str           # canonical chip
    kind: str           # gpu | tpu | cpu | generic
    chips_per_unit: float
    cores_per_chip: float
    implies_count: bool = False
    devices_per_board: float = 1.0


# Fallback aliases (canonical, kind, regex, chips per unit, cores per chip).
_FALLBACK = [
    ("V100", "gpu", r"(?:DGX-1|DGX1)", 8, 1),
    ("V100", "gpu", r"DGX-2H?", 16, 1),
    ("A100", "gpu", r"DGX\s?A100", 8, 1),
    ("GTX 1080 Ti", "gpu", r"(?:GTX\s?)?1080\s?Ti", 1, 1),
    ("GTX 1080", "gpu", r"GTX\s?1080(?!\s?Ti)", 1, 1),
    ("RTX 2080 Ti", "gpu", r"(?:RTX\s?)?2080\s?Ti", 1, 1),
    ("RTX 3090", "gpu", r"(?:RTX\s?)?3090", 1, 1),
    ("GTX 580", "gpu", r"GTX\s?580", 1, 1),
    ("Titan Xp", "gpu", r"TITAN\s?Xp", 1, 1),
    ("Titan X", "gpu", r"TITAN\s?X(?!p)", 1, 1),
    ("Titan V", "gpu", r"TITAN\s?V\b", 1, 1),
    ("Titan RTX", "gpu", r"TITAN\s?RTX", 1, 1),
    ("V100", "gpu", r"V100", 1, 1),
    ("P100", "gpu", r"P100", 1, 1),
    ("A100", "gpu", r"A100", 1, 1),
    ("H100", "gpu", r"H100", 1, 1),
    ("K80", "gpu", r"K80", 1, 1),
    ("K40", "gpu", r"K40m?", 1, 1),
    ("K20", "gpu", r"K20[xXmM]?", 1, 1),
    ("M40", "gpu", r"M40", 1, 1),
    ("P40", "gpu", r"P40", 1, 1),
    ("T4", "gpu", r"\bT4\b", 1, 1),
    ("Kepler", "gpu", r"Kepler(?=\s+(?:GPUs?|architecture))", 1, 1),
    ("Maxwell", "gpu", r"Maxwell(?=\s+(?:GPUs?|architecture))", 1, 1),
    ("Pascal", "gpu", r"Pascal(?=\s+(?:GPUs?|architecture))", 1, 1),
    ("TPU v4", "tpu", r"TPU[\s-]?v4(?:[\s-]Pods?)?", 1, 2),
    ("TPU v3", "tpu", r"(?:Cloud\s)?TPU[\s-]?v3(?:-8)?(?:[\s-]Pods?)?", 1, 2),
    ("TPU v2", "tpu", r"(?:Cloud\s)?TPU[\s-]?v2(?:-8)?(?:[\s-]Pods?)?", 1, 2),
    ("TPU", "tpu", r"(?:Cloud\s)?TPUs?", 1, 2),
    ("GPU", "generic", r"GPUs?", 1, 1),
    ("CPU", "cpu", r"CPUs?", 1, 1),
]
_FALLBACK_RE = [(c, k, re.compile(r"(?<![\w])(?:NVIDIA\s|Nvidia\s|NVidia\s)?(?:Tesla\s|GeForce\s)?(?:GTX\s)?" + rx, re.I), u, cc)
                for c, k, rx, u, cc in _FALLBACK]


def _fallback_mentions(text: str) -> list[Mention]:
    taken: list[tuple[int, int]] = []
    out = []
    for chip, kind, rx, unit, cores in _FALLBACK_RE:
        for m in rx.finditer(text):
            if any(m.start() < e and s < m.end() for s, e in taken):
                continue
            name = m.group(0)
            per_unit = unit
            if chip.startswith("TPU") and re.search(r"v[23]-8", name):
                per_unit = 4
            elif chip.startswith("TPU") and re.search(r"Pod", name, re.I):
                per_unit = 1024 if "v3" in name else 256
            taken.append((m.start(), m.end()))
            out.append(Mention(m.start(), m.end(), name, chip, kind, per_unit, cores))
    return sorted(out, key=lambda x: x.start)


def find_hardware(text: str, *, year: int | None = None, month: int | None = None) -> list[Mention]:
    """Hardware mentions in a sentence, each resolved to a canonical chip."""
    if _catalog is None:
        return _fallback_mentions(text)
    out = []
    for s, e, name in _catalog.find_mentions(text):
        res = _catalog.resolve(name, year=year, month=month)
        if res is None:
            continue
        chip = _catalog.canonical_name(res.chip.chip)
        kind = res.chip.kind
        if kind == "generic" and chip not in ("GPU", "CPU", "TPU"):
            kind = "gpu"  # a generation ("Pascal GPUs") names the hardware well enough
        if chip == "CPU":
            kind = "cpu"
        out.append(Mention(s, e, name, chip, kind, res.chips_per_unit,
                           res.chip.cores_per_chip or 1, res.implies_count,
                           res.chip.devices_per_board or 1))
    # generic "GPUs"/"CPUs" if the catalog does not report them
    for m in _fallback_mentions(text):
        if m.kind in ("generic", "cpu") and not any(x.start <= m.start < x.end or m.start <= x.start < m.end for x in out):
            out.append(m)
    return sorted(out, key=lambda x: x.start)


_COUNT_BEFORE = re.compile(
    r"(?:(?P<num>" + NUM + r")|(?P<single>a single|single|one))\s*(?:x\s*|\*\s*|-\s*)?"
    r"(?:(?:NVIDIA|Nvidia|Tesla|GeForce|Google|Cloud|Volta|the)\s+)*$")
_CORES_AFTER = re.compile(r"^[^.;]{0,12}?(?:with\s+)?(?P<num>" + NUM + r")\s*(?:TPU\s*)?cores", re.I)
_CORES_BEFORE = re.compile(r"(?P<num>" + NUM + r")\s*(?:TPU\s*)?(?:v[234]\s*)?cores?\s*(?:of\s*)?$", re.I)
_CORE_WORD = re.compile(r"^[\s\-]*(?:core|cores)\b", re.I)


def devices_named(sentence: str, m: Mention) -> float | None:
    """GPUs as the paper counts them ("96 K80 GPUs" -> 96) where the catalog counts boards."""
    if m.devices_per_board <= 1:
        return None
    cb = _COUNT_BEFORE.search(sentence[max(0, m.start - 40):m.start])
    if not cb:
        return None
    return 1.0 if cb.group("single") else parse_number(cb.group("num"))


def chip_count(sentence: str, m: Mention) -> float | None:
    """Chips named by a mention: '8 NVIDIA V100 GPUs' -> 8; '2048 TPUv3 cores' -> 1024."""
    before = sentence[max(0, m.start - 40):m.start]
    after = sentence[m.end:m.end + 40]
    cb = _COUNT_BEFORE.search(before)
    n = None
    if cb:
        n = 1.0 if cb.group("single") else parse_number(cb.group("num"))
        if n is not None and n > 100000:
            n = None
    if m.kind == "tpu":
        if re.search(r"cores?$", m.name, re.I) and n is not None:
            return n * m.chips_per_unit  # the catalog already counts cores as half chips
        if _CORE_WORD.match(after) and n is not None:
            return n / m.cores_per_chip
        ca = _CORES_AFTER.match(after)
        if ca:
            c = parse_number(ca.group("num"))
            return c / m.cores_per_chip if c else None
    if n is None:
        if m.implies_count:
            return m.chips_per_unit
        # "8-GPU machine" is handled by the NUM-GPU form in find_hardware's text
        return None if m.chips_per_unit == 1 else m.chips_per_unit
    return n * m.chips_per_unit
