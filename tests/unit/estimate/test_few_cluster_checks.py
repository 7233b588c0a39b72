"""Few-cluster checks: the wild bootstrap's test inversion, enumeration and models, and the
CR3 and bootstrap rows the plan adds below 20 clusters (checked against direct refits)."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from trialkit.estimate import lin, ols
from trialkit.estimate.frequentist.analysis_frame import AnalysisFrame
from trialkit.estimate.frequentist.few_clusters import FEW_CLUSTERS, few_cluster_checks
from trialkit.estimate.frequentist.wild import wild_cluster_bootstrap

RTOL = 1e-9


def _trial(g: int, seed: int, effect: float = 0.4) -> pd.DataFrame:
    rng = np.random.default_rng(seed)
    team = np.repeat(np.arange(g), rng.integers(4, 16, g))
    arm = np.where(rng.permutation(np.arange(g) < g // 2), "budget", "usual")[team]
    x = rng.normal(size=team.size)
    y = x + effect * (arm == "budget") + rng.normal(0, 0.5, g)[team] + rng.normal(size=team.size)
    return pd.DataFrame(
        {"y": y, "arm": arm, "x": x, "cluster": team, "block": np.where(team % 2 == 0, "a", "b")}
    )


def test_interval_ends_are_where_the_test_starts_rejecting() -> None:
    f = _trial(8, seed=1)
    res = wild_cluster_bootstrap(
        f,
        "y",
        "arm",
        cluster="cluster",
        covariates=["x"],
        control="usual",
        draws=1999,
        seed=5,
        ci_level=0.95,
    )
    assert res.ci_low is not None and res.ci_high is not None
    assert res.ci_low < res.estimate < res.ci_high
    for end, outward in ((res.ci_low, -1), (res.ci_high, 1)):
        # Imposing b0 equals testing zero on y - b0 * arm with the same draws.
        for b0, rejected in ((end + outward * 1e-4, True), (end - outward * 1e-4, False)):
            shifted = f.assign(y=f.y - b0 * (f.arm == "budget"))
            p = wild_cluster_bootstrap(
                shifted,
                "y",
                "arm",
                cluster="cluster",
                covariates=["x"],
                control="usual",
                draws=1999,
                seed=5,
            ).p_value
            assert (p <= 0.05) is rejected, f"p = {p} at b0 = {b0} (end {end})"


def test_few_clusters_enumerate_every_weight_pattern() -> None:
    f = _trial(4, seed=2)
    a, b = (
        wild_cluster_bootstrap(f, "y", "arm", cluster="cluster", control="usual", seed=s)
        for s in (1, 2)
    )
    assert a.enumerated and a.draws == 6**4
    assert a.p_value == b.p_value, "enumeration does not depend on the seed"


@pytest.mark.parametrize("model", ["ols", "lin"])
def test_bootstrap_statistic_is_the_registered_model_with_cr1(model: str) -> None:
    f = _trial(8, seed=3)
    res = wild_cluster_bootstrap(
        f,
        "y",
        "arm",
        cluster="cluster",
        covariates=["x"],
        blocks="block",
        control="usual",
        model=model,
        draws=199,
    )
    fitter = lin if model == "lin" else ols
    ref = fitter(
        f,
        "y",
        "arm",
        covariates=["x"],
        cluster="cluster",
        blocks="block",
        control="usual",
        se_type="CR1",
    ).effect()
    np.testing.assert_allclose(res.estimate, ref.estimate, rtol=RTOL, err_msg="estimate")
    np.testing.assert_allclose(res.std_error, ref.std_error, rtol=RTOL, err_msg="CR1 SE")


def _frame(data: pd.DataFrame) -> AnalysisFrame:
    return AnalysisFrame(
        data=data, cluster="cluster", blocks="block", covariates=("x",), baseline=None
    )


def _itt(data: pd.DataFrame) -> pd.DataFrame:
    e = ols(
        data, "y", "arm", covariates=["x"], cluster="cluster", blocks="block", control="usual"
    ).to_frame()
    return e[e.term == "arm"].assign(arm="budget")


def _checks(data: pd.DataFrame, notes: list[str]) -> pd.DataFrame:
    return few_cluster_checks(
        _frame(data),
        "y",
        "wellbeing",
        itt=_itt(data),
        covariates=["x"],
        estimator="ols",
        control="usual",
        alpha=0.05,
        seed=7,
        notes=notes,
    )


def test_checks_are_cr3_and_the_bootstrap_of_the_registered_model() -> None:
    data = _trial(8, seed=4)
    notes: list[str] = []
    checks = _checks(data, notes).set_index("method")
    assert not notes
    assert list(checks.index) == ["CR3", "wild_cluster_bootstrap"]
    cr3 = ols(
        data,
        "y",
        "arm",
        covariates=["x"],
        cluster="cluster",
        blocks="block",
        control="usual",
        se_type="CR3",
    ).effect()
    for column in ("estimate", "std_error", "p_value", "ci_low", "ci_high", "df"):
        np.testing.assert_allclose(
            checks.loc["CR3", column], getattr(cr3, column), rtol=RTOL, err_msg=f"CR3 {column}"
        )
    boot = wild_cluster_bootstrap(
        data,
        "y",
        "arm",
        cluster="cluster",
        covariates=["x"],
        blocks="block",
        control="usual",
        draws=9999,
        seed=7,
        ci_level=0.95,
    )
    assert checks.loc["wild_cluster_bootstrap", "p_value"] == boot.p_value
    assert checks.loc["wild_cluster_bootstrap", "ci_low"] == boot.ci_low
    registered = float(_itt(data).p_value.iloc[0])
    assert (checks.registered_p_value == registered).all()
    expected = [(p < 0.05) != (registered < 0.05) for p in checks.p_value]
    assert checks.disagrees.tolist() == expected


def test_no_checks_with_enough_clusters() -> None:
    assert _checks(_trial(FEW_CLUSTERS, seed=5), []).empty


def test_a_check_that_cannot_be_computed_is_noted() -> None:
    data = _trial(8, seed=6)
    # A block of one cluster: without it the block's effect is unidentified, so no CR3.
    solo = data.cluster.iloc[0]
    data["block"] = np.where(data.cluster == solo, "solo", "rest")
    notes: list[str] = []
    checks = _checks(data, notes)
    assert list(checks.method) == ["wild_cluster_bootstrap"]
    assert len(notes) == 1 and notes[0].startswith("CR3 check for `wellbeing` not computed")


def test_each_treated_arm_is_checked_against_control() -> None:
    rng = np.random.default_rng(8)
    g = 9
    team = np.repeat(np.arange(g), rng.integers(4, 12, g))
    arm = rng.permutation(np.repeat(["usual", "budget", "peer"], 3))[team]
    x = rng.normal(size=team.size)
    data = pd.DataFrame(
        {
            "y": x + rng.normal(0, 0.5, g)[team] + rng.normal(size=team.size),
            "arm": arm,
            "x": x,
            "cluster": team,
            "block": "all",
        }
    )
    e = ols(data, "y", "arm", covariates=["x"], cluster="cluster", control="usual").to_frame()
    itt = e[e.term.str.startswith("arm[")].assign(arm=lambda t: t.term.str[4:-1])
    frame = AnalysisFrame(
        data=data, cluster="cluster", blocks=None, covariates=("x",), baseline=None
    )
    checks = few_cluster_checks(
        frame,
        "y",
        "wellbeing",
        itt=itt,
        covariates=["x"],
        estimator="ols",
        control="usual",
        alpha=0.05,
        seed=1,
        notes=[],
    )
    assert sorted(zip(checks.arm, checks.method, strict=True)) == sorted(
        (a, m) for a in ("budget", "peer") for m in ("CR3", "wild_cluster_bootstrap")
    )
    for arm in ("budget", "peer"):
        pair = data[data.arm.isin(["usual", arm])]
        boot = wild_cluster_bootstrap(
            pair,
            "y",
            "arm",
            cluster="cluster",
            covariates=["x"],
            control="usual",
            draws=9999,
            seed=1,
        )
        row = checks[(checks.arm == arm) & (checks.method == "wild_cluster_bootstrap")]
        assert row.p_value.iloc[0] == boot.p_value, arm
        assert row.n_clusters.iloc[0] == 6, "the arm's and control's clusters"
