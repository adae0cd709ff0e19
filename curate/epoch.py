"""Epoch AI's notable models (CC BY) as a second cross-check beside Papers with Code.

``read_epoch`` reads Epoch's ``notable_ai_models.csv`` export; rows are matched to
papers by the arXiv id in their Link column and stored in ``epoch_models`` by
``load_epoch`` (loading a file again adds nothing). ``check_epoch`` compares them
with the paper's observations like with like: parameters of the same named
variant, the paper's chip count and training time, and flags a mismatch with both
values shown. Many of Epoch's figures are its own estimates (its notes say
which), so a flag is a question, not a verdict.

Cite: Epoch AI, "Parameter, Compute and Data Trends in Machine Learning".
"""

from __future__ import annotations

import csv
import logging
import re
from collections import defaultdict
from dataclasses import asdict, dataclass
from pathlib import Path

from curate.arxiv_ids import parse_arxiv_id
from curate.build import Builder
from curate.names import variant_key
from curate.provenance import obs_key
from db import DlcomputeError, Store
from db.schema import T
from db.store import utcnow

log = logging.getLogger(__name__)

# Columns of Epoch's export that dlcompute reads; a file without them is not the export.
REQUIRED = ("Model", "Link", "Parameters", "Hardware quantity", "Training time (hours)")


class EpochError(DlcomputeError):
    """An Epoch AI file cannot be read."""


@dataclass
class EpochModel:
    """One row of Epoch's notable models."""

    model: str
    arxiv_id: str | None
    organization: str
    publication_date: str
    domain: str
    parameters: float | None
    training_compute: float | None
    training_hardware: str
    hardware_quantity: float | None
    training_time_hours: float | None
    epochs: float | None
    confidence: str
    parameters_notes: str
    compute_notes: str
    training_time_notes: str
    link: str
    source: str


def _number(raw: str | None) -> float | None:
    text = (raw or "").strip().replace(",", "")
    try:
        value = float(text)
    except ValueError:
        return None
    return value if value == value and value not in (float("inf"), float("-inf")) else None


def link_arxiv_id(link: str | None) -> str | None:
    """The first arXiv id among the URLs of a Link cell (several are separated by
    spaces, commas, newlines or " or ")."""
    for token in re.split(r"[\s,;]+", link or ""):
        aid = parse_arxiv_id(token)
        if aid:
            return aid
    return None


def read_epoch(path: str | Path) -> list[EpochModel]:
    """Every row of an Epoch AI notable-models CSV export."""
    path = Path(path)
    try:
        with open(path, encoding="utf-8", newline="") as fh:
            reader = csv.DictReader(fh)
            missing = [c for c in REQUIRED if c not in (reader.fieldnames or [])]
            if missing:
                raise EpochError(
                    f"Epoch AI file {path}: missing column(s) {', '.join(missing)}; pass "
                    f"Epoch's notable_ai_models.csv export")
            out = []
            for r in reader:
                name = (r.get("Model") or "").strip()
                if not name:
                    continue
                out.append(EpochModel(
                    model=name, arxiv_id=link_arxiv_id(r.get("Link")),
                    organization=r.get("Organization") or "",
                    publication_date=r.get("Publication date") or "",
                    domain=r.get("Domain") or "",
                    parameters=_number(r.get("Parameters")),
                    training_compute=_number(r.get("Training compute (FLOP)")),
                    training_hardware=r.get("Training hardware") or "",
                    hardware_quantity=_number(r.get("Hardware quantity")),
                    training_time_hours=_number(r.get("Training time (hours)")),
                    epochs=_number(r.get("Epochs")),
                    confidence=r.get("Confidence") or "",
                    parameters_notes=(r.get("Parameters notes") or "")[:2000],
                    compute_notes=(r.get("Training compute notes") or "")[:2000],
                    training_time_notes=(r.get("Training time notes") or "")[:2000],
                    link=r.get("Link") or "", source=path.name))
    except FileNotFoundError as e:
        raise EpochError(f"Epoch AI file {path} does not exist; check the --epoch path") from e
    except (UnicodeDecodeError, csv.Error, OSError) as e:
        raise EpochError(f"Epoch AI file {path} is not a readable CSV ({e}); pass Epoch's "
                         f"notable_ai_models.csv export") from e
    return out


def load_epoch(store: Store, paths: list[str | Path] | tuple = ()) -> int:
    """Load Epoch exports into ``epoch_models``; returns how many new models were stored.

    A model already loaded from a file of the same name is refreshed (a newer export
    replaces its figures), never duplicated.
    """
    now = utcnow()
    added = 0
    for path in paths:
        rows = [asdict(m) | {"loaded_at": now} for m in read_epoch(path)]
        with store.transaction() as db:
            known = {(r["source"], r["model"]): r["id"] for r in db.query(
                f"select id, source, model from {T.epoch_models}")}
            for r in rows:
                rid = known.get((r["source"], r["model"]))
                if rid is None:
                    known[(r["source"], r["model"])] = db[T.epoch_models].insert(r).last_pk
                    added += 1
                else:
                    db[T.epoch_models].update(rid, r)
        log.info("Epoch AI %s: %d models, %d with an arXiv id", path, len(rows),
                 sum(1 for r in rows if r["arxiv_id"]))
    return added


def _base_key(name: str) -> str:
    """An Epoch name reduced for matching a paper's: qualifiers in brackets dropped
    ("ResNet-152 (ImageNet)" -> "resnet152")."""
    return variant_key(re.sub(r"\([^)]*\)|\[[^\]]*\]", " ", name or ""))


def _differ(a: float, b: float, tolerance: float) -> bool:
    return abs(a - b) > tolerance * max(abs(a), abs(b))


# The unit a review decision reads a candidate's value in (curate.choose.decision_value).
_UNITS = {"parameters": "count", "hardware_quantity": "chips", "training_time_hours": "hours"}


def _candidate(m: dict, column: str, value: float, label: str) -> dict:
    notes = {"parameters": m.get("parameters_notes"),
             "training_time_hours": m.get("training_time_notes")}.get(column) or ""
    return {"epoch_id": m["id"], "value": value, "model": m["model"], "confidence": None,
            "stated": f"{value:g}", "unit": _UNITS[column],
            "evidence": f"Epoch AI ({m['source']}): {m['model']}, {label} = {value:g}"
                        + (f"; notes: {notes[:300]}" if notes else "")}


def check_epoch(b: Builder, rows: list[dict], tolerance: float = 0.1) -> int:
    """Flag observations whose parameters, chip count or training time differ from
    Epoch AI's for the same paper (parameters only for the same named model); one
    flag per model and field. Returns the number of comparisons made."""
    by_paper = b.epoch  # the batch's papers' Epoch AI rows (curate.inputs)
    obs_by_paper: dict[str, list[dict]] = defaultdict(list)
    for r in rows:
        obs_by_paper[r["arxiv_id"]].append(r)
    compared = 0
    for aid, models in by_paper.items():
        obs = obs_by_paper.get(aid, [])
        if not obs:
            continue
        for m in models:
            compared += _check_parameters(b, m, obs, tolerance)
            compared += _check_paper_level(b, m, obs, tolerance)
    return compared


def _check_parameters(b: Builder, m: dict, obs: list[dict], tolerance: float) -> int:
    if m["parameters"] is None:
        return 0
    key = _base_key(m["model"])
    same = [r for r in obs if r.get("parameters") and variant_key(r["model"]) == key]
    if not same:
        return 0
    r = same[0]
    if _differ(r["parameters"], m["parameters"], tolerance):
        b.flag("epoch_mismatch", r["arxiv_id"], r["model"], "", "parameters",
               f"parameters of {r['model']}: the paper's {r['parameters']:.4g} against Epoch "
               f"AI's {m['parameters']:.4g} ({m['model']})",
               [_candidate(m, "parameters", m["parameters"], "parameters")],
               _key(r))
    return 1


def _check_paper_level(b: Builder, m: dict, obs: list[dict], tolerance: float) -> int:
    """Chips and training time are the paper's figures: compared once per paper."""
    n = 0
    checks = (("chips", "hardware_quantity", "chip_count", "chips", 0.0),
              ("training_hours", "training_time_hours", "training_time", "hours", tolerance))
    for column, epoch_col, fld, label, tol in checks:
        theirs = m[epoch_col]
        ours = next((r for r in obs if r.get(column)), None)
        if theirs is None or ours is None:
            continue
        n += 1
        if _differ(ours[column], theirs, tol):
            b.flag("epoch_mismatch", ours["arxiv_id"], "", "", fld,
                   f"{label}: the paper's {ours[column]:.4g} against Epoch AI's {theirs:.4g} "
                   f"({m['model']})", [_candidate(m, epoch_col, theirs, label)], None)
            spec = b.flags["|".join(["epoch_mismatch", ours["arxiv_id"], "", "", fld])]
            spec.observations |= {_key(r) for r in obs if r.get(column) is not None}
    return n


def _key(row: dict) -> tuple:
    return obs_key(row)
