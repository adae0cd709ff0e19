"""Names a paper coins for its own models, ranked by how often it uses them.

A row or sentence naming one of them is about the paper's own model; the scorer
reads that as one of its features (extract.features).
"""

from __future__ import annotations

import math
import re
from collections import Counter

from extract.text import PageText

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


# ------------------------------------------------------------- name statistics

_TOKEN = re.compile(r"[A-Za-z][A-Za-z0-9]*|\d+[A-Za-z]+[A-Za-z0-9]*")
#: words that name no particular model: variant sizes, layer kinds, generic words
_UNINFORMATIVE = frozenset(["a", "an", "the", "of", "and", "or", "with", "without", "for", "to", "in", "on", "by", "from", "at", "as", "is", "are", "we", "our", "ours", "this", "that", "model", "models", "net", "nets", "network", "networks", "layer", "layers", "base", "large", "small", "tiny", "huge", "medium", "big", "baseline", "baselines", "method", "methods", "ours", "proposed", "standard", "original", "default", "full", "best", "single", "ensemble", "deep", "wide", "dense", "mobile", "block", "blocks", "conv", "convolution", "pool", "pooling", "fc", "linear", "attention", "head", "heads", "encoder", "decoder", "training", "train", "test", "val", "dev", "top", "acc", "accuracy", "error", "params", "flops", "table", "figure", "results", "result", "setting", "settings", "x", "w", "wo", "ms", "gpu", "gpus", "tpu", "tpus", "set", "sets", "data"])
#: a citation: "[12]", "(Smith et al., 2019)", "et al."
_CITATION_MARK = re.compile(
    r"\[\s*\d|\(\s*[A-Z][A-Za-z\-]+(?:\s+et\s+al\.?)?,?\s*(?:19|20)\d\d|\bet\s+al\b")


#: model-like names: inner capitals ("ResNet"), acronyms ("VGG"), letters with digits ("T5")
_NAME_LIKE = re.compile(
    r"\b(?:[A-Za-z]*[A-Z][a-z]*[A-Z][A-Za-z0-9]*|[A-Z]{2,}[A-Za-z0-9]*|[A-Za-z]+\d[A-Za-z0-9]*)")


class NameStats:
    """How a paper uses each name-like token: in its title, how often, how often cited.

    A paper's own model is named in its title or often, never with a citation; a
    baseline's name is mostly followed by a citation. Features read these per row
    label (extract.features).
    """

    def __init__(self, pages: list[PageText], title: str = "", references: str = "") -> None:
        self.total: dict[str, int] = {}
        self.cited: dict[str, int] = {}
        norm: dict[str, str | None] = {}  # a word as written -> its token (words repeat)

        def token(word: str) -> str | None:
            if word not in norm:
                got = tokens(word)
                norm[word] = got[0] if got else None
            return norm[word]

        for p in pages:
            if p.in_references or not p.text:
                continue
            text = p.text
            for word, n in Counter(_TOKEN.findall(text)).items():
                tok = token(word)
                if tok is not None:
                    self.total[tok] = self.total.get(tok, 0) + n
            # the names a citation follows: the words up to 25 characters before it
            for c in _CITATION_MARK.finditer(text):
                window = text[max(0, c.start() - 26):c.start()]
                if "." in window or ";" in window or "\n" in window:
                    window = re.split(r"[.;\n]", window)[-1]
                for word in set(_TOKEN.findall(window)):
                    tok = token(word)
                    if tok is not None:
                        self.cited[tok] = self.cited.get(tok, 0) + 1
        self.title = {t for t in tokens(title)}
        self.cited_titles = cited_names(references) if references else set()

    def label_stats(self, label: str) -> dict[str, float]:
        toks = [t for t in tokens(label) if t in self.total or t in self.title]
        if not toks:
            return {}
        ratios = [min(1.0, self.cited.get(t, 0) / self.total[t]) for t in toks
                  if self.total.get(t, 0) >= 2]
        uncited = max(max(0, self.total.get(t, 0) - self.cited.get(t, 0)) for t in toks)
        distinct = tokens(label)
        return {"title_token": float(any(t in self.title for t in toks)),
                "in_references": float(any(t in self.cited_titles and t not in self.title
                                           for t in distinct)),
                "cited_ratio": max(ratios) if ratios else 0.0,
                "uncited_log": math.log1p(uncited)}


#: a cited title that opens with a name: "MobileNets: Efficient ...", "Swin Transformer: ..."
_TITLE_NAME = re.compile(r"(?:^|[.,”\"]\s+)([A-Z][\w\-+]*(?:\s+[\w\-+]+){0,2})\s*:\s+[A-Z]",
                         re.MULTILINE)


def cited_names(references: str) -> set[str]:
    """Tokens of the model names the reference list cites: names that open a cited title
    ("Xception: Deep learning with ..."), and names with inner capitals or digits."""
    out: set[str] = set()
    for m in _TITLE_NAME.finditer(references):
        out.update(tokens(m.group(1)))
    for m in _NAME_LIKE.finditer(references):
        out.update(tokens(m.group(0)))
    return out


def tokens(text: str) -> list[str]:
    """Name-like tokens of a label: lower case, without the uninformative words."""
    out = []
    for m in _TOKEN.finditer(text or ""):
        t = m.group(0).lower()
        if len(t) > 4 and t.endswith("s") and not t.endswith("ss"):
            t = t[:-1]  # "MobileNets" names the "MobileNet" family
        if len(t) >= 2 and t not in _UNINFORMATIVE:
            out.append(t)
    return out


def title_of(pages: list[PageText]) -> str:
    """The paper's title: the first lines of its first page, before the authors."""
    if not pages:
        return ""
    lines = [ln.strip() for ln in pages[0].text.split("\n")[:8] if ln.strip()]
    lines = [ln for ln in lines if not re.match(
        r"(?:Published|Under review|Accepted|Proceedings|arXiv|Workshop|Preprint|Journal|\d)",
        ln, re.I)]
    return " ".join(lines[:2])[:200]


# --------------------------------------------------------------------- sections

#: a section heading: "1 Introduction", "2. Related Work", "RELATED WORK", "5 Conclusion"
_HEADING = re.compile(
    r"^\s*(?:\d{1,2}(?:\.\d{1,2})*\.?\s+|[IVX]{1,4}\.\s+)?(?P<name>[A-Z][A-Za-z][A-Za-z\- ]{1,48})\s*$",
    re.MULTILINE)
SECTION_KINDS = {
    "abstract": re.compile(r"^abstract$", re.I),
    "intro": re.compile(r"^introduction$", re.I),
    "related": re.compile(r"^(?:related\s+works?|background|prior\s+works?|previous\s+works?|"
                          r"literature\s+review|related\s+literature)$", re.I),
    "conclusion": re.compile(r"^(?:conclusions?|discussion|summary|conclusion\s+and\s+future\s+work|"
                             r"limitations?)$", re.I),
    # the paper's own work: what follows the introduction and related work
    "other": re.compile(r"^(?:(?:proposed\s+)?methods?|methodology|approach|our\s+approach|model|"
                        r"architecture|experiments?|experimental\s+(?:setup|results|settings?)|"
                        r"results|evaluation|implementation(?:\s+details)?|ablation\s+stud(?:y|ies)|"
                        r"analysis|training|setup|preliminaries)$", re.I),
}


class Sections:
    """Which kind of section (abstract, intro, related, conclusion, other) each place of a
    paper is in: introductions and related work talk about others' models."""

    def __init__(self, pages: list[PageText]) -> None:
        self.marks: list[tuple[int, int, str]] = []  # (page, offset, kind)
        for p in pages:
            for m in _HEADING.finditer(p.text or ""):
                name = " ".join(m.group("name").split())
                kind = next((k for k, rx in SECTION_KINDS.items() if rx.match(name)), None)
                if kind is None and m.group(0).strip()[0].isdigit():
                    kind = "other"  # a numbered heading of another section
                if kind is not None:
                    self.marks.append((p.number, m.start(), kind))

    def at(self, page: int, offset: int) -> str:
        kind = "abstract"  # before the first heading: title, authors, abstract
        for pg, off, k in self.marks:
            if (pg, off) <= (page, offset):
                kind = k
            else:
                break
        return kind
