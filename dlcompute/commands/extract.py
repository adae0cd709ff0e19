"""`dlcompute extract` and `dlcompute hardware`: options in, a library call, output out."""

from __future__ import annotations

import json
from dataclasses import asdict
from typing import Any

import click

from dlcompute.options import open_settings_store, store_options
from dlcompute.settings import Settings
from extract.catalog import Chip, catalog_version, load_catalog, resolve
from extract.store_writer import load_hardware


def _chip_dict(chip: Chip) -> dict[str, Any]:
    d = asdict(chip)
    d["aliases"] = list(chip.aliases)
    d["name"] = chip.name
    return d


def _fmt(value: float | None) -> str:
    return "-" if value is None else f"{value:,.0f}"


def _table(chips: list[Chip]) -> str:
    head = ("chip", "kind", "released", "FP32 base", "FP32 boost", "tensor", "aliases")
    rows = [head] + [
        (c.chip, c.kind, c.release_date or "-", _fmt(c.fp32_base_gflops),
         _fmt(c.fp32_boost_gflops), _fmt(c.tensor_gflops),
         ", ".join(c.aliases[:4]) + (" ..." if len(c.aliases) > 4 else ""))
        for c in chips
    ]
    widths = [max(len(r[i]) for r in rows) for i in range(len(head) - 1)]
    return "\n".join(
        "  ".join(cell.ljust(w) for cell, w in zip(r[:-1], widths, strict=True)) + "  " + r[-1]
        for r in rows).rstrip()


@click.command()
@store_options
@click.argument("query", required=False)
@click.option("--year", type=int, default=None, help="Paper year, to settle ambiguous names.")
@click.option("--month", type=click.IntRange(1, 12), default=None, help="Paper month.")
@click.option("--json", "as_json", is_flag=True, help="Print JSON instead of a table.")
@click.option("--load", is_flag=True, help="Load the catalog into the store's hardware table.")
def hardware(settings: Settings, query: str | None, year: int | None, month: int | None,
             as_json: bool, load: bool) -> None:
    """List the hardware catalog, or resolve a name to a chip.

    QUERY keeps chips whose name or an alias contains it and shows what the
    name resolves to ("Cloud TPU v3-8" -> 4 x TPU v3). GFLOPS: FP32 base
    clock (the paper's convention), FP32 boost, FP16/BF16 tensor.

    \b
    Example:
        dlcompute hardware "TITAN X" --year 2017
        dlcompute hardware --json
        dlcompute hardware --load --db papers.db
    """
    if load:
        with open_settings_store(settings) as store:
            n = load_hardware(store)
        click.echo(f"{n} chips of catalog {catalog_version()} loaded into {settings.db}",
                   err=True)
    chips = load_catalog()
    resolution = None
    if query:
        q = query.lower()
        resolution = resolve(query, year=year, month=month)
        matched = [c for c in chips
                   if q in c.chip.lower() or any(q in a.lower() for a in c.aliases)]
        if resolution is not None and resolution.chip not in matched:
            matched.insert(0, resolution.chip)
        chips = matched
    if as_json:
        out: dict[str, Any] = {"catalog_version": catalog_version(),
                               "chips": [_chip_dict(c) for c in chips]}
        if query:
            out["query"] = query
            out["resolution"] = None if resolution is None else {
                "chip": resolution.chip.chip, "name": resolution.chip.name,
                "chips_per_unit": resolution.chips_per_unit,
                "implies_count": resolution.implies_count, "system": resolution.system,
                "note": resolution.note}
        click.echo(json.dumps(out, indent=2))
        return
    if query:
        if resolution is None:
            click.echo(f'"{query}" resolves to no chip', err=True)
        else:
            r = resolution
            click.echo(f'"{query}" -> {r.chips_per_unit:g} x {r.chip.chip}'
                       + (f" ({r.note})" if r.note else ""), err=True)
    if chips:
        click.echo(_table(chips))


COMMANDS = [hardware]
