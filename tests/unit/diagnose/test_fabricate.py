"""Fabricated data follow the protocol's declared assumptions."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from trialkit.diagnose import fabricate


@pytest.fixture(scope="module")
def big(flagship):
    # many units so declared effects and ICCs can be recovered within sampling error
    n = 600
    units = pd.DataFrame(
        {
            "team_id": [f"T{i:04d}" for i in range(n)],
            "locality": "A",
            "caseload": 1.0,
            "imd_score": 1.0,
            "team_size": 1.0,
        }
    )
    arms = pd.Series(np.where(np.arange(n) % 2 == 0, "usual", "budget"), index=units.team_id)
    return fabricate(flagship, units, arms, rng=np.random.default_rng(3)), arms


def test_every_level_and_column_is_present(big, flagship):
    frames, _ = big
    assert set(frames) == {"team", "client", "staff", "spend"}
    for outcome in flagship.outcomes:
        if outcome.survival is not None:  # dates and a reason; validation derives the time
            wanted = [
                outcome.survival.end_column,
                outcome.survival.start_column,
                outcome.survival.reason_column,
            ]
            assert set(wanted) <= set(frames[outcome.level].columns)
        else:
            assert outcome.data_column in frames[outcome.level].columns


def test_spend_records_only_in_budget_teams(big):
    frames, arms = big
    teams = frames["spend"]["team_id"].unique()
    assert set(arms.loc[teams]) == {"budget"}


def test_declared_effect_recovered(big, flagship):
    frames, arms = big
    clients = frames["client"].assign(arm=lambda f: arms.loc[f.team_id].to_numpy())
    means = clients.groupby("arm")["loneliness"].mean()
    declared = flagship.outcome("loneliness").assumptions.effect
    # rounding to whole points and clipping to 3-9 attenuate slightly; allow 0.15 points
    assert means["budget"] - means["usual"] == pytest.approx(declared, abs=0.15)


def test_declared_icc_recovered(big, flagship):
    frames, arms = big
    clients = frames["client"][arms.loc[frames["client"].team_id].to_numpy() == "usual"]
    y = clients.groupby("team_id")["cost_of_care"]
    between = y.mean().var()
    within = y.var().mean()
    m = y.count().mean()
    icc = (between - within / m) / (between - within / m + within)
    assert icc == pytest.approx(flagship.outcome("cost_of_care").assumptions.icc, abs=0.03)


def test_attrition_rate_and_ordinal_labels(big, flagship):
    frames, _ = big
    clients = frames["client"]
    assert clients["loneliness"].isna().mean() == pytest.approx(flagship.power.attrition, abs=0.02)
    labels = set(clients["control_over_life"].dropna())
    assert labels <= set(flagship.outcome("control_over_life").levels)


def test_same_seed_same_data(flagship, flagship_units):
    arms = pd.Series(["usual", "budget"] * 12, index=flagship_units.team_id)
    a = fabricate(flagship, flagship_units, arms, rng=np.random.default_rng(9))
    b = fabricate(flagship, flagship_units, arms, rng=np.random.default_rng(9))
    for level in a:
        pd.testing.assert_frame_equal(a[level], b[level])
