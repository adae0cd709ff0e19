"""The authors' ImageNet data, converted to the observations `analyze --observations` reads.

Thompson et al.'s group published its ImageNet table as the seed of the
computerprogress.com database: ``app/database/seeders/imagenet.csv`` in
https://github.com/Computer-Progress/api (commit
a36358b677dd53a4760e5c3f96458d72d1ed5e9b). The repository has no licence, so
the file is not redistributed here: download it and point
``DLCOMPUTE_AUTHORS_IMAGENET`` at it, or put it at ``tests/data/authors_imagenet.csv``
(git ignores that path, so it is not committed by accident).

Conversion, one observation per model and metric:
- ``arxiv_id``: the arXiv id of the url (abs/ or pdf/, version dropped); other
  urls (a NIPS page, a GitHub repository) are the paper's key as they are;
- ``metric``: ``top1_error`` and ``top5_error`` from their columns (percent);
- ``compute_per_pass``: ``flops``, else 2 x ``multiadds`` (a multiply-add is 2 FLOPs);
- ``parameters``: ``#params`` as given (the analysis checks they are parameters);
- ``hardware``/``chips``: the GPU or TPU and its count;
- ``training_hours``: ``time_sec`` / 3600;
- ``hardware_burden``: ``hw_gflops`` (peak GFLOPS of all chips) x ``time_sec`` x 1e9.
"""

from __future__ import annotations

import csv
import os
import re
from pathlib import Path

ENV = "DLCOMPUTE_AUTHORS_IMAGENET"
DEFAULT = Path(__file__).parent / "data" / "authors_imagenet.csv"
SOURCE = ("https://github.com/Computer-Progress/api/blob/"
          "a36358b677dd53a4760e5c3f96458d72d1ed5e9b/app/database/seeders/imagenet.csv")
_ARXIV = re.compile(r"arxiv\.org/(?:abs|pdf)/(\d{4}\.\d{4,5})")


def authors_file() -> Path | None:
    path = Path(os.environ.get(ENV) or DEFAULT)
    return path if path.is_file() else None


def _num(text: str) -> float | None:
    try:
        return float(text)
    except (TypeError, ValueError):
        return None


def convert(raw: Path) -> list[dict]:
    """Observations (dicts with the REQUIRED_COLUMNS) from the authors' imagenet.csv."""
    out = []
    with open(raw, encoding="utf-8", newline="") as fh:
        for r in csv.DictReader(fh):
            url = r["url"].strip()
            m = _ARXIV.search(url)
            flops, madds = _num(r["flops"]), _num(r["multiadds"])
            compute = flops if flops else (2 * madds if madds else None)
            seconds, peak = _num(r["time_sec"]), _num(r["hw_gflops"])
            chip = (r["gpu"] or r["tpu"]).strip() or None
            base = {"arxiv_id": m.group(1) if m else url, "model": r["model"].strip(),
                    "benchmark": "imagenet", "year": _num(r["year"]), "month": None,
                    "compute_per_pass": compute, "parameters": _num(r["#params"]),
                    "hardware": chip, "chips": _num(r["#gpu"]) or _num(r["#tpu"]),
                    "training_hours": seconds / 3600 if seconds else None,
                    "hardware_burden": peak * seconds * 1e9 if peak and seconds else None,
                    "compute_imputed": 0}
            for column, metric in (("top1_error", "top1_error"), ("top5_error", "top5_error")):
                err = _num(r[column])
                if err is not None:
                    out.append({**base, "metric": metric, "error": err})
    return out
