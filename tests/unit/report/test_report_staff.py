"""The Staff section's rate sentences (sickness absence per FTE-year)."""

from __future__ import annotations

from types import SimpleNamespace
from typing import Any

from trialkit.protocol import Protocol
from trialkit.report.phrases import Arms
from trialkit.report.staff import rate_sentences


class _Doc:
    """The parts of a results document the staff sentences read."""

    def __init__(self, protocol: Protocol, means: dict[str, float], est: Any) -> None:
        self.protocol, self._means, self._est = protocol, means, est

    def estimate(self, outcome: str, arm: str, estimand: str = "ITT") -> Any:
        return self._est if (outcome, arm) == ("sickness_days", "budget") else None

    def descriptive(self, outcome: str, arm: str) -> Any:
        mean = self._means.get(arm) if outcome == "sickness_days" else None
        return None if mean is None else SimpleNamespace(mean=mean)


def test_each_arms_rate_and_the_difference_in_words(flagship: Protocol) -> None:
    est = SimpleNamespace(estimate=-1.23, ci_low=-2.94, ci_high=0.48, ci_level=0.95, p_value=0.1712)
    doc = _Doc(flagship, {"usual": 8.31, "budget": 7.08}, est)
    (text,) = rate_sentences(doc, Arms(flagship))  # type: ignore[arg-type]
    assert text == (
        "Staff in teams given the discretionary budget had 7.08 days per FTE-year of sickness "
        "absence, against 8.31 in teams that kept usual practice (exploratory outcome): a "
        "difference of −1.23 days per FTE-year (95% confidence interval −2.94 to +0.48; "
        "p = 0.171)."
    )


def test_no_sentence_without_the_rows(flagship: Protocol) -> None:
    doc = _Doc(flagship, {"budget": 7.08}, SimpleNamespace())
    assert rate_sentences(doc, Arms(flagship)) == []  # type: ignore[arg-type]
