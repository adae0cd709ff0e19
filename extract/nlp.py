"""Shared rule machinery: the rule data files, numbers, sentences and cues.

spaCy is used without a trained model: `spacy.blank("en")` with a
sentencizer, and a Matcher built from extract/rules/cues.jsonl. It only ever
sees short windows around candidate numbers (make_doc + sentencizer), never
whole pages, which keeps extraction fast.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterator
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path
from typing import Any

RULES_DIR = Path(__file__).parent / "rules"
RULES_VERSION = "1"

WORD_NUMBERS = {
    "a": 1, "an": 1, "one": 1, "single": 1, "two": 2, "three": 3, "four": 4, "five": 5,
    "six": 6, "seven": 7, "eight": 8, "nine": 9, "ten": 10, "eleven": 11, "twelve": 12,
    "fifteen": 15, "sixteen": 16, "twenty": 20, "thirty": 30, "forty": 40, "fifty": 50,
    "sixty": 60, "hundred": 100,
}
_WORDS_ALT = "|".join(sorted((w for w in WORD_NUMBERS if w not in ("a", "an", "single")),
                             key=len, reverse=True))
# A number as printed: 1,024 | 25.6 | .5 | 2.5k | eight. Not part of a longer token.
NUM = (r"(?<![\w.\-/])(?:\d{1,3}(?:,\d{3})+(?:\.\d+)?|\d+(?:\.\d+)?|\.\d+"
       r"|(?i:(?:a|an)(?=\s+(?:day|week|month|hour))|(?:" + _WORDS_ALT + r")\b))")

#: a number right after another one in a range or list ("1-4", "3, 20"): no look-behind
NUM_NEXT = (r"(?:\d{1,3}(?:,\d{3})+(?:\.\d+)?|\d+(?:\.\d+)?|\.\d+|(?i:(?:" + _WORDS_ALT + r")\b))")

SCALES = {
    "k": 1e3, "K": 1e3, "thousand": 1e3, "M": 1e6, "m": 1e6, "million": 1e6, "mil": 1e6,
    "mil.": 1e6, "B": 1e9, "billion": 1e9, "G": 1e9, "T": 1e12, "trillion": 1e12,
}


def parse_number(text: str) -> float | None:
    """'1,024' -> 1024.0, '25.6' -> 25.6, 'eight' -> 8.0, '2.5k' -> 2500.0."""
    t = text.strip().lower().replace(",", "")
    if t in WORD_NUMBERS:
        return float(WORD_NUMBERS[t])
    mult = 1.0
    if t.endswith("k"):
        t, mult = t[:-1], 1e3
    try:
        return float(t) * mult
    except ValueError:
        return None


@dataclass(frozen=True)
class RegexRule:
    id: str
    field: str
    confidence: float
    regex: re.Pattern
    #: substrings one of which every match contains ("anchors" in regex.jsonl): a page
    #: holding none of them cannot match, so the whole-page scan is skipped
    anchors: tuple[str, ...] = ()
    #: a pattern every match contains ("near"), with how far a match reaches before
    #: and after it: only windows around its occurrences are scanned
    near: re.Pattern | None = None
    before: int = 0
    after: int = 0

    def may_match(self, text: str) -> bool:
        return not self.anchors or any(a in text for a in self.anchors)

    def finditer(self, text: str) -> Iterator[re.Match]:
        """The matches of `regex` in `text`, as `regex.finditer(text)` gives them.

        With `near`, only windows around its occurrences are searched: a rule that
        starts with a number is otherwise tried at every digit and number word of a
        page. Matches longer than the window allows are not found, and a match
        that reaches the window's end is searched again in the whole text.
        """
        if self.near is None:
            yield from self.regex.finditer(text)
            return
        search, n, pos = self.regex.search, len(text), 0
        for a in self.near.finditer(text):
            if a.end() <= pos:
                continue  # inside the last match
            lo, hi = max(pos, a.start() - self.before), min(n, a.end() + self.after)
            while True:
                m = search(text, lo, hi)
                if m is not None and m.end() >= hi - 1 and hi < n:
                    m = search(text, m.start())  # lookaheads and quantifiers past the window
                if m is None or m.start() >= hi:
                    break
                yield m
                pos = lo = m.end()


@lru_cache(maxsize=1)
def regex_rules() -> tuple[RegexRule, ...]:
    """The regex rules of extract/rules/regex.jsonl, NUM (a number standing alone) and NUMX
    (a number after another one, as in "1-4") expanded."""
    out = []
    for line in (RULES_DIR / "regex.jsonl").read_text(encoding="utf-8").splitlines():
        if not line.strip():
            continue
        d = json.loads(line)
        near = d.get("near")
        out.append(RegexRule(d["id"], d["field"], float(d["confidence"]),
                             re.compile(d["regex"].replace("NUMX", NUM_NEXT).replace("NUM", NUM)),
                             tuple(d.get("anchors", ())),
                             re.compile(near) if near else None,
                             int(d.get("before", 0)), int(d.get("after", 0))))
    return tuple(out)


@lru_cache(maxsize=1)
def cue_patterns() -> tuple[dict, ...]:
    return tuple(json.loads(line) for line in
                 (RULES_DIR / "cues.jsonl").read_text(encoding="utf-8").splitlines() if line.strip())


@lru_cache(maxsize=1)
def nlp():
    """spacy.blank('en') with a sentencizer (no trained model needed)."""
    import spacy

    n = spacy.blank("en")
    n.add_pipe("sentencizer")
    return n


#: at most this many phrases from one word-list pattern (the product of its lists)
_MAX_PHRASES = 2000


def _word_lists(pattern: list[dict]) -> list[list[str]] | None:
    """[["et"], ["al", "al."]] for a pattern of LOWER word or word-list tokens, else None."""
    out = []
    for tok in pattern:
        low = tok.get("LOWER") if set(tok) == {"LOWER"} else None
        if isinstance(low, str):
            out.append([low])
        elif isinstance(low, dict) and set(low) == {"IN"}:
            out.append([str(w) for w in low["IN"]])
        else:
            return None
    return out


class _CueMatcher:
    """The cue rules of cues.jsonl as spaCy matchers.

    A token pattern made only of LOWER words or word lists matches exactly the token
    sequences whose lower-cased texts are one of its phrases, so such patterns go to a
    PhraseMatcher on LOWER (hash look-ups in C) rather than the token Matcher (a
    Python predicate per token and word list); any other pattern stays in a Matcher.
    """

    def __init__(self, vocab, patterns) -> None:
        from itertools import product

        from spacy.matcher import Matcher, PhraseMatcher
        from spacy.tokens import Doc

        self.phrases = PhraseMatcher(vocab, attr="LOWER")
        self.tokens = Matcher(vocab)
        self._has_tokens = False
        for p in patterns:
            lists = _word_lists(p["pattern"])
            n = 1
            for words in lists or ():
                n *= len(words)
            if lists is None or n > _MAX_PHRASES:
                self.tokens.add(p["label"], [p["pattern"]])
                self._has_tokens = True
                continue
            self.phrases.add(p["label"], [Doc(vocab, words=list(words)) for words in product(*lists)])

    def __call__(self, doclike) -> list[tuple[int, int, int]]:
        """(match_id, start, end) with token offsets in the Doc (a Span's too)."""
        found = list(self.phrases(doclike))
        if self._has_tokens:
            base = getattr(doclike, "start", 0)  # the Matcher counts from a Span's start
            found += [(i, s + base, e + base) for i, s, e in self.tokens(doclike)]
        return found


@lru_cache(maxsize=1)
def matcher() -> _CueMatcher:
    """The cue matcher (see _CueMatcher): call it on a Doc or Span."""
    return _CueMatcher(nlp().vocab, cue_patterns())


def cues(sentence: str) -> dict[str, list[tuple[int, int]]]:
    """Cue label -> character spans in the sentence, from the cue rules."""
    return _span_cues(nlp().make_doc(sentence)[:])


_WINDOW = 500
#: the window tried first: most sentences fit in it, and spaCy's cost grows with the window
_SHORT = 200


def sentence_at(text: str, start: int, end: int) -> tuple[int, int]:
    """Character span of the sentence around text[start:end] (spaCy sentencizer on a window)."""
    return _sentence_span(text, start, end)[:2]


def _sentence_span(text: str, start: int, end: int) -> tuple[int, int, Any]:
    """`sentence_at`, and the spaCy Span of that sentence (None when it was not found)."""
    lo = max(0, start - _WINDOW)
    hi = min(len(text), end + _WINDOW)
    # don't run across a blank line / heading: paragraphs bound sentences
    para_lo = text.rfind("\n\n", lo, start)
    if para_lo != -1:
        lo = para_lo + 2
    para_hi = text.find("\n\n", end, hi)
    if para_hi != -1:
        hi = para_hi
    if start - lo > _SHORT or hi - end > _SHORT:
        found = _sentence_in_short_window(text, lo, hi, start, end)
        if found is not None:
            return found
    window = text[lo:hi]
    doc = nlp()(window.replace("\n", " "))
    for sent in doc.sents:
        if sent.start_char <= start - lo < sent.end_char:
            s, e = lo + sent.start_char, lo + sent.end_char
            return s, max(e, end), sent
    return lo, hi, None


def _span_cues(span) -> dict[str, list[tuple[int, int]]]:
    """`cues` of a sentence already tokenised (a Span), spans relative to its start."""
    out: dict[str, list[tuple[int, int]]] = {}
    strings = span.doc.vocab.strings
    base = span.start_char
    for match_id, s, e in matcher()(span):
        sub = span.doc[s:e]
        out.setdefault(strings[match_id], []).append((sub.start_char - base, sub.end_char - base))
    return out


class Sentences:
    """The sentences of one text cut so far by `sentence_at`, found again by position,
    with their cues.

    A page's rules ask for the sentence around many numbers and chip names, often
    several in one sentence; each spaCy pass is done once, and the cue Matcher runs
    on the tokens of that pass.
    """

    __slots__ = ("_cues", "spans", "text")

    def __init__(self, text: str) -> None:
        self.text = text
        self.spans: dict[tuple[int, int], Any] = {}  # (start, end) -> its spaCy Span or None
        self._cues: dict[tuple[int, int], dict] = {}

    def at(self, start: int, end: int) -> tuple[int, int]:
        for ss, se in self.spans:
            if ss <= start and end <= se:
                return ss, se
        ss, se, span = _sentence_span(self.text, start, end)
        self.spans[ss, se] = span
        return ss, se

    def cues(self, ss: int, se: int) -> dict[str, list[tuple[int, int]]]:
        """Cue label -> spans in the sentence text[ss:se] (a span `at` returned)."""
        if (ss, se) not in self._cues:
            span = self.spans.get((ss, se))
            self._cues[ss, se] = _span_cues(span) if span is not None else cues(self.text[ss:se])
        return self._cues[ss, se]


def _sentence_in_short_window(text: str, lo: int, hi: int, start: int,
                              end: int) -> tuple[int, int, Any] | None:
    """`sentence_at` from a window of +-_SHORT characters, when that is provably the same.

    spaCy's tokenizer splits at spaces and handles each chunk alone, so the tokens
    of a sub-window equal the full window's except in its first and last chunk (which
    the cut may shorten). The sentencizer starts a sentence at a non-punctuation token
    iff a sentence-final character token lies between it and the previous
    non-punctuation token. So a sentence found in the short window is the full
    window's when its start is decided by tokens past the first chunk and its end by
    tokens before the last one; otherwise None (the caller uses the full window).
    """
    lo2, hi2 = max(lo, start - _SHORT), min(hi, end + _SHORT)
    window = text[lo2:hi2].replace("\n", " ")
    doc = nlp()(window)
    rel = start - lo2
    sent = next((s for s in doc.sents if s.start_char <= rel < s.end_char), None)
    if sent is None:
        return None
    if lo2 > lo:
        first_space = window.find(" ")
        punct = _punct_chars()
        j = sent.start - 1  # the previous word token, which decides this sentence start
        while j >= 0 and (doc[j].is_punct or doc[j].text in punct):
            j -= 1
        if sent.start == 0 or j < 0 or first_space == -1 or doc[j].idx <= first_space:
            return None
    if hi2 < hi:
        last_space = window.rfind(" ")
        if sent.end >= len(doc):
            return None
        nxt = doc[sent.end]  # the next sentence's first token
        if nxt.idx + len(nxt.text) > last_space:
            return None
    return lo2 + sent.start_char, max(lo2 + sent.end_char, end), sent


@lru_cache(maxsize=1)
def _punct_chars() -> frozenset[str]:
    return frozenset(nlp().get_pipe("sentencizer").punct_chars)


# Citations: "[12]", "[3, 4]", "(Smith et al., 2019)", "(Smith, 2019)"
CITATION = re.compile(
    r"\[\d+(?:\s*[,\u2013-]\s*\d+)*\]|\b[A-Z][A-Za-z\-]+(?: et al\.?| and [A-Z][A-Za-z\-]+)?,? \(?(?:19|20)\d\d[a-z]?\)?"
)
