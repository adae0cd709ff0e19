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


XSS = 'We train with <script>window.__xss = 1</script> 4.5 GFLOPs per image.'


def review_store(store, data_dir, corpus) -> dict[str, int]:
    """Flags for the review app: a conflict with real PDF evidence (VGG, 1409.1556),
    unknown hardware, missing compute, and a sentence carrying a <script> tag."""
    import shutil

    add_hardware(store)
    pdf = data_dir / "pdfs" / "1409.1556.pdf"
    pdf.parent.mkdir(parents=True, exist_ok=True)
    shutil.copy(corpus / "1409.1556.pdf", pdf)
    ex = add_paper(store, "1409.1556", 2014, 9, "Very Deep Convolutional Networks")
    store.db[T.pdfs].insert({"arxiv_id": "1409.1556", "version": 6, "sha256": "sha-1409.1556",
                             "path": "pdfs/1409.1556.pdf", "status": "ok", "pages": 14})
    ids = {
        "vgg_a": add_fact(store, ex, "1409.1556", "result", model="VGG", benchmark="imagenet",
                          metric="top5_error", value=7.3, unit="%", normalized_value=7.3,
                          normalized_unit="percent", confidence=0.8, page=7,
                          evidence="On the test set, the configuration E achieves 7.3% "
                                   "top-5 error."),
        "vgg_b": add_fact(store, ex, "1409.1556", "result", model="VGG", benchmark="imagenet",
                          metric="top5_error", value=6.8, unit="%", normalized_value=6.8,
                          normalized_unit="percent", confidence=0.78, page=8,
                          evidence="After the submission, we decreased the error rate to "
                                   "6.8% using an ensemble of 2 models."),
        "titan": add_fact(store, ex, "1409.1556", "hardware", hardware_name="Titan Black",
                          chip_count=4, value=4, unit="GPUs", page=5,
                          evidence="On a system equipped with four NVIDIA Titan Black GPUs, "
                                   "training a single net took 2–3 weeks."),
        "params": add_fact(store, ex, "1409.1556", "parameters", value=144, unit="M",
                           normalized_value=144e6, normalized_unit="count", page=2,
                           evidence="144M weights"),
    }
    for i, (aid, model) in enumerate((("1706.03762", "Transformer"),
                                      ("1409.0473", "RNNsearch-50"),
                                      ("1409.3215", "LSTM ensemble"))):
        exi = add_paper(store, aid, 2014 + i, 9, f"Translation paper {i}")
        add_fact(store, exi, aid, "result", model=model, benchmark="wmt14-en-fr", metric="bleu",
                 value=30.0 + i, unit="BLEU", normalized_value=30.0 + i,
                 normalized_unit="bleu", confidence=0.9)
    exx = add_paper(store, "1602.07360", 2016, 2, "SqueezeNet")
    add_fact(store, exx, "1602.07360", "result", model="SqueezeNet", benchmark="imagenet",
             metric="top1_accuracy", value=57.5, normalized_value=57.5,
             normalized_unit="percent", confidence=0.9)
    ids["xss_a"] = add_fact(store, exx, "1602.07360", "compute_per_pass", value=4.5,
                            unit="GFLOPs", normalized_value=4.5e9, normalized_unit="flops",
                            confidence=0.7, evidence=XSS)
    ids["xss_b"] = add_fact(store, exx, "1602.07360", "compute_per_pass", value=0.8,
                            unit="GFLOPs", normalized_value=0.8e9, normalized_unit="flops",
                            confidence=0.7, evidence="The network needs 0.8 GFLOPs.")
    return ids
