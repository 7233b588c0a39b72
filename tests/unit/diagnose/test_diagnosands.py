"""Diagnosands on hand-made estimates, against closed forms (Gelman & Carlin 2014)."""

from __future__ import annotations

import numpy as np
import pytest
from scipy import stats

from trialkit.diagnose import DIAGNOSANDS, Simulated, diagnosands, retrodesign


def _sims(estimate, p_value, estimand, se=None, half_width=2.0):
    b = np.asarray(estimate, dtype=float)
    se = np.ones_like(b) if se is None else np.asarray(se, dtype=float)
    return Simulated(
        b, se, np.asarray(p_value, dtype=float), b - half_width, b + half_width, estimand
    )


@pytest.fixture
def hand():
    # estimates 1, -1, 2, 0.5, 3; significant: 1, -1, 0.5; CIs b ± 2 cover 1 except for 3.5
    return _sims(
        [1.0, -1.0, 2.0, 0.5, 3.5], [0.01, 0.01, 0.2, 0.04, 0.3], 1.0, se=[1.0, 2.0, 3.0, 4.0, 5.0]
    )


def test_every_diagnosand_in_order(hand):
    assert tuple(diagnosands(hand)) == DIAGNOSANDS


@pytest.mark.parametrize(
    ("name", "expected"),
    [
        ("power", 3 / 5),
        ("bias", np.mean([0.0, -2.0, 1.0, -0.5, 2.5])),
        ("rmse", np.sqrt(np.mean(np.square([0.0, -2.0, 1.0, -0.5, 2.5])))),
        ("coverage", 4 / 5),
        ("mean_estimate", 1.2),
        ("sd_estimate", np.std([1.0, -1.0, 2.0, 0.5, 3.5], ddof=1)),
        ("mean_se", 3.0),
        ("type_s_rate", 1 / 3),  # -1 of the significant 1, -1, 0.5
        ("exaggeration_ratio", (1 + 1 + 0.5) / 3),  # mean |b| among significant / |d|
    ],
)
def test_hand_made_values(hand, name, expected):
    assert diagnosands(hand)[name][0] == pytest.approx(expected, abs=1e-12), name


@pytest.mark.parametrize("name", ["power", "bias", "coverage", "mean_estimate", "mean_se"])
def test_linear_diagnosands_have_the_exact_mc_se_of_a_mean(hand, name):
    per_sim = {
        "power": [1, 1, 0, 1, 0],
        "bias": [0.0, -2.0, 1.0, -0.5, 2.5],
        "coverage": [1, 1, 1, 1, 0],
        "mean_estimate": [1.0, -1.0, 2.0, 0.5, 3.5],
        "mean_se": [1.0, 2.0, 3.0, 4.0, 5.0],
    }[name]
    expected = np.std(per_sim, ddof=1) / np.sqrt(5)
    assert diagnosands(hand)[name][1] == pytest.approx(expected, rel=1e-12), name


def test_bootstrap_se_reproducible_and_sensible():
    rng = np.random.default_rng(1)
    b = rng.normal(0.3, 1.0, 2000)
    sims = _sims(b, 2 * stats.norm.sf(np.abs(b)), 0.3)
    first = diagnosands(sims, rng=np.random.default_rng(5))
    again = diagnosands(sims, rng=np.random.default_rng(5))
    assert first == again
    # SE of a sample SD of n normals ≈ sigma / sqrt(2 (n - 1))
    assert first["sd_estimate"][1] == pytest.approx(1 / np.sqrt(2 * 1999), rel=0.3)


def test_zero_estimand_leaves_type_s_and_exaggeration_undefined():
    out = diagnosands(_sims([0.5, -0.2, 0.1], [0.01, 0.5, 0.5], 0.0))
    assert np.isnan(out["type_s_rate"][0]) and np.isnan(out["exaggeration_ratio"][0])
    assert out["power"][0] == pytest.approx(1 / 3)


def test_nothing_significant_gives_nan_type_s():
    out = diagnosands(_sims([0.5, 0.2], [0.5, 0.6], 1.0))
    assert np.isnan(out["type_s_rate"][0]) and out["power"][0] == 0.0


def test_failed_simulations_are_dropped():
    out = diagnosands(_sims([1.0, np.nan, 3.0], [0.01, np.nan, 0.01], 2.0))
    assert out["mean_estimate"][0] == pytest.approx(2.0)
    assert out["power"][0] == 1.0


@pytest.mark.parametrize(
    ("effect", "se", "power", "type_s", "exaggeration"),
    [
        # Gelman & Carlin (2014), beauty and sex ratio: power 0.05, type S 0.46, ratio 78
        (0.1, 3.3, 0.05, 0.46, 78.0),
        # Gelman & Carlin (2014), ovulation and voting: power 0.06, type S 0.24, ratio 9.7
        (2.0, 8.1, 0.06, 0.24, 9.7),
    ],
)
def test_retrodesign_matches_gelman_carlin(effect, se, power, type_s, exaggeration):
    # their exaggeration ratios come from 10,000 simulations; ours is an exact integral
    r = retrodesign(effect, se)
    assert r["power"] == pytest.approx(power, abs=0.005), "power"
    assert r["type_s_rate"] == pytest.approx(type_s, abs=0.005), "type_s_rate"
    assert r["exaggeration_ratio"] == pytest.approx(exaggeration, rel=0.03), "exaggeration"


@pytest.mark.parametrize(("effect", "se"), [(0.5, 1.0), (1.0, 0.6), (-0.8, 1.0)])
def test_simulated_normal_estimates_match_closed_forms(effect, se):
    n = 200_000
    b = np.random.default_rng(7).normal(effect, se, n)
    sims = _sims(b, 2 * stats.norm.sf(np.abs(b / se)), effect, se=np.full(n, se))
    got = diagnosands(sims, bootstrap_sims=0)
    closed = retrodesign(effect, se)
    for name in ("power", "type_s_rate", "exaggeration_ratio"):
        assert got[name][0] == pytest.approx(closed[name], rel=0.03, abs=0.003), name


def test_one_estimand_per_simulation_compares_each_estimate_with_its_own():
    b = np.array([1.0, -1.0, 2.0, 0.5, 3.5])
    d = np.array([1.5, -0.5, 2.0, 0.0, 1.0])  # e.g. each data set's potential outcomes
    sims = Simulated(b, np.ones(5), np.array([0.01, 0.01, 0.2, 0.04, 0.3]), b - 1, b + 1, d)
    got = diagnosands(sims, bootstrap_sims=50, rng=np.random.default_rng(3))
    assert got["bias"][0] == pytest.approx(np.mean(b - d), abs=1e-12)
    assert got["rmse"][0] == pytest.approx(np.sqrt(np.mean((b - d) ** 2)), abs=1e-12)
    assert got["coverage"][0] == pytest.approx(4 / 5, abs=1e-12)  # |b - d| <= 1: 4 of 5
    # type-S and exaggeration use the mean estimand (0.8): 1 of 3 significant is wrong-signed
    assert got["type_s_rate"][0] == pytest.approx(1 / 3, abs=1e-12)
    assert got["exaggeration_ratio"][0] == pytest.approx(np.mean([1.0, 1.0, 0.5]) / 0.8)
    assert np.isfinite(got["rmse"][1]) and got["rmse"][1] > 0


def test_constant_estimand_array_equals_the_scalar_and_nan_estimands_are_dropped():
    b = np.array([1.0, -1.0, 2.0, 0.5, 3.5])
    p = np.array([0.01, 0.01, 0.2, 0.04, 0.3])
    scalar = diagnosands(Simulated(b, np.ones(5), p, b - 2, b + 2, 1.0))
    array = diagnosands(Simulated(b, np.ones(5), p, b - 2, b + 2, np.full(5, 1.0)))
    for name in DIAGNOSANDS:
        np.testing.assert_allclose(array[name], scalar[name], rtol=1e-12, err_msg=name)
    d = np.array([1.0, np.nan, 1.0, 1.0, 1.0])
    dropped = diagnosands(Simulated(b, np.ones(5), p, b - 2, b + 2, d))
    kept = diagnosands(
        Simulated(b[d == 1], np.ones(4), p[d == 1], b[d == 1] - 2, b[d == 1] + 2, 1.0)
    )
    assert dropped["bias"] == pytest.approx(kept["bias"])
    assert dropped["coverage"] == pytest.approx(kept["coverage"])
