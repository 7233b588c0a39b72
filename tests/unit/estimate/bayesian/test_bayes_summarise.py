"""Posterior summaries, probabilities, decision rules, net benefit and misuse (no sampling)."""

from __future__ import annotations

from collections.abc import Callable

import numpy as np
import pytest
from scipy import stats

from trialkit.errors import EstimationError
from trialkit.estimate.bayesian.decisions import Valued, evaluate_rule, misuse_rate, net_benefit
from trialkit.estimate.bayesian.results import BayesianFit
from trialkit.estimate.bayesian.summarise import Thresholds, describe_draws, tail_probabilities

MakeFit = Callable[..., BayesianFit]

DRAWS = np.linspace(-1.0, 3.0, 401)  # uniform grid: probabilities are exact fractions


def test_probabilities_follow_direction_of_benefit() -> None:
    up = tail_probabilities(DRAWS, Thresholds(mid=1.0, rope=(-0.5, 0.5)))
    down = tail_probabilities(DRAWS, Thresholds(direction="lower_is_better", mid=0.5))
    assert up["p_benefit"] == pytest.approx(300 / 401)
    assert up["p_mid"] == pytest.approx(201 / 401)
    assert up["p_harm"] == pytest.approx(100 / 401)
    assert up["p_rope"] == pytest.approx(101 / 401)
    assert down["p_benefit"] == pytest.approx(100 / 401)
    assert down["p_mid"] == pytest.approx(51 / 401)


def test_ratio_null_is_one_and_link_scale_has_no_mid() -> None:
    p = tail_probabilities(np.array([0.5, 1.5, 2.0]), Thresholds(mid=0.1), null=1.0, natural=False)
    assert p["p_benefit"] == pytest.approx(2 / 3) and np.isnan(p["p_mid"])


def test_interval_is_equal_tailed() -> None:
    x = np.random.default_rng(0).normal(size=200_000)
    d = describe_draws(x)
    assert d["ci_low"] == pytest.approx(-1.96, abs=0.02)
    assert d["ci_high"] == pytest.approx(1.96, abs=0.02)


def test_decision_rule_met_and_not_met(make_fit: MakeFit) -> None:
    fits = [
        make_fit({"wellbeing": DRAWS}, outcome="wellbeing", mid=1.0),
        make_fit({"complaints": -DRAWS}, outcome="complaints", direction="lower_is_better"),
    ]
    rule = [
        {"outcome": "wellbeing", "event": "benefit", "at_least": 0.7},
        {"outcome": "complaints", "event": "harm", "at_most": 0.3},
    ]
    result = evaluate_rule(rule, fits, name="scale up")
    assert result.met
    assert [c.probability for c in result.conditions] == pytest.approx([300 / 401, 100 / 401])
    strict = evaluate_rule(
        [{"outcome": "wellbeing", "event": "at_least_mid", "at_least": 0.9}], fits
    )
    assert not strict.met and strict.to_frame()["probability"].iloc[0] == pytest.approx(201 / 401)


def test_decision_rule_rejects_unknown_outcome(make_fit: MakeFit) -> None:
    with pytest.raises(EstimationError, match="not fitted"):
        evaluate_rule([{"outcome": "z", "at_least": 0.9}], [make_fit({"y": DRAWS})])


def test_net_benefit_subtracts_extra_cost(make_fit: MakeFit) -> None:
    fit = make_fit({"arm[budget]": DRAWS})
    (nb,) = net_benefit(
        [Valued(fit, 100.0)], cost_per_unit={"control": 0.0, "budget": 50.0}, units=10
    )
    assert nb.per_unit.mean() == pytest.approx(100 * DRAWS.mean() - 50)
    assert nb.aggregate.mean() == pytest.approx(10 * nb.per_unit.mean())
    assert set(nb.to_frame()["level"]) == {"per_unit", "aggregate"}


def test_net_benefit_sums_valued_outcomes_per_person(make_fit: MakeFit) -> None:
    first = make_fit({"arm[budget]": DRAWS}, outcome="wellbeing")
    second = make_fit({"arm[budget]": DRAWS[::-1]}, outcome="cost")
    (nb,) = net_benefit(
        [Valued(first, 2.0, 30.0), Valued(second, 1.0, 30.0)],
        cost_per_unit={"control": 10.0, "budget": 60.0},
    )
    expected = 60 * DRAWS + 30 * DRAWS[::-1] - 50
    assert nb.per_unit == pytest.approx(expected)
    assert nb.extra_cost == 50 and [p[0] for p in nb.parts] == ["wellbeing", "cost"]


def test_net_benefit_needs_every_arm_cost(make_fit: MakeFit) -> None:
    with pytest.raises(EstimationError, match="lacks arm"):
        net_benefit([Valued(make_fit({"arm[budget]": DRAWS}), 1.0)], cost_per_unit={"budget": 1.0})


def test_misuse_rate_is_beta_posterior() -> None:
    m = misuse_rate(1, 98, tolerance=0.05, population=500, cost_per_event=2000.0)
    exact = stats.beta(2, 98)
    assert m.mean == pytest.approx(0.02)
    assert m.p_above_tolerance == pytest.approx(exact.sf(0.05))
    assert m.expected_events == pytest.approx(500 * 0.02)
    assert m.expected_cost == pytest.approx(500 * 0.02 * 2000)
    assert m.ci_low < m.median < m.ci_high


def test_misuse_rejects_impossible_counts() -> None:
    with pytest.raises(EstimationError, match="0 <= events <= n"):
        misuse_rate(5, 3, tolerance=0.1)


def test_results_collect_decisions_and_net_benefit(make_fit: MakeFit) -> None:
    from trialkit._core.provenance import Provenance
    from trialkit.estimate.bayesian.results import BayesianResults

    fit = make_fit({"arm[budget]": DRAWS}, outcome="wellbeing")
    rule = evaluate_rule(
        [{"outcome": "wellbeing", "at_least": 0.5}], [fit], name="go", action="Roll out"
    )
    (nb,) = net_benefit([Valued(fit, 2.0)], cost_per_unit={"control": 0, "budget": 1})
    results = BayesianResults(
        fits=(fit,), decisions=(rule,), provenance=Provenance(), net_benefits=(nb,)
    )
    decisions = results.decisions_frame()
    assert decisions["rule_met"].tolist() == [True] and decisions["action"].iloc[0] == "Roll out"
    assert set(results.net_benefit_frame()["arm"]) == {"budget"}
    assert results.fit("wellbeing") is fit
    with pytest.raises(EstimationError, match="No fit for outcome"):
        results.fit("other")
