"""Estimands, the frequentist and Bayesian analysis plans, and decision rules."""

from __future__ import annotations

from pydantic import Field, PositiveInt

from trialkit.protocol.base import Column, Name, Probability, StrictModel, Text
from trialkit.protocol.vocabulary import (
    BinaryEffect,
    DecisionEvent,
    DfMethod,
    EstimandType,
    EstimatorName,
    LikelihoodFamily,
    MissingData,
    PriorDefault,
    PriorDistribution,
    SeType,
)


class Estimand(StrictModel):
    """A target of inference: the intention-to-treat effect or the complier effect."""

    name: Name
    type: EstimandType
    label: Text
    take_up_column: Column | None = Field(
        None, description="Unit-level 0/1 column: did the unit take up its arm (CACE)."
    )


class FrequentistPlan(StrictModel):
    """Estimator, standard errors and inference settings."""

    estimator: EstimatorName = "lin"
    se_type: SeType = Field("auto", description="`auto`: HC2 without clusters, CR2 with.")
    df: DfMethod = Field(
        "bell_mccaffrey",
        description="Degrees of freedom of HC2 intervals: `bell_mccaffrey` (Imbens & Kolesár "
        "2016; right in small unbalanced samples) or `residual` (N − k, estimatr's). CR2 always "
        "uses Bell–McCaffrey df.",
    )
    alpha: Probability = 0.05
    ri_draws: int = Field(10_000, ge=0, description="Randomisation-inference draws; 0 for none.")
    missing_data: MissingData = "complete_case"
    binary_effect: BinaryEffect = "risk_difference"


class Prior(StrictModel):
    """A prior on one outcome's treatment effect (in outcome units)."""

    outcome: Name
    distribution: PriorDistribution = "normal"
    mean: float = 0.0
    sd: float = Field(gt=0)
    source: Text


class BayesianPlan(StrictModel):
    """Bayesian models, priors and sampling settings."""

    enabled: bool = True
    default_prior: PriorDefault = "weakly_informative"
    likelihood: LikelihoodFamily = "auto"
    priors: tuple[Prior, ...] = ()
    draws: PositiveInt = 1000
    tune: PositiveInt = 1000
    chains: PositiveInt = 4
    interval: Probability = 0.95


class Condition(StrictModel):
    """One probability statement: P(event for outcome) ≥ at_least, or ≤ at_most.

    ``benefit``: the effect lies in the direction of benefit; ``at_least_mid``: it is at least
    the minimum important difference (or ``margin``) in that direction; ``harm``: it goes
    the wrong way by more than ``margin`` (default 0).
    """

    outcome: Name
    event: DecisionEvent
    margin: float | None = Field(None, ge=0)
    at_least: Probability | None = None
    at_most: Probability | None = None


class DecisionRule(StrictModel):
    """A pre-registered rule tying probabilities to a policy action."""

    name: Name
    action: Text
    otherwise: Text = "Do not take the action; review the evidence and the pilot's design."
    conditions: tuple[Condition, ...] = Field(min_length=1)


class Contrast(StrictModel):
    """A pre-registered comparison of two treated arms (each arm against control is implied)."""

    arm: Name = Field(description="The arm whose effect is estimated.")
    versus: Name = Field(description="The treated arm it is compared with (not the control).")


class Analysis(StrictModel):
    """The pre-registered analysis plan."""

    population: Text = "Intention to treat: every randomised unit, analysed in its allocated arm."
    contrasts: tuple[Contrast, ...] = Field(
        (), description="Pairwise comparisons of treated arms, beyond each arm against control."
    )
    frequentist: FrequentistPlan = FrequentistPlan()
    bayesian: BayesianPlan = BayesianPlan()
    decision_rules: tuple[DecisionRule, ...] = ()
    sensitivity: tuple[Text, ...] = ()
