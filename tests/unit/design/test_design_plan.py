"""The protocol adapter: each row reproduces a direct call with the protocol's inputs."""

from __future__ import annotations

import math

import pytest

from trialkit.design import BinaryOutcome, ContinuousOutcome, solve_cluster, solve_stepped_wedge
from trialkit.design.plan import POWER_COLUMNS, PowerTable, power_by_units, power_table
from trialkit.protocol import Protocol, bundled_path, load_protocol


@pytest.fixture(scope="module")
def council() -> Protocol:
    return load_protocol(bundled_path("council_discretionary_budget"))


@pytest.fixture(scope="module")
def wedge() -> Protocol:
    return load_protocol(bundled_path("mission_clarity_stepped_wedge"))


def test_cluster_row_matches_a_direct_call(council: Protocol) -> None:
    table = power_table(council)
    row = next(row for row in table.rows if row.outcome == "loneliness")
    # Teams of 30 clients (cv 0.35), ICC 0.05, R² 0.3 / 0.2, 20% of measurements lost and
    # three adjusted team-level covariates (caseload, imd_score, team_size).
    direct = solve_cluster(
        -0.6, clusters=24, cluster_size=30, cv=0.35, icc=0.05, r2_individual=0.3,
        r2_cluster=0.2, covariates=3, attrition=0.2, outcome=ContinuousOutcome(sd=1.8),
    )  # fmt: skip
    assert row.model == "cluster" and row.comparison == "budget vs usual"
    assert row.power == pytest.approx(direct.power, rel=1e-12), "power at planned size"
    assert row.at_target is not None
    assert row.at_target.power == pytest.approx(0.8, abs=1e-8), "MDE has the target power"
    assert row.mde < 0, "MDE signed in the hoped-for direction (lower loneliness)"
    assert row.mde_cace == pytest.approx(row.mde / 0.9), "CACE declared: MDE / compliance"
    without = council.model_copy(update={"estimands": council.estimands[:1]})
    plain = next(r for r in power_table(without).rows if r.outcome == "loneliness")
    assert plain.mde_cace is None, "no CACE estimand declared"


def test_binary_harm_outcome_uses_harmful_direction(council: Protocol) -> None:
    row = next(row for row in power_table(council).rows if row.outcome == "safeguarding_concern")
    assert row.power == pytest.approx(0.05, abs=1e-12), "no effect assumed: power = alpha"
    assert row.mde > 0, "lower is better, so the harm to detect is an increase"
    assert row.at_target is not None and row.at_target.p_control == 0.06
    assert "No effect assumed" in row.note


def test_outcomes_measured_in_one_arm_are_skipped() -> None:
    # the three-arm pilot still measures misuse as a spend-level outcome of the budget arms
    table = power_table(load_protocol(bundled_path("council_budget_peer_review")))
    assert ("unjustified_spend", "measured only in some arms") in table.skipped
    assert "Not assessed" in table.summary()


def test_stepped_wedge_rows(wedge: Protocol) -> None:
    row = next(row for row in power_table(wedge).rows if row.outcome == "engagement")
    direct = solve_stepped_wedge(
        0.3, clusters=12, cluster_size=16, steps=4, periods=5, icc=0.06, attrition=0.25,
        outcome=ContinuousOutcome(sd=1.1),
    )  # fmt: skip
    assert row.model == "stepped_wedge"
    assert row.power == pytest.approx(direct.power, rel=1e-12)
    binary = next(row for row in power_table(wedge).rows if row.outcome == "resolved_in_target")
    direct_binary = solve_stepped_wedge(
        0.06, clusters=12, cluster_size=70, steps=4, periods=5, icc=0.1, attrition=0.25,
        outcome=BinaryOutcome(0.68),
    )  # fmt: skip
    assert binary.power == pytest.approx(direct_binary.power, rel=1e-12)


def test_unit_level_outcomes_and_cace() -> None:
    protocol = load_protocol(bundled_path("green_tape_benefits"))
    table = power_table(protocol)
    models = {row.outcome: row.model for row in table.rows}
    assert models["processing_days"] == "cluster", "claims clustered in caseworkers"
    assert models["job_satisfaction"] == "individual", "measured on the randomised unit"
    for row in table.rows:
        assert row.mde_cace is not None
        if not math.isnan(row.mde):
            assert row.mde_cace == pytest.approx(row.mde / 0.9), "CACE MDE = ITT MDE / c"


def test_frame_and_variants(council: Protocol) -> None:
    table = power_table(council)
    frame = table.to_frame()
    assert tuple(frame.columns) == POWER_COLUMNS
    assert len(frame) == len(table.rows)
    assert table.provenance.protocol_hash == council.content_hash()
    by_units = power_by_units(council)
    assert len(by_units.rows) == len(table.rows) * (1 + len(council.power.variants))
    bigger = power_table(council, units=40)
    assert _power(bigger, "loneliness") > _power(table, "loneliness")


def test_several_arms_compare_each_with_control(council: Protocol) -> None:
    extra = council.arms[1].model_copy(update={"id": "budget_plus", "ratio": 2})
    three = council.model_copy(update={"arms": (*council.arms, extra)})
    rows = [row for row in power_table(three).rows if row.outcome == "loneliness"]
    assert [row.comparison for row in rows] == ["budget vs usual", "budget_plus vs usual"]
    assert rows[0].at_planned.alpha_per_comparison == pytest.approx(0.025), "Bonferroni"
    assert rows[1].at_planned.treated_share == pytest.approx(0.5)
    assert rows[1].at_planned.control_share == pytest.approx(0.25)


def _power(table: PowerTable, outcome: str) -> float:
    return next(row.power for row in table.rows if row.outcome == outcome)
