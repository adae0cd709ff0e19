"""Stores and a form-reading client for the review app tests (no tests here)."""

from __future__ import annotations

import re

from test_curate_support import add_fact, add_paper

from curate import curate


class Browser:
    """A test client that keeps the session and reads the forms' hidden fields."""

    def __init__(self, app, name: str | None = None):
        self.c = app.test_client()
        self.html = self.c.get("/annotator").get_data(as_text=True)
        if name:
            self.post("/annotator", {"name": name})

    def get(self, url: str, **kw):
        r = self.c.get(url, **kw)
        if r.status_code == 200:
            self.html = r.get_data(as_text=True)
        return r

    def field(self, name: str) -> str:
        m = re.search(rf'name="{name}" value="([^"]*)"', self.html)
        return m.group(1) if m else ""

    def post(self, url: str, data: dict):
        return self.c.post(url, data={"csrf": self.field("csrf"), **data})

    def decide(self, flag_id: int, action: str, **data):
        self.get(f"/flag/{flag_id}")
        return self.post(f"/flag/{flag_id}/decide", {
            "action": action, "token": self.field("token"), "listing": self.field("listing"),
            **data})


def paper_level_store(store) -> dict:
    """A paper whose parameter count is stated twice without a model (a paper-level
    conflict), three models, one of them (a cited ResNet-50) with its own figure; and
    another paper that must never be touched."""
    ex = add_paper(store, "1905.11946", 2019, 5, "EfficientNet")
    for model, acc in (("EfficientNet-B0", 77.1), ("EfficientNet-B7", 84.3), ("ResNet-50", 76.0)):
        add_fact(store, ex, "1905.11946", "result", model=model, benchmark="imagenet",
                 metric="top1_accuracy", value=acc, normalized_value=acc,
                 normalized_unit="percent", confidence=0.9)
    ids = {"p66": add_fact(store, ex, "1905.11946", "parameters", value=66, unit="M",
                           normalized_value=66e6, normalized_unit="count", confidence=0.8),
           "p5": add_fact(store, ex, "1905.11946", "parameters", value=5.3, unit="M",
                          normalized_value=5.3e6, normalized_unit="count", confidence=0.75)}
    add_fact(store, ex, "1905.11946", "parameters", model="ResNet-50", value=25.6, unit="M",
             normalized_value=25.6e6, normalized_unit="count", confidence=0.9)
    ex2 = add_paper(store, "1608.06993", 2016, 8, "DenseNet")
    add_fact(store, ex2, "1608.06993", "result", model="DenseNet", benchmark="imagenet",
             metric="top1_accuracy", value=77.0, normalized_value=77.0,
             normalized_unit="percent")
    add_fact(store, ex2, "1608.06993", "parameters", value=20, unit="M",
             normalized_value=20e6, normalized_unit="count")
    curate(store)
    return ids
