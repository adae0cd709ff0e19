"""Benchmark results: the rule data, the paper context and the vocabulary of results.

The results path of the extractor is three modules that read this one:
- extract.result_text: results stated in sentences;
- extract.result_tables: results in tables read by position (extract.tables);
- extract.result_features: what the scorer sees of a result, and the headline pass.

Here: the rule data (results_rules.json, reviewed like code), what the whole paper says
(`paper_context`: the names it coins, the benchmarks it names and how often, the dataset
its ablations run on), and what a header cell, row label or caption names (a metric, a
tracked or untracked benchmark, a split), with the plausible range of each benchmark's
metric. Nothing here decides whose a result is: the learned scorer does.
"""

from __future__ import annotations

import json
import logging
import re
from bisect import bisect_left
from dataclasses import dataclass, field
from functools import lru_cache
from pathlib import Path
from typing import Any

from extract.fastre import GatedPattern, with_first_chars
from extract.model import Fact

log = logging.getLogger(__name__)

RULES_PATH = Path(__file__).with_name("results_rules.json")

#: metric (as used in Fact.metric) -> which benchmarks it can belong to.
METRIC_BENCHMARKS = {
    "top1": ("imagenet", "cifar10", "cifar100"),
    "top5": ("imagenet", "cifar100"),
    "acc": ("imagenet", "cifar10", "cifar100"),
    "err": ("imagenet", "cifar10", "cifar100"),
    "box_ap": ("coco",),
    "em": ("squad1.1",),
    "f1": ("squad1.1", "conll2003"),
    "bleu": ("wmt14-en-de", "wmt14-en-fr"),
}


@dataclass(frozen=True)
class Rules:
    benchmarks: tuple[tuple[str, GatedPattern], ...]
    wmt14: GatedPattern
    other: GatedPattern
    metric_headers: tuple[tuple[str, re.Pattern], ...]
    #: a row label that names no model the paper trains: human or oracle performance, the
    #: previous best quoted for comparison
    quoted_row: re.Pattern
    text_own: re.Pattern
    text_baseline_before: re.Pattern
    text_delta_before: re.Pattern
    text_delta_after: re.Pattern
    generic_names: frozenset[str]
    version: str
    #: a header cell naming another task or language (a column of German NER F1)
    other_columns: re.Pattern
    #: a header naming no metric that holds no result either (hyper-parameters, counts)
    not_result_column: re.Pattern
    #: a header part that makes an AP column a variant of the main AP (AP_50, AP_S, AP_mask)
    ap_variant_part: re.Pattern
    #: a caption or row-group title naming another task (chunking, POS tagging, keypoints)
    other_tasks: re.Pattern
    #: a caption of an ablation or analysis table
    ablation_caption: re.Pattern
    #: a caption of a table of results on parts of a benchmark (by class, answer type)
    subset_caption: re.Pattern
    #: matches where any of `benchmarks` or `other` matches (a quick "none of them")
    any_bench: re.Pattern
    #: benchmark -> words (lower case) one of which a paper must hold for the benchmark to
    #: be looked for: WMT names matter only where BLEU is reported
    needs: dict = field(default_factory=dict, compare=False, hash=False)
    #: header-cell text -> what it names; cells repeat across rows and pages
    memo: dict = field(default_factory=dict, compare=False, hash=False, repr=False)


@lru_cache(maxsize=1)
def load_rules(path: str | None = None) -> Rules:
    """Compile the rule data file (cached)."""
    data = json.loads(Path(path or RULES_PATH).read_text(encoding="utf-8"))
    ci = re.IGNORECASE

    def c(key: str) -> re.Pattern:
        return with_first_chars(re.compile(data[key], ci))

    # GatedPattern and with_first_chars: same matches, but these alternations scan whole
    # pages many times faster
    bench_flags = {k: ci if k not in ("conll2003",) else 0 for k in data["benchmarks"]}
    any_bench = "|".join([f"(?:{data['other_benchmarks']})"] + [
        f"(?i:{v})" if bench_flags[k] else f"(?:{v})" for k, v in data["benchmarks"].items()])
    return Rules(
        benchmarks=tuple((k, GatedPattern(re.compile(v, bench_flags[k])))
                         for k, v in data["benchmarks"].items()),
        wmt14=GatedPattern(re.compile(data["wmt14"], ci)),
        other=GatedPattern(re.compile(data["other_benchmarks"])),
        metric_headers=tuple((m["id"], re.compile(m["re"], ci)) for m in data["metric_headers"]),
        quoted_row=c("quoted_row"),
        text_own=c("text_own"),
        text_baseline_before=c("text_baseline_before"),
        text_delta_before=c("text_delta_before"),
        text_delta_after=c("text_delta_after"),
        generic_names=frozenset(n.lower() for n in data["generic_names"]),
        version=data.get("version", "0"),
        other_columns=re.compile(data["other_columns_cs"]),
        not_result_column=re.compile(data["not_result_column"], ci),
        ap_variant_part=re.compile(data["ap_variant_part"]),
        other_tasks=re.compile(data["other_tasks"], ci),
        ablation_caption=re.compile(data["ablation_caption"], ci),
        subset_caption=re.compile(data["subset_caption"], ci),
        needs={k: tuple(v) for k, v in data.get("benchmark_needs", {}).items()},
        any_bench=with_first_chars(re.compile(any_bench)),
    )


# ---------------------------------------------------------------- paper context

@dataclass
class PaperContext:
    """What the whole paper tells about its own models and benchmarks."""

    names: list[str] = field(default_factory=list)   # lower-cased stems of proposed model names
    #: benchmarks not looked for: the paper holds none of their metric words (Rules.needs)
    skip: frozenset[str] = frozenset()
    benches: set[str] = field(default_factory=set)  # benchmarks the paper names
    #: how often the paper names each benchmark
    counts: dict[str, int] = field(default_factory=dict)
    wmt14: bool = False
    #: the benchmark the paper says its ablations are run on ("other" for an untracked one
    #: such as a subset of ImageNet), else None
    ablation_bench: str | None = None

    def mentions(self, bench: str) -> bool:
        return bench in self.benches

    def dominant(self, allowed: tuple[str, ...]) -> str | None:
        """The one allowed benchmark the paper is about, when it names it at least three
        times and three times as often as any other allowed one."""
        ranked = sorted(((self.counts.get(b, 0), b) for b in allowed), reverse=True)
        if not ranked or ranked[0][0] < 3:
            return None
        if len(ranked) > 1 and ranked[0][0] < 3 * ranked[1][0]:
            return None
        return ranked[0][1]

    def is_own_name(self, label: str) -> bool:
        low = label.lower()
        return any(re.search(r"(?<![a-z0-9])" + re.escape(n), low) for n in self.names)


_NAME_TOKEN = re.compile(r"[A-Za-z][A-Za-z0-9]*(?:[-+][A-Za-z0-9]+)*")
_INTRO_NAME = re.compile(
    r"\b(?:called|named|termed|dubbed|coined|refer to (?:it|them|this|our \w+(?: \w+)?) as|"
    r"call (?:it|them|this|our \w+(?: \w+)?))\s+(?:the\s+)?[\"“]?([A-Z][\w\-+]*)")
_PROPOSE_NAME = re.compile(
    r"\b(?:we|this paper|this work)\s+(?:propose|present|introduce|develop|design)s?\s+"
    r"(?:(?:a|an|the)\s+)?(?:[\w-]+\s+){0,4}?(?:called\s+|named\s+|,\s*(?:the\s+)?)?"
    r"([A-Z][A-Za-z0-9]*(?:-[A-Za-z0-9]+)*)")
_PAREN_ACRONYM = re.compile(r"\(([A-Z][A-Za-z0-9]*[A-Z0-9][A-Za-z0-9\-]*)\)")


def _distinctive(tok: str) -> bool:
    """A token that looks like a model name: inner capitals, letters+digits, or all caps."""
    if len(tok) < 2 or not tok[0].isalpha():
        return False
    inner_cap = any(ch.isupper() for ch in tok[1:])
    has_digit = any(ch.isdigit() for ch in tok)
    return inner_cap or (has_digit and tok[0].isupper())


def _stem(name: str) -> str:
    s = name.strip("-+").lower()
    # "Megatron-LM" -> "megatron"; "EfficientNets" -> "efficientnet"
    head = s.split("-")[0]
    if len(head) >= 4 and head not in ("dense", "deep", "wide", "mobile"):
        s = head
    if s.endswith("s") and len(s) > 4 and not s.endswith("ss"):
        s = s[:-1]
    return s


def paper_context(pages: list[Any], rules: Rules | None = None) -> PaperContext:
    """Proposed model names (title, abstract, "we propose X", "(X)") and benchmark counts."""
    rules = rules or load_rules()
    ctx = PaperContext()
    texts = [p.text for p in pages if not getattr(p, "in_references", False)]
    full = "\n".join(texts)
    low = full.lower()
    ctx.skip = frozenset(b for b, words in rules.needs.items() if not any(w in low for w in words))
    for _, _, bench in tracked_in(full, rules, ctx.skip):
        ctx.benches.add(bench)
        ctx.counts[bench] = ctx.counts.get(bench, 0) + 1
    ctx.wmt14 = "bleu" in low and bool(rules.wmt14.search(full))  # only BLEU results need it
    ctx.ablation_bench = _ablation_bench(full, rules, ctx.skip)
    head = "\n".join(texts[:2])
    first = texts[0] if texts else ""
    candidates: list[str] = []
    # the title: the first lines of page 1 (before the author block)
    title = " ".join(first.split("\n")[:2])[:200]
    letters = [ch for ch in title if ch.isalpha()]
    shouting = letters and sum(ch.isupper() for ch in letters) > 0.6 * len(letters)
    if shouting:  # an all-caps title: only its "NAME:" part can be a name
        title = title.split(":")[0] if ":" in title else ""
    for tok in _NAME_TOKEN.findall(title):
        if _distinctive(tok) and not re.fullmatch(r"[A-Z][a-z]+\d+|(?:[A-Z][a-z]+-)+[A-Za-z][a-z]+", tok):
            candidates.append(tok)
    for rx in (_INTRO_NAME, _PROPOSE_NAME):
        candidates += [m.group(1) for m in rx.finditer(head)]
    for m in _PAREN_ACRONYM.finditer(head):
        before = head[max(0, m.start() - 120):m.start()]
        if re.search(r"\b(?:we|our|propose|introduce|present|call|name|term|dub|refer)\w*\b",
                      before, re.IGNORECASE):
            candidates.append(m.group(1))
    seen: set[str] = set()
    for cand in candidates:
        cand = cand.strip("-+")
        if cand.lower() in rules.generic_names or cand.lower().rstrip("s") in rules.generic_names:
            continue
        if len(cand) < 2 or cand.isdigit():
            continue
        # a name the paper cites is somebody else's model
        cited = re.search(re.escape(cand) + r"\s*(?:\[\d|\((?:[A-Z][a-z]+|[a-z]+ et al)[^)]*\d{4})",
                          full)
        if cited:
            continue
        stem = _stem(cand)
        if len(stem) >= 2 and stem not in seen and stem not in rules.generic_names \
                and stem not in _STOP:
            seen.add(stem)
            ctx.names.append(stem)
    return ctx


#: "the ablation study is conducted on <dataset>", "ablations ... on <dataset>"
_ABLATION_ON = re.compile(r"\bablations?(?:\s+stud(?:y|ies)|\s+experiments?)?\b[^.]{0,80}?"
                          r"\b(?:on|using|with)\s+(?:the\s+|a\s+subset\s+of\s+)?", re.I)


def _ablation_bench(full: str, rules: Rules, skip: frozenset[str]) -> str | None:
    """The dataset the paper runs its ablations on, when it says so: the benchmark named
    right after "ablation ... on"; "other" for a subset or an untracked dataset."""
    flat = full.replace("\n", " ")
    for m in _ABLATION_ON.finditer(flat):
        found = bench_in(flat[m.end():m.end() + 40], rules, skip)
        near = [b for pos, b in found if pos < 3]
        if near:
            if re.match(r"a\s+subset", flat[m.end() - 12:m.end()], re.I):
                return "other"
            return "other" if "other" in near else near[0]
    return None


# ------------------------------------------------------- benchmark mentions

def bench_in(text: str, rules: Rules, skip: frozenset[str] = frozenset()) -> list[tuple[int, str]]:
    """Benchmark mentions by position; "other" marks benchmarks we do not track (VOC, SVHN).
    Benchmarks in `skip` (PaperContext.skip) are not looked for."""
    others = [(m.start(), m.end()) for m in rules.other.finditer(text)]
    out = [(a, "other") for a, _ in others]
    out += [(a, bench) for a, _, bench in tracked_in(text, rules, skip, others)]
    return sorted(out)


def tracked_in(text: str, rules: Rules, skip: frozenset[str] = frozenset(),
               others: list[tuple[int, int]] | None = None) -> list[tuple[int, int, str]]:
    """Mentions of tracked benchmarks as (start, end, benchmark), without those inside the
    name of an untracked one ("ImageNet-V2", "downsampled ImageNet", "SQuAD 2.0")."""
    if others is None:
        others = [(m.start(), m.end()) for m in rules.other.finditer(text)]
    starts = [a for a, _ in others]  # finditer gives them in order, not overlapping
    out = []
    for bench, rx in rules.benchmarks:
        if bench in skip:
            continue
        for m in rx.finditer(text):
            # the untracked names that could overlap: the last one starting before its end
            i = bisect_left(starts, m.end()) - 1
            if i < 0 or others[i][1] <= m.start():
                out.append((m.start(), m.end(), bench))
    return out


#: a citation of a component the row's model uses ("with SE [13]", "+ Cutout [3]"): the
#: row is still the paper's own model
COMPONENT_CITE = re.compile(r"(?:\bwith\s+|\+\s*|\bw/\s*)[\w-]+\s*\[\d+(?:\s*,\s*\d+)*\]")
#: a date in a row label ("R-NET (March 2017)", "as of Sept. 23, 2019"): no citation
DATE_IN_LABEL = re.compile(r"\b(?:Jan|Feb|Mar|Apr|May|Jun|Jul|Aug|Sep|Sept|Oct|Nov|Dec)[a-z]*\.?,?\s+"
                           r"(?:\d{1,2},?\s+)?(?:19|20)\d\d\b")


def split_of(text: str) -> str | None:
    low = text.lower()
    for key, name in (("test-dev", "test-dev"), ("minival", "minival"), ("val2017", "val2017"),
                      ("newstest2014", "newstest2014"), ("validation", "val"),
                      ("dev set", "dev"), ("test set", "test")):
        if key in low:
            return name
    return None


_STOP = frozenset(["the", "is", "of", "and", "that", "we", "in", "to", "a", "as", "while", "at",
                   "these", "this", "are", "was", "which", "it", "on", "for", "by", "from", "be",
                   "can", "our", "an", "than"])


# ------------------------------------------------------- table columns and cells
# The tables themselves are read by extract.tables and turned into candidates by
# extract.candidates; these say what a result column's header and caption mean.

SPLIT_HEAD = re.compile(r"^(dev|test|val|valid|validation|test-dev|minival|val2017|test-std|"
                        r"train|training)\b", re.I)
_SPLIT_NAMES = {"valid": "val", "validation": "val", "training": "train"}
#: single capitals set apart by a small-caps font: "E N -D E", "P ROPOSED + W ORD"
_SPACED_CAPS = re.compile(r"(?<![A-Za-z])[A-Z]{1,2}(?:(?: -?|-) ?[A-Z]{1,2})+(?![A-Za-z])")
_SMALL_CAPS_WORD = re.compile(r"(?<![A-Za-z])([A-Z]) ([A-Z]{2,})(?![a-z])")


def unspace_caps(text: str) -> str:
    """Words set in small capitals, which the text layer breaks apart ("E N -D E" ->
    "EN-DE", "P ROPOSED" -> "PROPOSED")."""
    if " " not in text:
        return text
    text = _SMALL_CAPS_WORD.sub(lambda m: m.group(0) if m.group(1) in "AI"
                                else m.group(1) + m.group(2), text)
    return _SPACED_CAPS.sub(_join_caps, text)


def _join_caps(m: re.Match) -> str:
    s = m.group(0)
    tokens = re.split(r"[ -]+", s)
    # "E N -D E": letters set one by one; "GN GN" (two names) stays apart
    if " " in s and any(len(t) == 1 for t in tokens) and len(s.replace(" ", "").replace("-", "")) >= 3:
        return s.replace(" ", "")
    return s


def split_in_header(text: str) -> str | None:
    """The data split a header cell opens with ("Test", "val", "Training"), else None."""
    m = SPLIT_HEAD.match(text)
    if m is None:
        return None
    low = m.group(1).lower()
    return _SPLIT_NAMES.get(low, low)


def caption_bench(caption: str, rules: Rules) -> str | None:
    """The one tracked benchmark a caption names (and no untracked one), else None."""
    if not caption:
        return None
    return _memo(rules, ("caption", caption), lambda: _caption_bench(caption, rules)) or None


def _caption_bench(caption: str, rules: Rules) -> str:
    if rules.other.search(caption):
        return _NO_BENCH
    found = [b for b, rx in rules.benchmarks if rx.search(caption)]
    return found[0] if len(found) == 1 else _NO_BENCH
DIFF_HEAD = re.compile(r"[∆Δ]|\bdiff|\bgains?\b|\bimprov|\bdrop\b", re.I)
ERR_WORD = re.compile(r"\berr", re.I)
ACC_WORD = re.compile(r"\bacc", re.I)
_MEMO_MAX = 200_000  # entries; a worker extracting many papers must not grow forever


def _memo(rules: Rules, key: tuple, compute):
    hit = rules.memo.get(key)
    if hit is None:
        if len(rules.memo) > _MEMO_MAX:
            rules.memo.clear()
        hit = rules.memo[key] = compute()
    return hit


def header_metrics(text: str, rules: Rules) -> list[str]:
    """Metric ids a header cell names, in order ("EM/F1" -> ["em", "f1"])."""
    return list(_memo(rules, ("metric", text), lambda: tuple(_metrics_named(text, rules))))


def _metrics_named(text: str, rules: Rules) -> list[str]:
    t = text.strip()
    if len(t.split()) > 6:
        return []
    for mid, rx in rules.metric_headers:
        if rx.search(t):
            if mid == "em_f1":
                return ["em", "f1"]
            if mid == "f1_em":
                return ["f1", "em"]
            return [mid]
    return []


_NO_BENCH = ""


def header_bench(text: str, rules: Rules) -> str | None:
    """The benchmark a header cell names ("other" for an untracked one), else None."""
    return _memo(rules, ("bench", text), lambda: _bench_named(text, rules) or _NO_BENCH) or None


def _bench_named(text: str, rules: Rules) -> str | None:
    if not rules.any_bench.search(text):
        return None  # most header cells: one scan instead of one per benchmark
    if rules.other.search(text):
        return "other"
    for bench, rx in rules.benchmarks:
        if rx.search(text):
            return bench
    return None


#: a caption's metric words, in the order they are tried for a table naming no benchmark
_CAPTION_METRICS = tuple((re.compile(w), mid) for w, mid in (
    (r"\bbleu\b", "bleu"), (r"\btop-?\s?1\b", "top1"), (r"\btop-?\s?5\b", "top5"),
    (r"\bexact\s+match\b", "em"), (r"\bf1\b", "f1"),
    (r"\b(?:box\s+)?m?ap\b(?!\s*(?:50|75))", "box_ap")))
_TOP1, _TOP5 = _CAPTION_METRICS[1][0], _CAPTION_METRICS[2][0]
_ERROR_WORD, _ACCURACY_WORD = re.compile(r"\berror"), re.compile(r"\baccurac")
_AP_WORD, _F1_WORD = re.compile(r"\bAP\b|\bmAP\b"), _CAPTION_METRICS[4][0]


@lru_cache(maxsize=4096)
def metrics_from_caption(caption: str, bench: str | None) -> list[str]:
    """The metric a caption names for a column that names none."""
    low = caption.lower()
    if bench is None:
        # a caption that names one metric names the table's ("... top-1 accuracy.")
        return next(([mid] for rx, mid in _CAPTION_METRICS if rx.search(low)), [])
    if bench.startswith("wmt"):
        return ["bleu"] if "bleu" in low else []
    if bench in ("imagenet", "cifar10", "cifar100"):
        if _TOP5.search(low) and not _TOP1.search(low):
            return ["top5"]
        if _ERROR_WORD.search(low):
            return ["err"]
        if _ACCURACY_WORD.search(low):
            return ["acc"]
    if bench == "coco" and _AP_WORD.search(caption):
        return ["box_ap"]
    if bench == "conll2003" and _F1_WORD.search(low):
        return ["f1"]
    return []


#: (benchmark, metric) -> (lowest, highest) value a real result can have, in percent
_BOUNDS = {
    ("imagenet", "top1_error"): (10, 70), ("imagenet", "top1_accuracy"): (30, 92),
    ("imagenet", "top5_error"): (1, 45), ("imagenet", "top5_accuracy"): (55, 99.5),
    ("coco", "box_ap"): (10, 70), ("squad1.1", "f1"): (50, 99), ("squad1.1", "em"): (40, 97),
    ("conll2003", "f1"): (70, 99), ("wmt14-en-de", "bleu"): (10, 50),
    ("wmt14-en-fr", "bleu"): (15, 60), ("cifar10", "top1_error"): (0.1, 40),
    ("cifar100", "top1_error"): (3, 70), ("cifar10", "top1_accuracy"): (60, 99.9),
    ("cifar100", "top1_accuracy"): (30, 97),
}


#: (benchmark, metric) pairs read (so that a CIFAR-100 top-5 column is not taken for
#: ImageNet) but not tracked: CIFAR results are top-1 only
UNTRACKED = frozenset([("cifar100", "top5_error"), ("cifar100", "top5_accuracy")])


def plausible(bench: str, metric: str, v: float) -> bool:
    """Table cells next to results (deltas, std devs, ratios) fall outside these ranges;
    untracked metrics are never a result."""
    if (bench, metric) in UNTRACKED:
        return False
    lo, hi = _BOUNDS.get((bench, metric), (0, 100))
    return lo <= v <= hi


def benches_on_page(page_text: str, rules: Rules) -> tuple[str, ...]:
    """The benchmarks named on a page, in rule order, then "other" if the page names an
    untracked one."""
    found = [b for b, rx in rules.benchmarks if rx.search(page_text)]
    if rules.other.search(page_text):
        found.append("other")
    return tuple(found)


def table_bench(mid: str, caption: str, on_page: tuple[str, ...], ctx: PaperContext,
                rules: Rules) -> tuple[str | None, str | None]:
    """The benchmark of a table column that names none, and where it was found: the
    caption, else the page, else the paper, only when one allowed benchmark fits."""
    allowed = METRIC_BENCHMARKS.get(mid, ())
    if (rules.other.search(caption) or rules.other_tasks.search(caption)) and not any(
            b in allowed and rx.search(caption) for b, rx in rules.benchmarks):
        # the caption names a benchmark we do not track (CoNLL 2000, VOC) or another task
        # (chunking, POS tagging)
        return None, None
    found = [b for b, rx in rules.benchmarks if b in allowed and rx.search(caption)]
    if len(found) == 1:
        return found[0], "caption"
    if len(found) > 1:
        return None, None
    page_found = [b for b in on_page if b in allowed]
    if len(page_found) == 1:
        return page_found[0], "page"
    if not page_found and mid in ("box_ap", "f1") and "other" in on_page:
        return None, None  # the page is about another dataset (VOC mAP, CoNLL-2000)
    paper = [b for b in allowed if ctx.mentions(b)]
    if len(paper) == 1 and mid not in ("acc", "err"):
        return paper[0], "paper"
    if mid in ("top1", "top5") and "imagenet" in paper:
        return "imagenet", "paper"
    main = ctx.dominant(allowed)
    if main is not None and mid not in ("acc", "err"):
        return main, "paper"
    return None, None


# ------------------------------------------------------------------ entry point

def extract_results(pages: list[Any], ctx: PaperContext | None = None) -> list[Fact]:
    """Benchmark results stated in the sentences of normalised pages (extract.text.PageText).

    Results in tables come from extract.result_tables, on tables read by extract.tables.
    """
    from extract.result_text import text_results

    rules = load_rules()
    ctx = ctx or paper_context(pages, rules)
    facts = text_results(pages, ctx, rules)
    for f in facts:
        f.extra.setdefault("rules_version", rules.version)
    return facts
