"""The power table states alpha, the unit of each effect, and flags under-powered outcomes."""

from __future__ import annotations

import math

import pytest

from trialkit.analyse.trial import power
from trialkit.design.plan import power_table
from trialkit.protocol import Protocol, bundled_path, load_protocol


@pytest.fixture(scope="module")
def council() -> Protocol:
    return load_protocol(bundled_path("council_discretionary_budget"))


def _row(protocol: Protocol, outcome: str):  # type: ignore[no-untyped-def]
    return next(r for r in power_table(protocol).rows if r.outcome == outcome)


def test_cost_of_care_is_flagged(council: Protocol) -> None:
    row = _row(council, "cost_of_care")
    assert row.under_powered
    assert row.power < 0.1, "the issue's check: power about 0.06 for a hoped-for -£150"
    assert abs(row.mde) > abs(row.effect) == 150
    assert row.effect_unit == "GBP"
    assert row.alpha == 0.05


def test_flag_is_power_below_target(council: Protocol) -> None:
    """MDE beyond the hoped-for effect and power below the target are the same statement."""
    for row in power_table(council).rows:
        null = 1.0 if row.model == "survival" else 0.0
        if row.effect == null:
            assert not row.under_powered, f"{row.outcome}: no effect hoped for, nothing to miss"
            continue
        assert row.under_powered == (row.power < row.target_power - 1e-9), row.outcome
    assert not _row(council, "loneliness").under_powered, "loneliness has power 0.82"


def test_units_of_each_outcome_type(council: Protocol) -> None:
    assert _row(council, "intention_to_leave").effect_unit == "proportion"
    assert _row(council, "time_to_leaving").effect_unit == "hazard ratio"
    assert _row(council, "loneliness").effect_unit == "points"
    assert _row(council, "sickness_days").effect_unit == "days per FTE-year"


def test_alpha_follows_the_protocol(council: Protocol) -> None:
    frequentist = council.analysis.frequentist.model_copy(update={"alpha": 0.1})
    analysis = council.analysis.model_copy(update={"frequentist": frequentist})
    looser = council.model_copy(update={"analysis": analysis})
    row = _row(looser, "wellbeing")
    assert row.alpha == 0.1
    assert row.power > _row(council, "wellbeing").power


def test_flags_reach_the_results_document(council: Protocol) -> None:
    rows = {r.outcome: r for r in power(council)}
    assert rows["cost_of_care"].under_powered is True
    assert rows["cost_of_care"].effect_unit == "GBP"
    assert rows["loneliness"].under_powered is False
    assert rows["loneliness"].alpha is not None and math.isclose(rows["loneliness"].alpha, 0.05)


def test_summary_states_alpha_and_flag(council: Protocol) -> None:
    text = power_table(council).summary()
    assert "Two-sided alpha 0.05." in text
    line = next(ln for ln in text.splitlines() if ln.strip().startswith("cost_of_care"))
    assert line.split()[-1] == "True" and "GBP" in line
