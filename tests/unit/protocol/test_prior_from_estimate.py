"""A prior from an earlier estimate and its standard error, declared in the protocol.

``estimate`` / ``std_error`` (and optionally ``weight``) become the prior's mean and SD
``std_error / sqrt(weight)``; every way of getting it wrong is refused with a located error
(file, line, field) as ``trialkit check`` prints it.
"""

from __future__ import annotations

import math

import pytest

from trialkit.protocol import parse_protocol

PRIOR = """      - outcome: loneliness
        distribution: normal
        mean: 0
        sd: 1.0
"""


def _with(flag, body: str) -> str:
    return flag.edit((PRIOR, body))


def test_prior_from_an_estimate_sets_mean_and_sd(flag) -> None:
    text = _with(
        flag,
        "      - outcome: loneliness\n        estimate: -0.4\n"
        "        std_error: 0.25\n        weight: 0.5\n",
    )
    prior = parse_protocol(text).analysis.bayesian.priors[0]
    assert prior.mean == -0.4
    assert prior.sd == pytest.approx(0.25 / math.sqrt(0.5), rel=1e-15)
    assert (prior.estimate, prior.std_error, prior.weight) == (-0.4, 0.25, 0.5)
    again = type(prior).model_validate(prior.model_dump())
    assert again == prior, "a dumped prior validates to itself"


def test_the_bayesian_plan_and_the_pre_analysis_plan_use_it(flag) -> None:
    import pandas as pd

    from trialkit.estimate.bayesian.plan import _prior
    from trialkit.report.plan import _priors

    text = _with(
        flag,
        "      - outcome: loneliness\n        estimate: -0.4\n"
        "        std_error: 0.25\n        weight: 0.5\n",
    )
    protocol = parse_protocol(text)
    notes: list[str] = []
    y = pd.Series([1.0, 2.0, 3.0, 2.0])
    prior = _prior(
        protocol,
        protocol.outcome("loneliness"),
        "normal",
        y,
        pd.Series([True, False, True, False]),
        notes,
    )
    assert prior is not None
    assert (prior.distribution, prior.mu) == ("normal", -0.4)
    assert prior.sigma == pytest.approx(0.25 / math.sqrt(0.5), rel=1e-15)
    rows = [r for r in _priors(protocol) if "earlier estimate" in r["prior"]]
    assert rows and "-0.4 (SE 0.25, weight 0.5)" in rows[0]["prior"]


CASES = [
    (
        "missing_std_error",
        "        estimate: -0.4\n",
        r"needs both `estimate` and `std_error`",
        "analysis.bayesian.priors[0].std_error",
        "      - outcome: loneliness",
    ),
    (
        "std_error_alone",
        "        std_error: 0.25\n        sd: 1.0\n",
        r"needs both `estimate` and `std_error`",
        "analysis.bayesian.priors[0].std_error",
        "        std_error: 0.25",
    ),
    (
        "both_forms",
        "        estimate: -0.4\n        std_error: 0.25\n        sd: 1.0\n",
        r"not both; remove `sd`",
        "analysis.bayesian.priors[0]",
        "      - outcome: loneliness",
    ),
    (
        "student_t",
        "        distribution: student_t\n        estimate: -0.4\n        std_error: 0.25\n",
        r"is normal: remove `distribution: student_t`",
        "analysis.bayesian.priors[0].estimate",
        "        estimate: -0.4",
    ),
    (
        "weight_above_one",
        "        estimate: -0.4\n        std_error: 0.25\n        weight: 1.5\n",
        r"`weight` should be less than or equal to 1",
        "analysis.bayesian.priors[0].weight",
        "        weight: 1.5",
    ),
    (
        "negative_std_error",
        "        estimate: -0.4\n        std_error: -0.25\n",
        r"`std_error` should be greater than 0",
        "analysis.bayesian.priors[0].std_error",
        "        std_error: -0.25",
    ),
]


@pytest.mark.parametrize(
    ("name", "body", "match", "field", "line"), CASES, ids=[c[0] for c in CASES]
)
def test_a_bad_prior_from_an_estimate_is_located(
    flag, name: str, body: str, match: str, field: str, line: str
) -> None:
    text = _with(flag, "      - outcome: loneliness\n" + body)
    flag.expect(text, match, field=field, line=flag.line(text, line))
