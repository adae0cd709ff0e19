"""Realistic store rows for the curate and review tests (no tests here).

Values follow real papers: ResNet (1512.03385) reports 3.57% top-5 error and 11.3
GFLOPs (as multiply-adds) for ResNet-152; the catalog figures follow the hardware
notes in ../shared/hardware (GTX 1080 Ti 10,609 FP32 base GFLOPS, TPU v3 123 tensor TFLOPS).
"""

from __future__ import annotations

import itertools

from db.schema import T

_ids = itertools.count(1)

HARDWARE = [
    {"chip": "GTX 1080 Ti", "vendor": "NVIDIA", "kind": "gpu", "release_date": "2017-03-10",
     "fp32_base_gflops": 10609.0, "fp32_boost_gflops": 11340.0, "tensor_gflops": None,
     "aliases": '["1080 Ti", "GeForce GTX 1080 Ti"]'},
    {"chip": "K80", "vendor": "NVIDIA", "kind": "gpu", "release_date": "2014-11-17",
     "fp32_base_gflops": 5611.0, "fp32_boost_gflops": 8740.0, "tensor_gflops": None,
     "aliases": '["Tesla K80"]'},
    {"chip": "V100", "vendor": "NVIDIA", "kind": "gpu", "release_date": "2017-06-21",
     "fp32_base_gflops": 13435.0, "fp32_boost_gflops": 15700.0, "tensor_gflops": 125000.0,
     "aliases": '["Tesla V100"]'},
    {"chip": "TPU v3", "vendor": "Google", "kind": "tpu", "release_date": "2018-05-08",
     "fp32_base_gflops": None, "fp32_boost_gflops": None, "tensor_gflops": 123000.0,
     "aliases": '["TPUv3", "Cloud TPU v3"]'},
]


def add_paper(store, arxiv_id: str, year: int, month: int, title: str = "A paper") -> int:
    """A paper with an ok extraction; returns the extraction id."""
    store.db[T.papers].insert({"arxiv_id": arxiv_id, "title": title, "year": year,
                               "month": month, "source": "api"}, replace=True)
    return store.db[T.extractions].insert({
        "arxiv_id": arxiv_id, "pdf_sha256": f"sha-{arxiv_id}", "extractor_version": "test-1",
        "status": "ok", "pages": 10, "chars": 40000, "seconds": 1.0,
        "created_at": "2026-01-01T00:00:00Z"}).last_pk


def add_fact(store, extraction_id: int, arxiv_id: str, field: str, **kw) -> int:
    row = {"extraction_id": extraction_id, "arxiv_id": arxiv_id, "field": field,
           "page": 1, "source": "text", "rule_id": f"test.{field}",
           "extractor_version": "test-1", "confidence": 0.8,
           "evidence": kw.pop("evidence", f"A sentence about {field}.")}
    row.update(kw)
    return store.db[T.facts].insert(row).last_pk


def add_hardware(store) -> None:
    store.db[T.hardware].insert_all(HARDWARE, pk="chip", replace=True)


def resnet_paper(store) -> dict[str, int]:
    """1512.03385 with a result, compute, parameters, hardware and time."""
    ex = add_paper(store, "1512.03385", 2015, 12, "Deep Residual Learning")
    ids = {
        "result": add_fact(store, ex, "1512.03385", "result", model="ResNet-152",
                           benchmark="imagenet", metric="top5_error", value=3.57, unit="%",
                           normalized_value=3.57, normalized_unit="percent", confidence=0.9,
                           evidence="ResNet-152 has 3.57% top-5 error on the test set."),
        "compute": add_fact(store, ex, "1512.03385", "compute_per_pass", model="ResNet-152",
                            value=11.3, unit="GFLOPs", normalized_value=11.3e9,
                            normalized_unit="multiply-adds", confidence=0.85,
                            evidence="The 152-layer ResNet has 11.3 billion FLOPs."),
        "params": add_fact(store, ex, "1512.03385", "parameters", model="ResNet-152",
                           value=60.2, unit="M", normalized_value=60.2e6,
                           normalized_unit="count", confidence=0.7,
                           evidence="ResNet-152 has 60.2M parameters."),
        "hardware": add_fact(store, ex, "1512.03385", "hardware", hardware_name="Tesla K80",
                             hardware="K80", chip_count=8, value=8, unit="GPUs",
                             confidence=0.8, evidence="We train on 8 Tesla K80 GPUs."),
        "time": add_fact(store, ex, "1512.03385", "training_time", value=2.0, unit="weeks",
                         normalized_value=336.0, normalized_unit="hours",
                         time_kind="wall_clock", confidence=0.75,
                         evidence="Training takes about 2 weeks."),
    }
    return ids
