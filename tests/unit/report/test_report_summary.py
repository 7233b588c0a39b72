"""The decision makers' summary: headline wording follows the registered verdict.

Inputs are typed rows from the real pipeline (``council_run``), varied one field at a time.
"""

from __future__ import annotations

from typing import Any

import pytest

from trialkit.report import summary
from trialkit.report.phrases import Arms, condition_words


@pytest.fixture(scope="module")
def parts(council_run: Any) -> dict[str, Any]:
    doc = council_run.results
    verdict = doc.verdicts[0]
    return {
        "doc": doc,
        "verdict": verdict,
        "est": doc.estimate(verdict.outcome, verdict.arm),
        "post": doc.posterior(verdict.outcome, verdict.arm),
        "outcome": doc.protocol.outcome(verdict.outcome),
        "arms": Arms(doc.protocol),
    }


def _headline(parts: dict[str, Any], **changes: Any) -> dict[str, Any]:
    verdict = parts["verdict"].model_copy(update=changes)
    return summary.headline(
        parts["outcome"], verdict, parts["est"], parts["arms"], parts["doc"].protocol
    )


def test_unclear_result_has_no_direction_words(parts: dict[str, Any]) -> None:
    est = parts["est"]
    block = _headline(parts, frequentist="unclear", p_value=0.171, adjusted=True)
    assert block["lead"].startswith(
        "The pilot could not tell whether the discretionary budget changed loneliness."
    )
    assert "improvement" not in block["lead"] and "worse" not in block["lead"]
    assert (
        "p = 0.171 after allowing for the other outcomes in its family, not below the "
        "registered 0.05" in block["lead"]
    )
    digits = summary.Scale.of(parts["outcome"], est).digits
    assert f"{abs(est.estimate):.{digits}f} points" in block["lead"]


def test_a_westfall_young_p_value_says_it_is_from_re_randomisation(parts: dict[str, Any]) -> None:
    block = _headline(
        parts, frequentist="unclear", p_value=0.171, adjusted=True, adjustment="westfall_young"
    )
    assert (
        "p = 0.171 after allowing for the other outcomes in its family (Westfall–Young, by "
        "re-randomising the family), not below the registered 0.05" in block["lead"]
    )
    holm = _headline(parts, frequentist="unclear", p_value=0.171, adjusted=True, adjustment="holm")
    assert "Westfall" not in holm["lead"]


def test_a_clear_re_randomised_result_explains_a_model_interval_through_zero(
    parts: dict[str, Any],
) -> None:
    """Westfall–Young's p-value is not the model's: a clear result can sit beside a model
    interval that includes zero, and the summary says why (never for Holm)."""
    est = parts["est"].model_copy(update={"ci_low": -0.1, "ci_high": 0.2})
    verdict = parts["verdict"].model_copy(
        update={
            "frequentist": "harm",
            "p_value": 0.03,
            "adjusted": True,
            "adjustment": "westfall_young",
        }
    )
    args = (parts["outcome"], verdict, est, parts["arms"], parts["doc"].protocol)
    why = "registered p-value comes from re-randomising the family"
    assert why in summary.headline(*args)["interval"]
    holm = verdict.model_copy(update={"adjustment": "holm"})
    block = summary.headline(parts["outcome"], holm, est, parts["arms"], parts["doc"].protocol)
    assert why not in block["interval"]


@pytest.mark.parametrize(
    ("verdict", "word"),
    [("benefit", "this is an improvement"), ("harm", "this is a change for the worse")],
)
def test_clear_result_says_which_way(parts: dict[str, Any], verdict: str, word: str) -> None:
    block = _headline(parts, frequentist=verdict, p_value=0.004, adjusted=False)
    assert word in block["lead"] and "could not tell" not in block["lead"]
    assert "Lower is better here" in block["lead"]
    assert block["interval"].startswith("Allowing for chance, the true difference is probably")


def test_sure_sentences_never_say_zero_or_certain(parts: dict[str, Any]) -> None:
    post = parts["post"].model_copy(update={"p_benefit": 1.0, "p_mid": 0.0, "p_rope": 0.5})
    lines = summary.sure(parts["outcome"], post, parts["est"], parts["arms"])
    assert "is more than 99%" in lines[0] and "is less than 1%" in lines[1]
    assert not any(" 0%" in line or "100%" in line for line in lines)


def test_disagreement_names_direction_prior_and_model(parts: dict[str, Any]) -> None:
    post = parts["post"].model_copy(update={"mean": -parts["est"].estimate})
    verdict = parts["verdict"].model_copy(
        update={
            "frequentist": "unclear",
            "bayesian": "benefit",
            "disagree": True,
            "sign_differs": True,
            "adjusted": True,
        }
    )
    text = summary.disagreement(parts["outcome"], verdict, post, parts["est"], parts["arms"])
    assert "They point in opposite directions." in text
    assert post.prior in text and "normal model" in text
    assert "adjusted for the other outcomes in its family" in text


def test_plan_terms_explain_mid_band_and_powered_effect(parts: dict[str, Any]) -> None:
    text = summary.plan_terms(parts["outcome"], parts["est"], 0.6)
    assert text.startswith("The smallest change in loneliness that matters")
    assert "±0.30 points are treated as too small to matter" in text
    assert text.endswith("the pilot was sized to detect a change of 0.60 points.")


def test_decision_condition_words(parts: dict[str, Any]) -> None:
    protocol = parts["doc"].protocol
    rule = protocol.analysis.decision_rules[0]
    assert condition_words(protocol, rule.conditions[0]) == (
        "The chance that the discretionary budget reduced loneliness is at least 90%."
    )


@pytest.mark.parametrize("ci", [(-0.54, -0.04), (-0.54, 0.04)])
def test_unadjusted_interval_leaving_out_zero_is_explained(
    parts: dict[str, Any], ci: tuple[float, float]
) -> None:
    est = parts["est"].model_copy(update={"ci_low": ci[0], "ci_high": ci[1]})
    verdict = parts["verdict"].model_copy(update={"frequentist": "unclear", "adjusted": True})
    block = summary.headline(parts["outcome"], verdict, est, parts["arms"], parts["doc"].protocol)
    explained = "does not allow for the other outcomes in the family" in block["interval"]
    assert explained == (ci[1] < 0)
