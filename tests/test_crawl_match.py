"""Benchmarks from dlcompute.toml, and the local evaluator of arXiv's query syntax."""

from __future__ import annotations

import json

import pytest

from crawler.benchmarks import (
    BenchmarkConfigError,
    load_benchmarks,
    save_benchmarks,
    select_benchmarks,
)
from crawler.match import Document, QuerySyntaxError, matches

DOC = Document(
    title="Deep Residual Learning for Image Recognition",
    abstract="We evaluate on the ImageNet 2012 dataset and on CIFAR-10, and on MS COCO "
             "detection. Results on the WMT 2014 English-to-French translation task.",
    authors="Kaiming He, Xiangyu Zhang",
    categories=["cs.CV", "cs.LG"],
    submitted="201512101700",
)


@pytest.mark.parametrize(("query", "expected"), [
    ("abs:ImageNet", True),
    ("abs:imagenet", True),
    ("ti:ImageNet", False),
    ("ti:residual", True),
    ('abs:"CIFAR-10"', True),
    ('abs:"CIFAR-100"', False),
    ('abs:"cifar 10"', True),
    ('abs:"MS COCO"', True),
    ('abs:"COCO MS"', False),
    ('abs:"WMT 2014" AND abs:French', True),
    ('abs:"WMT 2014" AND abs:German', False),
    ("abs:ImageNet ANDNOT cat:cs.CV", False),
    ("abs:ImageNet ANDNOT cat:cs.CL", True),
    ("cat:cs.*", True),
    ("cat:math.*", False),
    ("au:Kaiming", True),
    ("all:Zhang", True),
    ("residual learning", True),  # side by side: AND
    ("residual bananas", False),
    ("ti:bananas OR abs:ImageNet", True),
    ("(ti:bananas OR ti:apples) AND abs:ImageNet", False),
    ("abs:Image*", True),
    ("abs:Imag", False),  # whole words only
    ("abs:ImageNet AND submittedDate:[201501010000 TO 201601010000]", True),
    ("abs:ImageNet AND submittedDate:[201601010000 TO 201701010000]", False),
])
def test_matches(query, expected):
    assert matches(query, DOC) is expected


@pytest.mark.parametrize("query", ["", "abs:", "(abs:ImageNet", "abs:ImageNet AND",
                                   "xx:ImageNet", "AND abs:x"])
def test_bad_queries(query):
    with pytest.raises(QuerySyntaxError):
        matches(query, DOC)


def test_defaults_cover_the_papers_benchmarks():
    names = [b.name for b in load_benchmarks()]
    assert names == ["imagenet", "coco", "squad1.1", "conll2003", "wmt14-en-fr",
                     "wmt14-en-de", "cifar10", "cifar100"]
    for b in load_benchmarks():
        assert b.terms and b.label and b.metrics


def test_config_adds_and_changes_benchmarks():
    benchmarks = load_benchmarks({
        "imagenet": {"label": "ILSVRC"},  # only the label changes
        "glue": {"label": "GLUE", "metrics": ["score"], "terms": ['abs:"GLUE benchmark"']},
        "cifar100": {"enabled": False},
    })
    by = {b.name: b for b in benchmarks}
    assert by["imagenet"].label == "ILSVRC"
    assert by["imagenet"].terms == load_benchmarks()[0].terms
    assert by["glue"].search_query == 'abs:"GLUE benchmark"'
    assert "cifar100" not in by
    assert matches(by["glue"].search_query,
                   Document(abstract="state of the art on the GLUE benchmark"))


@pytest.mark.parametrize(("section", "needle"), [
    ({"new": {"label": "x"}}, "needs terms"),
    ({"imagenet": {"terms": "abs:(broken"}}, "term"),
    ({"imagenet": {"terms": [1, 2]}}, "list of non-empty strings"),
    ({"imagenet": {"colour": "red"}}, "unknown key"),
    ({"imagenet": "abs:x"}, "must be a table"),
])
def test_config_errors(section, needle):
    with pytest.raises(BenchmarkConfigError) as err:
        load_benchmarks(section)
    assert needle in str(err.value)
    assert "benchmarks." in str(err.value)


def test_select_unknown_benchmark():
    with pytest.raises(BenchmarkConfigError) as err:
        select_benchmarks(load_benchmarks(), ["imagenet", "mnist"])
    assert "mnist" in str(err.value) and "imagenet" in str(err.value)


def test_queries_table(store):
    save_benchmarks(store, load_benchmarks())
    rows = {r["name"]: r for r in store.db.query("select * from queries")}
    assert len(rows) == 8
    assert json.loads(rows["squad1.1"]["metrics"]) == ["f1", "em"]
    assert "SQuAD" in rows["squad1.1"]["search_query"]
