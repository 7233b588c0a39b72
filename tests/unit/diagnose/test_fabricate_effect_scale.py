"""Fabricated data give every treated arm its declared effect, scaled by ``effect_scale``."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from trialkit.diagnose import fabricate
from trialkit.protocol import bundled_path, load_protocol

ARMS = ("usual", "budget", "budget_peer")


@pytest.fixture(scope="module")
def three_arm():
    return load_protocol(bundled_path("council_budget_peer_review"))


@pytest.fixture(scope="module")
def units():
    n = 600
    return pd.DataFrame(
        {
            "team_id": [f"T{i:04d}" for i in range(n)],
            "locality": "A",
            "caseload": 1.0,
            "imd_score": 1.0,
            "team_size": 1.0,
        }
    )


def _clients(protocol, units, scale):
    arms = pd.Series(np.array(ARMS)[np.arange(len(units)) % 3], index=units.team_id)
    frames = fabricate(protocol, units, arms, rng=np.random.default_rng(11), effect_scale=scale)
    took = frames["team"].set_index("team_id")["budget_used"]
    clients = frames["client"]
    return frames, clients.assign(
        arm=arms.loc[clients.team_id].to_numpy(), took=took.loc[clients.team_id].to_numpy() == 1
    )


@pytest.mark.parametrize("scale", [1.0, 0.0, -1.0, 2.5])
def test_each_treated_arm_is_shifted_by_the_scaled_effect(three_arm, units, scale):
    """Same seed: control rows and the rows of treated teams that did not take the budget up
    are identical (exclusion restriction); the others move by scale × declared effect."""
    _, null = _clients(three_arm, units, 0.0)
    _, scaled = _clients(three_arm, units, scale)
    declared = three_arm.outcome("wellbeing").assumptions.effect
    control = scaled["arm"] == "usual"
    pd.testing.assert_series_equal(scaled.loc[control, "wellbeing"], null.loc[control, "wellbeing"])
    refused = (scaled["arm"] != "usual") & ~scaled["took"]
    assert refused.sum() > 100
    pd.testing.assert_series_equal(scaled.loc[refused, "wellbeing"], null.loc[refused, "wellbeing"])
    for arm in ARMS[1:]:
        rows = (scaled["arm"] == arm) & scaled["wellbeing"].notna() & scaled["took"]
        shift = (scaled.loc[rows, "wellbeing"] - null.loc[rows, "wellbeing"]).mean()
        # rounding to whole points averages out; clipping to 7-35 is rare at this mean and SD
        assert shift == pytest.approx(scale * declared, abs=0.06), f"shift in arm {arm}"


@pytest.mark.parametrize("scale", [1.0, 0.0, -1.0])
def test_declared_effect_recovered_in_both_treated_arms(three_arm, units, scale):
    _, clients = _clients(three_arm, units, scale)
    means = (
        clients[clients["took"] | (clients["arm"] == "usual")].groupby("arm")["loneliness"].mean()
    )
    declared = three_arm.outcome("loneliness").assumptions.effect
    for arm in ARMS[1:]:
        # sampling error between arms of 200 teams, rounding and clipping: 0.2 points
        assert means[arm] - means["usual"] == pytest.approx(scale * declared, abs=0.2), arm


def test_spend_records_in_both_treated_arms_only(three_arm, units):
    frames, _ = _clients(three_arm, units, 1.0)
    arms = pd.Series(np.array(ARMS)[np.arange(len(units)) % 3], index=units.team_id)
    assert set(arms.loc[frames["spend"]["team_id"].unique()]) == {"budget", "budget_peer"}


def test_take_up_in_both_treated_arms_and_never_in_control(three_arm, units):
    frames, _ = _clients(three_arm, units, 1.0)
    team = frames["team"].assign(arm=np.array(ARMS)[np.arange(len(units)) % 3])
    rates = team.groupby("arm")["budget_used"].mean()
    assert rates["usual"] == 0
    for arm in ARMS[1:]:
        assert rates[arm] == pytest.approx(three_arm.power.compliance, abs=0.07), arm


def test_effect_scale_must_be_finite(three_arm, units):
    with pytest.raises(ValueError, match="'effect_scale' parameter of fabricate"):
        _clients(three_arm, units, float("nan"))
