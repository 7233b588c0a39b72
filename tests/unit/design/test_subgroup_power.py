"""Power within the equity subgroups: each level at its share, as the pilot's own calculation."""

from __future__ import annotations

from pathlib import Path

import pytest

from trialkit.design import solve_cluster, subgroup_power
from trialkit.design.outcomes import ContinuousOutcome
from trialkit.design.plan import power_table
from trialkit.protocol import Protocol, bundled_path, load_protocol


@pytest.fixture(scope="module")
def council() -> Protocol:
    return load_protocol(bundled_path("council_discretionary_budget"))


def test_each_equity_level_of_each_primary_outcome_is_assessed(council: Protocol) -> None:
    table = subgroup_power(council)
    expected = [(s.name, level) for s in council.subgroups if s.equity for level in s.levels]
    assert [(r.subgroup, r.level) for r in table.rows] == expected
    assert {r.power.outcome for r in table.rows} == {
        o.name for o in council.outcomes if o.role == "primary"
    }
    assert table.skipped == ()


def test_a_client_subgroup_keeps_the_teams_and_a_share_of_the_clients(council: Protocol) -> None:
    """The calculation equals the cluster solver's with the level's share of clients."""
    row = next(
        r for r in subgroup_power(council).rows if r.subgroup == "most_deprived" and r.level == "1"
    )
    outcome = council.outcome("loneliness")
    clients = council.level(outcome.level)
    assert outcome.assumptions is not None and clients is not None
    a, plan = outcome.assumptions, council.power
    adjusted = sum(1 for c in council.covariates if c.adjust and c.level == council.units.name)
    direct = solve_cluster(
        effect=a.effect,
        clusters=council.units.planned,
        cluster_size=clients.per_unit.mean * 0.25,
        cv=clients.per_unit.cv,
        icc=a.icc,
        r2_individual=a.r2,
        r2_cluster=a.r2_cluster,
        covariates=adjusted,
        attrition=plan.attrition,
        cluster_attrition=plan.unit_attrition,
        treated_share=0.5,
        control_share=0.5,
        n_arms=2,
        alpha=council.analysis.frequentist.alpha,
        outcome=ContinuousOutcome(sd=a.sd),
    )
    assert row.share == 0.25 and row.units == council.units.planned
    assert row.per_unit == pytest.approx(clients.per_unit.mean * 0.25, rel=1e-12)
    assert row.power.power == pytest.approx(direct.power, rel=1e-12)
    whole = next(r for r in power_table(council).rows if r.outcome == "loneliness")
    assert row.power.power < whole.power, "a quarter of the clients cannot give more power"
    assert row.power.under_powered == (row.power.power < plan.target)


def test_a_subgroup_of_the_randomised_units_keeps_a_share_of_them(council: Protocol) -> None:
    teams = council.subgroups[0].model_copy(update={"level": council.units.name})
    protocol = council.model_copy(update={"subgroups": (teams,)})
    rows = subgroup_power(protocol).rows
    assert [r.units for r in rows] == [round(24 * 0.75), round(24 * 0.25)]
    smaller = protocol.model_copy(
        update={"units": protocol.units.model_copy(update={"planned": 6})}
    )
    whole = next(r for r in power_table(smaller).rows if r.outcome == "loneliness")
    assert rows[1].power.outcome == "loneliness"
    assert whole.power == pytest.approx(rows[1].power.power, rel=1e-12)


def test_subgroups_without_shares_or_a_matching_outcome_are_named(council: Protocol) -> None:
    no_shares = council.subgroups[0].model_copy(update={"shares": ()})
    staff = council.subgroups[1].model_copy(update={"level": "staff"})
    table = subgroup_power(council.model_copy(update={"subgroups": (no_shares, staff)}))
    assert table.rows == ()
    assert table.skipped == (
        ("most_deprived", "no `shares` declared for its levels"),
        ("age_75_plus", "no primary outcome is measured at the `staff` level"),
    )


def test_the_registered_plan_shows_each_level(council: Protocol, tmp_path: Path) -> None:
    """Through `trialkit register`: the plan's equity table holds every row's power and MDE."""
    from trialkit import api
    from trialkit.report.tables import fmt

    api.register_protocol(
        bundled_path("council_discretionary_budget"),
        tmp_path / "reg",
        ledger=tmp_path / "ledger.jsonl",
    )
    html = (tmp_path / "reg" / "pre_analysis_plan.html").read_text(encoding="utf-8")
    table = html[html.index('id="equity-power"') :]
    table = table[: table.index("</table>")]
    rows = subgroup_power(council).rows
    assert table.count("<tr>") == len(rows) + 1
    for row, line in zip(rows, table.split("<tr>")[2:], strict=True):
        assert f"{row.level} ({round(row.share * 100)}%)" in line
        assert f'data-label="Power">{fmt(row.power.power)}<' in line
        assert ("Under-powered" in line) == row.power.under_powered
