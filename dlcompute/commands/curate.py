"""``dlcompute curate`` and ``dlcompute review``: options in, a curate library call, output out."""

from __future__ import annotations

import json
from dataclasses import asdict
from typing import Any

import click

from dlcompute.options import open_settings_store, store_options, writes_store
from dlcompute.settings import SCHEMA, Settings


def _fraction(value: Any) -> float:
    f = float(value)
    if not 0.0 <= f <= 1.0:
        raise ValueError(f"{value} is not between 0 and 1")
    return f


def positive_integer(value: Any) -> int:
    n = int(value)
    if n < 1:
        raise ValueError(f"{value} is not a positive whole number")
    return n


def _paths(settings: Settings, key: str, given: tuple[str, ...]) -> list[str]:
    configured = settings.pick("curate", key, None, [])
    return list(given) or ([configured] if isinstance(configured, str) else list(configured))


def curate_kwargs(settings: Settings, pwc: tuple[str, ...] = (), peak: str | None = None,
                  pwc_tolerance: float | None = None,
                  double_review_fraction: float | None = None,
                  epoch: tuple[str, ...] = ()) -> dict[str, Any]:
    """curate()'s keyword arguments: command line > [curate] in dlcompute.toml > default."""
    pick = settings.pick
    return {
        "pwc_paths": _paths(settings, "pwc", pwc),
        "epoch_paths": _paths(settings, "epoch", epoch),
        "epoch_tolerance": pick("curate", "epoch_tolerance", None, 0.1, cast=_fraction),
        "peak": pick("curate", "peak", peak, "fp32_base", cast=str),
        "conflict_confidence": pick("curate", "conflict_confidence", None, 0.1, cast=float),
        "value_tolerance": pick("curate", "value_tolerance", None, 0.02, cast=float),
        "pwc_tolerance": pick("curate", "pwc_tolerance", pwc_tolerance, 0.5, cast=float),
        "double_review_fraction": pick("curate", "double_review_fraction",
                                       double_review_fraction, None, cast=_fraction),
        "fit_min_pairs": pick("curate", "fit_min_pairs", None, 8, cast=int),
        "batch_size": pick("curate", "batch_size", None, 200, cast=positive_integer),
    }


@click.command(name="curate")
@store_options
@writes_store
@click.option("--pwc", "pwc", multiple=True, type=click.Path(dir_okay=False),
              help="Papers with Code dump to load (evaluation-tables.json or AxCell "
                   "pwc-leaderboards.json); repeatable.")
@click.option("--epoch", "epoch", multiple=True, type=click.Path(dir_okay=False),
              help="Epoch AI notable-models CSV (notable_ai_models.csv) to cross-check "
                   "parameters, chips and training time against; repeatable.")
@click.option("--peak", type=click.Choice(SCHEMA["curate"]["peak"].choices), default=None,
              help="Catalog peak used for hardware burden [default: fp32_base; "
                   "[curate] peak].")
@click.option("--pwc-tolerance", type=float, default=None,
              help="Points of difference from Papers with Code that raise a flag "
                   "[default: 0.5].")
@click.option("--double-review-fraction", type=float, default=None,
              help="Fraction of open flags sampled for a second annotator (0-1).")
@click.option("--full", is_flag=True,
              help="Decide every paper again, not only those whose inputs changed.")
@click.option("--json", "as_json", is_flag=True, help="Print the summary as JSON.")
def curate_cmd(settings: Settings, pwc: tuple[str, ...], epoch: tuple[str, ...],
               peak: str | None, pwc_tolerance: float | None,
               double_review_fraction: float | None, full: bool,
               as_json: bool) -> None:
    """Pair each own model's result with its compute and flag what needs a person.

    One observation per own model, benchmark, metric and split: compute and
    parameters from the same table row, else a statement naming the same
    variant, else (one own model) a paper-level figure; annotators' decisions
    win. Other papers' numbers never become observations. Papers with Code and
    Epoch AI are cross-checks. Decides again only the papers whose facts,
    reviews, Papers with Code or Epoch AI rows changed since the last run
    (every paper after a catalog or settings change, or with --full), in short
    transactions, so annotators can keep reviewing; running it again changes
    nothing.

    \b
    Example:
        dlcompute curate --pwc evaluation-tables.json --epoch notable_ai_models.csv
        dlcompute curate --full
    """
    if double_review_fraction is not None and not 0 <= double_review_fraction <= 1:
        raise click.BadParameter(f"{double_review_fraction} is not between 0 and 1",
                                 param_hint="--double-review-fraction")
    from curate import curate

    with open_settings_store(settings) as store:
        kwargs = curate_kwargs(settings, pwc, peak, pwc_tolerance, double_review_fraction,
                               epoch)
        summary = curate(store, **kwargs, full=full)
    pwc_paths = kwargs["pwc_paths"]
    if as_json:
        click.echo(json.dumps(asdict(summary), indent=2))
        return
    click.echo(f"Papers decided: {summary.papers_decided} "
               + ("(every paper)" if summary.full else "(changed since the last curate)")
               + (f", {summary.papers_redone} again as they changed meanwhile"
                  if summary.papers_redone else "")
               + (f"; {summary.papers_pending} left for the next run"
                  if summary.papers_pending else ""))
    click.echo(f"Observations: {summary.observations} (+{summary.observations_added} new, "
               f"{summary.observations_updated} updated, {summary.observations_removed} removed)")
    kinds = ", ".join(f"{k} {n}" for k, n in summary.open_by_kind.items())
    click.echo(f"Flags: {summary.flags_open} open" + (f" ({kinds})" if kinds else "")
               + f", {summary.flags_closed} closed; this run: {summary.flags_new} new, "
                 f"{summary.flags_reopened} reopened, {summary.flags_closed_now} closed")
    if pwc_paths:
        click.echo(f"Papers with Code: {summary.pwc_loaded} new results loaded")
    if kwargs["epoch_paths"]:
        click.echo(f"Epoch AI: {summary.epoch_loaded} new models loaded")
    for err in summary.errors:
        click.echo(f"Skipped paper {err}", err=True)


def _names(value: object) -> list[str]:
    """A setting that is one name or a list of names."""
    if value is None:
        return []
    return [value] if isinstance(value, str) else [str(v) for v in value]  # type: ignore[union-attr]


@click.command(name="review")
@store_options
@click.option("--host", default=None,
              help="Interface to bind [default: 127.0.0.1]; beyond loopback a token is "
                   "required.")
@click.option("--port", type=click.IntRange(1, 65535), default=None,
              help="Port, 1-65535 [default: 8765].")
@click.option("--annotator", default=None,
              help="Your name, recorded with every decision (others set theirs in the app).")
@click.option("--token", default=None,
              help="Token every request must carry [default: generated and printed when "
                   "--host is not loopback; env DLCOMPUTE_REVIEW_TOKEN].")
@click.option("--allow-host", "allow_hosts", multiple=True, metavar="NAME",
              help="Another Host name the app answers to (the name annotators type); "
                   "repeatable.")
@click.option("--adjudicator", "adjudicators", multiple=True, metavar="NAME",
              help="Who settles disagreements of double review; repeatable [default: "
                   "anyone who did not decide the flag].")
def review_cmd(settings: Settings, host: str | None, port: int | None,
               annotator: str | None, token: str | None, allow_hosts: tuple[str, ...],
               adjudicators: tuple[str, ...]) -> None:
    """Serve the review web app for annotators.

    Open flags come one per page, highest priority first, with each
    candidate's sentence and PDF region, the observations an answer changes,
    and, for missing values, where the extractor looked. Decisions are
    appended to reviews; disagreements of double review go to adjudication.
    The app answers only to loopback names and --allow-host names; bound
    beyond loopback it requires a token on every request.

    \b
    Example:
        dlcompute review --annotator alice --port 8765
        dlcompute review --host 0.0.0.0 --allow-host review.lab.example
    """
    from curate.review import create_app, serve
    from curate.review.guard import Guard

    host = settings.pick("review", "host", host, "127.0.0.1", cast=str)
    port = settings.pick("review", "port", port, 8765, cast=int)
    annotator = settings.pick("review", "annotator", annotator, None, env="DLCOMPUTE_ANNOTATOR")
    lease = settings.pick("review", "lease_minutes", None, 15.0, cast=float)
    token = settings.pick("review", "token", token, None, env="DLCOMPUTE_REVIEW_TOKEN")
    hosts = list(allow_hosts) or _names(settings.pick("review", "allowed_hosts", None, []))
    judges = list(adjudicators) or _names(settings.pick("review", "adjudicators", None, []))
    with open_settings_store(settings):
        pass  # create or migrate the store now, so a bad --db fails before serving
    guard = Guard.for_bind(host, hosts, token=token)
    app = create_app(settings.db, settings.data_dir, annotator=annotator, lease_minutes=lease,
                     guard=guard, adjudicators=tuple(judges))
    shown = f"[{host}]" if ":" in host else host
    if guard.exposed:
        click.echo(f"Warning: {host} is reachable beyond this machine; every request must "
                   f"carry the token.", err=True)
        click.echo(f"Answering to: {', '.join(sorted(guard.allowed))} (add names with "
                   f"--allow-host)", err=True)
        if token is None:
            click.echo(f"Token (generated): {guard.token}", err=True)
        click.echo(f"Review app on http://{shown}:{port}/?token={guard.token} (Ctrl-C to "
                   f"stop)", err=True)
    else:
        click.echo(f"Review app on http://{shown}:{port}/ (Ctrl-C to stop)", err=True)
    serve(app, host, port)


def agreement_status(store) -> dict:
    """Cohen's kappa per field between two annotators (for ``dlcompute status``)."""
    from curate import agreement

    return agreement(store)


COMMANDS = [curate_cmd, review_cmd]
STATUS_HOOKS = [agreement_status]
