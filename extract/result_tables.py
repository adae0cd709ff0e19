"""Result candidates from tables: every cell under a metric column (or on a metric row).

The metric, benchmark, split and error/accuracy of a column come from its stacked
header (its own parts first, group headers after), the row label (a transposed
table names the metric per row; a transfer table names the benchmark per row),
the caption, the page and the paper (extract.results). Whether a result is the
paper's own and its headline is the scorer's decision (extract.scorer).
"""

from __future__ import annotations

import re

from extract import results as res
from extract.candidates import TableContext, column_model
from extract.cells import CellValue
from extract.model import Fact
from extract.tables import Row

#: COCO tables of keypoints, panoptic or mask AP: not box AP
_NOT_BOX = re.compile(r"\bkey-?points?\b|\bpose\s+estimation|\bpanoptic|\bmask\b", re.I)
_ERR, _ACC = re.compile(r"\berr"), re.compile(r"\bacc")


def _result_column(tc: TableContext, parts: list[str], groups: list[bool]) -> dict:
    """Metric, benchmark, error/accuracy and split a column's stacked header names: its
    own header (the parts that are its alone, read together) first, group headers after."""
    rules = tc.rules
    own = " ".join(p for p, g in zip(parts, groups, strict=True) if not g)
    group = " ".join(p for p, g in zip(parts, groups, strict=True) if g)
    info = {"metrics": [], "bench": None, "kind": None, "split": None, "header": " ".join(parts),
            "diff": False, "other": False}
    for text in (own, group, *parts):
        if not text:
            continue
        if res.DIFF_HEAD.search(text):
            info["diff"] = True
        if not info["metrics"]:
            info["metrics"] = res.header_metrics(text, rules)
        if info["bench"] is None and len(text) < 40:
            info["bench"] = res.header_bench(text, rules)
        if info["bench"] is None and rules.other_columns.search(text):
            info["other"] = True
        if info["kind"] is None:
            info["kind"] = "err" if res.ERR_WORD.search(text) else (
                "acc" if res.ACC_WORD.search(text) else None)
        if info["split"] is None:
            m = res.SPLIT_HEAD.match(text)
            if m:
                info["split"] = m.group(1).lower()
    return info


def result_candidates(tc: TableContext) -> list[Fact]:
    """Benchmark results from a table's metric columns (or metric rows, transposed)."""
    t = tc.table
    out: list[Fact] = []
    cols = {c.index: _result_column(tc, c.header, c.group) for c in t.columns}
    for row in t.rows:
        label_metric = res.header_metrics(row.label, tc.rules) if row.label else []
        label_bench = res.header_bench(row.label, tc.rules) if row.label else None
        for n, cell in row.cells.items():
            info = cols[n]
            if n in row.subheader:
                parts = row.subheader[n]
                info = _result_column(tc, parts, [False] * len(parts))
            if info["diff"] or info["other"]:
                continue
            metrics = info["metrics"]
            model = row.label
            layout = "rows"
            if label_metric and (not metrics or metrics[0] in ("acc", "err")):
                # a transposed table: the row names the metric, the columns the models
                metrics, model, layout = label_metric, column_model(t.columns[n]), "transposed"
            elif label_bench and info["bench"] is None and column_model(t.columns[n]):
                # datasets as rows, models as columns (a transfer table): the row names the
                # benchmark; "ImageNet ReaL" or "Pets" rows name ones not tracked
                if label_bench == "other":
                    continue
                info = dict(info, bench=label_bench)
                model, layout = column_model(t.columns[n]), "bench_rows"
                if not metrics:
                    metrics = res.metrics_from_caption(t.caption, label_bench) or (
                        ["acc"] if label_bench in ("imagenet", "cifar10", "cifar100") else [])
            if not metrics:
                metrics = res.metrics_from_caption(t.caption, info["bench"])
            vals = cell.read().values
            if not metrics and info["bench"] == "squad1.1" and len(vals) == 2:
                metrics = ["f1", "em"] if vals[0].value >= vals[1].value else ["em", "f1"]
            if not metrics:
                continue
            for i, v in enumerate(vals):
                if v.approx:
                    continue
                mid = metrics[i] if len(metrics) == len(vals) else metrics[0]
                fact = _result_fact(tc, row, mid, v, info, model, layout, cell.bold)
                if fact is not None:
                    out.append(fact)
    return out


def _result_fact(tc: TableContext, row: Row, mid: str, v: CellValue, info: dict, model: str,
                 layout: str, bold: bool) -> Fact | None:
    t = tc.table
    bench = info["bench"]
    bench_source = "header" if bench else None
    if bench is None:
        key = ("bench", mid)
        if key not in tc.memo:
            tc.memo[key] = res.table_bench(mid, t.caption, tc.page_benches, tc.ctx, tc.rules)
        bench, bench_source = tc.memo[key]
    if bench is None or bench == "other" or bench not in res.METRIC_BENCHMARKS.get(mid, ()):
        return None
    if bench == "coco" and _NOT_BOX.search(t.caption):
        return None  # keypoint, panoptic or mask AP is not box AP
    split = info["split"] or res.split_of(t.caption)
    value = v.value
    if mid in ("top1", "top5", "acc", "err"):
        top = "top5" if mid == "top5" else "top1"
        kind = info["kind"]
        if kind is None:
            low = (info["header"] + " " + t.caption).lower()
            if _ERR.search(low):
                kind = "err"
            elif _ACC.search(low):
                kind = "acc"
            else:
                kind = "acc" if value >= (70 if top == "top5" else 50) else "err"
        metric = f"{top}_{'error' if kind == 'err' else 'accuracy'}"
    else:
        metric = mid
    if not 0 < value <= 100 or not res.plausible(bench, metric, value):
        return None
    extra = {"table": t.id, "header": info["header"][:80], "caption": t.caption[:200],
             "group": row.group[:80], "notes": " ".join(row.notes)[:120], "row": row.index,
             "rows": len(t.rows),
             "bench_source": bench_source, "layout": layout, "bold": bold,
             "spread": v.spread is not None}
    return Fact(field="result", value=value, unit="BLEU" if metric == "bleu" else "%",
                normalized_value=value,
                normalized_unit="bleu" if metric == "bleu" else "percent", page=t.page,
                span_start=-1, span_end=-1, evidence=row.text[:500],
                rule_id=f"results.table.{mid}", confidence=0.5, source="table",
                model=model[:160] or None, benchmark=bench, metric=metric, split=split,
                row_id=t.row_id(row), extra=extra)
