"""Compute-fact rules over sentences: parameters, FLOPs/MACs, hardware, training time, epochs.

Flow per page: the regex rules of rules/regex.jsonl find candidate numbers with
their unit (cheap, over the whole page); only for those, the sentence around
the number is cut with spaCy's sentencizer and the cue Matcher (rules/cues.jsonl)
decides whether the number is about the paper's own training (train cues,
inference cues, citation cues). Tables are handled by extract.tables and
extract.candidates.
"""

from __future__ import annotations

import logging
import re
from dataclasses import replace

from extract.fastre import GatedPattern, with_first_chars
from extract.hardware import chip_count, devices_named, find_hardware
from extract.model import EXTRACTOR_VERSION, Fact
from extract.nlp import (
    CITATION,
    NUM,
    SCALES,
    WORD_NUMBERS,
    Sentences,
    parse_number,
    regex_rules,
)
from extract.text import PageText

log = logging.getLogger(__name__)

#: confidence given to numbers attributed to cited work (kept, but below the gold cut-off)
CITED_CONFIDENCE = 0.2

_COMPUTE_UNITS = {"mac": "multiply-adds", "macs": "multiply-adds", "mult-adds": "multiply-adds",
                  "multi-adds": "multiply-adds", "multiply-adds": "multiply-adds",
                  "multiply-accumulates": "multiply-adds", "multiplication-adds": "multiply-adds",
                  "madds": "multiply-adds", "madd": "multiply-adds"}
_TIME_HOURS = {"minute": 1 / 60, "minutes": 1 / 60, "mins": 1 / 60,
               "h": 1, "hrs": 1, "hour": 1, "hours": 1, "day": 24, "days": 24, "week": 168,
               "weeks": 168, "month": 720, "months": 720}
_NUM_RE = re.compile(NUM)
_TABLE_LINE = re.compile(r"^(?:[^\s]+\s+){0,6}?(?:[-\d.,%×x±()]+\s+){3,}")


def _clause_cited(sentence: str, pos: int) -> bool:
    """A citation in the clause holding the number at `pos` (',' ';' 'vs' bound clauses)."""
    lo = max(sentence.rfind(c, 0, pos) for c in (";", " vs", "(", ", while", ", whereas"))
    hi_c = [i for i in (sentence.find(c, pos) for c in (";", " vs", ")", ", while", ", whereas")) if i != -1]
    hi = min(hi_c) if hi_c else len(sentence)
    clause = sentence[max(lo, 0):hi + 1]
    return bool(CITATION.search(clause))


def _near_cited(sentence: str, pos: int, reach: int = 30) -> bool:
    return bool(CITATION.search(sentence[max(0, pos - reach):pos + reach]))


#: a citation of the software a paper builds on ("the mmdetection [4] codebase",
#: "TensorFlow (Abadi et al., 2016)") says nothing about whose numbers the sentence gives
_SOFTWARE_CITE = re.compile(
    r"\b(?:codebase|code\s?base|framework|library|toolkit|toolbox|package|implementation|"
    r"TensorFlow|PyTorch|Caffe2?|MXNet|JAX|Theano|Torch|Keras|Chainer|PaddlePaddle|Megatron(?:-LM)?|"
    r"DeepSpeed|Mesh[- ]TensorFlow|mmdetection|MMDetection|detectron2?|Detectron2?|timm|Timm|"
    r"fairseq|Fairseq|tensor2tensor|Tensor2Tensor|Horovod|Lingvo|TPUEstimator)"
    r"(?:\s+codebase|\s+library|\s+framework)?\s*(?P<cite>" + CITATION.pattern + r")")


def _software_citations_blanked(sentence: str) -> tuple[str, bool]:
    """The sentence with citations of software blanked (same length: offsets hold), and
    whether those were all its citations."""
    if "[" not in sentence and "(" not in sentence:
        return sentence, False
    blanked = _SOFTWARE_CITE.sub(
        lambda m: m.group(0)[: m.start("cite") - m.start()] + " " * len(m.group("cite")), sentence)
    return blanked, blanked != sentence and not CITATION.search(blanked)


def _attributed(sentence: str, pos: int, found: dict, field: str = "") -> bool:
    sentence, software_only = _software_citations_blanked(sentence)
    if software_only:
        return False
    if field in ("epochs", "training_time"):
        # training recipes cite their optimiser or schedule; only a citation close to
        # the number makes it someone else's
        return _near_cited(sentence, pos) or (bool(found.get("CITE_CUE")) and not found.get("OWN_CUE"))
    if _clause_cited(sentence, pos):
        return True
    # "as reported in ..." / "et al." anywhere in a short sentence without our/we
    return bool(found.get("CITE_CUE")) and not found.get("OWN_CUE")


def _mk(field: str, rule_id: str, page: PageText, s: int, e: int, sent: str, conf: float,
        value: float | None, unit: str | None, norm: float | None, norm_unit: str | None,
        **kw) -> Fact:
    return Fact(field=field, value=value, unit=unit, normalized_value=norm,
                normalized_unit=norm_unit, page=page.number, span_start=s, span_end=e,
                evidence=" ".join(sent.split()), rule_id=rule_id, confidence=round(conf, 3),
                extractor_version=EXTRACTOR_VERSION, **kw)


_MORE_NUM = re.compile(r"\d+(?:,\d{3})*(?:\.\d+)?[kK]?|(?i:\b(?:" + "|".join(
    w for w in WORD_NUMBERS if len(w) > 2) + r")\b)")


def _more_numbers(more: str | None) -> list[float]:
    """The further numbers of a range or list ("-4", ", 20, 50 and 100", "to 2.5k")."""
    if not more:
        return []
    return [v for v in (parse_number(m.group(0)) for m in _MORE_NUM.finditer(more)) if v is not None]


def _text_rule_facts(page: PageText, sentences: Sentences | None = None) -> list[Fact]:
    text = page.text
    out: list[Fact] = []
    sentences = sentences or Sentences(text)
    for rule in regex_rules():
        if not rule.may_match(text):
            continue
        for m in rule.finditer(text):
            num_s, num_e = m.span("num")
            value = parse_number(m.group("num"))
            if value is None:
                continue
            line_start = text.rfind("\n", 0, num_s) + 1
            line_end = text.find("\n", num_e)
            line = text[line_start:line_end if line_end != -1 else len(text)]
            if _TABLE_LINE.match(line) and rule.field in ("parameters", "compute_per_pass"):
                continue  # table rows are the table rules' business
            fn = _FIELD_HANDLERS[rule.field]
            ctx = _Context(sentences, num_s, num_e, rule)
            got = fn(rule, m, value, page, ctx)
            for f in got:
                f.extra["signals"] = ctx.signals
            out.extend(got)
    return out


class _Context:
    """The sentence around a candidate number, its cues and the rule's confidence.

    Built lazily: the sentence window (a spaCy pass) and the cue Matcher are the
    costly part of a rule, and most candidates are rejected by checks on the few
    characters around the number first, so they never need it. What the sentence
    said (cues, citations) is kept in `signals` for the scorer's features.
    """

    __slots__ = ("_e", "_rule", "_s", "_sentences", "signals")

    def __init__(self, sentences: Sentences, s: int, e: int, rule) -> None:
        self._sentences, self._s, self._e, self._rule = sentences, s, e, rule
        self.signals: dict = {}

    def __call__(self) -> tuple[str, dict, float]:
        ss, se = self._sentences.at(self._s, self._e)
        sent, found = self._sentences.text[ss:se], self._sentences.cues(ss, se)
        conf = self._rule.confidence
        pos = self._s - ss
        attributed = _attributed(sent, pos, found, self._rule.field)
        if attributed:
            conf = CITED_CONFIDENCE
        toks = sent.split()
        numeric = sum(1 for t in toks if _NUMERIC_TOKEN.fullmatch(t))
        # the model named closest before the number, in its clause: whose number it is
        clause = re.split(r"[;:]|,\s+(?:while|whereas|but)\b", sent[:pos])[-1]
        names = _MODEL_NAME.findall(clause)
        self.signals = {"cues": sorted(found), "attributed": attributed,
                        # a run of numbers: a figure's axis or a table read as text
                        "numeric_text": numeric >= 5 and numeric >= 0.35 * len(toks),
                        "word_number": not any(ch.isdigit() for ch in
                                               sentence_number(sent, self._s - ss)),
                        "name_before": names[-1] if names else "",
                        "near_cited": _near_cited(sent, pos),
                        "compare": bool(_COMPARE.search(sent)),
                        "hedged": bool(_HYPOTHETICAL.search(sent)),
                        "rule_confidence": conf}
        return sent, found, conf


#: a model-like name: inner capitals, letters with digits or a hyphen ("ResNet-50", "GPT-2",
#: "ShuffleNet", "PVT-Medium", "BERTBASE")
_MODEL_NAME = re.compile(r"\b(?!Table|Figure|Fig|Section|Top)(?:[A-Z][a-z]*[A-Z][A-Za-z]*|[A-Z]{2,}[a-z]*|"
                         r"[A-Z][A-Za-z]*-?\d+[A-Za-z]*)(?:-[A-Za-z0-9]+)*\b")
_NUMERIC_TOKEN = re.compile(r"[(\[]?[-+]?\d[\d.,]*[%x×]?[)\],;:]?")


def sentence_number(sent: str, pos: int) -> str:
    """The token of `sent` starting at `pos` (the candidate's number as written)."""
    end = pos
    while end < len(sent) and not sent[end].isspace():
        end += 1
    return sent[pos:end]


#: a sentence that sets the number against others' ("compared to", "than", "outperforms")
_COMPARE = with_first_chars(re.compile(
    r"\b(?:than|compared|comparison|compare|versus|vs\.?|outperform\w*|surpass\w*|"
    r"previous|prior|state-of-the-art|baselines?|whereas|while)\b", re.I))


def _scaled_values(m: re.Match, value: float) -> list[tuple[float, str]]:
    """(absolute value, scale as written) of a match's number and of the numbers of its
    list ("60 million, 220 million and 3 billion"), each with its own scale word, and with
    a power of ten written after it ("13.6 · 10^6")."""
    scale = (m.groupdict().get("scale") or "").rstrip(".")
    mult = SCALES.get(scale, SCALES.get(scale.lower(), 1.0)) if scale else 1.0
    if m.groupdict().get("exp"):
        mult *= 10.0 ** int(m.group("exp"))
    out = [(value * mult, scale)]
    for n in _SCALED_MORE.finditer(m.groupdict().get("more") or ""):
        v = parse_number(n.group("n"))
        sc = n.group("s") or scale
        if v is not None:
            out.append((v * SCALES.get(sc, SCALES.get(sc.lower(), mult if not n.group("s") else 1.0)),
                        sc))
    return out


_SCALED_MORE = re.compile(r"(?P<n>\d+(?:,\d{3})*(?:\.\d+)?[kK]?)\s*(?P<s>[MBK]\b|million|billion|"
                          r"thousand|Million|Billion)?")


def _params(rule, m, value, page, ctx):
    before = page.text[max(0, m.start() - 20):m.start()]
    bound = bool(_COMPUTE_BOUND.search(before))
    vals = [(n, sc) for n, sc in _scaled_values(m, value) if n >= 1e4]
    if not vals:
        return []  # too small for a model
    sent, _, conf = ctx()
    ctx.signals["bound"] = bound  # "less than 25 million parameters": a bound, labelled all the same
    ctx.signals["list"] = len(vals) > 1
    s, e = m.span("num")
    return [_mk("parameters", rule.id, page, s, e, sent, conf, value, sc or None, n, "count")
            for n, sc in vals]


def _compute(rule, m, value, page, ctx):
    unit = m.group("unit")
    low = unit.lower()
    after = page.text[m.end():m.end() + 12]
    if _COMPUTE_RATE.match(after):
        return []  # throughput or total compute, not per pass
    before = page.text[max(0, m.start() - 20):m.start()]
    vals = [(n, sc) for n, sc in _scaled_values(m, value) if n >= 1e5]
    if not vals or (unit == "FLOPS" and (m.groupdict().get("scale") or "")[:1] in ("T", "P")):
        return []  # "125 TFLOPS": a chip's or a run's rate, not the operations of one pass
    sent, _, conf = ctx()
    ctx.signals["bound"] = bool(_COMPUTE_BOUND.search(before))
    ctx.signals["peak_context"] = bool(_COMPUTE_PEAK.search(sent))
    norm_unit = _COMPUTE_UNITS.get(low, "flops")
    s, e = m.span("num")
    return [_mk("compute_per_pass", rule.id, page, s, e, sent, conf, value,
                f"{sc}{unit}", n, norm_unit) for n, sc in vals]


#: compute per second, per device or per day after the unit: a rate or a total, not per pass
_COMPUTE_RATE = re.compile(r"\s*(?:/\s*s\b|/\s*sec|per\s+sec|-?\s*days?|/\s*day|"
                           r"(?:/|per)\s*(?:GPU|TPU|chip|device|core|node|accelerator)s?\b)", re.I)
_COMPUTE_PEAK = with_first_chars(re.compile(
    r"\b(peak|sustain\w*|throughput|TFLOPS|teraflop\w*|petaflop\w*)\b", re.I))
_COMPUTE_BOUND = re.compile(
    r"(?:(?:less|fewer|more|greater|lower|higher|smaller|larger)\s+than|[<>≤≥]|\bat\s+the\s+cost\s+of|"
    r"\bup\s+to|\bunder|\bbelow|\bwithin|\bextra|\badditional|\bexceeding|\bover)\s*(?:about\s+|only\s+)?$", re.I)
_EPOCH_BAD_BEFORE = with_first_chars(re.compile(
    r"(?:every|each|per|first|last|final|warm-?up|warming|linear(?:ly)?|initial|at|after every|"
    r"within|than|epoch)\s*(?:the\s+)?(?:first\s+)?$", re.I))
_EPOCH_BAD_AFTER = re.compile(r"^\s*(?:of\s+(?:linear\s+)?warm-?up|warm[- ]?up)", re.I)
# a milestone of the schedule, not the length of training: "After 5 epochs, we began halving"
_EPOCH_MILESTONE = re.compile(r"(?:^|[.;:]\s+|\n)After\s+$")


def _epochs(rule, m, value, page, ctx):
    text = page.text
    before = text[max(0, m.start() - 25):m.start()]
    if _EPOCH_BAD_BEFORE.search(before) or _EPOCH_MILESTONE.search(before) or _EPOCH_BAD_AFTER.match(text[m.end():m.end() + 25]):
        return []
    sent, found, conf = ctx()
    if not found.get("TRAIN_CUE") and not re.search(r"\b(for|ended|total)\b", sent, re.I):
        conf -= 0.2
    vals = [parse_number(m.group("num")) or value, *_more_numbers(m.groupdict().get("more"))]
    s, e = m.span("num")
    near = text[max(0, m.start() - 40):m.end() + 40]
    ctx.signals.update({
        "warmup_near": bool(_WARMUP.search(near)),
        "every_before": bool(_EVERY.search(text, max(0, m.start() - 30), m.start())),
        "schedule": bool(_SCHEDULE.search(sent)),
        "list": len(vals) > 1})
    out = []
    for v in vals:
        if v < 1 or v > 1e6 or (v != int(v) and v % 0.5):
            continue
        out.append(_mk("epochs", rule.id, page, s, e, sent, conf, v, "epochs", v, "epochs"))
    return out


_WARMUP = re.compile(r"warm[- ]?up|warming|burn-?in|ramp", re.I)
_EVERY = re.compile(r"\b(?:every|each|per|after|at|until|first|last)\b", re.I)
_SCHEDULE = re.compile(r"\b(?:then|decay\w*|divid\w*|drop\w*|reduc\w*|multipl\w*|anneal\w*|"
                       r"restart\w*|milestones?)\b", re.I)


def _time(rule, m, value, page, ctx):
    unit = m.group("unit").lower()
    text = page.text
    after = text[m.end():m.end() + 30]
    before = text[max(0, m.start() - 30):m.start()]
    if re.match(r"^\s*(?:per|/|each|an?\s+epoch|for\s+each)", after, re.I) or re.search(r"(?:per|every|each)\s*$", before, re.I):
        return []
    m_of = re.match(r"^\s*of\s+([\w-]+)", after)
    if m_of and not re.match(r"(?:training|pre-?training|computation|compute|wall|GPU|TPU)", m_of.group(1), re.I):
        return []  # "6000 hours of speech" is data, not time
    if re.search(r"(?:each|per|one|an|every)\s+(?:training\s+)?epoch\s+(?:takes|took|requires)[^.]{0,20}$", before, re.I):
        return []
    if unit == "h" and not re.match(r"^\s*(?:of|on|to|with|\)|,|\.|$)", after):
        return []
    sent, found, conf = ctx()
    if not found.get("TRAIN_CUE"):
        return []
    if found.get("INFER_CUE") and not re.search(r"\btrain", sent, re.I):
        return []
    if _HYPOTHETICAL.search(sent):
        conf = min(conf, 0.45)  # "a rough estimate suggests ... within a week", "we estimate"
    device = m.groupdict().get("device")
    kind = "device_hours" if device else "wall_clock"
    if device and re.search(r"core", device, re.I) and re.search(r"TPU", device, re.I):
        kind = "device_hours"
    vals = [value, *_more_numbers(m.groupdict().get("more"))]
    s, e = m.span("num")
    mult = _TIME_HOURS.get(unit, 1)
    out = []
    for v in vals:
        hours = v * mult
        if hours <= 0 or hours > 24 * 365 * 50:
            continue
        out.append(_mk("training_time", rule.id, page, s, e, sent, conf, v, unit, hours,
                       "device_hours" if device else "hours", time_kind=kind))
    return out


#: a time the paper supposes rather than measured
_HYPOTHETICAL = with_first_chars(re.compile(
    r"\b(?:rough|back-of-the-envelope)\s+estimate|\bwe\s+estimate\b|\bestimated\s+to\s+take\b", re.I))


_FIELD_HANDLERS = {"parameters": _params, "compute_per_pass": _compute, "epochs": _epochs,
                   "training_time": _time}

# ---------------------------------------------------------------- hardware
_HW_TRIGGER = GatedPattern(re.compile(r"GPU|TPU|CPU|V100|P100|A100|K80|K40|K20|M40|Titan|TITAN|GTX|RTX|DGX|"
                                     r"1080|2080|Kepler|Maxwell|Pascal|Volta", re.I))
_COUNT_NEAR = re.compile(r"(?:\d|\b(?:one|two|three|four|five|six|seven|eight|nine|ten|twelve|sixteen|"
                         r"single|dozens?|hundreds?))[^.\n]{0,30}$", re.I)
_NAMED_NEAR = with_first_chars(re.compile(r"V100|P100|A100|H100|K80|K40|K20|M40|P40|T4\b|Titan|TITAN|GTX|RTX|DGX|"
                         r"1080|2080|3090|Kepler|Maxwell|Pascal|Volta|TPU\s?v\d|Xeon|cores?\b", re.I))
_N_GPU = re.compile(r"(?P<num>" + NUM + r")\s*-\s*(?P<kind>GPU|TPU)\b")
_HW_CONTEXT = with_first_chars(re.compile(r"\b(batch|workers?|replicas?|servers?|machines?|equipped|nodes?|cluster|"
                         r"distributed|parallel\w*|use|used|using|across|hardware|chips?)\b", re.I))
_INFER_ONLY = with_first_chars(re.compile(r"\b(frame rate|inference|throughput|latenc\w+|fps|images?/s|decod\w+|speed|"
                         r"process(?:es|ing)?\s+(?:one|an?|each|a\s+single)\s+(?:image|frame|example|sample|sentence)|"
                         r"measured|timing|benchmark\w*|deploy\w*)\b", re.I))


def _hardware_facts(page: PageText, year: int | None, month: int | None,
                    sentences: Sentences | None = None) -> list[Fact]:
    text = page.text
    sentences = sentences or Sentences(text)
    out: list[Fact] = []
    seen: set[tuple[int, int]] = set()  # sentence spans read
    for trig in _HW_TRIGGER.finditer(text):
        if trig.group(0).upper() in ("GPU", "CPU", "TPU") and not _COUNT_NEAR.search(
                text, max(0, trig.start() - 30), trig.start()) and not _NAMED_NEAR.search(
                text, max(0, trig.start() - 30), trig.end() + 30):
            continue  # a bare "GPU" without a count or a chip name nearby: cheap skip
        if any(ss <= trig.start() < se for ss, se in seen):
            continue  # a sentence already read (a chip name and its "GPUs")
        line = text[text.rfind("\n", 0, trig.start()) + 1:text.find("\n", trig.end())]
        if _TABLE_LINE.match(line):
            continue  # table rows are the table rules' business
        ss, se = sentences.at(trig.start(), trig.end())
        if (ss, se) in seen:
            continue
        seen.add((ss, se))
        sent = text[ss:se]
        flat = " ".join(sent.split())
        found = sentences.cues(ss, se)
        train = bool(found.get("TRAIN_CUE"))
        if not train and not _HW_CONTEXT.search(flat):
            continue
        conf = 0.75 if train else 0.6
        if _INFER_ONLY.search(flat):
            if not re.search(r"\btrain", flat, re.I):
                continue
            conf -= 0.15
        attr, software_only = _software_citations_blanked(flat)
        if found.get("CITE_CUE") and not found.get("OWN_CUE") and not software_only:
            conf = CITED_CONFIDENCE
        mentions = find_hardware(flat, year=year, month=month)
        for mn in mentions:
            count = chip_count(flat, mn)
            if re.match(r"^[\s\-]*(?:core[\s\-])?(?:days?|hours?|h)\b", flat[mn.end:mn.end + 12]):
                continue  # "140 GPU days" is a time total, not hardware
            if mn.kind in ("generic", "cpu") or mn.chip == "TPU":
                if count == 1 and re.search(r"(?:single|one)\s*-?\s*$", flat[max(0, mn.start - 10):mn.start], re.I):
                    continue  # "a single GPU" is usually a remark, not the setup
                if count is None:
                    nm = _N_GPU.search(flat[max(0, mn.start - 12):mn.end])
                    count = parse_number(nm.group("num")) if nm else None
                if count is None:
                    continue  # an unnamed, uncounted "GPU" says too little
                if any(o.kind not in ("generic", "cpu") and abs(o.start - mn.start) < 40 for o in mentions):
                    continue  # "8 V100 GPUs": the named chip carries it
            c = CITED_CONFIDENCE if _clause_cited(attr, mn.start) else conf
            fact = _mk("hardware", "hardware-mention-v1", page, ss, se, sent, c,
                       count, mn.name, count, "chips" if count is not None else None,
                       hardware_name=mn.name, hardware=mn.chip, chip_count=count)
            devices = devices_named(flat, mn)
            if devices is not None:
                fact.extra["devices"] = devices
            out.append(fact)
    return out


def extract_compute_facts(pages: list[PageText], *, year: int | None = None,
                          month: int | None = None) -> list[Fact]:
    """Sentence rules over all pages (references already cut); tables are read by
    extract.tables and extract.candidates."""
    facts: list[Fact] = []
    for page in pages:
        if not page.text or page.in_references:
            continue
        sentences = Sentences(page.text)
        facts.extend(_text_rule_facts(page, sentences))
        facts.extend(_hardware_facts(page, year, month, sentences))
    return _prune_hardware(facts)


def _prune_hardware(facts: list[Fact]) -> list[Fact]:
    """Generic 'N GPUs' facts add nothing once the paper names its training chips; but when
    the paper names one training chip and counts it only as "N GPUs" elsewhere, the count
    belongs to that chip."""
    named = [f for f in facts if f.field == "hardware" and f.hardware not in ("GPU", "CPU", "TPU")
             and f.confidence >= 0.5]
    if not named:
        return facts
    generic = [f for f in facts if f.field == "hardware" and f.hardware in ("GPU", "TPU")]
    out = [f for f in facts if f not in generic]
    chips = {f.hardware for f in named}
    if len(chips) == 1 and all(f.chip_count is None for f in named):
        chip = named[0]
        kind = "TPU" if "TPU" in (chip.hardware or "") else "GPU"
        for g in generic:
            if g.hardware == kind and g.chip_count is not None and g.confidence >= 0.5:
                out.append(replace(chip, chip_count=g.chip_count, value=g.chip_count,
                                   normalized_value=g.chip_count, normalized_unit="chips",
                                   evidence=g.evidence, page=g.page, span_start=g.span_start,
                                   span_end=g.span_end, rule_id="hardware-count-of-named-chip-v1",
                                   extra={**g.extra, "chip_from": chip.evidence[:200]}))
    return out

