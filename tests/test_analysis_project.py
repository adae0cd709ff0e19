"""Projection arithmetic against hand-computed values and the paper's published figures."""

from __future__ import annotations

import math

import pytest

from analysis.project import (
    PAPER_EXPONENTIAL,
    PAPER_POLYNOMIAL,
    CostConstants,
    log10_burden_exponential,
    log10_burden_polynomial,
    paper_projection,
    project,
)


def test_hand_computed_polynomial_and_exponential():
    # log10(0.1) = -1; (-1 - 1) / -0.5 = 4
    assert log10_burden_polynomial(0.1, 1.0, -0.5) == pytest.approx(4.0)
    # 1/0.25 = 4; (4 - 2) / 0.5 = 4
    assert log10_burden_exponential(0.25, 2.0, 0.5) == pytest.approx(4.0)
    # Table 4 check from the issue: 1/0.115 = -4.15 + 0.87 x  ->  x = 14.77
    assert log10_burden_exponential(0.115, -4.15, 0.87) == pytest.approx(
        (1 / 0.115 + 4.15) / 0.87)
    assert pytest.approx(14.77, abs=0.01) == (1 / 0.115 + 4.15) / 0.87


def test_costs_follow_the_constants():
    c = CostConstants(chip_gflops=1000.0, co2_lbs_per_chip_hour=3.6, usd_per_chip_hour=36.0)
    # 1000 GFLOPS x 3600 s = 3.6e6 GFLOPs per chip-hour -> 1e-6 lbs, 1e-5 $ per GFLOP
    assert c.lbs_per_gflop == pytest.approx(1e-6)
    assert c.usd_per_gflop == pytest.approx(1e-5)
    rows = project("x", 10.0, (1.0,), (1.0, -0.5), None, c)
    assert rows[0].poly_log10_gflops == pytest.approx(4.0)
    assert rows[0].poly_log10_co2_lbs == pytest.approx(-2.0)
    assert rows[0].poly_log10_usd == pytest.approx(-1.0)
    assert rows[1].poly_log10_gflops == pytest.approx(6.0)
    assert rows[0].exp_log10_gflops is None


def test_default_constants_are_strubell_and_near_the_papers_implied_rate():
    c = CostConstants()
    assert c.co2_lbs_per_chip_hour == pytest.approx(1438 / (64 * 79.2))
    assert c.usd_per_chip_hour == pytest.approx(0.74, abs=0.01)
    # The brief's Figure 3 implies about 1e-8 lbs and $ per GFLOP.
    assert abs(math.log10(c.lbs_per_gflop) + 8) < 1
    assert abs(math.log10(c.usd_per_gflop) + 8) < 1


@pytest.mark.parametrize("bad", [0.0, -1.0, float("nan")])
def test_bad_constants_are_rejected(bad):
    with pytest.raises(ValueError, match="positive"):
        CostConstants(chip_gflops=bad)


def test_paper_coefficients_reproduce_the_published_imagenet_projection():
    rows = {r.label: r for r in paper_projection(CostConstants()) if r.benchmark == "imagenet"}
    # Published (MIT IDE brief, Figure 3): today 10^14; 5%: 10^19 poly, 10^27 exp;
    # 1%: 10^28 poly, 10^120 exp; CO2 and dollars 10^6 today, 10^112 at 1% exponential.
    published = {"Today": (14, 14, 6, 6), "Target 1": (19, 27, None, 19),
                 "Target 2": (28, 120, 20, 112)}
    for label, (poly, expo, poly_co2, exp_co2) in published.items():
        r = rows[label]
        assert abs(r.poly_log10_gflops - poly) <= 2, label
        assert abs(r.exp_log10_gflops - expo) <= 2, label
        if poly_co2 is not None:
            assert abs(r.poly_log10_co2_lbs - poly_co2) <= 2, label
        assert abs(r.exp_log10_co2_lbs - exp_co2) <= 2, label
        assert abs(r.exp_log10_usd - exp_co2) <= 2, label
    assert rows["Today"].error_percent == 11.5


def test_paper_exponential_orders_for_every_benchmark():
    # Exponential GFLOPs of the brief's Figure 3 (today, target 1, target 2).
    published = {"coco": (15, 29, 107), "squad1.1": (13, 23, 40),
                 "conll2003": (13, 82, 181), "wmt14-en-fr": (12, 30, 107)}
    rows = paper_projection(CostConstants())
    for bench, want in published.items():
        got = [r.exp_log10_gflops for r in rows if r.benchmark == bench]
        for g, w in zip(got, want, strict=True):
            assert abs(g - w) <= 6, (bench, g, w)  # the tables round slopes to 2 digits
    assert set(PAPER_POLYNOMIAL) == set(PAPER_EXPONENTIAL)
