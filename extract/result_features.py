"""Features only results have: where their benchmark came from, how they are printed, and
how they stand against the paper's other results on the same benchmark and metric.

The scorer keeps the best own value per benchmark and metric as the paper's headline,
so a result's standing among its peers matters as much as whose it is:

- what it is: the metric family, the data split, whether the metric was named or
  implied, where the benchmark came from (header, row, row group, caption, page,
  paper, sentence);
- its standing: its rank among the paper's candidates on the same benchmark and
  metric, how far it lies below the best of them or above the next one (a value far
  above every other is often a misread column or someone else's), whether it is the
  best of its table column and of its table, whether its column is the table's first
  of that metric;
- whose it is, beyond the row cues every field has (extract.features): a column
  naming the paper's own method ("original | re-impl. | Ours"), and for sentences
  the words around the number (we/our, a citation or comparison right before it).
"""

from __future__ import annotations

import math
import re
from collections import defaultdict

from extract.model import Fact
from extract.results import COMPONENT_CITE, DATE_IN_LABEL

#: metric -> family (an accuracy and its error are one family)
FAMILY = {"top1_error": "top1", "top1_accuracy": "top1", "top5_error": "top5",
          "top5_accuracy": "top5", "box_ap": "box_ap", "f1": "f1", "em": "em", "bleu": "bleu"}
_DEV_SPLITS = frozenset(["dev", "val", "minival", "val2017"])
_OWN = re.compile(r"\bours\b|\bour\b|\bproposed\b|\bthis\s+(?:paper|work)\b", re.I)
_WE = re.compile(r"\bwe\b|\bour\b|\bours\b|\bthis\s+(?:paper|work)\b", re.I)
_CITE = re.compile(r"\[\s*\d+(?:\s*[,–-]\s*\d+)*\s*\]|\bet\s+al\b|\(\s*(?:19|20)\d\d[a-z]?\s*\)|"
                   r"[A-Z][A-Za-z-]+,?\s+(?:19|20)\d\d[a-z]?\)")
_COMPARE = re.compile(r"\bthan\b|\bcompared\b|\bcompar\w+\s+(?:to|with)\b|\bversus\b|\bvs\.?\b|"
                      r"\boutperform\w*|\bsurpass\w*|\bprevious\w*|\bprior\b|"
                      r"\bstate[- ]of[- ]the[- ]art\b|\bbaselines?\b|\breported\b", re.I)
_EXAMPLE = re.compile(r"\bfor\s+(?:example|instance)\b|\be\.g\.|\bsuch\s+as\b", re.I)
#: a value that is a change or a best-of-others, from the words right before it
_BEFORE_OTHER = re.compile(r"\b(?:than|over|from|of\s+the\s+best|previous(?:ly)?|prior|"
                           r"reported|baseline|versus|vs\.?|human|oracle|upper\s+bound)"
                           r"\W*(?:\w+\W+){0,3}$", re.I)


#: a citation or "reported by" right after the number, before the clause ends
_CITED_AFTER = re.compile(r"[^.;]{0,40}?(?:\breported\s+(?:in|by)\b|\bachieved\s+by\b|\bby\s+[A-Z][a-z]+"
                          r"\s+et\s+al|\[\s*\d+|\(\s*[A-Z][A-Za-z-]+(?:\s+et\s+al\.?)?,?\s+(?:19|20)\d\d)")


def quality(metric: str, value: float) -> float:
    """Higher is better for every metric: an error as its accuracy."""
    return 100.0 - value if metric.endswith("_error") else value


def result_features(f: Fact, feats: dict[str, float], results: list[Fact],
                    names: list[str] | None = None, peers: dict | None = None) -> None:
    """Add the result-only features of `f` (one of `results`, the paper's result facts).

    `peers` (from `peer_index(results)`) saves regrouping the results for every fact."""
    ex = f.extra
    fam = FAMILY.get(f.metric or "", "other")
    feats[f"m_{fam}"] = 1.0
    split = (f.split or "").lower()
    if split.startswith("test") or split == "newstest2014":
        feats["split_test"] = 1.0
    elif split in _DEV_SPLITS:
        feats["split_dev"] = 1.0
    if f.source == "table":
        feats[f"bench_{ex.get('bench_source') or 'header'}"] = 1.0
        feats["spread"] = float(bool(ex.get("spread")))
        feats["implied_metric"] = float(bool(ex.get("implied_metric")))
        feats["label_bold"] = float(bool(ex.get("label_bold")))
        feats["pair_part"] = float((ex.get("parts") or 1) > 1)
        col = f"{ex.get('column', '')} {ex.get('column_group', '')}"
        if _OWN.search(col) or (names and _names_in(col, names)):
            feats["col_own"] = 1.0
    else:
        _sentence_features(f, feats)
    peers = peers if peers is not None else peer_index(results, names)
    _standing(f, feats, peers)
    _against_own(f, feats, peers, names or [])
    if feats.get("row_cited") and feats.get("best_table"):
        feats["cited_best"] = 1.0  # a cited row beating the table: the state of the art quoted
    if f.source == "table" and not feats.get("row_cited") and feats.get("table_frac_cited", 0) >= 0.5:
        feats["uncited_among_cited"] = 1.0  # the paper's own rows in a comparison table
    if feats.get("own_cue") and feats.get("best_table"):
        feats["own_best_table"] = 1.0


def _names_in(text: str, names: list[str]) -> bool:
    low = text.lower()
    return any(re.search(r"(?<![a-z0-9])" + re.escape(n.lower()), low) for n in names if n)


def _sentence_features(f: Fact, feats: dict[str, float]) -> None:
    sent = f.evidence or ""
    before = f.extra.get("before", "")
    feats["t_we"] = float(bool(_WE.search(sent)))
    feats["t_cited"] = float(bool(_CITE.search(sent)))
    feats["t_compare"] = float(bool(_COMPARE.search(sent)))
    feats["t_example"] = float(bool(_EXAMPLE.search(sent)))
    feats["t_other_before"] = float(bool(_BEFORE_OTHER.search(before) or _CITE.search(before)))
    after = f.extra.get("after", "")
    feats["t_cited_after"] = float(bool(_CITED_AFTER.match(after)))


def own_cue(f: Fact, names: list[str], stats=None) -> bool:
    """Whether the candidate itself says it is the paper's own: "ours", "proposed", a name
    the paper coins or a word of its title on its row, row group or column (a citation of
    a component the model uses aside); "we"/"our" in its sentence with no citation or
    comparison right before the number. `stats`: extract.context.NameStats."""
    ex = f.extra
    if f.source == "table":
        text = " ".join([f.model or "", ex.get("group", ""), ex.get("column", ""),
                         ex.get("column_group", "")])
        label = COMPONENT_CITE.sub(" ", DATE_IN_LABEL.sub(" ", f.model or ""))
        if _CITE.search(label):
            return False
        titled = stats is not None and bool(stats.label_stats(f.model or "").get("title_token"))
        return bool(_OWN.search(text)) or _names_in(text, names) or titled
    before = ex.get("before", "")
    return bool(_WE.search(f.evidence or "")) and not (_BEFORE_OTHER.search(before)
                                                       or _CITE.search(before))


def _against_own(f: Fact, feats: dict[str, float], peers: dict, names: list[str]) -> None:
    """How the candidate stands against the best candidate that says it is the paper's own
    on the same benchmark and metric: a value above it with no own cue of its own is most
    often a quoted state of the art or a misread column."""
    if f.normalized_value is None:
        return
    mine = peers["own"].get(id(f))
    if mine is None:
        mine = own_cue(f, names)
    feats["own_cue"] = float(mine)
    best = peers["own_best"].get((f.benchmark, FAMILY.get(f.metric or "")))
    if best is None:
        return
    q = quality(f.metric or "", f.normalized_value)
    if mine:
        feats["own_best"] = float(q >= best - 0.05)
    elif q > best + 0.05:
        feats["above_own"] = 1.0
        feats["above_own_by"] = min(1.0, (q - best) / 5.0)


def peer_index(results: list[Fact], names: list[str] | None = None, stats=None) -> dict:
    """The paper's results grouped for `_standing`: by benchmark and metric family, and by
    table (and column) within that; the best of those with an own cue (`own_cue`)."""
    paper: dict[tuple, list[float]] = defaultdict(list)
    own_best: dict[tuple, float] = {}
    own: dict[int, bool] = {}  # id(fact) -> own_cue
    test_tables: dict[tuple, bool] = {}
    test_rows: dict[tuple, set] = defaultdict(set)
    table: dict[tuple, list[float]] = defaultdict(list)
    column: dict[tuple, list[float]] = defaultdict(list)
    first_col: dict[tuple, int] = {}
    for r in results:
        if r.normalized_value is None:
            continue
        key = (r.benchmark, FAMILY.get(r.metric or ""))
        q = quality(r.metric or "", r.normalized_value)
        paper[key].append(q)
        own[id(r)] = own_cue(r, names or [], stats)
        if own[id(r)]:
            own_best[key] = max(own_best.get(key, q), q)
        tid = r.extra.get("table")
        if r.source == "table" and tid:
            table[(*key, tid)].append(q)
            col = (r.extra.get("column"), r.extra.get("column_group"))
            column[(*key, tid, col)].append(q)
            if (r.split or "").lower().startswith("test"):
                test_tables[(*key, tid)] = True
                test_rows[(*key, tid)].add(r.row_id)
            order = r.extra.get("col_index")
            if order is not None:
                k = (*key, tid)
                first_col[k] = min(first_col.get(k, order), order)
    return {"paper": paper, "table": table, "column": column, "first_col": first_col,
            "own_best": own_best, "test_tables": test_tables, "test_rows": test_rows,
            "own": own}


def _standing(f: Fact, feats: dict[str, float], peers: dict) -> None:
    if f.normalized_value is None:
        return
    key = (f.benchmark, FAMILY.get(f.metric or ""))
    q = quality(f.metric or "", f.normalized_value)
    others = sorted(peers["paper"].get(key, []), reverse=True)
    better = sum(1 for x in others if x > q + 0.05)
    feats["rank_log"] = math.log1p(better)
    feats["best_paper"] = float(better == 0)
    best = others[0] if others else q
    feats["below_best"] = min(10.0, max(0.0, best - q)) / 10.0
    if better == 0 and len(others) >= 3:
        rest = [x for x in others if x < q - 0.05]
        if rest:
            mid = rest[len(rest) // 2]
            spread = max(0.5, sum(abs(x - mid) for x in rest) / len(rest))
            feats["lead"] = min(5.0, (q - rest[0]) / spread) / 5.0
    feats["peers_log"] = math.log1p(len(others))
    tid = f.extra.get("table")
    if f.source == "table" and tid:
        tab = peers["table"].get((*key, tid), [])
        feats["best_table"] = float(not any(x > q + 0.05 for x in tab))
        col = (f.extra.get("column"), f.extra.get("column_group"))
        colv = peers["column"].get((*key, tid, col), [])
        feats["best_column"] = float(len(colv) > 1 and not any(x > q + 0.05 for x in colv))
        if (f.split or "").lower() in _DEV_SPLITS and peers["test_tables"].get((*key, tid)):
            feats["dev_beside_test"] = 1.0  # the paper reports its test figure too
            if f.row_id in peers["test_rows"].get((*key, tid), ()):
                feats["dev_beside_test_row"] = 1.0  # ... for this very model
        first = peers["first_col"].get((*key, tid))
        if first is not None and f.extra.get("col_index") is not None:
            feats["later_column"] = float(f.extra["col_index"] > first)


# ----------------------------------------------------------------- headline pass

#: the confidence a result is lowered to when the headline pass sets it aside
SET_ASIDE = 0.45
#: the least confidence a kept result needs: the headline is the best kept value, so a
#: marginal candidate can only add a wrong best (leave-one-paper-out F1 is flat for any
#: value from 0.55 to 0.75, and lower at 0.5)
HEADLINE_MIN = 0.6
_DEV = frozenset(["dev", "val", "minival", "val2017"])


def _get(f, key: str):
    return f.get(key) if isinstance(f, dict) else getattr(f, key)


def _set_conf(f, value: float) -> None:
    if isinstance(f, dict):
        f["confidence"] = value
    else:
        f.confidence = value


def headline_pass(facts: list) -> None:
    """After scoring: set aside kept results (confidence >= 0.5) that cannot be the
    paper's headline on their benchmark and metric, whatever their own score:

    - a quoted value (its row cites a paper, or its sentence a citation or comparison
      right at the number) above the best kept value that says it is the paper's own;
    - a dev or validation figure above the test figure the same table row gives;
    - a result the scorer is not fairly sure of (below HEADLINE_MIN).

    Works on Facts or on Fact dicts (training). Their confidence drops to SET_ASIDE."""
    groups: dict[tuple, list] = defaultdict(list)
    for f in facts:
        if _get(f, "field") == "result" and _get(f, "normalized_value") is not None:
            groups[(_get(f, "benchmark"), FAMILY.get(_get(f, "metric") or ""))].append(f)
    for fs in groups.values():
        def q(f):
            return quality(_get(f, "metric") or "", _get(f, "normalized_value"))

        def feats(f) -> dict:
            return (_get(f, "extra") or {}).get("features", {})

        tests: dict[str, float] = {}
        for f in fs:
            rid = _get(f, "row_id")
            if rid and (_get(f, "split") or "").startswith("test"):
                tests[rid] = max(tests.get(rid, -1e9), q(f))
        for f in fs:
            rid = _get(f, "row_id")
            conf = _get(f, "confidence") or 0.0
            if ((_get(f, "split") or "") in _DEV and rid in tests and q(f) > tests[rid]) \
                    or 0.5 <= conf < HEADLINE_MIN:
                _set_conf(f, min(conf, SET_ASIDE))
        kept = [f for f in fs if (_get(f, "confidence") or 0) >= 0.5]
        own = [q(f) for f in kept if feats(f).get("own_cue")]
        for f in kept:
            x = feats(f)
            quoted = x.get("row_cited") or x.get("t_cited_after") or x.get("t_other_before")
            if own and quoted and not x.get("own_cue") and q(f) > max(own) + 0.05:
                _set_conf(f, min(_get(f, "confidence"), SET_ASIDE))
