"""``dlcompute analyze`` and ``dlcompute simulate``: options in, a library call, a summary out."""

from __future__ import annotations

import sys
from contextlib import contextmanager
from typing import Any

import click

from dlcompute import __version__
from dlcompute.options import open_settings_store, progress, store_options, writes_store
from dlcompute.settings import Settings


def _year(ctx: click.Context, param: click.Parameter, value: int | None) -> int | None:
    if value is not None and not 1950 <= value <= 2100:
        raise click.BadParameter(f"{value} is not a year (YYYY, e.g. 2018)")
    return value


def analysis_settings(settings: Settings, bootstrap: int | None, seed: int | None,
                      best_per_paper: bool = False, reviewed_only: bool = False) -> dict:
    """The [analysis] and [projection] sections of dlcompute.toml, with CLI overrides."""
    from analysis.impute import DEFAULT_MIN_PAIRS, DEFAULT_MIN_R2

    projection = dict(settings.section("projection"))
    for key, value in projection.items():
        if key == "targets":
            if not isinstance(value, dict) or not all(
                    isinstance(v, list) and all(isinstance(x, int | float) for x in v)
                    for v in value.values()):
                raise click.UsageError(
                    f"Config file {settings.config_path}: [projection.targets] must map a "
                    f"benchmark to a list of error percentages, e.g. imagenet = [5, 1]")
        elif key not in ("chip_gflops", "co2_lbs_per_chip_hour", "usd_per_chip_hour"):
            raise click.UsageError(
                f"Config file {settings.config_path}: unknown [projection] setting {key}; "
                f"known: chip_gflops, co2_lbs_per_chip_hour, usd_per_chip_hour, targets")
    return {
        "bootstrap": settings.pick("analysis", "bootstrap", bootstrap, 1000, cast=int),
        "seed": settings.pick("analysis", "seed", seed, 0, cast=int),
        "quantile": settings.pick("analysis", "quantile", None, 0.1, cast=float),
        "utilisation": settings.pick("analysis", "utilisation", None, 0.4, cast=float),
        "imputation_min_pairs": settings.pick("analysis", "imputation_min_pairs", None,
                                              DEFAULT_MIN_PAIRS, cast=int),
        "imputation_min_r2": settings.pick("analysis", "imputation_min_r2", None,
                                           DEFAULT_MIN_R2, cast=float),
        "best_per_paper": best_per_paper, "reviewed_only": reviewed_only,
        "projection": projection,
    }


@click.command()
@store_options
@writes_store(unless=lambda settings, opts: opts.get("observations") is not None
              and not settings.db.exists())
@click.option("--out", "out_dir", metavar="DIR", default=None,
              help="Folder for index.html, tables/, figures/, results.json [default: report/].")
@click.option("--benchmark", "benchmarks", metavar="NAME", multiple=True,
              help="Only this benchmark (repeatable), e.g. imagenet, coco, squad1.1.")
@click.option("--observations", "observations", metavar="FILE", default=None,
              type=click.Path(dir_okay=False),
              help="Read observations from a CSV/JSONL file instead of the store.")
@click.option("--since", type=int, metavar="YYYY", default=None, callback=_year,
              help="Only observations from this year on.")
@click.option("--until", type=int, metavar="YYYY", default=None, callback=_year,
              help="Only observations up to this year.")
@click.option("--bootstrap", type=click.IntRange(min=10), default=None,
              help="Bootstrap resamples for the exponent's interval [default: 1000].")
@click.option("--seed", type=int, default=None, help="Seed of the bootstrap [default: 0].")
@click.option("--best-per-paper", is_flag=True,
              help="Fit only the best model (lowest error) of each paper, as the paper's "
                   "hardware-burden Tables 3-4 did.")
@click.option("--reviewed-only", is_flag=True,
              help="Leave out every observation with an open flag (store input only).")
def analyze(settings: Settings, out_dir: str | None, benchmarks: tuple[str, ...],
            observations: str | None, since: int | None, until: int | None,
            bootstrap: int | None, seed: int | None, best_per_paper: bool,
            reviewed_only: bool) -> None:
    """Rerun the paper's regressions, projections and figures.

    Reads the store's observations (or --observations FILE) and writes
    index.html, tables/*.csv|md|tex, figures/*.png|svg and results.json to
    --out; records the run in analysis_runs. Each benchmark is fitted once
    per metric family (ImageNet top-1 is Table 1, top-5 its own table).
    Parts the data cannot support are skipped with the reason on stderr and
    in the report.

    \b
    Example:
        dlcompute analyze --out report --benchmark imagenet --since 2012
        dlcompute analyze --best-per-paper --reviewed-only
    """
    if since is not None and until is not None and since > until:
        raise click.BadParameter(f"--since {since} is after --until {until}",
                                 param_hint="--since")
    if reviewed_only and observations is not None:
        raise click.UsageError("--reviewed-only reads the store's flags; it cannot be used "
                               "with --observations FILE")
    out = out_dir or settings.pick("analysis", "out", None, "report")
    import analysis
    import crawler

    conf = analysis_settings(settings, bootstrap, seed, best_per_paper, reviewed_only)
    known = [b.name for b in crawler.load_benchmarks(settings.section("benchmarks"))]
    with _maybe_store(settings, observations) as store:
        try:
            result = analysis.analyze(store, observations=observations, out_dir=out,
                                      benchmarks=list(benchmarks) or None, since=since,
                                      until=until, settings=conf, version=__version__,
                                      known_benchmarks=known)
        except analysis.UnknownBenchmarkError as e:
            raise click.BadParameter(str(e), param_hint="--benchmark") from e
    for s in result.skipped:
        click.echo(f"Warning: skipped {s['what']}: {s['reason']}", err=True)
    click.echo(f"{result.n_observations} observations analysed; report: {result.index_html}")


@contextmanager
def _maybe_store(settings: Settings, observations: str | None) -> Any:
    """The store, also with --observations when it exists (for flags and the run row)."""
    if observations is not None and not settings.db.exists():
        yield None
        return
    with open_settings_store(settings) as store:
        yield store


@click.command()
@store_options
@click.option("--sims", type=click.IntRange(min=2), default=1000, show_default=True,
              help="Simulations per sample size (the paper used 1000).")
@click.option("--out", "out_dir", metavar="DIR", default=None,
              help="Folder for simulation.json and figures/ [default: report/].")
@click.option("--seed", type=int, default=0, show_default=True, help="Random seed.")
@click.option("--workers", type=click.IntRange(min=1), default=None,
              help="Processes to spread the simulations over [default: all cores].")
@click.option("--no-store", is_flag=True, help="Do not record the run in the store.")
def simulate(settings: Settings, sims: int, out_dir: str | None, seed: int,
             workers: int | None, no_store: bool) -> None:
    """Run the paper's Figure 1 simulation (oracle, expert, Lasso).

    A 1000-dimensional linear model with 10 non-zero coefficients, fitted by
    the oracle, an expert, flexible least squares and Lasso at growing sample
    sizes. The next `dlcompute analyze` shows the latest simulation.

    \b
    Example:
        dlcompute simulate --sims 50 --out report
    """
    import analysis

    out = out_dir or settings.pick("analysis", "out", None, "report")
    with progress(range(sims), "Simulations", settings, length=sims) as bar:
        def tick(k: int) -> None:
            if hasattr(bar, "update"):
                bar.update(k)

        if no_store:
            result = analysis.simulate(None, out_dir=out, sims=sims, seed=seed,
                                       workers=workers, version=__version__, progress=tick)
        else:
            with open_settings_store(settings) as store:
                result = analysis.simulate(store, out_dir=out, sims=sims, seed=seed,
                                           workers=workers, version=__version__,
                                           progress=tick)
    need = result["needed_to_match"]
    oracle_n = result["settings"]["match_at"]

    def fmt(v: float | None) -> str:
        return f"{v:,.0f}" if v is not None else "not reached"

    click.echo(f"Oracle performance at n={oracle_n}: {result['oracle_at_match']:.3f}")
    click.echo(f"Observations to match it: flexible {fmt(need['flexible'])}, "
               f"Lasso {fmt(need['lasso'])}, expert {fmt(need['expert'])} "
               f"(paper: about 1,500 and 175)")
    click.echo(f"Figure: {result['figure_png']}")
    sys.stdout.flush()


COMMANDS = [analyze, simulate]
