"""What the power calculation assumes about the outcome: continuous or binary.

The effect is always a difference on the outcome's own scale: a difference in means in
outcome units for a continuous outcome, a risk difference ``p_treatment - p_control`` for a
binary one. The outcome turns it into the test scale and gives each arm's variance.

Binary outcomes use one of three named tests:

- ``"arcsine"``: Cohen's h, ``h = 2 asin(sqrt(p_t)) - 2 asin(sqrt(p_c))``, whose estimate has
  variance ``1/n_t + 1/n_c`` (statsmodels ``proportion_effectsize`` + ``NormalIndPower``).
- ``"unpooled"``: the Wald z test of the risk difference with the unpooled variance
  ``p_t(1 - p_t)/n_t + p_c(1 - p_c)/n_c``, used under both the null and the alternative.
- ``"pooled"``: the z test of the risk difference with the pooled variance under the null,
  ``p̄(1 - p̄)(1/n_t + 1/n_c)`` with ``p̄ = (n_t p_t + n_c p_c)/(n_t + n_c)``, and the
  unpooled variance under the alternative (Fleiss, Levin & Paik 2003, §4.2 without the
  continuity correction; R's ``power.prop.test``; statsmodels'
  ``power_proportions_2indep``). Power is ``Φ((|Δ| − z σ₀)/σ₁) + Φ((−|Δ| − z σ₀)/σ₁)``.
  Stepped-wedge designs use one variance ``p̄(1 − p̄)`` for both, as for ``"unpooled"``.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import ClassVar, Literal

from trialkit.design._checks import check_option, check_real

BinaryMethod = Literal["arcsine", "unpooled", "pooled"]
EffectDirection = Literal["increase", "decrease"]
OutcomeKind = Literal["continuous", "binary", "survival"]

_EDGE = 1e-9


@dataclass(frozen=True, slots=True)
class ContinuousOutcome:
    """A continuous outcome with total (unconditional) standard deviation ``sd``.

    With ``sd=1`` (the default) effects are standardised (in SD units), as in PowerUp!.

    Examples
    --------
    >>> ContinuousOutcome(sd=12.0).standardise(6.0)
    0.5
    """

    sd: float = 1.0

    def __post_init__(self) -> None:
        check_real("sd", self.sd, 0.0, math.inf, closed="neither", func="ContinuousOutcome")

    kind: ClassVar[OutcomeKind] = "continuous"

    def variances(self, effect: float) -> tuple[float, float]:
        """Per-unit outcome variance in the treated and the control arm."""
        return self.sd**2, self.sd**2

    def pooled_variance(self, effect: float) -> float:
        """One per-unit variance for designs that need a single value (stepped wedge)."""
        return self.sd**2

    def null_variance(self, effect: float, treated_share: float, control_share: float) -> None:
        """The test's variance is the same under the null and the alternative."""
        return None

    def test_effect(self, effect: float) -> float:
        """The effect on the test scale (outcome units)."""
        return effect

    def standardise(self, effect: float) -> float:
        """The effect in SD units."""
        return effect / self.sd

    def effect_bounds(self, scale: float) -> tuple[float, float]:
        """Search interval for an MDE; ``scale`` is a standard error on the outcome scale."""
        return 0.0, 60.0 * scale


@dataclass(frozen=True, slots=True)
class BinaryOutcome:
    """A binary outcome with control-arm proportion ``p_control``.

    Parameters
    ----------
    p_control
        Expected proportion in the control arm, in (0, 1).
    method
        ``"arcsine"`` (Cohen's h), ``"unpooled"`` (Wald z with unpooled variance) or
        ``"pooled"`` (z test with the pooled variance under the null: Fleiss's formula).
    direction
        Whether an MDE is sought as an increase or a decrease from ``p_control``.

    Examples
    --------
    >>> round(BinaryOutcome(0.5).standardise(0.1), 4)
    0.2014
    """

    p_control: float
    method: BinaryMethod = "arcsine"
    direction: EffectDirection = "increase"

    def __post_init__(self) -> None:
        check_real("p_control", self.p_control, 0.0, 1.0, closed="neither", func="BinaryOutcome")
        check_option("method", self.method, BinaryMethod, func="BinaryOutcome")
        check_option("direction", self.direction, EffectDirection, func="BinaryOutcome")

    kind: ClassVar[OutcomeKind] = "binary"

    def p_treatment(self, effect: float) -> float:
        """Treated-arm proportion for a risk difference ``effect``."""
        return self.p_control + effect

    def variances(self, effect: float) -> tuple[float, float]:
        """Per-unit variance on the test scale in the treated and the control arm."""
        if self.method == "arcsine":
            return 1.0, 1.0
        p_t = _clip(self.p_treatment(effect))
        return p_t * (1 - p_t), self.p_control * (1 - self.p_control)

    def pooled_variance(self, effect: float) -> float:
        """Single per-unit variance: 1 (arcsine) or p̄(1 − p̄) at the mean proportion."""
        if self.method == "arcsine":
            return 1.0
        p_bar = _clip(self.p_control + effect / 2)
        return p_bar * (1 - p_bar)

    def null_variance(
        self, effect: float, treated_share: float, control_share: float
    ) -> float | None:
        """Per-unit variance under the null, ``p̄(1 − p̄)`` with ``p̄`` weighted by the arms'
        shares (``"pooled"`` only; ``None``: the same variance as under the alternative)."""
        if self.method != "pooled":
            return None
        p_t = _clip(self.p_treatment(effect))
        p_bar = (treated_share * p_t + control_share * self.p_control) / (
            treated_share + control_share
        )
        return p_bar * (1 - p_bar)

    def test_effect(self, effect: float) -> float:
        """Cohen's h (arcsine) or the risk difference (unpooled, pooled)."""
        if self.method == "arcsine":
            return self.standardise(effect)
        return effect

    def standardise(self, effect: float) -> float:
        """Cohen's h of the risk difference."""
        p_t = _clip(self.p_treatment(effect))
        return 2 * math.asin(math.sqrt(p_t)) - 2 * math.asin(math.sqrt(self.p_control))

    def effect_bounds(self, scale: float) -> tuple[float, float]:
        """Search interval for the MDE (a risk difference) in the chosen direction."""
        if self.direction == "increase":
            return 0.0, 1.0 - self.p_control - _EDGE
        return 0.0, -(self.p_control - _EDGE)


def _clip(p: float) -> float:
    return min(max(p, _EDGE), 1 - _EDGE)


Outcome = ContinuousOutcome | BinaryOutcome


def result_fields(
    outcome: Outcome, effect: float
) -> tuple[float | None, float | None, float | None, BinaryMethod | None]:
    """``(p_control, p_treatment, sd, binary_method)`` for a result row."""
    if isinstance(outcome, BinaryOutcome):
        return outcome.p_control, outcome.p_treatment(effect), None, outcome.method
    return None, None, outcome.sd, None
