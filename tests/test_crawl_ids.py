"""arXiv ids in every form, and the year and month they encode."""

from __future__ import annotations

import pickle

import pytest

from crawler.ids import InvalidArxivId, normalize_id, parse_arxiv_id, try_parse_arxiv_id

CASES = [
    # text, id without version, version, year, month
    ("1811.06965v5", "1811.06965", 5, 2018, 11),
    ("1811.06965", "1811.06965", None, 2018, 11),
    ("arXiv:1811.06965v5", "1811.06965", 5, 2018, 11),
    ("https://arxiv.org/abs/1811.06965v5", "1811.06965", 5, 2018, 11),
    ("http://arxiv.org/pdf/1811.06965v5.pdf", "1811.06965", 5, 2018, 11),
    ("https://export.arxiv.org/pdf/1811.06965", "1811.06965", None, 2018, 11),
    ("1512.03385v1.pdf", "1512.03385", 1, 2015, 12),
    ("1501.00010", "1501.00010", None, 2015, 1),  # keeps its zero
    ("1501.00001v2", "1501.00001", 2, 2015, 1),
    ("0704.0001", "0704.0001", None, 2007, 4),
    ("1412.9999v3", "1412.9999", 3, 2014, 12),
    ("hep-th/9901001", "hep-th/9901001", None, 1999, 1),
    ("hep-th/9901001v2", "hep-th/9901001", 2, 1999, 1),
    ("hep-th9901001.pdf", "hep-th/9901001", None, 1999, 1),  # bulk S3 file name
    ("math.GT/0309136", "math.GT/0309136", None, 2003, 9),
    ("math.gt0309136v1.pdf", "math.GT/0309136", 1, 2003, 9),
    ("http://arxiv.org/abs/quant-ph/0201082v1", "quant-ph/0201082", 1, 2002, 1),
    ("astro-ph/0601001", "astro-ph/0601001", None, 2006, 1),
    ("cs/9912012", "cs/9912012", None, 1999, 12),
    ("gr-qc/0103067v1", "gr-qc/0103067", 1, 2001, 3),
    ("  arXiv:2104.12255v1  ", "2104.12255", 1, 2021, 4),
]


@pytest.mark.parametrize(("text", "aid", "version", "year", "month"), CASES)
def test_parse(text, aid, version, year, month):
    a = parse_arxiv_id(text)
    assert (a.id, a.version, a.year, a.month) == (aid, version, year, month)
    assert isinstance(a.id, str)
    assert normalize_id(text) == aid


@pytest.mark.parametrize("text", [
    "abc", "", "1811.0696", "1413.00001", "1501.0001",  # 4-digit serial after 1412
    "0703.0001",  # before new-style ids
    "1201.12345",  # 5-digit serial before 1501
    "hep-th/0813001",  # month 13
    "hep-th/0901001",  # old style ended in 2007
    "resnet.pdf", "paper_final.pdf",
])
def test_rejects(text):
    with pytest.raises(InvalidArxivId) as err:
        parse_arxiv_id(text)
    assert repr(text) in str(err.value) or "not text" in str(err.value)
    assert try_parse_arxiv_id(text) is None


def test_error_is_picklable():
    e = InvalidArxivId("abc", "reason")
    e2 = pickle.loads(pickle.dumps(e))
    assert str(e2) == str(e)


def test_versioned_string():
    assert parse_arxiv_id("arXiv:1501.00010v3").versioned == "1501.00010v3"
    assert str(parse_arxiv_id("hep-th9901001")) == "hep-th/9901001"
