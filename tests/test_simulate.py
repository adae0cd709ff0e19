"""The Figure 1 simulation: the ordering of the four models, seeding, the command."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest

import analysis
from analysis.theory import SimulationSettings, simulate
from db.schema import T

SMALL = SimulationSettings(sims=6, dim=200, sizes=(12, 15, 30, 60, 100, 150, 250, 400, 600),
                           seed=3)


@pytest.fixture(scope="module")
def small():
    return simulate(SMALL, workers=1)


def test_models_are_ordered_as_the_theory_says(small):
    p = {m: np.array(v) for m, v in small.performance.items()}
    # The oracle knows the support: best everywhere (up to simulation noise).
    assert np.all(p["oracle"] >= p["expert"] - 0.05)
    assert np.all(p["oracle"] >= p["lasso"] - 0.05)
    assert np.all(p["oracle"][1:] >= p["flexible"][1:])
    # The expert plateaus: one coefficient of ten missing caps it near -log10(0.1) = 1.
    assert p["expert"][-1] < 1.1 and p["oracle"][-1] > 2
    # With enough data Lasso overtakes the expert; the flexible model needs far more data.
    assert p["lasso"][-1] > p["expert"][-1]
    need = small.needed_to_match
    assert need["oracle"] == 15.0
    assert need["lasso"] is not None
    assert need["flexible"] is None or need["flexible"] > need["lasso"]
    # Computation: the flexible and Lasso fits on all features cost more than the oracle's.
    f = small.log10_flops
    assert all(a < b for a, b in zip(f["oracle"], f["flexible"], strict=True))
    assert all(a < b for a, b in zip(f["oracle"], f["lasso"], strict=True))


def test_seeded_and_independent_of_the_number_of_processes(small):
    again = simulate(SimulationSettings(sims=6, dim=200, sizes=SMALL.sizes, seed=3),
                     workers=2)
    assert again.performance == small.performance


def test_bad_settings_are_refused():
    with pytest.raises(ValueError, match="exceed nonzero"):
        SimulationSettings(sizes=(5, 20))
    with pytest.raises(ValueError, match="sims"):
        SimulationSettings(sims=0)


def test_library_run_is_recorded_and_shown_by_analyze(tmp_path, store):
    ticks = []
    result = analysis.simulate(store, out_dir=tmp_path / "rep", sims=2, dim=100,
                               sizes=(12, 15, 40, 150), workers=1, version="t",
                               progress=ticks.append)
    assert sum(ticks) == 2
    assert (tmp_path / "rep" / "figures" / "fig1_simulation.png").exists()
    row = next(iter(store.db.query(f"select * from {T.analysis_runs}")))
    assert json.loads(row["settings"])["kind"] == "simulate" and row["status"] == "done"
    assert json.loads(row["results"])["performance"] == result["performance"]
    # analyze with no observations at all still succeeds and shows the simulation.
    rep = analysis.analyze(store, out_dir=tmp_path / "rep", settings={}, version="t")
    assert rep.results["simulation"]["settings"]["sims"] == 2
    assert "Theory simulation" in rep.index_html.read_text()
    assert (tmp_path / "rep" / "figures" / "fig1_simulation.png").exists()


@pytest.mark.slow
def test_cli_simulate_quick_look(cli_run):
    r = cli_run("simulate", "--sims", "2", "--workers", "1", "--out", "rep", "--silent")
    assert r.exit_code == 0, r.output
    assert "Lasso" in r.output and "flexible" in r.output
    data = json.loads(Path("rep/simulation.json").read_text())
    assert data["settings"]["dim"] == 1000 and data["settings"]["sims"] == 2
