"""Time-to-event power: the solver's behaviours and the survival rows of the power table."""

from __future__ import annotations

import math
from typing import Any

import pytest
from scipy import stats

from trialkit.design import (
    InvalidParameterError,
    NoSolutionError,
    SurvivalOutcome,
    power_table,
    solve_survival,
)
from trialkit.protocol import Protocol, bundled_path, load_protocol

OUTCOME = SurvivalOutcome(0.3)


def test_power_from_expected_events_closed_form() -> None:
    # 600 units, 1:1, 30% of control and 1 − 0.7^0.7 of treated leave: power is
    # Φ(|log HR| √(D/4) − 1.96) plus the far region.
    got = solve_survival(0.7, n=600, outcome=OUTCOME)
    events = 300 * 0.3 + 300 * (1 - 0.7**0.7)
    ncp = abs(math.log(0.7)) * math.sqrt(events / 4)
    expected = stats.norm.sf(1.959964 - ncp) + stats.norm.cdf(-1.959964 - ncp)
    assert got.events == pytest.approx(events, rel=1e-12), "expected events"
    assert got.power == pytest.approx(expected, abs=1e-6), "power"
    assert got.std_error == pytest.approx(math.sqrt(4 / events), rel=1e-12), "SE of log HR"
    assert (got.design, got.outcome, got.df) == ("individual", "survival", None)


def test_cluster_design_effect_and_attrition() -> None:
    # 40 teams of 10 (cv 0.5), 10% of staff and 5% of teams lost: the variance is the
    # individual one at the analysed size times 1 + ((1 + cv²) m − 1) ICC, m = 9.
    got = solve_survival(0.7, n=40, cluster_size=10, icc=0.05, cv=0.5, attrition=0.1,
                         cluster_attrition=0.05, outcome=OUTCOME)  # fmt: skip
    design_effect = 1 + ((1 + 0.25) * 9 - 1) * 0.05
    analysed = 40 * 0.95 * 9
    plain = solve_survival(0.7, n=analysed, outcome=OUTCOME)
    assert got.design_effect == pytest.approx(design_effect), "design effect"
    assert got.n_analysed == pytest.approx(analysed) and got.n_units == 400
    assert got.std_error == pytest.approx(plain.std_error * math.sqrt(design_effect)), "SE"
    assert (got.design, got.n_clusters) == ("cluster", 40)


def test_solves_each_unknown_consistently() -> None:
    power = solve_survival(0.75, n=900, outcome=OUTCOME).power
    size = solve_survival(0.75, power=power, outcome=OUTCOME)
    assert size.size_exact == pytest.approx(900, rel=1e-6), "size at that power"
    below = solve_survival(n=900, power=power, outcome=OUTCOME)
    assert below.effect == pytest.approx(0.75, rel=1e-6) and below.solved_for == "effect"
    above = solve_survival(n=900, power=power, outcome=SurvivalOutcome(0.3, "increase"))
    assert above.effect > 1 and above.power == pytest.approx(power, abs=1e-8), "other side"
    clusters = solve_survival(0.75, power=0.8, cluster_size=8, icc=0.02, outcome=OUTCOME)
    assert clusters.solved_for == "clusters" and clusters.n_clusters is not None


def test_more_arms_bonferroni_and_shares() -> None:
    got = solve_survival(0.7, n=900, n_arms=3, outcome=OUTCOME)
    assert got.alpha_per_comparison == pytest.approx(0.025)
    # Only this arm and control count: 600 units in the comparison.
    two = solve_survival(0.7, n=600, outcome=OUTCOME, alpha=0.025)
    assert got.events == pytest.approx(two.events) and got.power == pytest.approx(two.power)


@pytest.mark.parametrize(
    ("kwargs", "match"),
    [
        ({"hazard_ratio": 0.7, "n": 100, "power": 0.8}, "Exactly one of 'hazard_ratio'"),
        ({"hazard_ratio": 0.0, "n": 100}, r"'hazard_ratio' parameter of solve_survival"),
        ({"hazard_ratio": 0.7, "n": 100, "icc": 1.0}, r"'icc' parameter .* \[0, 1\)"),
        ({"hazard_ratio": 1.0, "power": 0.8}, "for a hazard ratio of 1: power stays at alpha"),
        ({"n": 10, "power": 0.99}, "No hazard ratio below 1 reaches 99% power"),
    ],
)
def test_bad_input_is_refused(kwargs: dict[str, Any], match: str) -> None:
    with pytest.raises((InvalidParameterError, NoSolutionError), match=match):
        solve_survival(outcome=SurvivalOutcome(0.01), **kwargs)


def test_outcome_is_checked() -> None:
    with pytest.raises(InvalidParameterError, match="'p_control' parameter of SurvivalOutcome"):
        SurvivalOutcome(1.0)
    with pytest.raises(InvalidParameterError, match="must be a SurvivalOutcome"):
        solve_survival(0.7, n=100, outcome=0.3)  # type: ignore[arg-type]


# The power table ---------------------------------------------------------------------------


def _with_leaving(**assumptions: Any) -> Protocol:
    """The council protocol with staff leaving declared as a survival outcome."""
    base = load_protocol(bundled_path("council_discretionary_budget"))
    data = base.model_dump(mode="json")
    outcome = next(o for o in data["outcomes"] if o["name"] == "intention_to_leave")
    survival = {"end_column": "left_on", "horizon_days": 365}
    outcome.update(name="days_to_leaving", type="survival", direction="higher_is_better",
                   unit="days", survival=survival)  # fmt: skip
    outcome["assumptions"].update(rate=0.3, hazard_ratio=0.7, effect=20.0, icc=0.05)
    outcome["assumptions"].update(assumptions)
    return Protocol.model_validate(data, context={"defer_rules": True})


def test_survival_row_reproduces_a_direct_call() -> None:
    table = power_table(_with_leaving())
    row = next(r for r in table.rows if r.outcome == "days_to_leaving")
    # 24 teams of 8 staff (cv 0.25), 20% of measurements lost, 1:1.
    direct = solve_survival(0.7, n=24, cluster_size=8, icc=0.05, cv=0.25, attrition=0.2,
                            outcome=SurvivalOutcome(0.3))  # fmt: skip
    assert row.model == "survival" and row.at_planned.design == "cluster"
    assert row.effect == 0.7 and row.power == pytest.approx(direct.power, rel=1e-12)
    assert row.at_target is not None and row.at_target.power == pytest.approx(0.8, abs=1e-8)
    assert row.mde < 1, "MDE on the hoped-for side of 1 (fewer leavers)"
    assert row.mde_cace is None, "no complier MDE for a hazard ratio"
    assert f"Expected events: {direct.events:.0f}" in row.note
    assert "log-rank / Cox (Schoenfeld)" in row.at_planned.test
    frame = table.to_frame().set_index("outcome")
    assert frame.loc["days_to_leaving", "mde_standardised"] == pytest.approx(math.log(row.mde))
    assert "days_to_leaving" not in dict(table.skipped)


def test_no_effect_assumed_seeks_harm() -> None:
    row = next(r for r in power_table(_with_leaving(hazard_ratio=1.0)).rows
               if r.outcome == "days_to_leaving")  # fmt: skip
    assert row.power == pytest.approx(0.05, abs=1e-12), "power equals alpha"
    assert row.mde > 1, "longer stays are better, so the harm is a larger hazard"
    assert "No effect assumed" in row.note


def test_survival_without_assumptions_is_skipped() -> None:
    table = power_table(_with_leaving(hazard_ratio=None))
    reason = dict(table.skipped)["days_to_leaving"]
    assert "needs `assumptions.rate` and `hazard_ratio`" in reason


def test_stepped_wedge_skips_survival() -> None:
    wedge = load_protocol(bundled_path("mission_clarity_stepped_wedge"))
    data = wedge.model_dump(mode="json")
    outcome = data["outcomes"][0]
    outcome.update(type="survival", survival={"end_column": "left_on", "horizon_days": 180})
    outcome["assumptions"].update(rate=0.2, hazard_ratio=0.8)
    protocol = Protocol.model_validate(data, context={"defer_rules": True})
    reason = dict(power_table(protocol).skipped)[outcome["name"]]
    assert "not assessed in a stepped wedge" in reason
