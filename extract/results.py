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
from collections.abc import Callable
from dataclasses import dataclass, field
from functools import cache, lru_cache, partial
from itertools import islice
from pathlib import Path
from typing import Any

from extract.fastre import GatedPattern, lowered, with_first_chars
from extract.model import Fact
from extract.tables import Line, Word, read_page_lines

log = logging.getLogger(__name__)

RULES_PATH = Path(__file__).with_name("results_rules.json")

#: metric (as used in Fact.metric) -> which benchmarks it can belong to.
_METRIC_BENCHMARKS = {
    "top1": ("imagenet", "cifar10", "cifar100"),
    "top5": ("imagenet",),
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
    wmt14: bool = False

    def mentions(self, bench: str) -> bool:
        return bench in self.benches

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
        if bench not in ctx.skip and rx.search(full):
            ctx.benches.add(bench)
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
    if metric is None or not 0 < value <= 100 or not _plausible(bench, metric, value):
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
                model=None, benchmark=bench, metric=metric, split=_split_of(sent))


def _pick_bench(kind: str, k: str | None, benches: list[tuple[int, str]], vpos: int, sent: str,
                ctx: PaperContext) -> str | None:
    allowed = _METRIC_BENCHMARKS["top5" if k and "5" in k else kind] if kind in (
        "err", "acc") else _METRIC_BENCHMARKS.get(kind, ())
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


def _split_of(text: str) -> str | None:
    low = text.lower()
    for key, name in (("test-dev", "test-dev"), ("minival", "minival"), ("val2017", "val2017"),
                      ("newstest2014", "newstest2014"), ("validation", "val"),
                      ("dev set", "dev"), ("test set", "test")):
        if key in low:
            return name
    return None


# ----------------------------------------------------------------- tables

_HEADER_HINT = with_first_chars(re.compile(
    r"\btop-?\s?[15]\b|\bm?AP\b|\bAP\s?(?:box|bb|b)\b|\bBLEU\b|\bF1\b|\bEM\b|\bacc(?:uracy|\.)|"
    r"\berr(?:or|\.)|\bC10\+?|\bC100\+?|\bEN-(?:DE|FR)\b", re.I))
_TABLE_WORD = re.compile(r"\bTable\s+\d+", re.I)
_CELL_NUM = re.compile(r"^[(\[]?[<>~]?(\d{1,3}(?:[.,]\d{1,3})?)\s*%?\s*[)\]*†‡]*$")
_NUMISH = re.compile(r"^(?:[\d.,x×%()+\-−±/:@*†‡∗$BMGKk]+|\d+(?:st|nd|rd|th))$")


def candidate_pages(pages: list[Any]) -> list[int]:
    """Pages whose plain text looks like a results table: cheap, before any layout work."""
    out = []
    for p in pages:
        if getattr(p, "in_references", False) or not p.text:
            continue
        if "table" not in lowered(p.text) or not _TABLE_WORD.search(p.text):
            continue
        if sum(1 for _ in islice(_HEADER_HINT.finditer(p.text), 2)) == 2:
            out.append(p.number)
    return out


@dataclass
class Column:
    """One header cell: its extent and what it says (metrics, benchmark, err/acc, split)."""

    x0: float
    x1: float
    metrics: list[str]          # metric ids from the header, in order for "EM/F1"
    bench: str | None
    kind: str | None            # err | acc | None (from header words)
    split: str | None
    header: str

    @property
    def xc(self) -> float:
        return (self.x0 + self.x1) / 2


_SPLIT_HEAD = re.compile(r"^(dev|test|val|valid|validation|test-dev|minival|val2017|test-std)\b", re.I)


_MEMO_MAX = 200_000  # entries; a worker extracting many papers must not grow forever


def _memo(rules: Rules, key: tuple, compute):
    hit = rules.memo.get(key)
    if hit is None:
        if len(rules.memo) > _MEMO_MAX:
            rules.memo.clear()
        hit = rules.memo[key] = compute()
    return hit


def _classify_header(text: str, rules: Rules) -> list[str]:
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


def _bench_of(text: str, rules: Rules) -> str | None:
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


def _is_prose(line: Line) -> bool:
    """A line of running text (not a table row): a long cell with no value after it."""
    longest = max(line.cells, key=len, default=[])
    if len(longest) < 10 or sum(len(w.text) + 1 for w in longest) < 56:
        return False
    last = line.cells[-1]
    return len(last) >= 4 or not _CELL_NUM.match(last[-1].text)


def _num_cells(line: Line) -> int:
    """Words that are values (a citation "[4]" is not)."""
    return sum(1 for w in line.words if _CELL_NUM.match(w.text) and not _CITE_NUM.fullmatch(w.text))


_CITE_NUM = re.compile(r"\[\d+(?:[,–-]\d+)*\]")


def _block_end(lines: list[Line], k: int) -> int:
    """Index of the last line of the table body starting at line k (a cheap pre-scan)."""
    end = max(k - 1, 0)
    while k < len(lines):
        ln = lines[k]
        if _TABLE_WORD.match(ln.text) or _is_prose(ln) or ln.top - lines[end].bottom > 40:
            break
        end = k
        k += 1
    return end


def _caption_lines(lines: list[Line]) -> list[int]:
    """Indexes of the lines that start a "Table N" caption."""
    return [j for j, ln in enumerate(lines) if _TABLE_WORD.match(ln.text)]


def _caption_near(lines: list[Line], i: int, end: int | None = None,
                  caps: list[int] | None = None) -> str:
    """Text of the "Table N" caption nearest to the table spanning lines i..end, with its next
    lines. `caps`: the page's `_caption_lines`, when the caller has them."""
    if caps is None:
        caps = _caption_lines(lines)
    if not caps:
        return ""
    top, bottom = lines[i].top, lines[end if end is not None else i].bottom

    def dist(j: int) -> float:
        y = lines[j].top
        return top - y if y < top else max(0.0, y - bottom)

    j = min(caps, key=dist)
    return " ".join(ln.text for ln in lines[j:j + 4])


def table_results(pages: list[Any], ctx: PaperContext, pdf: Any = None,
                  rules: Rules | None = None,
                  page_lines: dict[int, list[Line]] | None = None) -> list[Fact]:
    """Results read from table rows (pdfplumber layout on candidate pages only)."""
    rules = rules or load_rules()
    if page_lines is None:
        src = pdf if pdf is not None else next((getattr(p, "source", None) for p in pages
                                                if getattr(p, "source", None)), None)
        if src is None:
            return []
        page_lines = read_page_lines(src, candidate_pages(pages))
    text_of = {p.number: p.text for p in pages}
    facts: list[Fact] = []
    for number, lines in page_lines.items():
        facts += _page_table_facts(number, lines, text_of.get(number, ""), ctx, rules)
    return facts


def _header_columns(lines: list[Line], start: int, rules: Rules) -> tuple[list[list[Column]], int]:
    """Header lines (top to bottom) as Columns around line `start`; and the first data line."""
    hdr = [start]
    j = start - 1
    while j >= 0 and lines[start].top - lines[j].bottom < 16 and not _is_prose(lines[j]) \
            and _num_cells(lines[j]) == 0 and not _TABLE_WORD.match(lines[j].text) and len(hdr) < 3 \
            and not _running_text(lines[j].text):
        hdr.insert(0, j)
        j -= 1
    k = start + 1
    subs: dict[int, Line] = {}
    while k < len(lines) and len(hdr) < 6:
        nxt, last = lines[k], lines[hdr[-1]]
        if nxt.top - last.top < 8 and all(len(w.text) <= 3 for w in nxt.words):
            subs[hdr[-1]] = nxt  # sub/superscripts of the line above: AP_50, AP_S
            k += 1
            continue
        if _num_cells(nxt) > 1 or _is_prose(nxt) or nxt.top - last.bottom >= 14:
            break
        texts = nxt.cell_texts()
        # a line with a label but no metric words is a data row or a row-group title
        if not any(_classify_header(t, rules) or _bench_of(t, rules) or _SPLIT_HEAD.match(t)
                   for t in texts):
            break
        if _num_cells(nxt) and not re.search(r"AP|top|@", nxt.text, re.I):
            break
        hdr.append(k)
        k += 1
    out = [_line_columns(lines[idx], subs.get(idx), rules) for idx in hdr]
    return out, k


_SENTENCE_END = re.compile(r"[a-z]{4,}\)?\.\s*$|\d\)\.\s*$")
_LOWER_RUN = re.compile(r"\b[a-z]{4,}\b")


def _running_text(text: str) -> bool:
    """A line of a caption or paragraph above a table, not a header line: it ends a
    sentence ("beled text.", "0.021).") or holds several long lower-case words."""
    return bool(_SENTENCE_END.search(text)) or len(_LOWER_RUN.findall(text)) >= 3


def _line_columns(line: Line, subs: Line | None, rules: Rules) -> list[Column]:
    """Header cells of one line; sub/superscripts on the line below are appended (AP_50)."""
    row = []
    for c in line.cells:
        text = " ".join(w.text for w in c)
        if subs is not None:
            tail = [w.text for w in subs.words if c[0].x0 + 2 <= w.x0 <= c[-1].x1 + 7]
            text = " ".join([text, *tail])
        metrics = _classify_header(text, rules)
        if _DIFF_HEAD.search(text):
            metrics = []  # a column of differences, not of results
        bench = _bench_of(text, rules) if len(text) < 40 else None
        if bench is None and rules.other_columns.search(text):
            bench = "other"  # a column of another task or language: not a tracked result
        kind = "err" if _ERR_WORD.search(text) else ("acc" if _ACC_WORD.search(text) else None)
        sm = _SPLIT_HEAD.match(text)
        row.append(Column(c[0].x0, c[-1].x1, metrics, bench, kind,
                          sm.group(1).lower() if sm else None, text))
    return row


@dataclass
class ColumnInfo:
    metrics: list[str]
    bench: str | None
    kind: str | None
    split: str | None
    header: str


def _column_for(x0: float, x1: float, header: list[list[Column]]) -> ColumnInfo:
    """What the header says about the value at [x0, x1].

    The bottom header line names each column; upper lines may hold cells that
    span several columns ("BLEU" over "EN-DE EN-FR", "Dev" over "P R F1"): there
    the nearest cell centre decides.
    """
    info = ColumnInfo([], None, None, None, "")
    xc = (x0 + x1) / 2
    parts = []
    for level, row in enumerate(reversed(header)):
        if not row:
            continue
        near = min(row, key=lambda c: abs(c.xc - xc))
        gap = max(near.x0 - x1, x0 - near.x1, 0.0)
        limit = 10 if level == 0 and len(row) > 1 else 45
        if gap > limit:
            continue
        if not (near.metrics or near.bench or near.split or info.metrics):
            if level == 0:
                return info  # a column of something else (#Params, FLOPs)
            continue
        if near.metrics and not info.metrics:
            info.metrics = near.metrics
        info.bench = info.bench or near.bench
        info.kind = info.kind or near.kind
        info.split = info.split or near.split
        parts.append(near.header)
    info.header = " ".join(reversed(parts))
    return info


def _page_table_facts(number: int, lines: list[Line], page_text: str, ctx: PaperContext,
                      rules: Rules) -> list[Fact]:
    facts: list[Fact] = []
    caps = _caption_lines(lines)
    middle = _page_middle(lines)
    on_page: tuple[str, ...] | None = None  # the page's benchmarks, found at its first table
    i = 0
    while i < len(lines):
        line = lines[i]
        texts = line.cell_texts()
        is_header = (not _is_prose(line) and _num_cells(line) <= max(1, len(line.cells) // 3)
                     and any(_classify_header(t, rules) or (_bench_of(t, rules) and len(t) < 14)
                             for t in texts))
        if not is_header:
            i += 1
            continue
        header, k = _header_columns(lines, i, rules)
        if not any(c.metrics or c.bench for row in header for c in row):
            i += 1
            continue
        caption = _caption_near(lines, i, _block_end(lines, k), caps)
        side = _table_side(lines, header, middle)
        if on_page is None:
            on_page = _benches_on_page(page_text, rules)
        # the benchmark of a column that names none: the same for every value cell
        table_bench = cache(partial(_table_bench, caption=caption, on_page=on_page, ctx=ctx,
                                    rules=rules))
        table: list[Fact] = []
        group_own = False
        from_caption = bool(_TABLE_WORD.match(line.text))  # a caption line read as the header
        last_bottom = lines[k - 1].bottom if k > 0 else line.bottom
        rows = 0
        while k < len(lines):
            row = _clip(lines[k], side)
            if not row.words:
                k += 1
                continue
            if _TABLE_WORD.match(row.text) or _is_prose(row) or row.top - last_bottom > 40:
                break
            if _num_cells(row) == 0:
                rtexts = row.cell_texts()
                if rtexts and any(_classify_header(t, rules) for t in rtexts):
                    if rows or from_caption:
                        break  # the next table's header (a caption stood in for this one's)
                    header.append(_line_columns(row, None, rules))  # a lower header line
                    last_bottom = row.bottom
                    k += 1
                    continue
                if not rows and not table and any(
                        _SPLIT_HEAD.match(t) or rules.other_columns.search(t) for t in rtexts):
                    # a lower header line of splits or variants: "val | real | v2"
                    header.append(_line_columns(row, None, rules))
                    last_bottom = row.bottom
                    k += 1
                    continue
                # a row-group title ("Ours", "Our models") marks the rows below it
                if len(row.text) < 60:
                    group_own = bool(rules.own.search(row.text))
                last_bottom = row.bottom
                k += 1
                continue
            table += _row_facts(number, row, header, caption, table_bench, ctx, rules, group_own)
            if not all(_numish(c) for c in row.cells):
                rows += 1  # a lone number (a figure's axis tick beside the table) is no row
            last_bottom = row.bottom
            k += 1
        # where the table marks the paper's own rows, the unmarked ones are baselines
        if any(f.confidence >= CONF_OWN for f in table):
            for f in table:
                if f.confidence == CONF_PLAIN:
                    f.confidence = CONF_UNMARKED
        facts += table
        i = max(k, i + 1)
    return facts


def _page_middle(lines: list[Line]) -> float | None:
    """The x midway between the leftmost and rightmost word of a page's lines."""
    if not any(ln.words for ln in lines):
        return None
    return (min(ln.words[0].x0 for ln in lines if ln.words)
            + max(w.x1 for ln in lines for w in ln.words)) / 2


def _table_side(lines: list[Line], header: list[list[Column]],
                mid: float | None = None) -> tuple[float, float] | None:
    """The x-range of a table set in one column of a two-column page, else None.
    `mid`: the page's `_page_middle`, when the caller has it."""
    mid = _page_middle(lines) if mid is None else mid
    if mid is None:
        return None
    # all short header cells (the label column's "Model" too); long ones are prose beside it
    cols = [c for row in header for c in row if len(c.header) < 30]
    if not cols:
        return None
    if all(c.x1 < mid + 5 for c in cols):
        return (-1e9, mid + 5)
    if all(c.x0 > mid - 5 for c in cols):
        return (mid - 5, 1e9)
    return None


def _clip(line: Line, side: tuple[float, float] | None) -> Line:
    if side is None:
        return line
    lo, hi = side
    cells = [c for c in line.cells if c[0].x0 >= lo and c[-1].x1 <= hi]
    words = [w for c in cells for w in c]
    if len(words) == len(line.words):
        return line
    out = Line(words, line.top, line.bottom, cells)
    return out


def _numish(cell: list[Word]) -> bool:
    return all(_NUMISH.match(w.text) or _MARK_CELL.fullmatch(w.text) for w in cell)


def _label_for(row: Line, idx: int) -> str:
    """The model name for the value in cell `idx`: the run of text cells left of it.

    Numbers between the name and the value (other columns) are skipped; a
    number before the name ends it, so side-by-side tables keep their own names.
    """
    n = idx - 1
    while n >= 0 and _numish(row.cells[n]):
        n -= 1
    parts: list[str] = []
    while n >= 0 and not _numish(row.cells[n]):
        parts.insert(0, " ".join(w.text for w in row.cells[n]))
        n -= 1
    return " ".join(_CID.sub(" ", " ".join(parts)).split())


def _parse_values(words: list[Word]) -> list[float]:
    """Values of one cell: '84.3%', '22.15 / 20.80', '75.2(3.2)', '88.55 ± 0.04' -> primary ones."""
    text = " ".join(w.text for w in words)
    text = _SPLIT_DECIMAL.sub(r"\1.\2", text)
    if _APPROX.search(text):
        return []  # approximate or bounded values are not results
    text = _PAREN_DELTA.sub(" ", text)      # (+2.1), (3.2)
    text = _PLUS_MINUS.sub(" ", text)
    vals = []
    for part in text.split("/"):
        m = _VALUE.fullmatch(part)
        if m:
            vals.append(float(m.group(1)))
    return vals


_ANY_DIGIT = re.compile(r"\d")
_DIFF_HEAD = re.compile(r"[∆Δ]|\bdiff|\bgains?\b|\bimprov|\bdrop\b", re.I)
_ERR_WORD = re.compile(r"\berr", re.I)
_ACC_WORD = re.compile(r"\bacc", re.I)
_MARK_CELL = re.compile(r"\(cid:\d+\)|[✓✗X×-]")
_CID = re.compile(r"\(cid:\d+\)")
_SPLIT_DECIMAL = re.compile(r"(\d) ?\. ?(\d)")
_APPROX = re.compile(r"[~∼≈<>]")
_PAREN_DELTA = re.compile(r"\(\s*[+\-−]?\d[\d.]*\s*%?\s*\)")
_PLUS_MINUS = re.compile(r"±\s*\d[\d.]*")
_TWO_LETTERS = re.compile(r"[A-Za-z]{2}")
_PROSE_OR_CODE = re.compile(r"[a-z][.,;:] [A-Za-z]|\w\.\w+\(|\bself\.")
_VALUE = re.compile(r"\s*\(?(\d{1,3}(?:\.\d{1,3})?)\s*%?\s*\)?\s*[*†‡∗§¶]*\s*")
_STOP = frozenset(["the", "is", "of", "and", "that", "we", "in", "to", "a", "as", "while", "at", "these", "this", "are", "was", "which", "it", "on", "for", "by", "from", "be", "can", "our", "an", "than"])


def _plausible_label(label: str) -> bool:
    """A model name, not a piece of running text caught beside a table."""
    words = label.split()
    if not words or len(words) > 10 or not _TWO_LETTERS.search(label):
        return False
    if _PROSE_OR_CODE.search(label):
        return False  # sentence punctuation or code
    if words[-1].lower() in _STOP or (len(words) > 5 and words[0][0].islower()):
        return False
    return sum(1 for w in words if w.lower() in _STOP) < 3


def _row_facts(number: int, row: Line, header: list[list[Column]], caption: str,
               table_bench: Callable[[str], str | None],
               ctx: PaperContext, rules: Rules, group_own: bool) -> list[Fact]:
    facts = []
    for idx, cell in enumerate(row.cells):
        vals = _parse_values(cell)
        if not vals:
            continue
        x0, x1 = cell[0].x0, cell[-1].x1
        info = _column_for(x0, x1, header)
        metrics = info.metrics or _metrics_from_caption(caption, info.bench)
        if not metrics and info.bench == "squad1.1" and len(vals) == 2:
            # "94.8/89.3" under a bare "SQuAD1.1 dev": F1 is never below EM
            metrics = ["f1", "em"] if vals[0] >= vals[1] else ["em", "f1"]
        if not metrics:
            continue
        label = _label_for(row, idx)
        if not _plausible_label(label):
            continue
        conf = _row_confidence(label, ctx, rules, group_own)
        lm = re.search(r"\btop-?\s?([15])\b", label, re.I)
        if lm and metrics and metrics[0] in ("top1", "top5", "acc", "err"):
            # a transposed table: the row names the metric ("Val top5"), columns the models
            metrics = [f"top{lm.group(1)}"]
        for n, v in enumerate(vals):
            mid = metrics[n] if len(metrics) == len(vals) else metrics[0]
            fact = _table_fact(number, row, label, mid, v, info, caption, table_bench, ctx,
                               rules, conf, x0)
            if fact is not None:
                facts.append(fact)
    return facts


#: a cited component added to a model ("ShuffleNet 2x (with SE[13])", "+ SE [13]")
_COMPONENT_CITE = re.compile(r"(?:\bwith\s+|\+\s*)[\w-]+\s*\[\d+(?:\s*,\s*\d+)*\]")


def _row_confidence(label: str, ctx: PaperContext, rules: Rules, group_own: bool) -> float:
    # cited, unless it is the paper's own model with a cited component
    if rules.cite.search(label) and (rules.cite.search(_COMPONENT_CITE.sub(" ", label)) or not (
            ctx.is_own_name(label) or rules.own.search(label))):
        return CONF_CITED
    baseline = bool(rules.baseline_row.search(label))
    own = bool(rules.own.search(label)) or group_own or ctx.is_own_name(label)
    if own and not baseline:
        return CONF_OWN
    if baseline:
        return CONF_BASELINE
    return CONF_PLAIN


def _metrics_from_caption(caption: str, bench: str | None) -> list[str]:
    if bench is None:
        return []
    low = caption.lower()
    if bench.startswith("wmt"):
        return ["bleu"] if "bleu" in low else []
    if bench in ("imagenet", "cifar10", "cifar100"):
        if re.search(r"\berror", low):
            return ["err"]
        if re.search(r"\baccurac", low):
            return ["acc"]
    if bench == "coco" and re.search(r"\bAP\b|\bmAP\b", caption):
        return ["box_ap"]
    return []


def _table_fact(number: int, row: Line, label: str, mid: str, v: float, info: ColumnInfo,
                caption: str, table_bench: Callable[[str], str | None], ctx: PaperContext,
                rules: Rules, conf: float,
                x0: float) -> Fact | None:
    bench, kind, header = info.bench, info.kind, info.header
    if bench is None:
        bench = table_bench(mid)
    if bench is None or bench not in _METRIC_BENCHMARKS.get(mid, ()):
        return None
    if bench == "coco" and re.search(r"\bkey-?points?\b|\bpose\s+estimation|\bpanoptic", caption, re.I):
        return None  # COCO keypoint / panoptic AP is not box AP
    split = info.split or _split_of(caption)
    if split in ("dev", "val", "valid", "validation") and bench in (
            "conll2003", "wmt14-en-de", "wmt14-en-fr"):
        conf = min(conf, CONF_BASELINE)  # these benchmarks report test; dev is tuning
    if mid in ("top1", "top5", "acc", "err"):
        top = "top5" if mid == "top5" else "top1"
        if kind is None:
            low = (header + " " + caption).lower()
            if re.search(r"\berr", low):
                kind = "err"
            elif re.search(r"\bacc", low):
                kind = "acc"
            else:
                kind = "acc" if v >= (70 if top == "top5" else 50) else "err"
        metric = f"{top}_{'error' if kind == 'err' else 'accuracy'}"
    else:
        metric = mid
    if not 0 < v <= 100 or not _plausible(bench, metric, v):
        return None
    unit = "BLEU" if metric == "bleu" else "%"
    return Fact(field="result", value=v, unit=unit, normalized_value=v,
                normalized_unit="bleu" if metric == "bleu" else "percent", page=number,
                span_start=-1, span_end=-1, evidence=row.text[:500],
                rule_id=f"results.table.{mid}", confidence=conf, source="table",
                model=label[:120] or None, benchmark=bench, metric=metric,
                split=split, extra={"header": header, "caption": caption[:200],
                                                 "x0": round(x0, 1)})


#: (benchmark, metric) -> (lowest, highest) value a real result can have, in percent
_BOUNDS = {
    ("imagenet", "top1_error"): (10, 70), ("imagenet", "top1_accuracy"): (30, 92),
    ("imagenet", "top5_error"): (1, 45), ("imagenet", "top5_accuracy"): (55, 99.5),
    ("coco", "box_ap"): (10, 70), ("squad1.1", "f1"): (50, 99), ("squad1.1", "em"): (40, 97),
    ("conll2003", "f1"): (70, 99), ("wmt14-en-de", "bleu"): (10, 50),
    ("wmt14-en-fr", "bleu"): (15, 60), ("cifar10", "top1_error"): (0.5, 40),
    ("cifar100", "top1_error"): (3, 70), ("cifar10", "top1_accuracy"): (60, 99.7),
    ("cifar100", "top1_accuracy"): (30, 97),
}


def _plausible(bench: str, metric: str, v: float) -> bool:
    """Table cells next to results (deltas, std devs, ratios) fall outside these ranges."""
    lo, hi = _BOUNDS.get((bench, metric), (0, 100))
    return lo <= v <= hi


def _benches_on_page(page_text: str, rules: Rules) -> tuple[str, ...]:
    """The benchmarks named on a page, in rule order, then "other" if the page names an
    untracked one."""
    found = [b for b, rx in rules.benchmarks if rx.search(page_text)]
    if rules.other.search(page_text):
        found.append("other")
    return tuple(found)


def _bench_for_table(mid: str, caption: str, page_text: str, ctx: PaperContext,
                     rules: Rules) -> str | None:
    """The benchmark of a table's `mid` column that names none: from its caption, else
    the page, else the paper, only when one allowed benchmark is plausible."""
    return _table_bench(mid, caption, _benches_on_page(page_text, rules), ctx, rules)


def _table_bench(mid: str, caption: str, on_page: tuple[str, ...], ctx: PaperContext,
                 rules: Rules) -> str | None:
    """`_bench_for_table`, with the page's `_benches_on_page` already found."""
    allowed = _METRIC_BENCHMARKS.get(mid, ())
    if rules.other.search(caption) and not any(
            b in allowed and rx.search(caption) for b, rx in rules.benchmarks):
        return None  # the caption names a benchmark we do not track (CoNLL 2000, VOC)
    found = [b for b, rx in rules.benchmarks if b in allowed and rx.search(caption)]
    if len(found) == 1:
        return found[0]
    if len(found) > 1:
        return None
    page_found = [b for b in on_page if b in allowed]
    if len(page_found) == 1:
        return page_found[0]
    if not page_found and mid in ("box_ap", "f1") and "other" in on_page:
        return None  # the page is about another dataset (VOC mAP in a COCO paper, CoNLL-2000)
    paper = [b for b in allowed if ctx.mentions(b)]
    if len(paper) == 1 and mid not in ("acc", "err"):
        return paper[0]
    if mid in ("top1", "top5") and "imagenet" in paper:
        return "imagenet"
    return None


# ------------------------------------------------------------------ entry point

def extract_results(pages: list[Any], *, tables: list | None = None,
                    pdf: Any = None) -> list[Fact]:
    """Benchmark results from normalised pages (extract.text.PageText).

    `tables` may hold pre-read table lines as {page_number: [Line, ...]};
    otherwise candidate pages are laid out with pdfplumber from `pdf` (path or
    bytes) or from the pages' `source` path.
    """
    rules = load_rules()
    ctx = paper_context(pages, rules)
    facts = text_results(pages, ctx, rules)
    page_lines = tables if isinstance(tables, dict) else None
    try:
        facts += table_results(pages, ctx, pdf, rules, page_lines=page_lines)
    except Exception as e:  # table layout is best effort; text results still count
        log.warning("table results failed: %s: %s", type(e).__name__, e)
    for f in facts:
        f.extra.setdefault("rules_version", rules.version)
        if ctx.names:
            f.extra.setdefault("own_names", ctx.names[:8])
    return facts
