"""What the registered criterion says of an effect, in each school: benefit, harm or unclear.

One place for the rule every report sentence with a direction word follows.

- Frequentist: the registered primary analysis is a two-sided test at the protocol's
  ``alpha``, on the family-adjusted p-value where the family is adjusted. Below alpha, the
  sign of the estimate (oriented by the outcome's direction) decides benefit or harm.
- Bayesian: P(benefit) ≥ 1 − alpha/2 is benefit and ≤ alpha/2 is harm, the one-sided
  counterparts of the same two-sided test (under a flat prior they agree with it).
"""

from __future__ import annotations

from typing import Literal

from trialkit.protocol.vocabulary import Direction

Verdict = Literal["benefit", "harm", "unclear"]


def _good(estimate: float, direction: Direction) -> bool:
    return (estimate > 0) == (direction == "higher_is_better")


def frequentist_verdict(
    estimate: float, p_value: float, *, alpha: float, direction: Direction
) -> Verdict:
    """``benefit``/``harm`` when ``p_value < alpha`` (by the sign of ``estimate``), else unclear.

    Examples
    --------
    >>> frequentist_verdict(-0.6, 0.01, alpha=0.05, direction="lower_is_better")
    'benefit'
    >>> frequentist_verdict(-0.6, 0.08, alpha=0.05, direction="lower_is_better")
    'unclear'
    """
    if not p_value < alpha or estimate == 0:
        return "unclear"
    return "benefit" if _good(estimate, direction) else "harm"


def bayesian_verdict(p_benefit: float, *, alpha: float) -> Verdict:
    """``benefit`` when P(benefit) ≥ 1 − alpha/2, ``harm`` when ≤ alpha/2, else unclear.

    Examples
    --------
    >>> bayesian_verdict(0.99, alpha=0.05), bayesian_verdict(0.95, alpha=0.05)
    ('benefit', 'unclear')
    """
    if p_benefit >= 1 - alpha / 2:
        return "benefit"
    if p_benefit <= alpha / 2:
        return "harm"
    return "unclear"


def signs_differ(estimate: float, posterior_mean: float) -> bool:
    """Whether two estimates point in opposite directions (a zero has no direction)."""
    return estimate * posterior_mean < 0
