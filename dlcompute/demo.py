"""``dlcompute demo``: the whole pipeline on data that ships with dlcompute, offline.

Into a folder of its own: a store, the two openly licensed PDFs of
``dlcompute/sample/pdfs`` ingested, extracted and curated like any paper, the
bundled sample of dlcompute's own facts for the rest of the test corpus
(``dlcompute/sample/corpus.jsonl.gz``) loaded beside them, and the report the
analysis fits on all of it. Running it again in the same folder adds nothing
and writes the report again.
"""

from __future__ import annotations

import html
import json
import logging
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from db.errors import DlcomputeError
from dlcompute.samples import REBUILD, SAMPLE_FILE, SAMPLE_PAPERS, SAMPLE_PDFS

log = logging.getLogger(__name__)

DEFAULT_OUT = Path("dlcompute-demo")
STORE_NAME = "dlcompute.db"


class DemoError(DlcomputeError):
    """The demo folder cannot be used."""


@dataclass
class DemoResult:
    out_dir: Path
    store: Path
    data_dir: Path
    report: Path
    metadata: Path
    papers_from_pdfs: int
    papers_from_sample: int
    summary: Any  # PipelineSummary

    def next_steps(self) -> list[str]:
        db, data = self.store, self.data_dir
        return [
            f"dlcompute review --db {db} --data-dir {data}    "
            f"# check flagged values in the browser",
            f"dlcompute run --db {db} --data-dir {data}    "
            f"# crawl arXiv for more papers (or --arxiv-url MIRROR)",
            f"datasette {db} -m {self.metadata}    "
            f"# browse the store (pip install datasette)",
        ]


def run_demo(out_dir: str | Path = DEFAULT_OUT, *, executor_kwargs: dict[str, Any],
             curate_kwargs: dict[str, Any], analysis_settings: dict[str, Any],
             echo: Callable[[str], None] = log.info) -> DemoResult:
    """Build the demo store in ``out_dir`` and run extract, curate and analyze on it."""
    import crawler
    from db import open_store
    from db.datasette import write_metadata
    from dlcompute.pipeline import PipelineOptions, run_pipeline
    from dlcompute.samples import load_sample

    out = Path(out_dir)
    if out.exists() and not out.is_dir():
        raise DemoError(f"{out} is a file; choose a folder for the demo with --out DIR")
    try:
        out.mkdir(parents=True, exist_ok=True)
    except OSError as e:
        raise DemoError(f"Cannot create the demo folder {out} ({e.strerror}); choose another "
                        f"with --out DIR") from e
    db_path, data_dir = out / STORE_NAME, out / "data"
    benchmarks = crawler.load_benchmarks()
    papers = json.loads(SAMPLE_PAPERS.read_text(encoding="utf-8"))
    with open_store(db_path) as store:
        for entry in papers:
            s = crawler.ingest(store, [SAMPLE_PDFS / entry["file"]], benchmarks=benchmarks,
                               data_dir=data_dir, arxiv_id=entry.get("id"),
                               title=entry.get("title"), date=entry.get("date"))
            if s.errors:
                raise DemoError(f"The bundled PDF {entry['file']} cannot be ingested "
                                f"({'; '.join(s.errors)}); reinstall dlcompute")
        echo(f"demo: {len(papers)} bundled PDFs ingested into {db_path}")
        loaded = load_sample(store, SAMPLE_FILE)
        echo(f"demo: sample of {loaded.papers} papers, {loaded.facts} facts loaded"
             if loaded.papers else "demo: sample already loaded")
    options = PipelineOptions(
        benchmarks=benchmarks, arxiv_url="", delay=0.0, user_agent="", pdfs=False,
        out_dir=out / "report", executor_kwargs=executor_kwargs, curate_kwargs=curate_kwargs,
        analysis_settings=analysis_settings, skip=("crawl",))
    summary = run_pipeline(db_path, data_dir, options, echo=echo)
    metadata = write_metadata(db_path)
    report = Path(summary.report) if summary.report else out / "report" / "index.html"
    with open_store(db_path) as store:
        from_sample = store.count("papers", "source = 'sample'")
        from_pdfs = store.count("papers") - from_sample
    annotate_report(report, from_pdfs=from_pdfs, from_sample=from_sample)
    return DemoResult(out, db_path, data_dir, report, metadata, from_pdfs, from_sample, summary)


def annotate_report(index: Path, *, from_pdfs: int, from_sample: int) -> None:
    """Say in the report where the demo's data came from and how to rebuild it."""
    from dlcompute.samples import sample_meta

    if not index.is_file():
        return
    meta = sample_meta(SAMPLE_FILE)
    text = (
        f"<section id=\"demo-data\"><h2>Where this demo's data came from</h2><p>"
        f"{from_pdfs} paper(s) were read just now from the PDFs bundled with dlcompute "
        f"(dlcompute/sample/pdfs: Switch Transformers, Fedus, Zoph and Shazeer, JMLR 2022, "
        f"and Contextual String Embeddings for Sequence Labeling, Akbik, Blythe and "
        f"Vollgraf, COLING 2018; both CC BY 4.0, see dlcompute/sample/NOTICE). The other "
        f"{from_sample} papers' facts are dlcompute's own extraction of "
        f"{html.escape(str(meta.get('corpus')))} by extractor "
        f"{html.escape(str(meta.get('extractor_version')))}, bundled as "
        f"dlcompute/sample/corpus.jsonl.gz (values, pages and short evidence quotes, no "
        f"other text of the papers); curate built the observations from them here. None of "
        f"it has been reviewed by a person: see the open flags below. Rebuild the sample "
        f"with: <code>{html.escape(REBUILD)}</code></p></section>")
    page = index.read_text(encoding="utf-8")
    if 'id="demo-data"' in page:
        return
    head, sep, rest = page.partition("</h1>")
    index.write_text(head + sep + "\n" + text + rest if sep else text + page,
                     encoding="utf-8")
