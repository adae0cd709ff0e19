"""Runs in the store (``analysis_runs``) and the simulation's files.

Both kinds of run share ``analysis_runs``; the settings JSON carries
``"kind": "analyze"`` or ``"kind": "simulate"``, so the report can find the
latest simulation.
"""

from __future__ import annotations

import json
import math
from collections.abc import Callable
from pathlib import Path
from typing import Any

from db.schema import T
from db.store import utcnow

SIMULATION_FILE = "simulation.json"


def _json(v: Any) -> str:
    def clean(x: Any) -> Any:
        if isinstance(x, float) and not math.isfinite(x):
            return None
        if isinstance(x, dict):
            return {str(k): clean(y) for k, y in x.items()}
        if isinstance(x, list | tuple):
            return [clean(y) for y in x]
        return x

    return json.dumps(clean(v))


def start_run(store: Any, version: str, out_dir: str, settings: dict) -> int | None:
    if store is None:
        return None
    with store.transaction() as db:
        table = db[T.analysis_runs].insert({"started_at": utcnow(),
                                            "dlcompute_version": version,
                                            "status": "running", "out_dir": out_dir,
                                            "settings": _json(settings)})
        return table.last_pk


def finish_run(store: Any, run_id: int | None, *, status: str, n: int,
               results: dict | None, error: str | None = None) -> None:
    if store is None or run_id is None:
        return
    with store.transaction() as db:
        db[T.analysis_runs].update(run_id, {
            "finished_at": utcnow(), "status": status, "n_observations": n,
            "results": _json(results) if results is not None else None, "error": error})


def latest_simulation(store: Any, out_dir: Path) -> dict | None:
    """The newest finished simulation: from the store, else OUT/simulation.json."""
    if store is not None:
        for row in store.db.query(
                f"select results, settings from {T.analysis_runs} where status = 'done' "
                f"and results is not null order by id desc"):
            try:
                if json.loads(row["settings"] or "{}").get("kind") == "simulate":
                    return json.loads(row["results"])
            except json.JSONDecodeError:
                continue
    path = out_dir / SIMULATION_FILE
    if path.is_file():
        try:
            return json.loads(path.read_text(encoding="utf-8"))
        except json.JSONDecodeError:
            return None
    return None


def run_simulation(store: Any, *, out_dir: str | Path = "report", sims: int = 1000,
                   seed: int = 0, workers: int | None = None, version: str = "unknown",
                   sizes: tuple[int, ...] | None = None, dim: int = 1000,
                   progress: Callable[[int], None] | None = None) -> dict:
    """Run the Figure 1 simulation, write OUT/simulation.json and figures, record the run."""
    from analysis import figures
    from analysis.theory import SimulationSettings, simulate

    kw: dict[str, Any] = {"sims": sims, "seed": seed, "dim": dim}
    if sizes:
        kw["sizes"] = tuple(sizes)
    s = SimulationSettings(**kw)
    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    settings = {"kind": "simulate", "sims": sims, "seed": seed, "dim": dim,
                "sizes": list(s.sizes), "workers": workers}
    run_id = start_run(store, version, str(out), settings)
    try:
        result = simulate(s, workers=workers, progress=progress).to_dict()
    except Exception as e:
        finish_run(store, run_id, status="failed", n=0, results=None, error=str(e))
        raise
    result["dlcompute_version"] = version
    (out / SIMULATION_FILE).write_text(_json(result), encoding="utf-8")
    saved = figures.save(figures.simulation_figure(result), out / "figures", "fig1_simulation")
    finish_run(store, run_id, status="done", n=0, results=result)
    result["figure_png"], result["figure_svg"] = saved["png"], saved["svg"]
    result["run_id"] = run_id
    return result
