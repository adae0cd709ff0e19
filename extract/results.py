"""Benchmark results a paper reports for its OWN models, from text and tables.

Two sources:
- text: sentences such as "achieves 84.3% top-1 accuracy on ImageNet" or
  "28.4 BLEU on the WMT 2014 English-to-German task";
- tables: pages whose text holds a metric header word (Top-1, AP, BLEU, EM,
  F1, ...) are laid out with pdfplumber (only those pages: it is slow);
  columns get their metric from the header and their benchmark from the
  header, the table caption or the page; rows get the model name.

Attribution decides the confidence. Numbers quoted for other people's models
(a row citing "[12]" or "(Smith et al., 2019)", "previous state of the art
of ...", deltas such as "by 2.0 BLEU") get a confidence below 0.5, so they
stay in the store as candidates but are not taken as the paper's results. The
scorer and the analysis keep the BEST value per benchmark and metric, so one
wrongly attributed baseline costs more than a missed weak row: uncertain rows
are kept below 0.5.

Rule data (regexes, cue words) lives in results_rules.json next to this file.
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

from extract.fastre import GatedPattern, lowered, with_first_chars
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
CONF_OWN = 0.85
CONF_PLAIN = 0.6
CONF_UNMARKED = 0.45
CONF_CITED = 0.2
CONF_BASELINE = 0.3


@dataclass(frozen=True)
class Rules:
    benchmarks: tuple[tuple[str, GatedPattern], ...]
    wmt14: GatedPattern
    other: GatedPattern
    metric_headers: tuple[tuple[str, re.Pattern], ...]
    cite: re.Pattern
    own: re.Pattern
    baseline_row: re.Pattern
    text_own: re.Pattern
    text_baseline_before: re.Pattern
    text_delta_before: re.Pattern
    text_delta_after: re.Pattern
    generic_names: frozenset[str]
    version: str
    #: a header cell naming another task or language (a column of German NER F1)
    other_columns: re.Pattern
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
        cite=re.compile(data["cite"]),
        own=c("own"),
        baseline_row=c("baseline_row"),
        text_own=c("text_own"),
        text_baseline_before=c("text_baseline_before"),
        text_delta_before=c("text_delta_before"),
        text_delta_after=c("text_delta_after"),
        generic_names=frozenset(n.lower() for n in data["generic_names"]),
        version=data.get("version", "0"),
        other_columns=re.compile(data["other_columns_cs"]),
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
    for bench, rx in rules.benchmarks:
        if bench not in ctx.skip:
            n = len(rx.findall(full))
            if n:
                ctx.benches.add(bench)
                ctx.counts[bench] = n
    ctx.wmt14 = "bleu" in low and bool(rules.wmt14.search(full))  # only BLEU results need it
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


# ------------------------------------------------------------------ text rules

_NUM = r"(\d{1,3}(?:\.\d{1,3})?)"
_TEXT_PATTERNS: list[tuple[str, str, re.Pattern]] = [
    # (rule id, metric kind, regex with group "v")
    ("results.text.pct_topk", "topk_after",
     re.compile(r"(?P<v>\d{1,2}(?:\.\d{1,2})?)\s*%\s*(?:\(|,)?\s*(?P<k>top-?\s?[15])\b", re.I)),
    ("results.text.topk_of", "topk_before",
     re.compile(r"(?P<k>top-?\s?[15])\s+(?:single[- ]\w+\s+|test\s+|val(?:idation)?\s+|"
                r"classification\s+)?(?P<kind>error|err\.|accuracy|acc\.)(?:\s+rates?)?\s*"
                r"(?:of|is|:|=|at|to|reaches|reaching)\s+(?:only\s+)?(?P<v>\d{1,2}(?:\.\d{1,2})?)\s*%",
                re.I)),
    ("results.text.bleu_after", "bleu",
     re.compile(r"(?P<v>\d{2}(?:\.\d{1,2})?)\s*(?:BLEU|Bleu)\b")),
    ("results.text.bleu_of", "bleu",
     re.compile(r"BLEU(?:\s+scores?)?\s*(?:of|is|:|=|to)\s+(?P<v>\d{2}(?:\.\d{1,2})?)\b")),
    ("results.text.f1_of", "f1",
     re.compile(r"\bF1(?:\s+scores?)?\s*(?:of|is|:|=|to)\s+(?P<v>\d{2}(?:\.\d{1,2})?)\b")),
    ("results.text.f1_after", "f1",
     re.compile(r"(?P<v>\d{2}\.\d{1,2})\s*%?\s*(?:test\s+)?F1\b")),
    ("results.text.em_of", "em",
     re.compile(r"\b(?:EM|exact[- ]match)(?:\s+scores?)?\s*(?:of|is|:|=|to)\s+(?P<v>\d{2}(?:\.\d{1,2})?)\b")),
    ("results.text.em_after", "em",
     re.compile(r"(?P<v>\d{2}\.\d{1,2})\s*%?\s*(?:EM|exact[- ]match)\b")),
    ("results.text.ap_after", "box_ap",
     re.compile(r"(?P<v>\d{2}\.\d)\s*%?\s*(?:box\s+)?(?:m?AP|AP\s?(?:box|bb|b))\b(?!\s*(?:50|75|_?[SML]\b))")),
    ("results.text.ap_of", "box_ap",
     re.compile(r"(?:box\s+)?\bm?AP(?:box|bb)?(?:\s+score)?\s+(?:of|is)\s+(?P<v>\d{2}(?:\.\d)?)\b")),
    ("results.text.err_pct", "err",
     re.compile(r"(?P<v>\d{1,2}(?:\.\d{1,2})?)\s*%\s*(?:test\s+)?error\b", re.I)),
    ("results.text.err_of", "err",
     re.compile(r"\b(?:test\s+)?error(?:\s+rates?)?\s+(?:of|is)\s+(?P<v>\d{1,2}(?:\.\d{1,2})?)\s*%", re.I)),
    ("results.text.acc_pct", "acc",
     re.compile(r"(?P<v>\d{2}(?:\.\d{1,2})?)\s*%\s*(?:test\s+|classification\s+)?accuracy\b", re.I)),
    ("results.text.acc_of", "acc",
     re.compile(r"\b(?:test\s+|classification\s+)?accuracy\s+(?:of|is)\s+(?P<v>\d{2}(?:\.\d{1,2})?)\s*%", re.I)),
]
# same matches, each pattern only tried where its first character is
_TEXT_PATTERNS = [(rule_id, kind, with_first_chars(rx)) for rule_id, kind, rx in _TEXT_PATTERNS]
# with_first_chars: only whitespace can start a break, so the ten lookbehinds are
# not tried at every character (4x faster, same matches)
_SENT_END = with_first_chars(re.compile(
    r"(?<!\bal\.)(?<!e\.g\.)(?<!i\.e\.)(?<!\bFig\.)(?<!\bEq\.)(?<!\bvs\.)(?<!\bSec\.)"
    r"(?<!\bTab\.)(?<!resp\.)(?<!\betc\.)(?<=[.!?])\s+(?=[A-Z(\[])|\n\s*\n"))


def _sentences(text: str) -> list[tuple[int, int]]:
    spans, start = [], 0
    for m in _SENT_END.finditer(text):
        spans.append((start, m.start()))
        start = m.end()
    spans.append((start, len(text)))
    return [(a, b) for a, b in spans if b > a]


def _bench_in(text: str, rules: Rules, skip: frozenset[str] = frozenset()) -> list[tuple[int, str]]:
    """Benchmark mentions by position; "other" marks benchmarks we do not track (VOC, SVHN).
    Benchmarks in `skip` (PaperContext.skip) are not looked for."""
    out = [(m.start(), "other") for m in rules.other.finditer(text)]
    for bench, rx in rules.benchmarks:
        if bench in skip:
            continue
        for m in rx.finditer(text):
            out.append((m.start(), bench))
    return sorted(out)


def _kind_after(sent: str, pos: int) -> str | None:
    m = re.match(r"[^;]{0,60}?\b(error|err\.|accuracy|acc\.)", sent[pos:], re.I)
    return None if m is None else ("err" if m.group(1).lower().startswith("err") else "acc")


def _bench_by_sentence(flat: str, spans: list[tuple[int, int]], rules: Rules,
                       skip: frozenset[str] = frozenset()) -> list[list[tuple[int, str]]]:
    """`_bench_in` of each sentence span, from one pass over the whole page.

    Running the benchmark regexes (a long alternation) once per page instead of once
    per sentence is the same result: sentences are cut at whitespace after [.!?] and
    no benchmark pattern matches across that, so every match lies inside one sentence.
    """
    found = _bench_in(flat, rules, skip)
    starts = [pos for pos, _ in found]
    out = []
    for a, b in spans:
        lo, hi = bisect_left(starts, a), bisect_left(starts, b)
        out.append([(pos - a, bench) for pos, bench in found[lo:hi]])
    return out


def _metric_name(kind: str, k: str | None, value: float) -> str | None:
    """(err|acc, top1|top5) -> Fact.metric."""
    top = "top5" if k and "5" in k else "top1"
    if kind == "err":
        return f"{top}_error"
    if kind == "acc":
        return f"{top}_accuracy"
    return None


_TOPK_KINDS = ("topk_after", "topk_before")
_NEEDS_OWN_BENCH = ("f1", "err", "acc")
#: words every match of a text pattern holds, as (case-sensitive, lower-cased) any-of
#: lists: a page without them cannot match, so the pattern is not tried there
_PATTERN_WORDS: dict[str, tuple[tuple[str, ...], tuple[str, ...]]] = {
    "results.text.pct_topk": ((), ("top",)), "results.text.topk_of": ((), ("top",)),
    "results.text.bleu_after": (("BLEU", "Bleu"), ()), "results.text.bleu_of": (("BLEU",), ()),
    "results.text.f1_of": (("F1",), ()), "results.text.f1_after": (("F1",), ()),
    "results.text.em_of": (("EM", "exact"), ()), "results.text.em_after": (("EM", "exact"), ()),
    "results.text.ap_after": (("AP",), ()), "results.text.ap_of": (("AP",), ()),
    "results.text.err_pct": ((), ("error",)), "results.text.err_of": ((), ("error",)),
    "results.text.acc_pct": ((), ("accuracy",)), "results.text.acc_of": ((), ("accuracy",)),
}


def _possible_patterns(flat: str) -> frozenset[str]:
    """Ids of the text patterns whose words the page holds."""
    low = lowered(flat)
    return frozenset(rule_id for rule_id, (cs, lc) in _PATTERN_WORDS.items()
                     if any(w in flat for w in cs) or any(w in low for w in lc))


@lru_cache(maxsize=1024)
def _patterns_for(here: bool, inherited: bool, possible: frozenset[str]) -> tuple:
    """The text patterns that can give a fact in a sentence (same facts, fewer scans):
    with no benchmark of its own, a sentence only takes the metrics that name their
    benchmark (or inherit the previous sentence's); and only patterns whose words
    are on the page."""
    return tuple((rule_id, kind, rx) for rule_id, kind, rx in _TEXT_PATTERNS
                 if rule_id in possible
                 and (here or kind in _TOPK_KINDS or (inherited and kind not in _NEEDS_OWN_BENCH)))


def text_results(pages: list[Any], ctx: PaperContext, rules: Rules | None = None) -> list[Fact]:
    """Results stated in sentences."""
    rules = rules or load_rules()
    facts: list[Fact] = []
    for page in pages:
        if getattr(page, "in_references", False) or not page.text:
            continue
        flat = page.text.replace("\n", " ")
        possible = _possible_patterns(flat)
        if not possible:
            continue  # no metric word on the page
        prev: list[tuple[int, str]] = []
        spans = _sentences(flat)
        for (a, b), here in zip(spans, _bench_by_sentence(flat, spans, rules, ctx.skip),
                                strict=True):
            sent = flat[a:b]
            inherited = [(-1000, bench) for _, bench in prev]
            if here:
                prev = here
            if not _ANY_DIGIT.search(sent):
                continue
            for rule_id, kind, rx in _patterns_for(bool(here), bool(inherited), possible):
                # a sentence without a benchmark continues the previous one's, but only
                # metrics that name their benchmark (top-k, BLEU, EM, AP) may rely on that
                benches = here or (inherited if kind not in _NEEDS_OWN_BENCH else [])
                for m in rx.finditer(sent):
                    fact = _text_fact(page, sent, a, m, rule_id, kind, benches, ctx, rules)
                    if fact is not None:
                        facts.append(fact)
    return facts


def _text_fact(page: Any, sent: str, offset: int, m: re.Match, rule_id: str, kind: str,
               benches: list[tuple[int, str]], ctx: PaperContext, rules: Rules) -> Fact | None:
    value = float(m.group("v"))
    vpos = m.start("v")
    before, after = sent[max(0, vpos - 40):vpos], sent[m.end("v"):m.end("v") + 25]
    if rules.text_delta_before.search(before) or rules.text_delta_after.match(after):
        return None
    if re.search(r"[±]\s*$|\(\s*$", before):
        return None
    k = m.groupdict().get("k")
    if kind == "topk_after":
        kk = _kind_after(sent, m.end())
        metric_kind = kk
    elif kind == "topk_before":
        metric_kind = "err" if m.group("kind").lower().startswith("err") else "acc"
    else:
        metric_kind = kind
    if metric_kind is None:
        return None
    if kind in ("err", "acc") and re.search(r"top-?\s?[15]\W*$", sent[max(0, m.start() - 12):m.start()], re.I):
        return None  # the top-k rules own this number
    bench = _pick_bench(metric_kind, k, benches, vpos, sent, ctx)
    if bench is None:
        return None
    metric = _metric_name(metric_kind, k, value) if metric_kind in ("err", "acc") else metric_kind
    if metric is None or not 0 < value <= 100 or not plausible(bench, metric, value):
        return None
    if metric == "top1_error" and bench == "imagenet" and value < 5:
        return None  # top-1 errors that low are deltas, not results
    own = bool(rules.text_own.search(sent) or ctx.is_own_name(sent))
    # the words just before the number (back to the previous number) say whose it is
    window = re.split(r"\d", sent[max(0, vpos - 35):vpos])[-1]
    cited = bool(rules.text_baseline_before.search(window))
    if cited:
        conf = CONF_CITED
    elif own:
        conf = 0.7
    else:
        conf = 0.4
    span = offset + vpos
    return Fact(field="result", value=value, unit="BLEU" if metric == "bleu" else "%",
                normalized_value=value, normalized_unit="bleu" if metric == "bleu" else "percent",
                page=page.number, span_start=span, span_end=span + len(m.group("v")),
                evidence=sent.strip()[:500], rule_id=rule_id, confidence=conf, source="text",
                model=None, benchmark=bench, metric=metric, split=split_of(sent))


def _pick_bench(kind: str, k: str | None, benches: list[tuple[int, str]], vpos: int, sent: str,
                ctx: PaperContext) -> str | None:
    allowed = METRIC_BENCHMARKS["top5" if k and "5" in k else kind] if kind in (
        "err", "acc") else METRIC_BENCHMARKS.get(kind, ())
    if kind == "err":
        allowed = ("cifar10", "cifar100")  # a bare "error" on ImageNet may be top-1 or top-5
    cands = [(abs(p - vpos), b) for p, b in benches if b in allowed or b == "other"]
    if not cands and k and ctx.mentions("imagenet") and not re.search(r"CIFAR", sent):
        return "imagenet"  # top-k metrics are ImageNet's
    if kind == "bleu" and not (ctx.wmt14 or re.search(r"WMT", sent)):
        return None
    if not cands:
        return None
    best = min(cands)[1]
    # "3.46% error on CIFAR-10 and 17.18% error on CIFAR-100": a benchmark named after
    # the value, before the next value, is the one it is on
    after = [(p, b) for p, b in benches if p > vpos and (b in allowed or b == "other")]
    if after:
        p, b = min(after)
        if p - vpos < 60 and not _VALUE_BETWEEN.search(sent, vpos + 1, p) \
                and _ON_BENCH.search(sent, vpos, p):
            best = b
    return None if best == "other" else best


_ON_BENCH = re.compile(r"\b(?:on|for|in)\b")
#: another stated value ("17.18%", "28.4 BLEU") between a value and a benchmark name
_VALUE_BETWEEN = re.compile(r"(?<![\w.])\d{1,3}\.\d+\s*%|(?<![\w.])\d{1,3}\s*%")


def split_of(text: str) -> str | None:
    low = text.lower()
    for key, name in (("test-dev", "test-dev"), ("minival", "minival"), ("val2017", "val2017"),
                      ("newstest2014", "newstest2014"), ("validation", "val"),
                      ("dev set", "dev"), ("test set", "test")):
        if key in low:
            return name
    return None


_ANY_DIGIT = re.compile(r"\d")
_STOP = frozenset(["the", "is", "of", "and", "that", "we", "in", "to", "a", "as", "while", "at",
                   "these", "this", "are", "was", "which", "it", "on", "for", "by", "from", "be",
                   "can", "our", "an", "than"])


# ------------------------------------------------------- table columns and cells
# The tables themselves are read by extract.tables and turned into candidates by
# extract.candidates; these say what a result column's header and caption mean.

SPLIT_HEAD = re.compile(r"^(dev|test|val|valid|validation|test-dev|minival|val2017|test-std)\b", re.I)
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
    ("wmt14-en-fr", "bleu"): (15, 60), ("cifar10", "top1_error"): (0.5, 40),
    ("cifar100", "top1_error"): (3, 70), ("cifar10", "top1_accuracy"): (60, 99.7),
    ("cifar100", "top1_accuracy"): (30, 97), ("cifar100", "top5_error"): (1, 40),
    ("cifar100", "top5_accuracy"): (60, 99),
}


def plausible(bench: str, metric: str, v: float) -> bool:
    """Table cells next to results (deltas, std devs, ratios) fall outside these ranges."""
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
    if rules.other.search(caption) and not any(
            b in allowed and rx.search(caption) for b, rx in rules.benchmarks):
        return None, None  # the caption names a benchmark we do not track (CoNLL 2000, VOC)
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

    Results in tables come from extract.candidates, on tables read by extract.tables.
    """
    rules = load_rules()
    ctx = ctx or paper_context(pages, rules)
    facts = text_results(pages, ctx, rules)
    for f in facts:
        f.extra.setdefault("rules_version", rules.version)
    return facts
