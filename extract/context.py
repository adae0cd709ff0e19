"""Names a paper coins for its own models, ranked by how often it uses them.

A row or sentence naming one of them is about the paper's own model; the scorer
reads that as one of its features (extract.features).
"""

from __future__ import annotations

import re

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
