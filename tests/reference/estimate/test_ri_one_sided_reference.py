"""One-sided randomisation p-values (ri2's ``upper`` and ``lower``) against enumeration.

ri2 (``conduct_ri(p = "upper" / "lower")``): under the sharp null ``τ₀`` the redrawn
statistic is computed from the null-filled outcomes ``y − τ₀ T_obs + τ₀ T_sim``; the upper
p is ``P(stat ≥ obs)`` and the lower ``P(stat ≤ obs)``. The brute force lists every
assignment with ``itertools``, gives it its probability (worked out by hand) and refits
OLS with ``numpy.linalg.lstsq``. Tolerance 1e-12 on exact p-values; the Monte Carlo path
is checked against the exact value within 4.5 Monte Carlo SE.
"""

from __future__ import annotations

import itertools

import numpy as np
import pandas as pd
import pytest

from tests.reference.estimate.test_ri_reference import _coef, _strata_assignments
from trialkit._core.rng import RawStream
from trialkit.estimate.frequentist.ri import randomisation_test
from trialkit.randomise.schemes import BlockedRandomisation
from trialkit.randomise.units import Units

TOL = 1e-12


def _brute_one_sided(
    y: np.ndarray,
    t_obs: np.ndarray,
    table: list[tuple[np.ndarray, float]],
    x: np.ndarray | None = None,
    tau: float = 0.0,
) -> tuple[float, float]:
    obs = float(_coef(y, t_obs[:, None], x)[0])
    y0 = y - tau * t_obs
    upper = lower = 0.0
    for t_sim, prob in table:
        stat = float(_coef(y0 + tau * t_sim, t_sim[:, None], x)[0])
        upper += prob * (stat >= obs - 1e-9)
        lower += prob * (stat <= obs + 1e-9)
    return upper, lower


def _complete_table(n: int, m: int) -> list[tuple[np.ndarray, float]]:
    combos = list(itertools.combinations(range(n), m))
    return [(np.isin(np.arange(n), c).astype(np.int64), 1 / len(combos)) for c in combos]


@pytest.mark.parametrize("tau", [0.0, -0.8, 1.3])
@pytest.mark.parametrize("with_covariate", [False, True])
def test_complete_one_sided_match_enumeration(tau: float, with_covariate: bool) -> None:
    rng = np.random.default_rng(31)
    n = 10
    t = np.zeros(n, dtype=np.int64)
    t[rng.choice(n, 4, replace=False)] = 1
    x = rng.normal(size=(n, 1))
    y = rng.normal(size=n) + 0.6 * t + x[:, 0]
    df = pd.DataFrame({"y": y, "t": t, "x": x[:, 0]})
    res = randomisation_test(
        df, outcome="y", treatment="t", sharp_null=tau, covariates=["x"] if with_covariate else []
    )
    upper, lower = _brute_one_sided(y, t, _complete_table(n, 4), x if with_covariate else None, tau)
    assert res.exact
    assert res.p_upper == pytest.approx(upper, abs=TOL), f"upper p at tau0 = {tau}"
    assert res.p_lower == pytest.approx(lower, abs=TOL), f"lower p at tau0 = {tau}"


def test_blocked_one_sided_match_enumeration() -> None:
    rng = np.random.default_rng(8)
    blocks = np.array(list("aaaabbbbbccc"))
    ids = np.array([f"u{i:02d}" for i in range(12)])
    scheme = BlockedRandomisation(Units(ids=ids, blocks=blocks))
    t = scheme.draw(RawStream(5))
    y = rng.normal(size=12) - 0.7 * t + (blocks == "b")
    df = pd.DataFrame({"id": ids, "y": y, "t": t}).sample(frac=1.0, random_state=2)
    res = randomisation_test(df, outcome="y", treatment="t", scheme=scheme, cluster="id")
    strata = [np.flatnonzero(blocks == b).tolist() for b in "abc"]
    upper, lower = _brute_one_sided(y, t, list(_strata_assignments(strata, 12)))
    assert res.p_upper == pytest.approx(upper, abs=TOL), "blocked upper p"
    assert res.p_lower == pytest.approx(lower, abs=TOL), "blocked lower p"


def test_multi_arm_one_sided_match_enumeration() -> None:
    rng = np.random.default_rng(12)
    labels = np.array(["a", "b", "c"] * 3)
    y = rng.normal(size=9) + (labels == "b") * 1.0 - (labels == "c") * 0.5
    df = pd.DataFrame({"y": y, "arm": labels})
    res = randomisation_test(df, outcome="y", treatment="arm", control="a")

    def dummies(lab: np.ndarray) -> np.ndarray:
        return np.column_stack([lab == "b", lab == "c"]).astype(float)

    obs = _coef(y, dummies(labels), None)
    stats = np.array(
        [_coef(y, dummies(np.array(p)), None) for p in set(itertools.permutations(labels.tolist()))]
    )
    for j, test in enumerate(res.tests):
        assert test.p_upper == pytest.approx(np.mean(stats[:, j] >= obs[j] - 1e-9), abs=TOL)
        assert test.p_lower == pytest.approx(np.mean(stats[:, j] <= obs[j] + 1e-9), abs=TOL)


def test_monte_carlo_one_sided_within_error_of_enumeration() -> None:
    """22 units, 11 treated: 705,432 assignments, more than the exact limit."""
    rng = np.random.default_rng(77)
    n, m = 22, 11
    t = np.zeros(n, dtype=np.int64)
    t[rng.choice(n, m, replace=False)] = 1
    y = rng.normal(size=n) + 0.5 * t
    res = randomisation_test(
        pd.DataFrame({"y": y, "t": t}), outcome="y", treatment="t", draws=20_000, seed=3
    )
    assert not res.exact
    # Enumerate the difference in means through the treated sums of every 11-subset.
    combos = np.array(list(itertools.combinations(range(n), m)), dtype=np.int64)
    treated_sum = y[combos].sum(axis=1)
    stats = treated_sum / m - (y.sum() - treated_sum) / (n - m)
    obs = y[t == 1].mean() - y[t == 0].mean()
    for name, exact in (
        ("p_upper", np.mean(stats >= obs - 1e-9)),
        ("p_lower", np.mean(stats <= obs + 1e-9)),
    ):
        got = getattr(res, name)
        se = np.sqrt(exact * (1 - exact) / res.draws)
        assert abs(got - exact) < 4.5 * se, f"{name}: {got} vs exact {exact} (MC SE {se:.4f})"


def test_the_two_tails_cover_every_assignment() -> None:
    """upper + lower = 1 + P(stat = obs); the two-sided p at τ₀ = 0 is at most twice the
    smaller tail only for a symmetric null, so it is not checked here."""
    df = pd.DataFrame({"y": [5.0, 6, 7, 8, 1, 2, 3, 4], "t": [1, 1, 1, 1, 0, 0, 0, 0]})
    res = randomisation_test(df, outcome="y", treatment="t")
    assert res.p_upper == pytest.approx(1 / 70, abs=TOL), "only the observed split is as high"
    assert res.p_lower == pytest.approx(1.0, abs=TOL)
    frame = res.to_frame()
    assert {"p_upper", "p_lower"} <= set(frame.columns)
