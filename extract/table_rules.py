"""Table rules: Params / FLOPs / MACs columns read from the text layer's table rows."""

from __future__ import annotations

from extract.model import Fact
from extract.text import PageText


def table_facts(page: PageText) -> list[Fact]:
    return []
