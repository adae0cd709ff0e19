"""Papers with Code, from its archived dumps: load, map to dlcompute's benchmarks, store.

Two formats are read:

- the official ``evaluation-tables.json`` format (also sota-extractor's ``tasks/*.json``):
  a list of tasks, each with ``datasets`` (and nested ``subtasks`` / ``subdatasets``),
  each dataset with ``sota.rows``; a row has ``model_name``, ``paper_url`` and ``metrics``;
- AxCell's leaderboard records (``pwc-leaderboards.json``): a list of
  ``{"arxiv_id", "tables": [{"records": [{"task", "dataset", "metric", "model", "value"}]}]}``.

Rows are matched to papers by the arXiv id in the paper URL and stored in ``pwc_results``;
loading the same file again adds nothing.
"""

from __future__ import annotations

import gzip
import json
import logging
import re
from collections.abc import Iterator
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

from curate.arxiv_ids import parse_arxiv_id
from db import DlcomputeError, Store
from db.schema import T
from db.store import utcnow

log = logging.getLogger(__name__)


class PwcError(DlcomputeError):
    """A Papers with Code file cannot be read."""


def _norm(text: str) -> str:
    return re.sub(r"[^a-z0-9]+", "", text.lower())


# Dataset names as the dumps write them (normalised) -> dlcompute benchmark.
DATASETS: dict[str, str] = {
    **dict.fromkeys(["imagenet", "imagenet1k", "imagenetimagerecognition", "ilsvrc2012",
                     "imagenet2012", "imagenetilsvrc2012"], "imagenet"),
    **dict.fromkeys(["coco", "mscoco", "cocotestdev", "cocominival", "coco2017val",
                     "cocoval2017", "cocotestdev2017", "mscocotestdev"], "coco"),
    **dict.fromkeys(["squad11", "squad11dev", "squad11test", "squadv11", "squad"], "squad1.1"),
    **dict.fromkeys(["conll2003", "conll2003english", "conll2003en", "conll03"], "conll2003"),
    **dict.fromkeys(["wmt2014englishfrench", "wmt2014enfr", "wmt14enfr", "wmt2014enfrench"],
                    "wmt14-en-fr"),
    **dict.fromkeys(["wmt2014englishgerman", "wmt2014ende", "wmt14ende"], "wmt14-en-de"),
    **dict.fromkeys(["cifar10", "cifar10imagerecognition"], "cifar10"),
    **dict.fromkeys(["cifar100", "cifar100imagerecognition"], "cifar100"),
}

# Metric names (normalised) -> dlcompute metric, per benchmark family.
METRICS: dict[str, str] = {
    "top1accuracy": "top1_accuracy", "top1acc": "top1_accuracy", "accuracy": "top1_accuracy",
    "percentagecorrect": "top1_accuracy",
    "top5accuracy": "top5_accuracy",
    "top1error": "top1_error", "testerror": "top1_error", "top1errorrate": "top1_error",
    "top5error": "top5_error", "errorrate": "top5_error",
    "boxap": "box_ap", "ap": "box_ap", "boxmap": "box_ap",
    "f1": "f1", "f1score": "f1", "em": "em", "exactmatch": "em",
    "bleu": "bleu", "bleuscore": "bleu", "sacrebleu": "bleu",
}

# Which metrics make sense for which benchmark: drops e.g. COCO "AP" of pose estimation.
ALLOWED: dict[str, set[str]] = {
    "imagenet": {"top1_accuracy", "top5_accuracy", "top1_error", "top5_error"},
    "cifar10": {"top1_accuracy", "top1_error"},
    "cifar100": {"top1_accuracy", "top1_error"},
    "coco": {"box_ap"},
    "squad1.1": {"f1", "em"},
    "conll2003": {"f1"},
    "wmt14-en-fr": {"bleu"},
    "wmt14-en-de": {"bleu"},
}

# Tasks whose leaderboards on these datasets measure something else.
_EXCLUDED_TASKS = ("generation", "few-shot", "semi-supervised", "pose", "keypoint",
                   "segmentation", "caption", "question answering visual", "text detection",
                   "retrieval", "visual question")


@dataclass
class PwcResult:
    """One leaderboard row mapped to a dlcompute benchmark and metric."""

    arxiv_id: str
    benchmark: str
    metric: str
    value: float
    model: str
    task: str
    dataset: str
    metric_name: str
    paper_url: str
    paper_title: str
    source: str


def map_benchmark(task: str, dataset: str) -> str | None:
    """dlcompute benchmark of a PwC (task, dataset), or None when it is not one of ours."""
    low = (task or "").lower()
    if any(word in low for word in _EXCLUDED_TASKS):
        return None
    bench = DATASETS.get(_norm(dataset or ""))
    if bench == "coco" and "detection" not in low:
        return None
    if bench == "squad1.1" and _norm(dataset) == "squad" and "1.1" not in (task or ""):
        # a bare "SQuAD" could be 2.0; only trust it when the task says 1.1
        return None
    return bench


def map_metric(benchmark: str, metric_name: str) -> str | None:
    metric = METRICS.get(_norm(metric_name or ""))
    if metric is None or metric not in ALLOWED.get(benchmark, set()):
        return None
    return metric


def parse_value(raw: Any, metric_name: str) -> float | None:
    """A number from a dump cell: 79.2, "20.4%", "0.16422" (fractions of error rates)."""
    if raw is None or isinstance(raw, bool):
        return None
    if isinstance(raw, int | float):
        value = float(raw)
    else:
        text = str(raw).strip().replace(",", "").rstrip("%").strip()
        m = re.fullmatch(r"[-+]?\d+(?:\.\d+)?", text)
        if not m:
            return None
        value = float(text)
    if _norm(metric_name) == "errorrate" and 0 < value < 1:
        value *= 100  # the AI-metrics ImageNet table gives error rates as fractions
    return value


def _open_json(path: Path) -> Any:
    try:
        if path.suffix == ".gz":
            with gzip.open(path, "rt", encoding="utf-8") as fh:
                return json.load(fh)
        with open(path, encoding="utf-8") as fh:
            return json.load(fh)
    except FileNotFoundError as e:
        raise PwcError(f"Papers with Code file {path} does not exist; check the --pwc path") from e
    except (json.JSONDecodeError, UnicodeDecodeError, OSError, EOFError) as e:
        raise PwcError(
            f"Papers with Code file {path} is not readable JSON ({e}); pass an "
            f"evaluation-tables.json or AxCell pwc-leaderboards.json file") from e


def _eval_tables(tasks: list, source: str) -> Iterator[PwcResult]:
    stack: list[tuple[str, dict]] = [(t.get("task", ""), t) for t in tasks if isinstance(t, dict)]
    while stack:
        task_name, task = stack.pop()
        for sub in task.get("subtasks") or []:
            if isinstance(sub, dict):
                stack.append((sub.get("task") or task_name, sub))
        datasets = list(task.get("datasets") or [])
        while datasets:
            ds = datasets.pop()
            if not isinstance(ds, dict):
                continue
            datasets.extend(d for d in ds.get("subdatasets") or [] if isinstance(d, dict))
            bench = map_benchmark(task_name, ds.get("dataset", ""))
            if bench is None:
                continue
            for row in (ds.get("sota") or {}).get("rows") or []:
                arxiv_id = parse_arxiv_id(row.get("paper_url"))
                if arxiv_id is None:
                    continue
                for name, raw in (row.get("metrics") or {}).items():
                    metric = map_metric(bench, name)
                    value = parse_value(raw, name)
                    if metric is None or value is None:
                        continue
                    yield PwcResult(arxiv_id, bench, metric, value,
                                    row.get("model_name") or "", task_name,
                                    ds.get("dataset", ""), name, row.get("paper_url") or "",
                                    row.get("paper_title") or "", source)


def _axcell(papers: list, source: str) -> Iterator[PwcResult]:
    for paper in papers:
        arxiv_id = parse_arxiv_id(paper.get("arxiv_id"))
        if arxiv_id is None:
            continue
        for table in paper.get("tables") or []:
            for rec in table.get("records") or []:
                bench = map_benchmark(rec.get("task", ""), rec.get("dataset", ""))
                if bench is None:
                    continue
                metric = map_metric(bench, rec.get("metric", ""))
                value = parse_value(rec.get("value"), rec.get("metric", ""))
                if metric is None or value is None:
                    continue
                yield PwcResult(arxiv_id, bench, metric, value, rec.get("model") or "",
                                rec.get("task", ""), rec.get("dataset", ""),
                                rec.get("metric", ""), f"https://arxiv.org/abs/{arxiv_id}", "",
                                source)


def read_pwc(path: str | Path) -> list[PwcResult]:
    """Every row of a dump that maps to a dlcompute benchmark and metric."""
    path = Path(path)
    data = _open_json(path)
    if isinstance(data, dict):
        data = data.get("tasks") or data.get("papers") or [data]
    if not isinstance(data, list):
        raise PwcError(f"Papers with Code file {path}: expected a JSON list of tasks or papers")
    source = path.name
    if any(isinstance(x, dict) and "tables" in x for x in data[:20]):
        return list(_axcell(data, source))
    if any(isinstance(x, dict) and ("datasets" in x or "task" in x) for x in data[:20]):
        return list(_eval_tables(data, source))
    raise PwcError(
        f"Papers with Code file {path}: neither the evaluation-tables format (tasks with "
        f"datasets) nor AxCell records (papers with tables); check the file")


def load_pwc(store: Store, paths: list[str | Path] | tuple = ()) -> int:
    """Load dumps into ``pwc_results``; returns how many new rows were stored."""
    now = utcnow()
    added = 0
    for path in paths:
        rows = [asdict(r) | {"loaded_at": now} for r in read_pwc(path)]
        with store.transaction() as db:
            before = store.count(T.pwc_results)
            db[T.pwc_results].insert_all(rows, ignore=True)
            added += store.count(T.pwc_results) - before
        log.info("Papers with Code %s: %d rows mapped", path, len(rows))
    return added
