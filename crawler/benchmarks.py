"""Benchmarks: what to ask arXiv for, built in and from ``[benchmarks.NAME]`` in dlcompute.toml.

A benchmark is a name, a display label, the metric(s) it reports and a list of
arXiv search terms in the API's fielded syntax (``ti:``, ``abs:``, ``all:``,
``cat:``, quoted phrases, ``AND``/``OR``/``ANDNOT``). A paper matches a
benchmark when it matches any one of its terms.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any

from db import Store, T, utcnow
from db.errors import DlcomputeError


class BenchmarkConfigError(DlcomputeError):
    """A ``[benchmarks.NAME]`` table in the config file is malformed."""


@dataclass(frozen=True)
class Benchmark:
    """One benchmark and the arXiv search terms that find its papers."""

    name: str
    label: str
    metrics: tuple[str, ...]
    terms: tuple[str, ...]

    @property
    def search_query(self) -> str:
        """The terms as one arXiv API ``search_query`` (terms joined by OR)."""
        if len(self.terms) == 1:
            return self.terms[0]
        return " OR ".join(f"({t})" for t in self.terms)

    def windowed_query(self, start: str, end: str) -> str:
        """The query restricted to submissions in [start, end] (YYYYMMDDHHMM, inclusive)."""
        return f"({self.search_query}) AND submittedDate:[{start} TO {end}]"


# The paper's benchmarks (Thompson et al. 2020) and CIFAR, which it also read.
# Abstract or title mentions: a paper reporting results on a benchmark names it there.
DEFAULT_BENCHMARKS: tuple[Benchmark, ...] = (
    Benchmark("imagenet", "ImageNet", ("top1_error", "top5_error"),
              ("abs:ImageNet", "ti:ImageNet")),
    Benchmark("coco", "MS COCO", ("box_ap",),
              ('abs:"MS COCO"', 'abs:"MSCOCO"', 'abs:COCO AND abs:detection')),
    Benchmark("squad1.1", "SQuAD 1.1", ("f1", "em"),
              ("abs:SQuAD", "ti:SQuAD")),
    Benchmark("conll2003", "CoNLL-2003", ("f1",),
              ('abs:"CoNLL-2003"', 'abs:"CoNLL 2003"', "abs:CoNLL03")),
    Benchmark("wmt14-en-fr", "WMT 2014 English-French", ("bleu",),
              ('abs:"WMT 2014" AND abs:French', 'abs:WMT14 AND abs:French',
               'abs:"English-French" AND abs:translation')),
    Benchmark("wmt14-en-de", "WMT 2014 English-German", ("bleu",),
              ('abs:"WMT 2014" AND abs:German', 'abs:WMT14 AND abs:German',
               'abs:"English-German" AND abs:translation')),
    Benchmark("cifar10", "CIFAR-10", ("top1_error",),
              ('abs:"CIFAR-10"', "abs:CIFAR10")),
    Benchmark("cifar100", "CIFAR-100", ("top1_error",),
              ('abs:"CIFAR-100"', "abs:CIFAR100")),
)

_KEYS = {"label", "metrics", "terms", "enabled"}


def _str_list(name: str, key: str, value: Any) -> tuple[str, ...]:
    if isinstance(value, str):
        value = [value]
    if not isinstance(value, list) or not all(isinstance(v, str) and v.strip() for v in value):
        raise BenchmarkConfigError(
            f"[benchmarks.{name}] {key} must be a list of non-empty strings, got {value!r}; "
            f'e.g. {key} = ["abs:ImageNet"]')
    return tuple(v.strip() for v in value)


def load_benchmarks(config_section: Mapping[str, Any] | None = None) -> list[Benchmark]:
    """The built-in benchmarks, changed and extended by a ``[benchmarks]`` config table.

    ``config_section`` maps a name to ``{label, metrics, terms, enabled}``; a
    known name overrides only the keys it gives, a new name needs ``terms``,
    ``enabled = false`` drops a benchmark.
    """
    by_name = {b.name: b for b in DEFAULT_BENCHMARKS}
    for name, table in (config_section or {}).items():
        if not isinstance(table, Mapping):
            raise BenchmarkConfigError(
                f"[benchmarks.{name}] must be a table with label, metrics and terms")
        unknown = sorted(set(table) - _KEYS)
        if unknown:
            raise BenchmarkConfigError(
                f"[benchmarks.{name}]: unknown key(s) {', '.join(unknown)}; "
                f"known: {', '.join(sorted(_KEYS))}")
        if table.get("enabled", True) is False:
            by_name.pop(name, None)
            continue
        base = by_name.get(name)
        if base is None and "terms" not in table:
            raise BenchmarkConfigError(
                f"[benchmarks.{name}] is a new benchmark and needs terms, "
                f'e.g. terms = ["abs:\\"{name}\\""]')
        label = table.get("label", base.label if base else name)
        if not isinstance(label, str):
            raise BenchmarkConfigError(f"[benchmarks.{name}] label must be a string")
        by_name[name] = Benchmark(
            name=name,
            label=label,
            metrics=_str_list(name, "metrics", table["metrics"]) if "metrics" in table
            else (base.metrics if base else ()),
            terms=_str_list(name, "terms", table["terms"]) if "terms" in table
            else base.terms,  # type: ignore[union-attr]
        )
    from crawler.match import QuerySyntaxError, parse_query

    for b in by_name.values():
        for term in b.terms:
            try:
                parse_query(term)
            except QuerySyntaxError as e:
                raise BenchmarkConfigError(f"[benchmarks.{b.name}] term {term!r}: {e}") from e
    return list(by_name.values())


def select_benchmarks(benchmarks: Iterable[Benchmark], names: Iterable[str]) -> list[Benchmark]:
    """The benchmarks named (all when ``names`` is empty); unknown names are an error."""
    available = {b.name: b for b in benchmarks}
    names = list(names)
    if not names:
        return list(available.values())
    unknown = [n for n in names if n not in available]
    if unknown:
        raise BenchmarkConfigError(
            f"Unknown benchmark(s) {', '.join(unknown)}; known: {', '.join(available)} "
            f"(add one under [benchmarks.NAME] in dlcompute.toml)")
    return [available[n] for n in dict.fromkeys(names)]


def save_benchmarks(store: Store, benchmarks: Iterable[Benchmark]) -> None:
    """Write the benchmarks to the ``queries`` table (changed rows only)."""
    now = utcnow()
    with store.transaction():
        for b in benchmarks:
            row = {"name": b.name, "label": b.label, "metrics": json.dumps(list(b.metrics)),
                   "terms": json.dumps(list(b.terms)), "search_query": b.search_query}
            old = list(store.db.query(f"select * from {T.queries} where name = ?", [b.name]))
            if old and all(old[0][k] == v for k, v in row.items()):
                continue
            # upsert, not replace: paper_queries rows refer to this one
            store.db[T.queries].upsert({**row, "updated_at": now}, pk="name")
