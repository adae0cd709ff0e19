"""Features of a candidate fact: a plain function of the candidate and its paper.

The scorer (extract.scorer) decides from these whether a candidate is the
paper's own, final value. They describe mechanisms that hold for papers in
general, never one paper's wording:

- where the value stands: table or sentence, the column kind and where its scale
  came from, a transposed table, bold type, an approximate cell;
- whose it is: a citation in the row label (and whether only a cited component is
  named, "with SE [13]"), "ours"/"proposed" marks on the row, its group title or
  the caption, names the paper coins (extract.context, PaperContext.names), rows
  of other model families beside marked own rows, comparison words;
- whether it is final: the sentence cues of the rule (training, inference,
  citation), hedging, a range, a bound;
- plausibility: how far the value lies outside the field's usual range, and
  whether the same value is stated elsewhere in the paper (text and table agree).

`FEATURE_VERSION` changes whenever the meaning of a feature changes; a scorer
model trained on another version is refused (extract.scorer).
"""

from __future__ import annotations

import math
import re
from bisect import bisect_left, bisect_right
from collections import defaultdict

from extract.context import NameStats, Sections
from extract.model import Fact
from extract.result_features import result_features

FEATURE_VERSION = "4"

#: usual absolute range of each field's values (a value outside costs, by decades)
USUAL = {"parameters": (3e5, 2e11), "compute_per_pass": (1e7, 5e13),
         "training_time": (0.5, 24 * 120), "epochs": (1, 1000)}

_CITE = re.compile(
    r"\[\s*\d+(?:\s*[,–-]\s*\d+)*\s*\]|\bet\s+al\b|\([A-Z][A-Za-z-]+(?:\s*(?:&|and)\s*[A-Z][A-Za-z-]+)?"
    r",?\s*(?:19|20)\d\d[a-z]?\)|\b(?:19|20)\d\d[a-z]?\)")
_COMPONENT_CITE = re.compile(r"(?:\bwith\s+|\+\s*|\bw/\s*)[\w-]+\s*\[\d+(?:\s*,\s*\d+)*\]")
_OWN = re.compile(r"\bours\b|\bour\b|\bproposed\b|\bthis\s+(?:paper|work)\b|\(ours\)", re.I)
_BASELINE = re.compile(
    r"^\W*(?:the\s+)?baselines?\b|\bprevious\b|\bprior\b|\bstate[- ]of[- ]the[- ]art\b|\bSOTA\b|"
    r"\bbest\s+(?:published|reported)|\boracle\b|\bupper[- ]bound\b|\bhuman\b|\breported\b",
    re.I)
_ABLATION = re.compile(r"^\s*(?:\+|-|w/o\b|w/\b|with\b|without\b|no\b|remove)", re.I)
_RETRAINED = re.compile(r"\b(?:our\s+(?:impl|implementation|reimpl|re-impl|run|setup|"
                        r"reproduction)|re-?impl\w*|reproduced|re-?trained|\(impl\.?\))", re.I)
_CAPTION_COMPARE = re.compile(
    r"\bcompar\w*|\bstate[- ]of[- ]the[- ]art\b|\bSOTA\b|\bprevious\b|\bother\s+methods\b|"
    r"\bexisting\b|\bbaselines?\b|\bpublished\b|\bleaderboard\b", re.I)
_CAPTION_ABLATION = re.compile(r"\bablation\w*|\beffect\s+of\b|\bimpact\s+of\b|\bvariants?\b|"
                               r"\bdifferent\b|\bvarying\b|\bsensitivity\b", re.I)
_CAPTION_OWN = re.compile(r"\bour\b|\bours\b|\bproposed\b|\bwe\b", re.I)
_CUES = ("TRAIN_CUE", "INFER_CUE", "CITE_CUE", "OWN_CUE", "PARAM_CUE", "EPOCH_CUE")
#: a row naming a layer, stage or part of a network, not a model
_LAYER = re.compile(
    r"^\W*(?:conv(?:olution)?\d*(?:\s*[_-]?\d)?|depthwise|pointwise|(?:max|avg|average|global)"
    r"\s*pool\w*|pool\w*\d?|fc\d*|fully[- ]connected|linear|softmax|dropout|inception\s*\(\w+\)|"
    r"stage\s*\d|layer\s*\d|block\s*\d|stem|transition(?:\s+layer)?|dense\s+block|res\d|"
    r"fire\d+|concat\w*)(?:\s|$|\d|\()", re.I)
#: a paper that says it trained the baselines itself: its uncited comparison rows are its own runs
_RETRAINS = re.compile(
    r"\b(?:re-?implement\w*|re-?train\w*|reproduc\w*|our\s+(?:own\s+)?(?:implementation|runs?)|"
    r"trained\s+(?:by\s+)?(?:ourselves|with\s+the\s+same)|we\s+(?:also\s+)?train\w*\s+(?:the\s+|all\s+)?"
    r"(?:baselines?|models?\s+(?:from\s+scratch|with\s+the\s+same))|same\s+training\s+(?:setting|"
    r"recipe|protocol|procedure|hyper-?parameters))\b", re.I)
#: a model-like name: inner capitals, letters and digits ("ResNet-50", "GPT-2", "BERTBASE")
_MODEL_NAME = re.compile(r"\b[A-Z][A-Za-z]*(?:[A-Z][A-Za-z]*|-?\d+)[A-Za-z0-9\-]*\b")


def _log_out(value: float | None, lo: float, hi: float) -> float:
    if value is None or value <= 0:
        return 3.0
    lv = math.log10(value)
    return min(3.0, max(0.0, math.log10(lo) - lv, lv - math.log10(hi)))


def names_in(label: str, names: list[str]) -> bool:
    low = label.lower()
    return any(re.search(r"(?<![a-z0-9])" + re.escape(n.lower()), low) for n in names if n)


def _row_flags(label: str, group: str, names: list[str], notes: str = "") -> dict[str, float]:
    text = f"{label} {notes}".strip()
    cited = bool(_CITE.search(text))
    component_only = cited and not _CITE.search(_COMPONENT_CITE.sub(" ", text))
    return {
        "row_cited": float(cited and not component_only),
        "row_component_cite": float(component_only),
        "row_own_mark": float(bool(_OWN.search(label))),
        "row_group_own": float(bool(_OWN.search(group))),
        "row_own_name": float(names_in(label, names)),
        "row_baseline": float(bool(_BASELINE.search(label))),
        "row_ablation": float(bool(_ABLATION.search(label))),
        "row_retrained": float(bool(_RETRAINED.search(label))),
        "row_no_label": float(not label.strip()),
        "row_layer": float(is_layer(label)),
    }


def is_layer(label: str) -> bool:
    """A row label naming a layer, stage or block of a network ("conv3_x", "inception
    (4a)", "max pool", "Stage 2"), not a model."""
    return bool(_LAYER.search(label))


def retrains_baselines(text: str) -> bool:
    """Whether a paper says it trained its baselines itself (its text, references cut): a
    re-training phrase in the same sentence as the word baseline(s)."""
    for m in _RETRAINS.finditer(text):
        lo = max(text.rfind(". ", 0, m.start()), 0)
        hi = text.find(". ", m.end())
        if re.search(r"\bbaselines?\b", text[lo:hi if hi != -1 else len(text)], re.I):
            return True
    return False


def add_features(facts: list[Fact], names: list[str], pages: int,
                 stats: NameStats | None = None, sections: Sections | None = None,
                 retrains: bool = False) -> None:
    """Set `extra["features"]` on every fact of one paper (numbers, names: floats).

    `stats` (extract.context.NameStats) tells how the paper uses the names in row labels."""
    by_field_value: dict[str, list[tuple[float, str]]] = defaultdict(list)
    for f in facts:
        if f.normalized_value is not None:
            by_field_value[f.field].append((f.normalized_value, f.source))
    for vals in by_field_value.values():
        vals.sort()
    keys = {fld: [v for v, _ in vals] for fld, vals in by_field_value.items()}
    tables: dict[str, list[Fact]] = defaultdict(list)
    for f in facts:
        if f.source == "table" and f.extra.get("table"):
            tables[f.extra["table"]].append(f)
    table_info = {tid: _table_info(fs, names) for tid, fs in tables.items()}
    results = [f for f in facts if f.field == "result"]
    for f in facts:
        feats: dict[str, float] = {"bias": 1.0, f"src_{f.source}": 1.0,
                                   "page_frac": f.page / max(pages, 1)}
        v = f.normalized_value
        if f.field in USUAL:
            feats["log_out"] = _log_out(v, *USUAL[f.field])
        same = []
        if v is not None and f.field in keys:
            lo = bisect_left(keys[f.field], v - 0.021 * abs(v))
            hi = bisect_right(keys[f.field], v + 0.021 * abs(v))
            same = [src for val, src in by_field_value[f.field][lo:hi]
                    if abs(val - v) <= 0.02 * max(abs(val), abs(v), 1e-12)]
        feats["seen_in_text"] = float(sum(1 for s in same if s == "text") > (f.source == "text"))
        feats["seen_in_table"] = float(sum(1 for s in same if s == "table") > (f.source == "table"))
        feats["repeats"] = math.log1p(max(0, len(same) - 1))
        if f.source == "table":
            _table_features(f, feats, names, table_info.get(f.extra.get("table")))
            if retrains:
                feats["paper_retrains"] = 1.0
            elif feats.get("row_foreign"):
                feats["foreign_not_retrained"] = 1.0
            if stats is not None:
                for k, x in stats.label_stats(f.model or "").items():
                    feats[f"label_{k}"] = x
        else:
            _text_features(f, feats, names)
            name = (f.extra.get("signals") or {}).get("name_before")
            if stats is not None and name:
                for k, x in stats.label_stats(name).items():
                    feats[f"before_{k}"] = x
        if sections is not None:
            feats[f"section_{sections.at(f.page, max(f.span_start, 0))}"] = 1.0
        if f.field == "result":
            result_features(f, feats, results)
        f.extra["features"] = {k: round(float(x), 4) for k, x in feats.items() if x}
    _relative_names(facts)


def _relative_names(facts: list[Fact]) -> None:
    """How a row's name stands against the other rows' of its table: a comparison table's
    own rows carry the name the paper uses most."""
    best: dict[str, float] = defaultdict(float)
    for f in facts:
        t = f.extra.get("table")
        if t:
            best[t] = max(best[t], f.extra["features"].get("label_uncited_log", 0.0))
    for f in facts:
        t = f.extra.get("table")
        if not t:
            continue
        feats = f.extra["features"]
        gap = best[t] - feats.get("label_uncited_log", 0.0)
        if gap:
            feats["label_uncited_gap"] = round(gap, 4)
        if gap < 0.5 and best[t] > 0:
            feats["label_top_name"] = 1.0


def _table_info(facts: list[Fact], names: list[str]) -> dict:
    rows = {}
    for f in facts:
        rows.setdefault(f.row_id, f)
    flags = [_row_flags(f.model or "", f.extra.get("group", ""), names, f.extra.get("notes", ""))
             for f in rows.values()]
    n = max(len(flags), 1)
    caption = facts[0].extra.get("caption", "") if facts else ""
    return {
        "rows": len(rows),
        "layers": sum(x["row_layer"] for x in flags) >= 3,
        "frac_cited": sum(x["row_cited"] for x in flags) / n,
        "any_cited": any(x["row_cited"] for x in flags),
        "any_own": any(x["row_own_mark"] or x["row_own_name"] or x["row_group_own"]
                       for x in flags),
        "caption": caption,
    }


def _table_features(f: Fact, feats: dict, names: list[str], info: dict | None) -> None:
    ex = f.extra
    flags = _row_flags(f.model or "", ex.get("group", ""), names, ex.get("notes", ""))
    feats.update(flags)
    rows = ex.get("rows") or 1
    feats["row_pos"] = (ex.get("row") or 0) / max(rows - 1, 1)
    feats["row_last"] = float((ex.get("row") or 0) == rows - 1)
    feats[f"scale_{ex.get('scale_source') or 'none'}"] = 1.0
    feats["transposed"] = float(ex.get("layout") == "transposed")
    feats["bold"] = float(bool(ex.get("bold")))
    feats["approx"] = float(bool(ex.get("approx")))
    feats["range"] = float(bool(ex.get("range")))
    feats["from_group"] = float(bool(ex.get("from_group")))
    if ex.get("column_kind"):
        feats[f"col_{ex['column_kind']}"] = 1.0
    v = f.normalized_value
    if f.field == "epochs" and v is not None:
        feats["integer"] = float(v == int(v))
        feats["round"] = float(v == int(v) and int(v) % 5 == 0)
    if info:
        feats["table_rows_log"] = math.log1p(info["rows"])
        feats["table_frac_cited"] = info["frac_cited"]
        own = flags["row_own_mark"] or flags["row_own_name"] or flags["row_group_own"]
        feats["table_has_own"] = float(info["any_own"])
        feats["table_of_layers"] = float(info["layers"])
        feats["table_no_cites"] = float(not info["any_cited"])
        feats["row_foreign"] = float(info["any_own"] and not own and not flags["row_no_label"])
        cap = info["caption"] or ex.get("caption", "")
        feats["caption_compare"] = float(bool(_CAPTION_COMPARE.search(cap)))
        feats["caption_ablation"] = float(bool(_CAPTION_ABLATION.search(cap)))
        feats["caption_own"] = float(bool(_CAPTION_OWN.search(cap)))
        feats["caption_own_name"] = float(names_in(cap, names))
        feats["no_caption"] = float(not cap)


def _text_features(f: Fact, feats: dict, names: list[str]) -> None:
    sig = f.extra.get("signals") or {}
    for cue in sig.get("cues", ()):
        if cue in _CUES:
            feats[f"cue_{cue.lower()}"] = 1.0
    feats["attributed"] = float(bool(sig.get("attributed")))
    feats["near_cited"] = float(bool(sig.get("near_cited")))
    feats["compare"] = float(bool(sig.get("compare")))
    feats["hedged"] = float(bool(sig.get("hedged")))
    feats["rule_confidence"] = float(sig.get("rule_confidence", f.confidence))
    for key in ("warmup_near", "every_before", "schedule", "list", "peak_context", "bound",
                "numeric_text", "word_number"):
        if sig.get(key):
            feats[key] = 1.0
    v = f.normalized_value
    if f.field == "epochs" and v is not None:
        feats["integer"] = float(v == int(v))
        feats["round"] = float(v == int(v) and int(v) % 5 == 0)
    sent = f.evidence or ""
    feats["sentence_own_name"] = float(names_in(sent, names))
    feats["sentence_cited"] = float(bool(_CITE.search(sent)))
    others = [m for m in _MODEL_NAME.findall(sent) if not names_in(m, names)]
    feats["sentence_other_name"] = float(bool(others))
    feats["sentence_example"] = float(bool(re.search(r"\bfor\s+example\b|\be\.g\.|\bsuch\s+as\b",
                                                     sent, re.I)))
    feats[f"rule_{f.rule_id}"] = 1.0
