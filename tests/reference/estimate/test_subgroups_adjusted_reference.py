"""Subgroup effects of several arms, adjusted like the ITT, against statsmodels OLS.

statsmodels fits ``y ~ C(arm) * C(g) + x1 + x2 + C(block)`` (covariates and block effects
additive, as the plan's subgroup model) with HC2, or CR1 on clusters (statsmodels' default
small-sample correction G/(G−1)·(N−1)/(N−K)); each arm's effect in each level is a linear
contrast, and the heterogeneity statistic is the Wald test of every interaction.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd
import pytest
import statsmodels.formula.api as smf

from trialkit.estimate.frequentist.subgroups import subgroup_effects

ARMS = ("usual", "budget", "budget_peer")


@pytest.fixture(scope="module")
def frame() -> pd.DataFrame:
    rng = np.random.default_rng(99)
    teams, per = 36, 10
    team = np.repeat(np.arange(teams), per)
    arm = np.array(ARMS)[team % 3]
    block = np.array(["central", "east", "south", "west"])[team // 9]
    g = rng.choice(["no", "yes"], size=team.size, p=[0.7, 0.3])
    x1 = rng.normal(6, 2, team.size)
    x2 = rng.normal(size=team.size)
    shift = np.select([arm == "budget", arm == "budget_peer"], [-0.5, -0.9], 0.0)
    noise = rng.normal(size=teams)[team] * 0.4 + rng.normal(size=team.size)
    y = 2 + shift * np.where(g == "yes", 1.8, 1.0) + 0.5 * x1 - 0.3 * x2 + 0.2 * (block == "east")
    y = y + noise
    return pd.DataFrame(
        {"y": y, "arm": arm, "g": g, "x1": x1, "x2": x2, "block": block, "team": team}
    )


FORMULA = "y ~ C(arm, Treatment('usual')) * C(g) + x1 + x2 + C(block)"


def _statsmodels(frame: pd.DataFrame, se_type: str) -> Any:
    model = smf.ols(FORMULA, data=frame)
    if se_type == "CR1":
        return model.fit(cov_type="cluster", cov_kwds={"groups": frame.team}, use_t=True)
    return model.fit(cov_type="HC2", use_t=True)


@pytest.mark.parametrize("se_type", ["HC2", "CR1"])
def test_effects_match_statsmodels_contrasts(frame: pd.DataFrame, se_type: str) -> None:
    sm = _statsmodels(frame, se_type)
    ours = subgroup_effects(
        frame,
        "y",
        "arm",
        "g",
        covariates=["x1", "x2"],
        blocks="block",
        cluster="team" if se_type == "CR1" else None,
        se_type=se_type,
        control="usual",
    )  # type: ignore[arg-type]
    names = list(sm.params.index)
    main = "C(arm, Treatment('usual'))[T.{}]"
    checked = 0
    for row in ours.rows:
        level = row.estimand.removeprefix("ITT[g=").removesuffix("]")
        arm = row.term.removeprefix("arm[").removesuffix("]")
        r = np.zeros(len(names))
        r[names.index(main.format(arm))] = 1.0
        if level == "yes":
            r[names.index(main.format(arm) + ":C(g)[T.yes]")] = 1.0
        tt = sm.t_test(r)
        label = f"{arm} in g={level} ({se_type})"
        assert row.estimate == pytest.approx(float(tt.effect[0]), rel=1e-9), f"effect {label}"
        assert row.std_error == pytest.approx(float(tt.sd[0, 0]), rel=1e-9), f"SE {label}"
        checked += 1
    assert checked == 4  # two arms x two levels


def test_heterogeneity_wald_matches_statsmodels(frame: pd.DataFrame) -> None:
    sm = _statsmodels(frame, "HC2")
    ours = subgroup_effects(
        frame,
        "y",
        "arm",
        "g",
        covariates=["x1", "x2"],
        blocks="block",
        se_type="HC2",
        control="usual",
    )
    names = list(sm.params.index)
    inter = [n for n in names if n.endswith(":C(g)[T.yes]")]
    R = np.zeros((len(inter), len(names)))
    for i, name in enumerate(inter):
        R[i, names.index(name)] = 1.0
    chi2 = sm.wald_test(R, use_f=False, scalar=True)
    assert ours.heterogeneity.wald == pytest.approx(float(chi2.statistic), rel=1e-9), "Wald"
    assert ours.heterogeneity.df_num == len(inter) == 2, "numerator df"


def test_unadjusted_differs_from_adjusted(frame: pd.DataFrame) -> None:
    """The covariates matter here, so a plan that dropped them would be caught."""
    kw: dict[str, Any] = {"se_type": "HC2", "control": "usual"}
    adj = subgroup_effects(frame, "y", "arm", "g", covariates=["x1", "x2"], blocks="block", **kw)
    raw = subgroup_effects(frame, "y", "arm", "g", **kw)
    gaps = [
        abs(a.std_error - b.std_error) / b.std_error
        for a, b in zip(adj.rows, raw.rows, strict=True)
    ]
    assert min(gaps) > 0.05
