"""Results stated in sentences: "achieves 84.3% top-1 accuracy on ImageNet", "28.4 BLEU on
the WMT 2014 English-to-German task", "an F1 of 92.2 on CoNLL-2003".

Each sentence of a page is matched against a small set of metric patterns; the value
takes the benchmark named nearest to it in its sentence (the one named right after it
when the sentence lists "A% on X and B% on Y"), or the previous sentence's for metrics
that name their benchmark (top-k, BLEU, EM, AP; F1 where the paper has one F1
benchmark). Deltas ("by 2.0 BLEU") and spreads are no results. The words around the
number are kept on the fact (`extra["before"]`, `extra["after"]`) for the scorer's
sentence features (extract.result_features); the rule's own confidence is only a
starting point, replaced by the scorer's.
"""

from __future__ import annotations

import re
from bisect import bisect_left
from functools import lru_cache
from typing import Any

from extract.fastre import lowered, with_first_chars
from extract.model import Fact
from extract.results import (
    METRIC_BENCHMARKS,
    PaperContext,
    Rules,
    bench_in,
    load_rules,
    plausible,
    split_of,
)

#: the rules' own confidence of a sentence's value: quoted for others, the paper's (we,
#: our, a name it coins), neither
CONF_CITED = 0.2
CONF_OWN = 0.7
CONF_PLAIN = 0.4

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
    ("results.text.topk_from_to", "topk_before",
     re.compile(r"(?P<k>top-?\s?[15])\s+(?P<kind>error|accuracy)(?:\s+rates?)?\s+(?:\w+\s+){0,3}?"
                r"from\s+\d{1,2}(?:\.\d{1,2})?\s*%[^;%]{0,80}?\bto\s+(?P<v>\d{1,2}(?:\.\d{1,2})?)\s*%",
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
    # "13% test error without normalization and 11% with it": the second value of a list
    ("results.text.err_and", "err",
     re.compile(r"\b\d{1,2}(?:\.\d{1,2})?\s*%\s*(?:test\s+)?error(?:\s+rates?)?\b[^.;%]{0,60}?"
                r"\band\s+(?P<v>\d{1,2}(?:\.\d{1,2})?)\s*%(?!\s*(?:test\s+)?error)", re.I)),
    ("results.text.acc_and", "acc",
     re.compile(r"\b\d{2}(?:\.\d{1,2})?\s*%\s*(?:test\s+|classification\s+)?accuracy\b[^.;%]{0,60}?"
                r"\band\s+(?P<v>\d{2}(?:\.\d{1,2})?)\s*%(?!\s*(?:test\s+)?accuracy)", re.I)),
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
    found = bench_in(flat, rules, skip)
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
    "results.text.topk_from_to": ((), ("top",)),
    "results.text.bleu_after": (("BLEU", "Bleu"), ()), "results.text.bleu_of": (("BLEU",), ()),
    "results.text.f1_of": (("F1",), ()), "results.text.f1_after": (("F1",), ()),
    "results.text.em_of": (("EM", "exact"), ()), "results.text.em_after": (("EM", "exact"), ()),
    "results.text.ap_after": (("AP",), ()), "results.text.ap_of": (("AP",), ()),
    "results.text.err_pct": ((), ("error",)), "results.text.err_of": ((), ("error",)),
    "results.text.err_and": ((), ("error",)), "results.text.acc_and": ((), ("accuracy",)),
    "results.text.acc_pct": ((), ("accuracy",)), "results.text.acc_of": ((), ("accuracy",)),
}


def _possible_patterns(flat: str) -> frozenset[str]:
    """Ids of the text patterns whose words the page holds."""
    low = lowered(flat)
    return frozenset(rule_id for rule_id, (cs, lc) in _PATTERN_WORDS.items()
                     if any(w in flat for w in cs) or any(w in low for w in lc))


@lru_cache(maxsize=1024)
def _patterns_for(here: bool, inherited: bool, possible: frozenset[str],
                  needs_own: tuple[str, ...] = _NEEDS_OWN_BENCH) -> tuple:
    """The text patterns that can give a fact in a sentence (same facts, fewer scans):
    with no benchmark of its own, a sentence only takes the metrics that name their
    benchmark (or inherit the previous sentence's); and only patterns whose words
    are on the page."""
    return tuple((rule_id, kind, rx) for rule_id, kind, rx in _TEXT_PATTERNS
                 if rule_id in possible
                 and (here or kind in _TOPK_KINDS or (inherited and kind not in needs_own)))


def text_results(pages: list[Any], ctx: PaperContext, rules: Rules | None = None) -> list[Fact]:
    """Results stated in sentences."""
    rules = rules or load_rules()
    facts: list[Fact] = []
    # "F1" names its benchmark when the paper has only one F1 benchmark (SQuAD or CoNLL):
    # a sentence with an F1 then continues the previous sentence's benchmark
    one_f1 = sum(1 for b in METRIC_BENCHMARKS["f1"] if ctx.mentions(b)) == 1
    needs_own = tuple(k for k in _NEEDS_OWN_BENCH if not (one_f1 and k == "f1"))
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
            for rule_id, kind, rx in _patterns_for(bool(here), bool(inherited), possible,
                                                   needs_own):
                # a sentence without a benchmark continues the previous one's, but only
                # metrics that name their benchmark (top-k, BLEU, EM, AP) may rely on that
                benches = here or (inherited if kind not in needs_own else [])
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
    conf = CONF_CITED if cited else (CONF_OWN if own else CONF_PLAIN)
    span = offset + vpos
    return Fact(field="result", value=value, unit="BLEU" if metric == "bleu" else "%",
                normalized_value=value, normalized_unit="bleu" if metric == "bleu" else "percent",
                page=page.number, span_start=span, span_end=span + len(m.group("v")),
                evidence=sent.strip()[:500], rule_id=rule_id, confidence=conf, source="text",
                model=None, benchmark=bench, metric=metric, split=split_of(sent),
                extra={"before": sent[max(0, vpos - 60):vpos],
                       "after": sent[m.end("v"):m.end("v") + 60]})


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
_ANY_DIGIT = re.compile(r"\d")
