"""The beta-binomial model from the protocol: `binary_model: beta_binomial`.

Its fit carries the exact posterior (:mod:`trialkit.estimate.bayesian.conjugate_binary`,
checked against closed forms in tests/reference/bayesian/test_conjugate_closed_form.py)
and independent draws from it; here: the natural-scale row is the exact one and agrees with
the draws within Monte Carlo error, the plan dispatches to it for unclustered binary
outcomes, its rows reach results.json's posterior rows, and a bad prior is refused.
"""

from __future__ import annotations

import math

import numpy as np
import pandas as pd
import pytest
from scipy import stats

from tests.unit.protocol.conftest import Flagship
from trialkit.analyse.bayes import _posteriors
from trialkit.estimate.bayesian.conjugate_binary import beta_binomial
from trialkit.estimate.bayesian.conjugate_fit import beta_binomial_fit
from trialkit.protocol import Protocol


@pytest.fixture(scope="module")
def flag(flagship_path) -> Flagship:  # type: ignore[no-untyped-def]
    return Flagship(flagship_path.read_text(encoding="utf-8"))


def _data(seed: int = 3) -> pd.DataFrame:
    rng = np.random.default_rng(seed)
    arm = np.repeat(["control", "budget"], [90, 80])
    y = (rng.random(arm.size) < np.where(arm == "budget", 0.42, 0.3)).astype(int)
    return pd.DataFrame({"stayed": y, "arm": arm})


@pytest.mark.parametrize("direction", ["higher_is_better", "lower_is_better"])
def test_natural_row_is_exact_and_matches_its_draws(direction: str) -> None:
    df = _data()
    fit = beta_binomial_fit(
        df,
        "stayed",
        "arm",
        control="control",
        prior=(2.0, 2.0),
        mid=0.05,
        rope=0.02,
        direction=direction,  # type: ignore[arg-type]
        draws=5000,
        chains=4,
        seed=11,
    )
    exact = beta_binomial(df, "stayed", "arm", control="control", prior=(2.0, 2.0)).differences[0]
    row = fit.to_frame().set_index("scale").loc["risk_difference"]
    assert row["mean"] == pytest.approx(exact.mean, rel=1e-12)
    assert (row["ci_low"], row["ci_high"]) == pytest.approx((exact.ci_low, exact.ci_high))
    draws = fit.draws()
    n = draws.size
    sign = 1 if direction == "higher_is_better" else -1
    checks = {
        "p_benefit": np.mean(sign * draws > 0),
        "p_mid": np.mean(sign * draws >= 0.05),
        "p_harm": np.mean(sign * draws < 0),
        "p_rope": np.mean(np.abs(draws) <= 0.02),
    }
    for name, mc in checks.items():
        se = math.sqrt(max(mc * (1 - mc), 1e-4) / n)
        assert abs(row[name] - mc) < 4.5 * se, f"{name}: exact {row[name]} vs draws {mc}"
    assert abs(row["median"] - np.median(draws)) < 4 * exact.sd / math.sqrt(n) * 1.3
    assert fit.diagnostics.passed and fit.sampler == "exact"


def test_log_odds_ratio_draws_follow_the_beta_posteriors() -> None:
    df = _data(4)
    fit = beta_binomial_fit(df, "stayed", "arm", control="control", draws=5000, seed=2)
    exact = beta_binomial(df, "stayed", "arm", control="control")
    rng = np.random.default_rng(77)  # independent draws, another seed
    c, b = exact.arms
    ref = stats.logistic.ppf(rng.beta(b.alpha, b.beta, 400_000)) - stats.logistic.ppf(
        rng.beta(c.alpha, c.beta, 400_000)
    )
    got = fit.draws(scale="log_odds_ratio")
    assert abs(got.mean() - ref.mean()) < 4 * ref.std() * math.sqrt(1 / got.size + 1 / ref.size)
    assert got.std() == pytest.approx(ref.std(), rel=0.05)


def test_the_plan_fits_unclustered_binary_outcomes_exactly(flag) -> None:
    from trialkit.estimate.bayesian.plan import _fit_one

    text = flag.edit(
        ("    priors:\n", "    binary_model: beta_binomial\n    beta_prior: [1, 1]\n    priors:\n")
    )
    protocol = _without_rules(text)  # the flagship's binary outcomes are clustered
    binary = next(o for o in protocol.outcomes if o.type == "binary")
    outcome = binary.model_copy(update={"level": protocol.units.name})
    frame = (
        _data()
        .rename(columns={"stayed": outcome.data_column})
        .assign(
            arm=lambda f: np.where(
                f["arm"] == "control",
                protocol.control.id,
                next(a.id for a in protocol.arms if not a.control),
            )
        )
    )
    notes: list[str] = []
    settings = {"draws": 500, "chains": 2, "tune": 10, "seed": 5, "sampler": "auto"}
    fit = _fit_one(protocol, {protocol.units.name: frame}, outcome, notes, settings)
    assert fit.family == "beta_binomial" and fit.sampler == "exact"
    rows = _posteriors(fit)
    assert [r.model for r in rows] == ["beta_binomial"]
    assert rows[0].prior.startswith("Beta(1, 1) on each arm's proportion")
    assert rows[0].scale == "risk_difference"


def test_a_bad_beta_prior_is_located(flag) -> None:
    text = flag.edit(("    priors:\n", "    beta_prior: [0, 1]\n    priors:\n"))
    flag.expect(
        text,
        r"should be greater than 0",
        field="analysis.bayesian.beta_prior[0]",
        line=flag.line(text, "    beta_prior: [0, 1]"),
    )


def test_check_refuses_the_model_for_clustered_binary_outcomes(flag) -> None:
    text = flag.edit(("    priors:\n", "    binary_model: beta_binomial\n    priors:\n"))
    flag.expect(
        text,
        r"`beta_binomial` treats every `safeguarding_concern`, "
        r"`intention_to_leave` answer as independent.* Fix: use `binary_model: logistic`",
        field="analysis.bayesian.binary_model",
        line=flag.line(text, "    binary_model: beta_binomial"),
    )


def test_a_clustered_binary_outcome_keeps_the_logistic_model(flag, monkeypatch) -> None:
    """A protocol built in Python past `check` still never gets an unclustered fit."""
    from trialkit.estimate.bayesian import plan

    text = flag.edit(("    priors:\n", "    binary_model: beta_binomial\n    priors:\n"))
    protocol = _without_rules(text)
    binary = next(o for o in protocol.outcomes if o.type == "binary")
    outcome = binary.model_copy(update={"level": protocol.units.name})
    frame = (
        _data()
        .rename(columns={"stayed": outcome.data_column})
        .assign(
            cluster=np.arange(170) % 17,
            arm=lambda f: np.where(
                f["arm"] == "control",
                protocol.control.id,
                next(a.id for a in protocol.arms if not a.control),
            ),
        )
    )
    seen: dict[str, object] = {}
    monkeypatch.setattr(plan, "_bayes_with_retry", lambda name, notes, **kw: seen.update(kw))
    notes: list[str] = []
    plan._fit_one(
        protocol,
        {protocol.units.name: frame},
        outcome,
        notes,
        {"draws": 10, "chains": 1, "tune": 10, "seed": 1, "sampler": "auto"},
    )
    assert seen["family"] == "logistic" and seen["cluster"] == "cluster"
    assert any("ignores clustering" in n for n in notes)


def _without_rules(text: str) -> Protocol:
    """The protocol as its fields validate, before the cross-field rules (as the API may)."""
    import yaml

    return Protocol.model_validate(yaml.safe_load(text), context={"defer_rules": True})
