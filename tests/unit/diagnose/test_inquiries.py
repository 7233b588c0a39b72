"""Estimands computed from each simulation's potential outcomes (issue 15)."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
from scipy import stats

from trialkit._core.rng import RawStream
from trialkit.diagnose import diagnose
from trialkit.diagnose.fabricate import fabricate_units
from trialkit.diagnose.generate import compile_design, draw_outcome
from trialkit.diagnose.inquiries import cace_estimand, itt_estimand
from trialkit.diagnose.simulate import _design_for
from trialkit.protocol import Protocol, load_protocol

ROOT = Path(__file__).resolve().parents[3] / "protocols"


def _draw(protocol: Protocol, outcome: str, sims: int = 40, seed: int = 3):
    units = fabricate_units(protocol, rng=np.random.default_rng(seed))
    design = compile_design(protocol, units)
    arms = np.stack([design.scheme.draw(RawStream(seed + i)) for i in range(sims)])
    return draw_outcome(design, protocol.outcome(outcome), arms, np.random.default_rng(seed))


def _rounded_clipped_mean(mean: float, sd: float, low: float, high: float) -> float:
    """E[clip(round(mean + sd Z), low, high)] for integer bounds, Z standard normal."""
    k = np.arange(low, high + 1)
    upper = np.where(k == high, np.inf, (k + 0.5 - mean) / sd)
    lower = np.where(k == low, -np.inf, (k - 0.5 - mean) / sd)
    return float(np.sum(k * (stats.norm.cdf(upper) - stats.norm.cdf(lower))))


def test_rounding_and_clipping_make_the_estimand_differ_from_the_declared_effect(flagship):
    draw = _draw(flagship, "loneliness", sims=60)
    a = flagship.outcome("loneliness").assumptions
    low, high = flagship.outcome("loneliness").range
    truth = _rounded_clipped_mean(a.mean + a.effect, a.sd, low, high) - _rounded_clipped_mean(
        a.mean, a.sd, low, high
    )
    cace = cace_estimand(draw)
    # the complier effect on the observed 3-9 scale (about -0.54), not the declared -0.6
    assert abs(truth - a.effect) > 0.04
    assert abs(cace.mean() - truth) <= 4 * cace.std(ddof=1) / np.sqrt(cace.size)


def test_exclusion_restriction_non_takers_keep_their_control_outcome(flagship):
    draw = _draw(flagship, "loneliness")
    assert draw.complier is not None and 0 < draw.complier.mean() < 1
    offered = draw.assigned & draw.exists
    took = draw.complier[..., None] & offered
    refused = ~draw.complier[..., None] & offered
    observed = draw.mask
    np.testing.assert_array_equal(draw.y[refused & observed], draw.y0[refused & observed])
    np.testing.assert_array_equal(draw.y[took & observed], draw.y1[took & observed])
    control = ~draw.assigned & observed
    np.testing.assert_array_equal(draw.y[control], draw.y0[control])


def test_itt_and_cace_are_the_means_of_the_row_effects(flagship):
    draw = _draw(flagship, "wellbeing", sims=5)
    for s in range(5):
        rows = draw.exists[s]
        complier = np.broadcast_to(draw.complier[s][:, None], rows.shape)
        gain = (draw.y1 - draw.y0)[s]
        assert itt_estimand(draw)[s] == pytest.approx(np.mean(np.where(complier, gain, 0)[rows]))
        assert cace_estimand(draw)[s] == pytest.approx(np.mean(gain[rows & complier]))


def test_rate_estimand_is_the_difference_over_total_exposure(flagship):
    draw = _draw(flagship, "sickness_days", sims=3)
    assert draw.exposure is not None
    s = 1
    rows = draw.exists[s]
    complier = np.broadcast_to(draw.complier[s][:, None], rows.shape)
    gain = np.where(complier, draw.y1[s] - draw.y0[s], 0.0)
    expected = gain[rows].sum() / draw.exposure[s][rows].sum()
    assert itt_estimand(draw)[s] == pytest.approx(expected)


def test_everyone_complies_without_declared_non_compliance():
    protocol = load_protocol(ROOT / "mission_clarity_stepped_wedge.yaml")
    draw = _draw(protocol, "engagement", sims=3)
    assert draw.complier is None
    np.testing.assert_allclose(itt_estimand(draw), cace_estimand(draw))


def test_bias_and_coverage_are_measured_against_each_simulation_estimand(flagship):
    result = diagnose(
        flagship, sims=8, variants=[24], outcomes=["loneliness"], executor="serial", progress=False
    )
    sims = result.simulations
    itt = sims[sims["outcome"] == "loneliness"]
    cace = sims[sims["outcome"] == "loneliness:cace"]
    assert itt["estimand"].nunique() == 8  # one per simulation, not the declared -0.6
    # effects are negative; a non-taker adds 0 to the ITT
    assert (itt["estimand"].to_numpy() >= cace["estimand"].to_numpy()).all()
    table = result.to_frame().set_index(["outcome", "diagnosand"])
    bias = table.loc[("loneliness", "bias"), "estimate"]
    assert bias == pytest.approx((itt["estimate"] - itt["estimand"]).mean())
    covered = (itt["ci_low"] <= itt["estimand"]) & (itt["estimand"] <= itt["ci_high"])
    assert table.loc[("loneliness", "coverage"), "estimate"] == pytest.approx(covered.mean())


def test_blocks_of_one_school_are_topped_up_so_the_scheme_can_randomise():
    school = load_protocol(ROOT / "school_budget_autonomy.yaml")
    for n in (20, 40, 60):
        design = _design_for(school, n, school.seed)
        counts = design.units["phase"].value_counts()
        assert counts.min() >= 2, (n, counts.to_dict())
        assert set(counts.index) == {"primary", "secondary", "special"}
