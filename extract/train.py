"""Training and validating the scorer from labelled papers (and review decisions).

    dlcompute train-scorer --gold ../shared/gold --corpus ../shared/corpus/pdfs

1. Candidates: every labelled paper is extracted without scoring; each candidate
   is labelled 1 when its value is one the labels give for that paper and field
   (numbers within 2%, results by benchmark, metric family and value within 0.1,
   own-model observation rows counting as own results), else 0.
2. Leave-one-paper-out: for each paper, a model fitted on the other papers scores
   its candidates; those predictions (in the gold-label shape) are what the README
   reports, scored by ../shared/tools/score_extraction.py. Rows of one paper never
   sit on both sides of a split.
3. The final model is fitted on all papers and written as JSON with the labels'
   hash; the same labels and candidates give the same file.

Annotators' decisions in a store (`--store`) add labels: an accepted candidate is
1 and the other candidates of its flag 0; a correction marks the candidates with
the corrected value 1; "not reported" marks the flag's candidates 0.
"""

from __future__ import annotations

import hashlib
import json
import logging
import math
from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from extract.features import FEATURE_VERSION
from extract.model import EXTRACTOR_VERSION, GOLD_FIELDS, to_gold_shape
from extract.scorer import FIELDS, FORMAT, probability

log = logging.getLogger(__name__)

#: L2 regularisation strength (inverse) of each field's logistic regression
C = 0.1
REL_TOL = 0.02
RESULT_TOL = 0.1
FAMILY = {"top1_error": "top1", "top1_accuracy": "top1", "top5_error": "top5",
          "top5_accuracy": "top5", "box_ap": "box_ap", "f1": "f1", "em": "em", "bleu": "bleu"}


class TrainingError(ValueError):
    """Training cannot run: no labels, no PDFs, or no candidates to learn from."""


@dataclass
class Paper:
    arxiv_id: str
    labels: dict
    facts: list[dict] = field(default_factory=list)  # Fact.__dict__ with "label"


def load_labels(paths: Iterable[Path]) -> dict[str, dict]:
    """Labelled papers by arXiv id; observation rows are merged into their paper."""
    out: dict[str, dict] = {}
    for path in paths:
        for n, line in enumerate(Path(path).read_text(encoding="utf-8").splitlines(), 1):
            if not line.strip():
                continue
            try:
                d = json.loads(line)
            except json.JSONDecodeError as e:
                raise TrainingError(f"{path}:{n}: not JSON ({e})") from e
            paper = out.setdefault(d["arxiv_id"], {"arxiv_id": d["arxiv_id"]})
            for k, v in d.items():
                if k == "observations":
                    paper.setdefault("observations", []).extend(v)
                elif k not in paper:
                    paper[k] = v
    return out


def labels_hash(labels: dict[str, dict]) -> str:
    blob = json.dumps(labels, sort_keys=True, ensure_ascii=True).encode()
    return hashlib.sha256(blob).hexdigest()


def _close(a: float, b: float, tol: float = REL_TOL) -> bool:
    return abs(a - b) <= tol * max(abs(a), abs(b), 1e-12)


def _error(metric: str, value: float) -> float:
    return value if metric.endswith("_error") else 100.0 - value


def _quality(fam: str, metric: str | None, value: float, as_stored: bool = False) -> float:
    """Higher is better for every metric: accuracy for top-k (from an error or an
    accuracy), the value itself for AP, F1, EM and BLEU. `as_stored`: `value` is as
    `_gold_results` keeps it (top-k as error)."""
    if fam in ("top1", "top5"):
        err = value if as_stored or (metric or "").endswith("_error") else 100.0 - value
        return 100.0 - err
    return value


def _gold_results(labels: dict) -> list[tuple[str, str, float]]:
    out = []
    for r in labels.get("results", []) + labels.get("observations", []):
        metric = str(r.get("metric", "")).lower()
        fam = FAMILY.get(metric)
        try:
            value = float(r["value"])
        except (KeyError, TypeError, ValueError):
            continue
        if fam and r.get("benchmark"):
            out.append((r["benchmark"], fam, _error(metric, value) if fam != "bleu" and
                        fam not in ("box_ap", "f1", "em") else value))
    return out


def label_fact(f: dict, labels: dict) -> int | None:
    """1 when the labels give this value for this field of this paper, 0 when they say
    it is not the paper's, None when they do not tell (not learnt from).

    Results are scored as headlines (the best value per benchmark and metric), and only
    some papers label every own row: a result the labels do not give is 0 when it would
    beat the paper's labelled best (or is on a benchmark and metric the paper does not
    report), or when every own row of the paper is labelled; a weaker unlabelled result
    cannot change the headline and teaches nothing."""
    fld = f.get("field")
    v = f.get("normalized_value")
    if fld == "result":
        fam = FAMILY.get(f.get("metric") or "")
        if fam is None or v is None:
            return None
        mine = _quality(fam, f["metric"], v)
        gold = [(gf, _quality(gf, None, gv, True)) for b, gf, gv in _gold_results(labels)
                if b == f.get("benchmark") and gf == fam]
        if any(abs(q - mine) <= RESULT_TOL + 1e-9 for _, q in gold):
            return 1
        if not gold or labels.get("observations"):
            return 0
        return 0 if mine > max(q for _, q in gold) + RESULT_TOL else None
    name = GOLD_FIELDS.get(fld or "")
    if name is None or fld not in FIELDS or v is None:
        return None
    gold = [g.get("value") for g in labels.get(name, [])]
    if fld in ("parameters", "compute_per_pass"):
        for o in labels.get("observations", []):
            gold.append(o.get("parameters") if fld == "parameters" else o.get("compute_per_pass"))
    return int(any(g is not None and _close(float(g), v) for g in gold))


def _extract_one(args: tuple[str, str]) -> tuple[str, list[dict], str | None]:
    from extract.extractor import arxiv_date, extract_pdf

    arxiv_id, pdf = args
    year, month = arxiv_date(arxiv_id)
    ex = extract_pdf(pdf, year=year, month=month, score=False)
    return arxiv_id, [dict(f.__dict__) for f in ex.facts], ex.error if ex.status != "ok" else None


def collect(labels: dict[str, dict], corpus: Path, workers: int = 2,
            cache: Path | None = None) -> list[Paper]:
    """Unscored candidates of every labelled paper, each with its label."""
    cached: dict[str, list[dict]] = {}
    key = f"{EXTRACTOR_VERSION}/{FEATURE_VERSION}"
    if cache is not None and cache.is_file():
        data = json.loads(cache.read_text(encoding="utf-8"))
        if data.get("key") == key:
            cached = data["papers"]
    jobs = []
    for aid, lab in sorted(labels.items()):
        if aid in cached:
            continue
        pdf = corpus / lab.get("file", f"{aid}.pdf")
        if not pdf.is_file():
            log.warning("no PDF for %s at %s; skipped", aid, pdf)
            continue
        jobs.append((aid, str(pdf)))
    if jobs:
        if workers > 1 and len(jobs) > 1:
            from multiprocessing import get_context

            with get_context("spawn").Pool(workers) as pool:
                done = pool.map(_extract_one, jobs, chunksize=1)
        else:
            done = [_extract_one(j) for j in jobs]
        for aid, facts, err in done:
            if err:
                log.warning("%s: %s", aid, err)
            cached[aid] = facts
        if cache is not None:
            cache.write_text(json.dumps({"key": key, "papers": cached}), encoding="utf-8")
    papers = []
    for aid in sorted(labels):
        if aid not in cached:
            continue
        facts = []
        for f in cached[aid]:
            f = dict(f)
            f["label"] = label_fact(f, labels[aid])
            facts.append(f)
        papers.append(Paper(aid, labels[aid], facts))
    if not papers:
        raise TrainingError(f"no labelled paper has a PDF in {corpus}")
    return papers


def _matrix(rows: list[dict], names: list[str]):
    import numpy as np

    index = {n: i for i, n in enumerate(names)}
    X = np.zeros((len(rows), len(names)))
    for r, f in enumerate(rows):
        for k, v in f["extra"].get("features", {}).items():
            i = index.get(k)
            if i is not None:
                X[r, i] = v
    return X


def fit(papers: list[Paper], extra: list[dict] | None = None, c: float = C) -> dict:
    """One logistic regression per field over all given papers' labelled candidates."""
    import numpy as np
    from sklearn.linear_model import LogisticRegression

    models = {}
    pool = []
    for p in papers:
        pool += _weighted([f for f in p.facts if f.get("label") is not None])
    pool += [dict(f, weight=1.0) for f in extra or []]
    for fld in FIELDS:
        rows = [f for f in pool if f["field"] == fld]
        ys = [f["label"] for f in rows]
        if len(set(ys)) < 2:
            continue
        names = sorted({k for f in rows for k in f["extra"].get("features", {}) if k != "bias"})
        X = _matrix(rows, names)
        weights = np.array([f["weight"] for f in rows])
        weights *= len(rows) / weights.sum()  # mean 1: C means what it says
        clf = LogisticRegression(C=c, max_iter=2000, solver="lbfgs")
        clf.fit(X, ys, sample_weight=weights)
        models[fld] = {"intercept": round(float(clf.intercept_[0]), 6),
                       "coef": {n: round(float(w), 6) for n, w in zip(names, clf.coef_[0],
                                                                       strict=True)
                                if abs(w) > 1e-9},
                       "positives": int(sum(ys)), "candidates": len(ys)}
    return models


def _weighted(facts: list[dict]) -> list[dict]:
    """Each candidate weighted as the scoring counts it: a paper's field is scored on its
    distinct values, so the candidates of one value share one unit of weight, and a paper's
    big tables do not outweigh other papers (its weights sum to the square root of its
    values)."""
    groups: dict[tuple, list[dict]] = defaultdict(list)
    for f in facts:
        v = f.get("normalized_value")
        key = (f["field"], f.get("benchmark"), f.get("metric"),
               round(math.log10(v), 2) if v and v > 0 else v)
        groups[key].append(f)
    per_field: dict[str, int] = defaultdict(int)
    for key in groups:
        per_field[key[0]] += 1
    out = []
    for key, fs in groups.items():
        w = 1.0 / len(fs) / math.sqrt(per_field[key[0]])
        out += [dict(f, weight=w) for f in fs]
    return out


def predict(facts: list[dict], models: dict) -> list[dict]:
    out = []
    for f in facts:
        g = dict(f)
        m = models.get(f["field"])
        if m is not None:
            g["confidence"] = round(probability(m, f["extra"].get("features", {})), 3)
        elif f["field"] in FIELDS:
            g["confidence"] = 0.0
        out.append(g)
    return out


def lopo(papers: list[Paper], extra: list[dict] | None = None, c: float = C) -> list[dict]:
    """Leave-one-paper-out predictions, one gold-shaped object per paper."""
    out = []
    for i, p in enumerate(papers):
        models = fit(papers[:i] + papers[i + 1:], extra, c)
        out.append(to_gold_shape(p.arxiv_id, predict(p.facts, models)))
    return out


def model_file(models: dict, labels: dict[str, dict], papers: list[Paper], c: float = C) -> dict:
    return {"format": FORMAT, "feature_version": FEATURE_VERSION,
            "extractor_version": EXTRACTOR_VERSION, "labels_sha256": labels_hash(labels),
            "papers": len(papers), "C": c, "models": models}


def write_model(data: dict, path: Path) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(data, indent=1, sort_keys=True) + "\n", encoding="utf-8")


def review_labels(store: Any) -> list[dict]:
    """Labelled candidates from annotators' decisions in a store (see module docstring)."""
    from db.schema import T

    db = store.db
    facts = {r["id"]: r for r in db.query(f"select * from {T.facts}")}
    out: list[dict] = []
    latest: dict[int, dict] = {}
    for r in db.query(f"select * from {T.reviews} where action in ('accept', 'correct', "
                      f"'not_reported') order by id"):
        latest[r["flag_id"]] = r
    for flag_id, r in latest.items():
        flag = next(iter(db.query(f"select candidates from {T.flags} where id = ?", [flag_id])),
                    None)
        try:
            cands = json.loads((flag or {}).get("candidates") or "[]")
        except json.JSONDecodeError:
            continue
        for c in cands:
            f = facts.get(c.get("fact_id")) if isinstance(c, dict) else None
            if f is None:
                continue
            try:
                extra = json.loads(f.get("extra") or "{}")
            except json.JSONDecodeError:
                continue
            if "features" not in extra:
                continue
            if r["action"] == "accept":
                lab = int(f["id"] == r["fact_id"])
            elif r["action"] == "correct" and r["value"] is not None and f["value"] is not None:
                lab = int(_close(float(f["value"]), float(r["value"])))
            else:
                lab = 0
            out.append({"field": f["field"], "label": lab, "extra": extra})
    return out


def summary(papers: list[Paper]) -> dict[str, dict[str, int]]:
    """Candidates and positives per field."""
    out: dict[str, dict[str, int]] = defaultdict(lambda: {"candidates": 0, "positives": 0})
    for p in papers:
        for f in p.facts:
            if f.get("label") is None:
                continue
            out[f["field"]]["candidates"] += 1
            out[f["field"]]["positives"] += f["label"]
    return dict(out)


@dataclass
class TrainResult:
    """What `train_scorer` did: the model written and its leave-one-paper-out figures."""

    model_path: Path
    papers: int
    candidates: dict[str, dict[str, int]]
    lopo: dict[str, dict[str, float]] | None
    review_labels: int = 0


def label_files(gold: Path) -> list[Path]:
    """The label files of a gold folder: field labels and observation labels."""
    if gold.is_file():
        return [gold]
    files = [gold / n for n in ("dev.jsonl", "dev-b.jsonl", "observations-dev.jsonl")]
    found = [f for f in files if f.is_file()]
    if not found:
        raise TrainingError(f"no label files (dev.jsonl, dev-b.jsonl, observations-dev.jsonl) "
                            f"in {gold}")
    return found


def train_scorer(gold: Path, corpus: Path, *, output: Path | None = None,
                 lopo_out: Path | None = None, store: Any = None, workers: int = 2,
                 cache: Path | None = None, c: float = C) -> TrainResult:
    """Fit the scorer on every labelled paper (and review decisions) and write the model;
    with `lopo_out`, first score each paper with a model fitted on the others and write
    those predictions (gold-label shape) there."""
    from extract.evaluate import score
    from extract.scorer import MODEL_PATH

    labels = load_labels(label_files(gold))
    papers = collect(labels, corpus, workers=workers, cache=cache)
    extra = review_labels(store) if store is not None else []
    figures = None
    if lopo_out is not None:
        preds = lopo(papers, extra, c)
        lopo_out.write_text("".join(json.dumps(p) + "\n" for p in preds), encoding="utf-8")
        figures = score({p.arxiv_id: p.labels for p in papers}, {p["arxiv_id"]: p for p in preds})
    path = output or MODEL_PATH
    write_model(model_file(fit(papers, extra, c), labels, papers, c), path)
    return TrainResult(path, len(papers), summary(papers), figures, len(extra))
