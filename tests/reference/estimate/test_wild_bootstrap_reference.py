"""The wild cluster bootstrap against a literal loop (rebuild y*, refit, recompute CR1) and
against wildboottest's stored results."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from trialkit.errors import EstimationError
from trialkit.estimate import ols
from trialkit.estimate.frequentist.wild import WEBB, _wcr, wild_cluster_bootstrap

RTOL = 1e-9


def _frame(seed: int, g: int = 7) -> pd.DataFrame:
    rng = np.random.default_rng(seed)
    sizes = rng.integers(3, 15, g)
    team = np.repeat(np.arange(g), sizes)
    arm = rng.permutation(np.arange(g) < g // 2).astype(int)[team]
    x = rng.normal(size=team.size)
    y = x + 0.3 * arm + rng.normal(0, 0.5, g)[team] + rng.normal(size=team.size)
    return pd.DataFrame({"y": y, "arm": arm, "x": x, "team": team})


def _cr1_t(x: np.ndarray, y: np.ndarray, team: np.ndarray) -> float:
    n, k = x.shape
    bread = np.linalg.inv(x.T @ x)
    b = bread @ x.T @ y
    e = y - x @ b
    groups = np.unique(team)
    meat = sum(
        np.outer(x[team == g].T @ e[team == g], x[team == g].T @ e[team == g]) for g in groups
    )
    g = groups.size
    v = g / (g - 1) * (n - 1) / (n - k) * bread @ meat @ bread
    return float(b[0] / np.sqrt(v[0, 0]))


def test_bootstrap_t_matches_refitting_each_draw() -> None:
    f = _frame(seed=1)
    x = np.column_stack([f.arm, np.ones(len(f)), f.x])
    y, team = f.y.to_numpy(), f.team.to_numpy()
    v = WEBB[np.random.default_rng(0).integers(0, 6, (7, 50))]
    t, _, _, t_star = _wcr(x, y, team, v)
    np.testing.assert_allclose(t, _cr1_t(x, y, team), rtol=RTOL, err_msg="t")
    xr = x[:, 1:]
    fitted = xr @ np.linalg.lstsq(xr, y, rcond=None)[0]
    loop = [_cr1_t(x, fitted + (y - fitted) * v[team, b], team) for b in range(v.shape[1])]
    np.testing.assert_allclose(t_star, loop, rtol=1e-8, err_msg="bootstrap t")


def test_statistic_is_ols_cr1() -> None:
    f = _frame(seed=2)
    res = wild_cluster_bootstrap(f, "y", "arm", cluster="team", covariates=["x"], draws=199)
    ref = ols(f, "y", "arm", covariates=["x"], cluster="team", se_type="CR1").effect()
    np.testing.assert_allclose(res.estimate, ref.estimate, rtol=RTOL, err_msg="estimate")
    np.testing.assert_allclose(res.std_error, ref.std_error, rtol=RTOL, err_msg="std_error")
    assert res.n_clusters == 7 and 0 < res.p_value <= 1


def test_refuses_several_arms() -> None:
    f = _frame(seed=3)
    f["arm"] = f.team % 3
    with pytest.raises(EstimationError, match="tests one arm against control"):
        wild_cluster_bootstrap(f, "y", "arm", cluster="team")


STORED = json.loads(
    (Path(__file__).resolve().parents[1] / "data" / "wild_bootstrap_wildboottest.json").read_text()
)


@pytest.mark.parametrize("case", sorted(STORED))
def test_matches_wildboottest(case: str) -> None:
    """wildboottest's WCR, Webb weights, 99,999 draws (stored by generate/); p-values from
    independent draws agree within Monte Carlo error (SE about 0.0016 each)."""
    ref = STORED[case]
    frame = pd.DataFrame(ref["data"])
    res = wild_cluster_bootstrap(
        frame, "y", "arm", cluster="team", covariates=["x"], draws=99_999, seed=7
    )
    np.testing.assert_allclose(res.statistic, ref["statistic"], rtol=1e-9, err_msg="statistic")
    assert res.p_value == pytest.approx(ref["p_value"], abs=0.008), "p_value"
