"""`dlcompute train-scorer`: fit the extractor's learned scorer from labelled papers."""

from __future__ import annotations

from pathlib import Path

import click

from dlcompute.options import common_options
from dlcompute.settings import Settings

_SHARED = Path("..") / "shared"


@click.command(name="train-scorer")
@common_options
@click.option("--gold", type=click.Path(exists=True, path_type=Path),
              default=_SHARED / "gold", show_default=True,
              help="Folder of label files (dev.jsonl, dev-b.jsonl, observations-dev.jsonl) or "
                   "one label file.")
@click.option("--corpus", type=click.Path(exists=True, file_okay=False, path_type=Path),
              default=_SHARED / "corpus" / "pdfs", show_default=True,
              help="Folder holding the labelled papers' PDFs.")
@click.option("--lopo", "lopo_out", type=click.Path(dir_okay=False, path_type=Path),
              help="Also validate leave-one-paper-out and write those predictions here.")
@click.option("--output", type=click.Path(dir_okay=False, path_type=Path),
              help="Where to write the model [default: the one shipped in the package].")
@click.option("--reviews", "reviews_db", type=click.Path(exists=True, dir_okay=False, path_type=Path),
              help="A store whose annotators' decisions add labels.")
@click.option("--workers", type=click.IntRange(min=1), default=2, show_default=True,
              help="Processes extracting the labelled papers.")
@click.option("--cache", type=click.Path(dir_okay=False, path_type=Path),
              help="Keep the papers' candidates in this file between runs.")
def train_scorer_cmd(settings: Settings, gold: Path, corpus: Path, lopo_out: Path | None,
                     output: Path | None, reviews_db: Path | None, workers: int,
                     cache: Path | None) -> None:
    """Fit the scorer that decides which candidate facts are a paper's own, final values.

    Extracts every labelled paper, labels its candidates from the label files,
    fits one logistic regression per field and writes the model (a small JSON
    file; the same labels give the same file). With --lopo it first validates
    leave-one-paper-out: each paper scored by a model fitted on the others, the
    figure the README reports.

    \b
    Example:
        dlcompute train-scorer --lopo lopo.jsonl
        python3 ../shared/tools/score_extraction.py --gold ../shared/gold/dev.jsonl --pred lopo.jsonl
    """
    from db import open_store
    from extract.train import TrainingError, train_scorer

    store = open_store(reviews_db) if reviews_db else None
    try:
        result = train_scorer(gold, corpus, output=output, lopo_out=lopo_out, store=store,
                              workers=workers, cache=cache)
    except TrainingError as e:
        raise click.ClickException(str(e)) from e
    finally:
        if store is not None:
            store.close()
    for fld, n in sorted(result.candidates.items()):
        click.echo(f"{fld:18s} {n['candidates']:6d} candidates, {n['positives']:5d} labelled own",
                   err=True)
    if result.lopo:
        click.echo(f"{'leave-one-paper-out':22s} {'prec':>6s} {'recall':>6s} {'F1':>6s}")
        for fld, s in result.lopo.items():
            click.echo(f"{fld:22s} {s['precision']:6.3f} {s['recall']:6.3f} {s['f1']:6.3f}")
    click.echo(f"Model: {result.model_path} ({result.papers} papers"
               + (f", {result.review_labels} review labels" if result.review_labels else "")
               + ")", err=True)


COMMANDS = [train_scorer_cmd]
