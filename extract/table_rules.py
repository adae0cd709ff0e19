"""Table rules: Params / FLOPs / MACs columns read from the text layer's table rows.

pypdfium2 gives table rows as lines ("DenseNet (k = 12) 40 1.0M 7.00 ...").
A header line (or two) naming Params / FLOPs / MACs columns is found with the
column rules of rules/table_headers.jsonl; each following row's numbers are
mapped to those columns: by their unit suffix (71.8M, 12.9G) in column order,
else right-aligned to the header's known numeric columns. Rows citing other
work ("[12]", "et al.") are baselines, not the paper's own models.
"""

from __future__ import annotations

import json
import re
from bisect import bisect_left, bisect_right
from functools import lru_cache
from itertools import pairwise

from extract.fastre import with_first_chars
from extract.model import EXTRACTOR_VERSION, Fact
from extract.nlp import CITATION, RULES_DIR
from extract.text import PageText

_HEADER_ANY = with_first_chars(re.compile(
    r"Param|FLOP|Flops|(?i:gigaflops|megaflops)|MACs?\b|Mult-?\s?Adds|Multi-?\s?Adds|MAdds|Multiply-Adds"))
# a header may end in an abbreviated column name ("Top-1 Acc.") without being a sentence
_ABBREV_END = re.compile(r"\b[A-Z][a-z]{0,4}\.$")
_TOKEN = re.compile(r"(?<![\w.(+\-/×])(?:(?P<dash>[-–—])|(?P<num>\d{1,3}(?:,\d{3})+|\d+(?:\.\d+)?|\.\d+)"
                    r"(?P<suf>[KMGBT](?![A-Za-z])|%)?)(?![\w.×/]|\))")
_CAPTION = re.compile(r"^(?:Table|Figure|Fig\.)\s*\d+", re.I)
OWN_CONF = 0.7
CITED_CONF = 0.2


@lru_cache(maxsize=1)
def _columns() -> tuple[tuple[str, str, re.Pattern], ...]:
    rules = []
    for line in (RULES_DIR / "table_headers.jsonl").read_text(encoding="utf-8").splitlines():
        if line.strip():
            d = json.loads(line)
            rules.append((d["id"], d["kind"], re.compile(d["regex"], re.I if d["kind"] == "other" else 0)))
    return tuple(rules)


def header_columns(header: str) -> list[tuple[str, str, int, int]]:
    """(kind, rule_id, start, end) of the known numeric columns, in reading order."""
    spans: list[tuple[str, str, int, int]] = []
    for rid, kind, rx in _columns():
        for m in rx.finditer(header):
            if any(m.start() < e and s < m.end() for _, _, s, e in spans):
                continue
            spans.append((kind, rid, m.start(), m.end()))
    spans.sort(key=lambda x: x[2])
    # a dataset name followed by a metric column is a group label, not a column of its own
    out = []
    for n, sp in enumerate(spans):
        word = header[sp[2]:sp[3]]
        if _DATASET.fullmatch(word) and any(_METRIC.fullmatch(header[x[2]:x[3]]) for x in spans[n + 1:]):
            continue
        out.append(sp)
    return out


_DATASET = re.compile(r"ImageNet|CIFAR-?10\+?|CIFAR-?100\+?|SVHN|C10|C100", re.I)
_METRIC = re.compile(r"Top-?\s?[15]|Acc(?:uracy)?\.?|Err(?:or)?", re.I)


def _scale(header: str, kind: str, s: int, e: int, nxt: int) -> float | None:
    """The multiplier a header gives its column: Params (M) -> 1e6, GFLOPs -> 1e9."""
    word = header[s:e]
    if kind in ("flops", "macs"):
        if re.match(r"G|B|(?i:giga)", word):
            return 1e9
        if re.match(r"(?i:mega)", word):
            return 1e6
        if re.match(r"M(?!AC|ult|AD)", word):
            return 1e6
        if re.match(r"T", word):
            return 1e12
    tail = header[e:nxt][:14]
    head = header[max(0, s - 10):s]
    local = head + " " + tail
    if re.search(r"\(\s*G\s*\)|\bBillions?\b|\(B\)|\bG\b", local):
        return 1e9
    if re.search(r"\(\s*M\s*\)|\bMillions?\b|\bM\b|x\s?10\s?6|×\s?10\s?6|\(Mil", local):
        return 1e6
    if re.search(r"\(\s*K\s*\)|\bThousands?\b", local):
        return 1e3
    if re.search(r"\bMillions?\b", header) and not re.search(r"\bBillions?\b|\(G\)|\(B\)", header):
        return 1e6
    return None


def _normalise(kind: str, value: float, suf: str | None, scale: float | None) -> float | None:
    if suf in ("K", "M", "G", "B", "T"):
        return value * {"K": 1e3, "M": 1e6, "G": 1e9, "B": 1e9, "T": 1e12}[suf]
    if suf == "%":
        return None
    if scale:
        return value * scale
    if kind == "params":
        return value * 1e6 if value < 5000 else (value if value >= 1e5 else None)
    return value * (1e9 if value < 100 else 1e6)


_SETTING_EQ = re.compile(r"=\s*$")


def _row_tokens(line: str) -> list[re.Match]:
    # "w=2", "α = 0.75", "K=8": a setting in the row's label, not a cell
    return [t for t in _TOKEN.finditer(line) if not _SETTING_EQ.search(line[max(0, t.start() - 3):t.start()])]


# a group label between a header and its rows ("5-10M #Params", "<5M"), not a header line
_GROUP_RANGE = re.compile(r"\s*(?:[<>≤≥]\s*\d|\d+(?:\.\d+)?[KMGB]?\s*[-–~]\s*\d)")


def _prefix_stems(table_rows: list[tuple[int, str, list]]) -> list[str]:
    """A prefix the table adds to other rows' models ("ResNet-18" / "DY-ResNet-18",
    "MobileNetV2" / "SE-MobileNetV2"): the paper's method applied to those baselines."""
    labels = set()
    for _, row, toks in table_rows:
        nums = [t for t in toks if t.group("num") or t.group("dash")]
        label = row[: nums[0].start()].strip() if nums else ""
        if label:
            labels.add(label)
    counts: dict[str, int] = {}
    for lab in labels:
        m = re.match(r"([A-Za-z]{1,6}-)(.+)", lab)
        if m and m.group(2) in labels:
            counts[m.group(1)] = counts.get(m.group(1), 0) + 1
    return [p for p, n in counts.items() if n >= 2]


def _caption_goes_on(prev: str, line: str) -> bool:
    """`line` continues a caption that has not ended ("Table 4: ... to state-of-the-art" /
    "models. MACs (multiply-accumulate operations) and Throughput are measured")."""
    prev = prev.strip()
    return bool(_CAPTION.match(prev)) and not prev.endswith(".") and len(re.findall(r"(?<![\w/-])[a-z]{4,}(?![\w/-])", line)) >= 2


def _prose(line: str) -> bool:
    """Caption or body text rather than a header: mostly long lower-case words."""
    words = line.split()
    if len(words) > 16:
        return True
    low = sum(1 for w in words if re.fullmatch(r"[a-z]{4,}[,.;:]?", w))
    return len(words) >= 4 and low / len(words) > 0.5


def _is_row(line: str, toks: list[re.Match]) -> bool:
    nums = [t for t in toks if t.group("num") or t.group("dash")]
    return len(nums) >= 2 and len(line) < 200 and not _axis_ticks(line, nums)


def _axis_ticks(line: str, nums: list[re.Match]) -> bool:
    """A figure axis ("101 102 103", "20M 40M 80M"): no label, evenly or geometrically spaced."""
    if len(nums) < 3 or re.search(r"[A-Za-z]{2}", line) or any(t.group("dash") for t in nums):
        return False
    vals = [float(t.group("num").replace(",", "")) for t in nums]
    steps = {round(b - a, 6) for a, b in pairwise(vals)}
    ratios = {round(b / a, 6) for a, b in pairwise(vals) if a}
    return (len(steps) == 1 and 0 not in steps) or (len(ratios) == 1 and 1 not in ratios)


_NAME = re.compile(r"\b[A-Z][A-Za-z0-9]*(?:[A-Z][A-Za-z0-9]*|\d)[A-Za-z0-9]*\b")
_NOT_NAMES = frozenset({
    "CNN", "CNNs", "GPU", "GPUs", "TPU", "TPUs", "LSTM", "LSTMs", "RNN", "RNNs", "NLP", "SOTA",
    "COCO", "ImageNet", "CIFAR", "BLEU", "FLOPs", "FLOPS", "MACs", "SGD", "API", "AI", "ML",
    "CV", "MLP", "MLPs", "ReLU", "GLUE", "SQuAD", "PASCAL", "VOC", "WMT", "NMT", "IEEE", "CVPR",
    "ICCV", "ECCV", "NeurIPS", "ICLR", "ICML", "AAAI", "ACL", "EMNLP", "TX", "USA", "II", "III",
    "BN", "FC", "ADE20K", "MS", "RGB", "FPN", "YOLO", "ResNet", "ResNets", "VGG", "ViT", "BERT",
    "Transformer", "Transformers", "ConvNets", "ConvNet", "DNN", "DNNs", "CPU", "CPUs", "arXiv",
})


_HYPHEN_NAME = re.compile(r"\b[A-Z][A-Za-z0-9]*(?:-[A-Za-z0-9]+)+")


def _stem(name: str) -> str | None:
    """'DY-CNNs' -> 'DY-'; 'RepLKNet-31B' -> 'RepLKNet'; 'MobileNets' -> 'MobileNet'."""
    if "-" in name:
        first = name.split("-")[0]
        if len(first) <= 3:
            return first + "-" if first.isupper() else None
        return first if _NAME.fullmatch(first) else None
    return name[:-1] if name.endswith("s") and not name.endswith("ss") else name


def _count_word_starts(body: str, stem: str) -> int:
    """Occurrences of `stem` not preceded by a letter (non-overlapping, as re.findall)."""
    n, i = 0, body.find(stem)
    while i != -1:
        if i == 0 or not ("A" <= body[i - 1] <= "Z" or "a" <= body[i - 1] <= "z"):
            n += 1
            i = body.find(stem, i + len(stem))
        else:
            i = body.find(stem, i + 1)
    return n


def own_names(pages: list[PageText]) -> list[str]:
    """Name stems the paper gives its own models: coined names of the title and abstract,
    ranked by how often the paper uses them (names in the title first)."""
    if not pages:
        return []
    first = pages[0].text
    cut = re.search(r"\n\s*(?:1\.?\s*)?Introduction\b", first, re.I)
    head = first[: cut.start() if cut else 3000]
    title_lines = [ln for ln in first.split("\n")[:6] if ln.strip() and not re.match(
        r"(?:Published|Under review|Accepted|Proceedings|arXiv|Workshop|Preprint|\d)", ln.strip(), re.I)]
    title = " ".join(title_lines[:2])[:200]
    letters = [c for c in title if c.isalpha()]
    if letters and sum(c.isupper() for c in letters) > 0.7 * len(letters):
        # an all-capitals title: only a name before its colon counts ("ALBERT: A LITE BERT")
        title = title.split(":")[0] if ":" in title[:60] else ""
    cands = {m.group(0) for m in _NAME.finditer(head)} | {m.group(0) for m in _HYPHEN_NAME.finditer(head)}
    stems = {_stem(c) for c in cands if c not in _NOT_NAMES and c.rstrip("s") not in _NOT_NAMES}
    stems = {st for st in stems if st and len(st.rstrip("-")) >= 2 and st.rstrip("-") not in _NOT_NAMES}
    body = "\n".join(p.text for p in pages)
    counts = {st: _count_word_starts(body, st) for st in stems}
    in_title = sorted((n, st) for st, n in counts.items() if n >= 3 and re.search(
        r"(?<![A-Za-z])" + re.escape(st), title, re.I))
    if in_title:
        return [st for _, st in in_title[-2:]]
    # otherwise the coined (CamelCase or letter+digit) name the paper uses most
    coined = sorted((n, st) for st, n in counts.items() if n >= 5 and (
        re.search(r"[a-z][A-Z]|[A-Z][a-z]+[A-Z]|[A-Za-z]\d", st) or n >= 15))
    return [st for _, st in coined[-1:]]


_EPOCH_ROW = re.compile(r"^\s*(?:#\s*|Max(?:imum)?\s+|Training\s+|Train\s+|Total\s+)?Epochs?\b(?!-)[^\d\n]{0,12}(?=\d)", re.I)
_DEVICE_TIME_ROW = re.compile(
    r"^\s*(?P<dev>TPU\s?v\d|TPUv\d|TPU|GPU|V100|P100|A100)[-\s]?(?:core[-\s])?(?P<unit>days|hours)\b", re.I)
_CELL = re.compile(r"(?<![\w.])(\d+(?:\.\d+)?)(k)?(?![\w.])")


# a transposed table's row of model sizes or costs: "Complexity 143M 140M 137M", "FLOPs (G) 4.1 5.3"
_SIZE_ROW = re.compile(
    r"^\s*(?:(?P<flops>Complexity|[GMB]?FLOPs|[GM]?Flops)|(?P<macs>[GM]?MACs|Mult-?Adds|Multi-?Adds|MAdds|"
    r"Multiply-Adds)|(?P<params>#\s?Params|Params|Parameters|#\s?Parameters))"
    r"\s*(?:\((?P<scale>[KMGB])\))?(?P<cells>(?:\s+\d+(?:\.\d+)?[KMGB]?){2,})\s*$")
_SIZE_CELL = re.compile(r"(\d+(?:\.\d+)?)([KMGB])?")


def _size_row_facts(page: PageText, line: str, off: int) -> list[Fact]:
    m = _SIZE_ROW.match(line)
    if not m:
        return []
    kind = "flops" if m.group("flops") else "macs" if m.group("macs") else "params"
    word = m.group(kind)
    label_scale = m.group("scale") or (word[0] if kind != "params" and word[0] in "GMB" and word[1:2].isupper()
                                       else None)
    out = []
    for c in _SIZE_CELL.finditer(line, m.start("cells")):
        suf = c.group(2) or label_scale
        if not suf:
            return []  # unscaled cells of a transposed row are too ambiguous
        value = float(c.group(1))
        norm = value * {"K": 1e3, "M": 1e6, "G": 1e9, "B": 1e9}[suf]
        field = "parameters" if kind == "params" else "compute_per_pass"
        if not ((1e4 <= norm <= 2e12) if field == "parameters" else (1e5 <= norm <= 1e16)):
            continue
        out.append(Fact(field, value, c.group(2), norm,
                        "count" if field == "parameters" else ("multiply-adds" if kind == "macs" else "flops"),
                        page.number, off + c.start(1), off + c.end(), line.strip(), "size-table-row-v1",
                        OWN_CONF - 0.1, source="table", extractor_version=EXTRACTOR_VERSION))
    return out


def row_facts(page: PageText) -> list[Fact]:
    """Transposed table rows: '# Epochs 300 400 500', 'TPUv3-core-days 2.5k 0.68k',
    'Complexity 143M 140M 137M'."""
    out: list[Fact] = []
    pos = 0
    for line in page.text.split("\n"):
        off = pos
        pos += len(line) + 1
        if line[:1] in "CFGMBP#" and not CITATION.search(line):
            out.extend(_size_row_facts(page, line, off))
        m = _EPOCH_ROW.match(line)
        d = _DEVICE_TIME_ROW.match(line) if not m else None
        if not (m or d):
            continue
        rest_at = m.end() if m else d.end()
        cells = list(_CELL.finditer(line, rest_at))
        if len(cells) < 2 or CITATION.search(line):
            continue
        for c in cells:
            v = float(c.group(1)) * (1e3 if c.group(2) else 1)
            if m:
                if not (1 <= v <= 5000) or v != int(v):
                    continue
                out.append(Fact("epochs", v, "epochs", v, "epochs", page.number, off + c.start(),
                                off + c.end(), line.strip(), "epochs-table-row-v1", 0.6,
                                source="table", extractor_version=EXTRACTOR_VERSION))
            else:
                hours = v * (24 if d.group("unit").lower() == "days" else 1)
                out.append(Fact("training_time", v, d.group(0).strip(), hours, "device_hours",
                                page.number, off + c.start(), off + c.end(), line.strip(),
                                "time-device-table-row-v1", 0.6, source="table",
                                time_kind="device_hours", extractor_version=EXTRACTOR_VERSION))
    return out


def table_facts(page: PageText, own: list[str] | None = None) -> list[Fact]:
    text = page.text
    if not _HEADER_ANY.search(text):
        return []
    lines = text.split("\n")
    offsets = []
    pos = 0
    for ln in lines:
        offsets.append(pos)
        pos += len(ln) + 1
    # the lines naming a Params / FLOPs / MACs column, from one scan of the page
    hits = sorted({bisect_right(offsets, m.start()) - 1 for m in _HEADER_ANY.finditer(text)})
    out: list[Fact] = []
    i = 0
    while i < len(lines):
        nxt = bisect_left(hits, i)
        if nxt == len(hits):
            break
        i = hits[nxt]  # lines between hold no header word
        line = lines[i]
        if len(line) > 140 or _sentence_end(line) \
                or _CAPTION.match(line) or _prose(line) or _is_row(line, _row_tokens(line)) \
                or (i > 0 and _caption_goes_on(lines[i - 1], line)):
            i += 1
            continue
        # header: this line plus following non-row short lines (2-line headers), and a short
        # previous non-row line (group labels such as "ImageNet ADE20K")
        header = line
        prev = lines[i - 1] if i > 0 else ""
        if prev and len(prev) < 80 and not _is_row(prev, _row_tokens(prev)) and not _CAPTION.match(prev) \
                and not prev.rstrip().endswith(".") and not _prose(prev):
            header = prev + " " + header  # first header line: group labels, "Million Million"
        j = i + 1
        # pypdfium2 gives a header whose cells wrap ("FLOPs" / "(G)") as one short line each
        while j < len(lines) and (j <= i + 2 or (j <= i + 8 and len(lines[j]) <= 20)) and len(lines[j]) < 100 and not _is_row(lines[j], _row_tokens(lines[j])) \
                and not _CAPTION.match(lines[j]) and not _prose(lines[j]) and not _GROUP_RANGE.match(lines[j]):
            header += " " + lines[j]
            j += 1
        cols = header_columns(header)
        kinds = [c[0] for c in cols]
        if not any(k in ("params", "flops", "macs") for k in kinds):
            i = j
            continue
        scales = []
        for n, (kind, _rid, s, e) in enumerate(cols):
            nxt = cols[n + 1][2] if n + 1 < len(cols) else len(header)
            scales.append(_scale(header, kind, s, e, nxt))
        pf = [(n, c) for n, c in enumerate(cols) if c[0] != "other"]
        rows = 0
        table_rows: list[tuple[int, str, list]] = []
        k = j
        while k < len(lines) and rows < 40:
            row = lines[k]
            toks = _row_tokens(row)
            if _CAPTION.match(row) or (not _is_row(row, toks) and len(row) > 60):
                break
            if _HEADER_ANY.search(row) and not _is_row(row, toks) and not _GROUP_RANGE.match(row):
                break
            if _is_row(row, toks):
                rows += 1
                table_rows.append((k, row, toks))
            k += 1
        own_here = list(own or []) + _caption_names(lines, i, k) + _prefix_stems(table_rows)
        has_own = any(_mentions(r, own_here) for _, r, _ in table_rows)
        for k2, row, toks in table_rows:
            foreign = has_own and not _mentions(row, own_here) and _has_name(row, toks)
            out.extend(_row_facts(page, row, offsets[k2], toks, cols, scales, pf, foreign))
        i = max(k, i + 1)
    return out


_CAPTION_OWN = re.compile(r"(?:results of|the proposed|our proposed|of our|our)\s+(?P<name>[A-Za-z][\w-]*[A-Z][\w-]*)")


def _caption_names(lines: list[str], header_at: int, end: int) -> list[str]:
    """Stems of the models a table's caption presents as the paper's own
    ("Table 8. Results of DY-CNNs", "Comparing the proposed sMLPNet with ...")."""
    out = []
    for ln in lines[max(0, header_at - 3):header_at] + lines[end:end + 2]:
        if not _CAPTION.match(ln.strip()):
            continue
        for m in _CAPTION_OWN.finditer(ln):
            name = m.group("name")
            if name in _NOT_NAMES or name.rstrip("s") in _NOT_NAMES:
                continue
            st = _stem(name)
            if st and len(st.rstrip("-")) >= 2:
                out.append(st)
    return out


def _sentence_end(line: str) -> bool:
    line = line.rstrip()
    return line.endswith(".") and not _ABBREV_END.search(line)


def _mentions(row: str, own: list[str]) -> bool:
    return any(re.search(r"(?<![A-Za-z])" + re.escape(o), row) for o in own) or "ours" in row.lower()


def _has_name(row: str, toks: list) -> bool:
    """A row whose label (text before its numbers) names some model."""
    nums = [t for t in toks if t.group("num") or t.group("dash")]
    label = row[: nums[0].start()] if nums else row
    return bool(re.search(r"[A-Za-z]{2,}", label))


def _row_facts(page, row, row_off, toks, cols, scales, pf, foreign=False) -> list[Fact]:
    cited = bool(CITATION.search(row)) or "et al" in row or foreign
    conf = CITED_CONF if cited else OWN_CONF
    nums = [t for t in toks if t.group("num") or t.group("dash")]
    # "3.3 · 10^18" (training FLOPs in scientific notation) is not a per-pass cell
    sci = re.compile(r"^\s*[·x×*]\s*10")
    skip = {n for n, t in enumerate(nums) if sci.match(row[t.end():])}
    skip |= {n + 1 for n in skip}
    nums = [t for n, t in enumerate(nums) if n not in skip]
    first = nums[0].start() if nums else len(row)
    model = row[:first].strip(" |") or None
    assigned: list[tuple[int, re.Match]] = []  # (column index, token)
    suffixed = [t for t in nums if t.group("suf") in ("K", "M", "G", "B", "T")]
    if suffixed and len(suffixed) == len(pf):
        assigned = [(n, t) for (n, _), t in zip(pf, suffixed, strict=True)]
    elif len(cols) <= len(nums) <= len(cols) + 2:
        tail = nums[len(nums) - len(cols):]
        assigned = [(n, t) for n, t in enumerate(tail) if cols[n][0] != "other"]
    out = []
    for n, t in assigned:
        if t.group("dash"):
            continue
        kind, rid, _, _ = cols[n]
        raw = t.group("num").replace(",", "")
        value = float(raw)
        norm = _normalise(kind, value, t.group("suf"), scales[n])
        if norm is None:
            continue
        field = "parameters" if kind == "params" else "compute_per_pass"
        if field == "parameters" and not (1e4 <= norm <= 2e12):
            continue
        if t.group("suf") == "M" and value >= 1e4:
            continue  # a superscript glued to the number ("224^2 12M" -> "224212M")
        if field == "compute_per_pass" and not (1e5 <= norm <= 1e16):
            continue
        out.append(Fact(
            field=field, value=value, unit=t.group("suf") or None, normalized_value=norm,
            normalized_unit="count" if field == "parameters" else ("multiply-adds" if kind == "macs" else "flops"),
            page=page.number, span_start=row_off + t.start(), span_end=row_off + t.end(),
            evidence=row.strip(), rule_id=rid, confidence=conf, source="table",
            model=model, extractor_version=EXTRACTOR_VERSION))
    return out
