"""The hardware catalog: accelerator names as papers write them -> chips with peak figures.

Data lives in ``extract/data/hardware.csv`` (one row per chip, every number with
its ``source``) and ``extract/data/systems.csv`` (DGX boxes and cloud instances
as a number of chips). Figures were checked against Epoch AI's ML hardware data
(CC BY 4.0, https://epoch.ai/data/machine-learning-hardware); ``epoch_name``
names the Epoch row a chip was checked against.

Conventions (read these before using the numbers):

- ``chip`` is the catalog key (the ``hardware`` table's primary key). Where one
  marketing name covers two cards the key carries the variant in brackets:
  ``Titan X (Maxwell)`` / ``Titan X (Pascal)``, ``V100`` (SXM2) / ``V100 (PCIe)``.
  ``Chip.name`` (and :func:`canonical_name`) drops the bracket: ``Titan X``, the
  name gold labels and users see. An unqualified V100, P100 or H100 is the SXM form.
- ``fp32_base_gflops`` = CUDA cores x 2 x base clock, the convention of Thompson
  et al. (2020) (GTX 1080 Ti: 3584 x 2 x 1.480 GHz = 10,609); ``fp32_boost_gflops``
  is the vendor's headline figure (boost clock).
- TPUs publish no FP32 peak: their FP32 columns are empty and ``tensor_gflops``
  holds the bf16 peak per chip. Hardware burden for TPUs is ``tensor_gflops x
  tpu_peak_factor`` (a setting of the analysis, default 1.0).
- Counts are in chips. K80 figures are per board (two GPUs): a "K80 GPU" is half
  a board. TPU v2/v3/v4 have two TensorCores per chip and Cloud TPU names count
  cores: ``v3-8`` = 4 chips; "2048 TPUv3 cores" = 1,024 chips; a TPU v3 pod is
  1,024 chips (v2: 256, v4: 4,096).
- Generations ("Kepler GPU", "Pascal GPUs", "Volta") and unnamed hardware ("GPU",
  "CPU", "TPU") are ``kind="generic"`` rows without peaks.
- Ambiguous names are decided by the paper's date: among the rows sharing an
  alias, the newest one released before the paper's month ("TITAN X" in a paper
  after 2016-08 is the Pascal card); DGX-1 is 8 x P100 before 2017-09, 8 x V100 after.
"""

from __future__ import annotations

import csv
import functools
import hashlib
import logging
import re
from dataclasses import dataclass
from importlib import resources

log = logging.getLogger(__name__)

DATA_PACKAGE = "extract.data"
HARDWARE_FILE = "hardware.csv"
SYSTEMS_FILE = "systems.csv"

# Chips in a full pod per TPU generation (Google Cloud TPU documentation).
TPU_POD_CHIPS = {"2": 256, "3": 1024, "4": 4096}

# Words that qualify a name but do not change the chip.
_VENDOR_WORDS = ("nvidia's", "nvidia", "geforce", "tesla", "quadro", "google's", "google",
                 "cloud", "intel", "amd", "single", "dual")
# Words after a name that say what is counted; the first group is in the regex of
# find_mentions, resolve uses the captured word to decide the counting unit.
_COUNT_WORDS = r"gpus?|graphics\s+cards?|cards?|accelerators?|chips?|boards?|cores?|tpus?|" \
               r"cpus?|devices?|servers?|machines?|nodes?|systems?|instances?|workstations?"
_FORM = r"sxm[2-5]?|pci-?e|nvlink"
_MEMORY = r"\(?\s*\d+\s*gb\s*\)?"


@dataclass(frozen=True)
class Chip:
    """One row of the catalog (one column of the ``hardware`` table per field)."""

    chip: str
    variant: str | None
    vendor: str
    kind: str  # gpu | tpu | cpu | generic
    aliases: tuple[str, ...]
    release_date: str | None
    fp32_base_gflops: float | None
    fp32_boost_gflops: float | None
    tensor_gflops: float | None
    tdp_watts: float | None
    devices_per_board: float
    cores_per_chip: float
    source: str
    notes: str
    epoch_name: str | None = None

    @property
    def name(self) -> str:
        """The canonical name users and gold labels use: ``Titan X`` for both Titan X rows."""
        return canonical_name(self.chip)


@dataclass(frozen=True)
class System:
    """A box or cloud instance that stands for a number of chips (DGX-1, p3.16xlarge)."""

    system: str
    aliases: tuple[str, ...]
    chip: str
    chips_per_unit: float
    available_from: str | None  # YYYY-MM
    source: str
    notes: str


@dataclass(frozen=True)
class Resolution:
    """What a mention names: a chip, and how many chips one counted unit stands for."""

    chip: Chip
    chips_per_unit: float = 1.0
    # True when the name itself fixes a count ("Cloud TPU v3-8", "DGX-1", "TPUv3 Pod").
    implies_count: bool = False
    system: str | None = None
    note: str | None = None

    def chips(self, count: float | None, unit: str = "unit") -> float | None:
        """Chips for ``count`` units.

        ``unit``: "unit" (what the mention names: GPU, board, system, slice), "chip",
        "core" (TPU TensorCores -> chips) or "device" (GPUs on a multi-GPU board -> boards).
        """
        if count is None:
            return self.chips_per_unit if (self.implies_count and unit == "unit") else None
        if unit == "unit":
            return count * self.chips_per_unit
        if unit == "chip":
            return float(count)
        if unit == "core":
            return count / self.chip.cores_per_chip
        if unit == "device":
            return count / self.chip.devices_per_board
        raise ValueError(f"unit {unit!r} is not one of: unit, chip, core, device")


def canonical_name(chip: str) -> str:
    """Catalog key -> canonical name: ``Titan X (Pascal)`` -> ``Titan X``."""
    return re.sub(r"\s*\([^)]*\)\s*$", "", chip)


def _float(text: str) -> float | None:
    text = text.strip()
    return float(text) if text else None


def _read(name: str) -> str:
    return resources.files(DATA_PACKAGE).joinpath(name).read_text(encoding="utf-8")


@functools.cache
def _catalog() -> tuple[Chip, ...]:
    rows = []
    for r in csv.DictReader(_read(HARDWARE_FILE).splitlines()):
        rows.append(Chip(
            chip=r["chip"], variant=r["variant"] or None, vendor=r["vendor"], kind=r["kind"],
            aliases=tuple(a.strip() for a in r["aliases"].split("|") if a.strip()),
            release_date=r["release_date"] or None,
            fp32_base_gflops=_float(r["fp32_base_gflops"]),
            fp32_boost_gflops=_float(r["fp32_boost_gflops"]),
            tensor_gflops=_float(r["tensor_gflops"]), tdp_watts=_float(r["tdp_watts"]),
            devices_per_board=float(r["devices_per_board"]),
            cores_per_chip=float(r["cores_per_chip"]),
            source=r["source"], notes=r["notes"], epoch_name=r["epoch_name"] or None,
        ))
    return tuple(rows)


@functools.cache
def _systems() -> tuple[System, ...]:
    return tuple(
        System(system=r["system"], aliases=tuple(a.strip() for a in r["aliases"].split("|")),
               chip=r["chip"], chips_per_unit=float(r["chips_per_unit"]),
               available_from=r["available_from"] or None, source=r["source"],
               notes=r["notes"])
        for r in csv.DictReader(_read(SYSTEMS_FILE).splitlines())
    )


def load_catalog() -> list[Chip]:
    """Every chip of the catalog, in file order."""
    return list(_catalog())


def load_systems() -> list[System]:
    """Every system (DGX, cloud instance) of the catalog."""
    return list(_systems())


@functools.cache
def catalog_version() -> str:
    """A short hash of the catalog files: changes whenever a figure or alias changes."""
    h = hashlib.sha256()
    for name in (HARDWARE_FILE, SYSTEMS_FILE):
        h.update(_read(name).encode("utf-8"))
    return h.hexdigest()[:12]


def get_chip(chip: str) -> Chip | None:
    """The row with this catalog key (``V100``, ``Titan X (Pascal)``), or None."""
    return next((c for c in _catalog() if c.chip == chip), None)


# --- resolving a mention -----------------------------------------------------------

def _compact(text: str) -> str:
    return re.sub(r"[^a-z0-9]", "", text.lower())


def _strip(text: str) -> tuple[str, str | None]:
    """Drop vendor words, memory sizes and trailing count words; return (key, count word)."""
    s = text.lower().replace("®", " ").replace("™", " ")
    s = re.sub(_MEMORY, " ", s)
    count_word = None
    m = re.search(rf"[\s\-]+({_COUNT_WORDS})\s*$", s)
    if m:
        count_word = m.group(1)
        s = s[: m.start()]
    words = [w for w in re.split(r"\s+", s) if w and w not in _VENDOR_WORDS]
    return _compact(" ".join(words)), count_word


@functools.cache
def _alias_index() -> dict[str, tuple[Chip, ...]]:
    index: dict[str, list[Chip]] = {}
    for chip in _catalog():
        for alias in (*chip.aliases, chip.chip):
            for key in {_compact(alias), _strip(alias)[0]}:
                if key and chip not in index.setdefault(key, []):
                    index[key].append(chip)
    return {k: tuple(v) for k, v in index.items()}


def _ym(date: str | None) -> tuple[int, int] | None:
    if not date:
        return None
    parts = date.split("-")
    return int(parts[0]), int(parts[1]) if len(parts) > 1 else 1


def _pick(cands, date_of, year: int | None, month: int | None, *, inclusive: bool):
    """Newest candidate available at the paper's date, else the oldest; and a note."""
    cands = sorted(cands, key=lambda c: _ym(date_of(c)) or (0, 0))
    if len(cands) == 1:
        return cands[0], None
    chosen = None
    if year is not None:
        for c in cands:
            if _available(_ym(date_of(c)) or (0, 0), year, month, inclusive=inclusive):
                chosen = c
    if chosen is None:
        chosen = cands[0]
        why = "no paper date" if year is None else f"paper date {_date_text(year, month)}"
        return chosen, f"ambiguous name; took the earliest ({why})"
    return chosen, f"ambiguous name; chose by paper date {_date_text(year, month)}"


def _available(ym: tuple[int, int], year: int, month: int | None, *, inclusive: bool) -> bool:
    """Was something released in ``ym`` available to a paper of year/month?"""
    if not month:
        return ym[0] < year
    return ym <= (year, month) if inclusive else ym < (year, month)


def _date_text(year: int, month: int | None) -> str:
    return f"{year}-{month:02d}" if month else str(year)


def _generic(name: str) -> Chip:
    chip = get_chip(name)
    if chip is None:
        raise LookupError(f"catalog has no generic row {name!r}; restore {HARDWARE_FILE}")
    return chip


def _tpu(gen: str) -> Chip:
    return _generic(f"TPU v{gen}")


def _resolve_tpu_form(low: str, mult: float) -> Resolution | None:
    if "tpu" not in low and not re.search(r"\bv[234]-\d+", low):
        return None
    m = re.search(r"v\s*([234])\s*-\s*(\d+)\b", low)
    if m:
        chip = _tpu(m.group(1))
        cores = int(m.group(2))
        return Resolution(chip, mult * cores / chip.cores_per_chip, implies_count=True,
                          system=f"TPU v{m.group(1)}-{cores}",
                          note=f"v{m.group(1)}-{cores} counts TensorCores: "
                               f"{cores / chip.cores_per_chip:g} chips")
    if re.search(r"\bpods?\b", low):
        g = re.search(r"v\s*([234])\b", low)
        if "slice" in low:
            chip = _tpu(g.group(1)) if g else _generic("TPU")
            return Resolution(chip, mult, note="pod slice of unstated size")
        if g:
            return Resolution(_tpu(g.group(1)), mult * TPU_POD_CHIPS[g.group(1)],
                              implies_count=True, system=f"TPU v{g.group(1)} pod",
                              note=f"a full pod is {TPU_POD_CHIPS[g.group(1)]} chips")
        return Resolution(_generic("TPU"), mult, note="TPU pod of unstated generation")
    return None


@functools.cache
def _system_patterns() -> tuple[tuple[re.Pattern, System], ...]:
    pairs = [(alias, s) for s in _systems() for alias in s.aliases]
    pairs.sort(key=lambda p: -len(p[0]))
    return tuple((re.compile(rf"(?<![\w.]){_alias_regex(a)}(?![\w.])", re.I), s)
                 for a, s in pairs)


def _resolve_system(text: str, year, month, mult: float) -> Resolution | None:
    matched: list[System] = []
    for pattern, system in _system_patterns():
        if pattern.search(text) and system not in matched:
            # All rows of the first (longest) matching name compete by date.
            if matched and matched[0].system != system.system:
                continue
            matched.append(system)
    if not matched:
        return None
    system, note = _pick(matched, lambda s: s.available_from, year, month, inclusive=True)
    chip = get_chip(system.chip)
    if chip is None:
        raise LookupError(f"{SYSTEMS_FILE}: {system.system} names unknown chip {system.chip!r}")
    return Resolution(chip, mult * system.chips_per_unit, implies_count=True,
                      system=system.system,
                      note=f"{system.system} = {system.chips_per_unit:g} x {chip.chip}"
                           + (f"; {note}" if note else ""))


def resolve(mention: str, *, year: int | None = None,
            month: int | None = None) -> Resolution | None:
    """The chip a mention names, or None when the catalog does not know it.

    ``year``/``month`` (the paper's date) settle ambiguous names (Titan X, DGX-1).

    >>> resolve("NVIDIA Tesla V100-SXM2-32GB").chip.chip
    'V100'
    """
    text = (mention or "").strip()
    if not text:
        return None
    mult = 1.0
    m = re.match(r"^(\d+)\s*[x×]\s*", text)
    if m:
        mult = float(m.group(1))
        text = text[m.end():]
    low = text.lower()
    res = _resolve_tpu_form(low, mult) or _resolve_system(text, year, month, mult)
    if res is not None:
        return res
    index = _alias_index()
    key, count_word = _strip(text)
    cands = index.get(_compact(text)) or index.get(key)
    if cands is None and key.endswith("s"):
        cands = index.get(key[:-1])
    if cands is None:
        generic = _generic_word(low)
        if generic is None:
            return None
        cands = (_generic(generic),)
    chip, note = _pick(cands, lambda c: c.release_date, year, month, inclusive=False)
    per_unit = mult
    if count_word and count_word.startswith("core") and chip.cores_per_chip > 1:
        per_unit = mult / chip.cores_per_chip
        note = "; ".join(filter(None, [note, f"counts cores: {chip.cores_per_chip:g} per chip"]))
    elif count_word and count_word.startswith("gpu") and chip.devices_per_board > 1:
        per_unit = mult / chip.devices_per_board
        note = "; ".join(filter(None, [note, f"a {chip.name} GPU is 1/"
                                             f"{chip.devices_per_board:g} board"]))
    return Resolution(chip, per_unit, implies_count=mult != 1.0, note=note)


def _generic_word(low: str) -> str | None:
    if re.search(r"\btpus?\b|tensor processing unit", low):
        return "TPU"
    if re.search(r"\bgpus?\b|graphics", low):
        return "GPU"
    if re.search(r"\bcpus?\b|\bxeon\b|processor", low):
        return "CPU"
    return None


# --- finding mentions in text ------------------------------------------------------

def _alias_regex(alias: str) -> str:
    """An alias as a regex: separators between its words may be spaces, hyphens or nothing."""
    tokens = [t for t in re.split(r"[\s\-]+", alias) if t]
    return r"[\s\-]*".join(re.escape(t) for t in tokens)


@functools.cache
def _mention_regex() -> re.Pattern:
    aliases = {a for c in _catalog() for a in c.aliases}
    aliases |= {a for s in _systems() for a in s.aliases}
    names = "|".join(_alias_regex(a) for a in sorted(aliases, key=lambda a: (-len(a), a)))
    vendor = r"(?:(?:nvidia|geforce|tesla|quadro|google|cloud|intel|amd)(?:®|™)?[\s\-]+)*"
    tpu_forms = (r"(?:tpu[\s\-]*v[234]-\d+|v[234]-\d+(?:[\s\-]+(?:cloud[\s\-]+)?tpus?)"
                 r"|tpu[\s\-]*v[234][\s\-]*pods?|tpu[\s\-]+pods?)"
                 r"(?:[\s\-]+slices?)?")
    suffix = (rf"(?:[\s\-]*(?:{_FORM}))?(?:[\s\-]*{_MEMORY})?s?"
              rf"(?:[\s\-]+(?:{_COUNT_WORDS}))?")
    left = r"(?:(?<=\d[x×])|(?<![\w.]))"
    return re.compile(rf"{left}{vendor}(?:{tpu_forms}|(?:{names}){suffix})(?![\w])", re.I)


def find_mentions(text: str) -> list[tuple[int, int, str]]:
    """Spans (start, end, text) of hardware names in ``text``, in order.

    A span takes in vendor words before the name and form, memory and a count word
    after it ("NVIDIA Tesla V100-SXM2-32GB GPUs"), so that :func:`resolve` gets the
    whole name. Counts before it ("8x", "eight") are left to the caller.
    """
    return [(m.start(), m.end(), m.group(0)) for m in _mention_regex().finditer(text or "")]
