"""Fixtures of the crawler tests (loaded with ``pytest_plugins = ["crawl_fixtures"]``)."""

from __future__ import annotations

from pathlib import Path

import pytest
from arxiv_server import ArxivServer, real_entries
from lxml import etree


@pytest.fixture
def arxiv_server(shared: Path, corpus: Path):
    server = ArxivServer(shared)
    yield server
    server.close()


@pytest.fixture(scope="session")
def arxiv_entries(shared: Path) -> list[etree._Element]:
    return real_entries(shared)
