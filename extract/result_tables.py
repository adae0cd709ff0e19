"""Result candidates from tables: every cell under a metric column (or on a metric row).

The metric, benchmark, split and error/accuracy of a column come from its stacked
header (its own parts first, group headers after), the row label (a transposed
table names the metric per row; a transfer table names the benchmark per row), the
row's group title (stacked sub-tables: an "En-De" block, then an "En-Fr" block), the
caption, the page and the paper (extract.results). A column that names a benchmark
but no metric takes the benchmark's usual one (top-1 for ImageNet and CIFAR, F1 for
SQuAD and CoNLL, BLEU for WMT). Whether a result is the paper's own and its headline
is the scorer's decision (extract.scorer); the candidate records what it needs for
that (extract.result_features).
"""

from __future__ import annotations

import re

from extract import results as res
from extract.candidates import TableContext, column_model
from extract.cells import CellValue
from extract.columns import classify
from extract.model import Fact
from extract.results import load_rules
from extract.tables import Row, Table

#: the metric a benchmark's results are given in when a table names none
IMPLIED_METRIC = {"imagenet": "acc", "cifar10": "acc", "cifar100": "acc", "squad1.1": "f1",
                  "conll2003": "f1", "wmt14-en-de": "bleu", "wmt14-en-fr": "bleu"}
#: where a benchmark may come from for a metric the column does not name
_NAMED_BENCH = ("header", "row", "group", "caption")
#: a header pair of alternatives, one per value of an "a/b" cell: "(v1.1/2.0)", "Dev/Test"
_PAIR = re.compile(r"(?<![\w.])(v?\d+(?:\.\d+)?|[A-Za-z][\w-]*)\s*/\s*(v?\d+(?:\.\d+)?|[A-Za-z][\w-]*)"
                   r"(?![\w.])")


#: a caption about AP that is not box AP, unless the column says box
_NOT_BOX = re.compile(r"\bkey-?points?\b|\bpose\s+estimation|\bpanoptic", re.I)
_MASK = re.compile(r"\bmask\s+AP\b|\bAP\s*[\^_]?\s*(?:mask|mk|m)\b", re.I)
_ANY_AP = re.compile(r"(?<![A-Za-z])m?AP(?![a-z])")
_BOX_HEADER = re.compile(r"box|\bbb|AP\s*[\^_]?\s*b\b|\bdet", re.I)
_BOX_CAPTION = re.compile(r"\bbox\b|\bbbox|\bAP\s*[\^_]?\s*b\b|\bobject\s+detection|\bdetectors?\b",
                          re.I)

_ERR, _ACC = re.compile(r"\berr"), re.compile(r"\bacc")


def _result_column(tc: TableContext, parts: list[str], groups: list[bool]) -> dict:
    """Metric, benchmark, error/accuracy and split a column's stacked header names: its
    own header (the parts that are its alone, read together) first, group headers after."""
    rules = tc.rules
    parts = [res.unspace_caps(p) for p in parts]
    own = " ".join(p for p, g in zip(parts, groups, strict=True) if not g)
    group = " ".join(p for p, g in zip(parts, groups, strict=True) if g)
    info = {"metrics": [], "bench": None, "kind": None, "split": None, "header": " ".join(parts),
            "diff": False, "other": False, "not_result": False, "own": own, "group": group}
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
            info["split"] = res.split_in_header(text)
    if info["metrics"] == ["box_ap"] and any(
            rules.ap_variant_part.match(p) for p, g in zip(parts, groups, strict=True) if not g):
        info["metrics"] = []  # a stacked "AP" over "50" or "S": AP_50, AP_S, not the main AP
        info["not_result"] = True
    info["quoted"] = bool(own and rules.quoted_row.search(own))  # a "Human" column
    if not info["metrics"] and _ANY_AP.search(own):
        info["not_result"] = True  # an AP the vocabulary does not take as box AP (AP_m, AP_50)
    size_kind = classify(own).kind if not info["metrics"] else None
    # only an exclusion word ("bit", "ms") of the size vocabulary: a model named so may pass
    info["kind_excluded"] = size_kind == "exclude" and not rules.not_result_column.search(
        own or group)
    if not info["metrics"] and (size_kind is not None or
                                rules.not_result_column.search(own or group)):
        info["not_result"] = True  # sizes, speeds, hyper-parameters: no implied metric
    return info


def _pair_infos(tc: TableContext, parts: list[str], groups: list[bool]) -> list[dict] | None:
    """For an "a/b" cell under a header naming two alternatives ("SQuAD (v1.1/2.0)"), the
    column reading of each alternative; None when the header names no such pair (or the
    pair is two metrics, "EM/F1", which the metric vocabulary reads)."""
    for i, p in enumerate(parts):
        m = _PAIR.search(p)
        if m is None or res.header_metrics(p, tc.rules)[1:]:
            continue
        out = []
        for alt in (m.group(1), m.group(2)):
            text = p[:m.start()] + alt + p[m.end():]
            out.append(_result_column(tc, [*parts[:i], text, *parts[i + 1:]], groups))
        return out
    return None


def _ap_repeats(cols: dict[int, dict]) -> None:
    """Adjacent AP columns under one and the same header text are the main AP followed by
    its variants whose sub- or superscripts were lost (AP, AP_50, AP_75, ...): COCO tables
    print the main AP first. Only the first of such a run stays an AP column."""
    prev = None
    for n in sorted(cols):
        info = cols[n]
        if info["metrics"] == ["box_ap"] and prev is not None and prev["metrics"] == ["box_ap"] \
                and (prev["own"], prev["group"]) == (info["own"], info["group"]):
            info["metrics"], info["not_result"] = [], True
            continue
        prev = info


def _header_parts(t: Table, row: Row, n: int) -> tuple[list[str], list[bool]]:
    if n in row.subheader:
        parts = row.subheader[n]
        return parts, [False] * len(parts)
    col = t.columns[n]
    return col.header, col.group


def result_candidates(tc: TableContext) -> list[Fact]:
    """Benchmark results from a table's metric columns (or metric rows, transposed)."""
    t = tc.table
    out: list[Fact] = []
    if tc.rules.subset_caption.search(t.caption):
        return out  # results on parts of a benchmark (by answer type, per class)
    cols = {c.index: _result_column(tc, c.header, c.group) for c in t.columns}
    _ap_repeats(cols)
    group_bench: dict[str, str | None] = {}
    sub_cols: dict[tuple, dict] = {}
    for row in t.rows:
        label = res.unspace_caps(row.label)
        label_metric = res.header_metrics(label, tc.rules) if label else []
        label_bench = res.header_bench(label, tc.rules) if label else None
        if row.group not in group_bench:
            group_bench[row.group] = _group_bench(row.group, tc)
        gbench = group_bench[row.group]
        if gbench == "other":
            continue  # a block of rows about another dataset or task
        if tc.rules.quoted_row.search(label):
            continue  # human performance, an oracle, the previous best: no model of the paper
        for n, cell in row.cells.items():
            parts, groups = _header_parts(t, row, n)
            if n in row.subheader:
                key = (tuple(parts), tuple(groups))
                if key not in sub_cols:  # sub-headers repeat for every row below them
                    sub_cols[key] = _result_column(tc, parts, groups)
                info = sub_cols[key]
            else:
                info = cols[n]
            vals = [v for v in cell.read().values if not v.approx]
            if not vals:
                continue
            infos = _pair_infos(tc, parts, groups) if len(vals) == 2 else None
            for i, v in enumerate(vals):
                one = infos[i] if infos else info
                fact = _cell_result(tc, row, n, one, v, i, len(vals), label, label_metric,
                                    label_bench, gbench, cell.bold)
                if fact is not None:
                    out.append(fact)
    return out


_LEADING_INDEX = re.compile(r"^\s*(?:\d+|[a-z]|\([a-z0-9]+\))[.)]?\s+")


def _names_dataset(label: str) -> bool:
    """A row label that is a dataset's name ("CIFAR-10", "CIFAR-100 NASNet-A"), not a
    setting that mentions one ("Train from scratch on IN-1k")."""
    words = _LEADING_INDEX.sub("", label).split()
    return 0 < len(words) <= 3 or bool(res.header_bench(" ".join(words[:2]), load_rules()))


def _inline_model(row: Row, x: float) -> str:
    """The name set in the row right before the column at x (models between the value
    columns of a transfer table: "CIFAR-10 | NASNet-A 98.0% | FooNet-B0 98.1%")."""
    left = [(x0, text) for x0, text in row.inline if x0 < x]
    if not left:
        return ""
    x0, text = max(left)
    # nothing but that name between it and the column: no value of another column
    if any(x0 < c.x0 < x for c in row.cells.values()):
        return ""
    return text


def _lone_column(t: Table) -> bool:
    return len(t.columns) == 1


def _not_result_row(label: str, tc: TableContext) -> bool:
    """A row whose label names a size or a setting ("Params (M)", "# groups"): its cells
    hold no results, whatever the table's benchmark."""
    return bool(label) and (classify(label).kind is not None
                            or bool(tc.rules.not_result_column.search(label)))


def _group_bench(group: str, tc: TableContext) -> str | None:
    """The benchmark a row group's title names ("WMT'14 En-Fr"; "other" for an untracked
    dataset or task), else None."""
    if not group:
        return None
    text = res.unspace_caps(group)
    if len(text) > 60:
        return None
    bench = res.header_bench(text, tc.rules)
    if bench is None and (tc.rules.other_columns.search(text) or tc.rules.other_tasks.search(text)):
        return "other"
    return bench


def _cell_result(tc: TableContext, row: Row, n: int, info: dict, v: CellValue, i: int,
                 count: int, label: str, label_metric: list[str], label_bench: str | None,
                 gbench: str | None, bold: bool) -> Fact | None:
    """The result one value of a cell states, if any: its metric, benchmark and model."""
    t = tc.table
    if info["diff"] or info["other"] or info["split"] == "train" or info["quoted"]:
        return None
    if v.scale is not None or v.hours_per_unit is not None:
        return None  # "25.6M", "3 days": a size or a time, never a score
    metrics = info["metrics"]
    model, layout = label, "rows"
    if not metrics and info["bench"] is None and info["split"] is None and info["own"] \
            and not info["not_result"] and info["kind"] is None:
        # a column naming neither metric nor benchmark names a method or setting: the
        # model is the row's with that column's ("ResNet-50" under "CBN")
        model, layout = f"{label} | {info['own']}".strip(" |"), "method_columns"
    bench, source = info["bench"], ("header" if info["bench"] else None)
    if label_metric and (not metrics or metrics[0] in ("acc", "err")):
        # a transposed table: the row names the metric, the columns the models
        metrics, model, layout = label_metric, column_model(t.columns[n]), "transposed"
    elif label_bench and _names_dataset(label) and (
            (bench is None and (column_model(t.columns[n]) or not metrics))
            or (bench == "other" and not metrics)):
        # datasets as rows (a transfer table): the row names the benchmark; a column header
        # naming a dataset here names the model's pre-training data ("Ours-JFT", "I21k")
        if label_bench == "other":
            return None
        bench, source, layout = label_bench, "row", "bench_rows"
        # a column naming a metric names no model: the model is set in the row
        model = (_inline_model(row, t.columns[n].x0) or label) if metrics else (
            column_model(t.columns[n]) or label)
    elif bench is None and gbench is not None:
        bench, source = gbench, "group"
    if bench == "other":
        return None
    if not metrics and not info["not_result"] and (info["header"] or _lone_column(t)):
        # a caption's metric is a column's when the column has a header of its own (or is
        # the table's only one): headerless columns side by side are anyone's guess
        metrics = res.metrics_from_caption(t.caption, bench)
    elif metrics and metrics[0] in ("acc", "err") and bench not in ("imagenet", "cifar10", "cifar100"):
        # "accuracy" over the F1 of a NER table whose caption says "F1 scores"
        named = res.metrics_from_caption(t.caption, None)
        if named and named[0] not in ("top1", "top5"):
            metrics = named
    if not metrics and bench is None:
        found = res.caption_bench(t.caption, tc.rules)
        if found is not None and not info["not_result"]:
            bench, source = found, "caption"
    implied = False
    # in a transfer table the columns are models: a name such as "BiT-L" is no size column
    column_ok = not info["not_result"] or (layout == "bench_rows" and info["kind_excluded"])
    if not metrics and bench in IMPLIED_METRIC and source in _NAMED_BENCH \
            and column_ok and not _not_result_row(label, tc):
        metrics, implied = [IMPLIED_METRIC[bench]], True
        if bench == "squad1.1" and count == 2:
            metrics = ["f1", "em"]  # "F1/EM" is the usual order of an unnamed pair
    if not metrics:
        return None
    mid = metrics[i] if len(metrics) == count else metrics[0]
    return _result_fact(tc, row, n, mid, v, info, bench, source, model, layout, bold, implied)


def _result_fact(tc: TableContext, row: Row, col: int, mid: str, v: CellValue, info: dict,
                 bench: str | None, bench_source: str | None, model: str, layout: str,
                 bold: bool, implied: bool) -> Fact | None:
    t = tc.table
    if bench is None:
        key = ("bench", mid)
        if key not in tc.memo:
            tc.memo[key] = res.table_bench(mid, t.caption, tc.page_benches, tc.ctx, tc.rules)
        bench, bench_source = tc.memo[key]
        if bench_source in ("page", "paper") and tc.ctx.ablation_bench \
                and tc.rules.ablation_caption.search(t.caption):
            # an ablation table naming no dataset is on the one the paper runs ablations on
            bench, bench_source = tc.ctx.ablation_bench, "ablation"
    if bench is None or bench == "other" or bench not in res.METRIC_BENCHMARKS.get(mid, ()):
        return None
    if bench == "coco" and not _BOX_HEADER.search(info["header"]) and (
            _NOT_BOX.search(t.caption) or (_MASK.search(t.caption)
                                           and not _BOX_CAPTION.search(t.caption))):
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
             "rows": len(t.rows), "column": info["own"][:60], "col_index": col,
             "column_group": info["group"][:60],
             "bench_source": bench_source, "layout": layout, "bold": bold,
             "spread": v.spread is not None, "implied_metric": implied,
             "label_bold": row.label_bold, "part": v.part, "parts": v.parts}
    return Fact(field="result", value=value, unit="BLEU" if metric == "bleu" else "%",
                normalized_value=value,
                normalized_unit="bleu" if metric == "bleu" else "percent", page=t.page,
                span_start=-1, span_end=-1, evidence=row.text[:500],
                rule_id=f"results.table.{mid}", confidence=0.5, source="table",
                model=model[:160] or None, benchmark=bench, metric=metric, split=split,
                row_id=t.row_id(row), extra=extra)
