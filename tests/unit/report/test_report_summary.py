"""Plain-language sentences of the decision makers' summary."""

from __future__ import annotations

import pytest

from trialkit.protocol import bundled_path, load_protocol
from trialkit.report import summary
from trialkit.report.phrases import condition_words

TREATED = "teams given the discretionary budget"
CONTROL = "teams that kept usual practice"


@pytest.fixture(scope="module")
def protocol():
    return load_protocol(bundled_path("council_discretionary_budget"))


def test_primary_effect_in_natural_units(protocol):
    text = summary.effect_sentence(
        protocol.outcome("loneliness"), -0.61, treated=TREATED, control=CONTROL, means={}
    )
    assert text == (
        "Clients in teams given the discretionary budget scored 0.6 points lower on "
        "loneliness, on a 3–9 scale, than clients in teams that kept usual practice."
    )


def test_higher_and_benefit_direction(protocol):
    wellbeing = protocol.outcome("wellbeing")
    assert "1.1 points higher on mental wellbeing" in summary.effect_sentence(
        wellbeing, 1.1, treated=TREATED, control=CONTROL, means={}
    )
    assert summary.benefit_sentence(wellbeing, 1.1).endswith("so this is an improvement.")
    assert summary.benefit_sentence(protocol.outcome("loneliness"), 0.4).endswith(
        "a change for the worse."
    )


def test_money_and_days_outcomes(protocol):
    cost = summary.effect_sentence(
        protocol.outcome("cost_of_care"), -110, treated=TREATED, control=CONTROL, means={}
    )
    assert cost.startswith("Cost of formal care") and "£110 lower" in cost
    days = summary.effect_sentence(
        protocol.outcome("days_to_support"), -6.8, treated=TREATED, control=CONTROL, means={}
    )
    assert "6.8 days lower" in days


def test_binary_outcome_uses_percentages_and_natural_frequencies(protocol):
    text = summary.effect_sentence(
        protocol.outcome("safeguarding_concern"),
        0.002,
        treated=TREATED,
        control=CONTROL,
        means={"treated": 0.063, "control": 0.061},
    )
    assert "6.3% of clients" in text and "6.1% of clients" in text
    assert "about 6 in 100 in both" in text


def test_range_sentence(protocol):
    text = summary.range_sentence(protocol.outcome("loneliness"), -1.44, 0.22)
    assert "between 1.4 points lower and 0.2 points higher" in text


def test_how_sure_we_are(protocol):
    lines = summary.sure_sentences(
        protocol.outcome("loneliness"),
        {"p_benefit": 0.93, "p_mid": 0.13, "p_rope": 0.24},
        treatment="the discretionary budget",
    )
    assert lines[0].startswith("We are 93% sure that the discretionary budget reduced loneliness")
    assert "highly likely" in lines[0]
    assert "by at least 1 point" in lines[1] and "13%" in lines[1]
    assert "±0.3 points" in lines[2]
    assert summary.sure_sentences(protocol.outcome("loneliness"), {}, treatment="x") == []


def test_misuse_against_tolerance():
    lines = summary.misuse_sentences(
        {"cases": 3, "reviewed": 212, "tolerance": 0.05, "p_above_tolerance": 0.004}
    )
    assert lines[0] == "3 of 212 spends (1.4%) were judged unjustified; the tolerance was 5%."
    assert "is 0.4% (a remote chance)" in lines[1]
    assert summary.misuse_sentences(None) == []


def test_cost_and_net_benefit():
    lines = summary.cost_sentences(
        {
            "per_unit_mean": -3781.4,
            "per_unit_ci": [-9857, 2295],
            "p_positive": 0.11,
            "currency": "GBP",
        },
        cost_per_unit=9200,
        unit="team",
        currency="GBP",
    )
    assert lines[0] == "It cost £9,200 extra per team."
    assert "a loss of £3,781 per team" in lines[1]
    assert "between a loss of £9,857 and a gain of £2,295" in lines[1]
    assert lines[2].endswith("is 11%.")


def test_equity_sentences(protocol):
    rows = [
        {
            "outcome": "loneliness",
            "subgroup": "most_deprived",
            "equity": True,
            "label": "Clients living in the most deprived fifth of areas",
            "level_value": "0",
            "estimate": -0.55,
            "heterogeneity_p": 0.68,
        },
        {
            "outcome": "loneliness",
            "subgroup": "most_deprived",
            "equity": True,
            "label": "Clients living in the most deprived fifth of areas",
            "level_value": "1",
            "estimate": -0.78,
            "heterogeneity_p": 0.68,
        },
    ]
    (line,) = summary.equity_sentences(rows, protocol.outcome("loneliness"))
    assert "not clearly different" in line
    assert "0.8 points lower for them; 0.6 points lower for other clients" in line
    rows[0]["heterogeneity_p"] = 0.01
    assert (
        "check that this is fair"
        in summary.equity_sentences(rows[:1], protocol.outcome("loneliness"))[0]
    )


def test_goodhart_warning_when_target_moves_but_shadow_does_not():
    labels = {"t": "Service targets (speed and cost)", "s": "Clients' wellbeing"}
    moved = {"family": "t", "kind": "target", "ci_low": 0.08, "ci_high": 0.34}
    still = {"family": "s", "kind": "shadow", "ci_low": -0.03, "ci_high": 0.21}
    out = summary.goodhart_sentence([moved, still], labels)
    assert out is not None and out["warning"] is True
    assert "service targets" in out["text"] and "did not clearly improve" in out["text"]
    both = summary.goodhart_sentence([moved, still | {"ci_low": 0.01}], labels)
    assert both is not None and both["warning"] is False
    assert summary.goodhart_sentence([moved], labels) is None


def test_decision_conditions_in_plain_words(protocol):
    rule = protocol.analysis.decision_rules[0]
    texts = [condition_words(protocol, c) for c in rule.conditions]
    assert (
        texts[0] == "The chance that the discretionary budget reduced loneliness is at least 90%."
    )
    assert "rose by more than 2 percentage points is at most 10%" in texts[1]
    assert "rose by more than £200 is at most 20%" in texts[2]


def test_goodhart_warns_when_shadow_worsens():
    labels = {"t": "Targets", "s": "Wellbeing"}
    worse = {"family": "s", "kind": "shadow", "ci_low": -0.4, "ci_high": -0.1}
    still = {"family": "t", "kind": "target", "ci_low": -0.1, "ci_high": 0.2}
    out = summary.goodhart_sentence([still, worse], labels)
    assert out is not None and out["warning"] and "wellbeing got worse" in out["text"]
    neutral = summary.goodhart_sentence([still, worse | {"ci_high": 0.3}], labels)
    assert neutral is not None and neutral["tone"] == "neutral"
