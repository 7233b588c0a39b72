"""Estimands, the frequentist and Bayesian analysis plans, and decision rules."""

from __future__ import annotations

import math
from typing import Any, Literal

from pydantic import (
    Field,
    PositiveFloat,
    PositiveInt,
    ValidationInfo,
    field_validator,
    model_validator,
)
from pydantic_core import PydanticCustomError

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
    """A prior on one outcome's treatment effect (in outcome units).

    Either ``mean`` and ``sd``, or a previous pilot's or published ``estimate`` with its
    ``std_error``: a normal prior with that mean and SD ``std_error / sqrt(weight)``
    (``weight`` < 1 discounts the earlier evidence, as a power prior does).
    """

    outcome: Name
    distribution: PriorDistribution = "normal"
    mean: float = 0.0
    sd: float = Field(gt=0)
    source: Text
    estimate: float | None = Field(
        None,
        description="A previous pilot's or published estimate of the effect, in the "
        "outcome's units: the prior's mean (give `std_error` too, not `mean` or `sd`).",
    )
    std_error: float | None = Field(
        None, gt=0, validate_default=True, description="The standard error of `estimate`."
    )
    weight: float = Field(
        1.0,
        gt=0,
        le=1,
        description="Weight of the earlier evidence (power prior): the prior "
        "SD is `std_error / sqrt(weight)`; 1 takes it at face value.",
    )

    @model_validator(mode="before")
    @classmethod
    def _from_estimate(cls, data: Any) -> Any:
        """``mean`` and ``sd`` from ``estimate`` and ``std_error`` (checked field by field)."""
        if not isinstance(data, dict) or data.get("estimate") is None:
            return data
        try:
            mean, se = float(data["estimate"]), float(data.get("std_error", math.nan))
            weight = float(data.get("weight", 1.0))
        except (TypeError, ValueError):
            mean = se = weight = math.nan
        if not (math.isfinite(mean) and se > 0 and 0 < weight <= 1):
            # The fields' own checks report what is wrong, where; a stand-in SD keeps
            # "`sd` is missing" out of the messages.
            return {"sd": 1.0, **data}
        given = {"mean": mean, "sd": se / math.sqrt(weight)}
        clash = [k for k in given if k in data and not _same(data[k], given[k])]
        if clash:
            raise PydanticCustomError(
                "prior_overdetermined",
                "give either `estimate` and `std_error` or `mean` and `sd`, not both; "
                "remove {names}",
                {"names": " and ".join(f"`{k}`" for k in clash)},
            )
        return {**data, **given}

    @field_validator("estimate")
    @classmethod
    def _normal_only(cls, value: float | None, info: ValidationInfo) -> float | None:
        if value is not None and info.data.get("distribution", "normal") != "normal":
            raise PydanticCustomError(
                "prior_from_estimate_normal",
                "a prior from an earlier estimate is normal: remove `distribution: "
                "student_t`, or give `mean` and `sd` for a Student-t prior",
            )
        return value

    @field_validator("std_error")
    @classmethod
    def _paired(cls, value: float | None, info: ValidationInfo) -> float | None:
        if "estimate" not in info.data:  # its own error is reported
            return value
        if (value is None) != (info.data["estimate"] is None):
            raise PydanticCustomError(
                "prior_from_estimate_pair",
                "a prior from an earlier estimate needs both `estimate` and `std_error` "
                "(or `mean` and `sd` instead)",
            )
        return value


def _same(value: Any, number: float) -> bool:
    try:
        return math.isclose(float(value), number, rel_tol=1e-12)
    except (TypeError, ValueError):
        return False


class BayesianPlan(StrictModel):
    """Bayesian models, priors and sampling settings."""

    enabled: bool = True
    default_prior: PriorDefault = "weakly_informative"
    likelihood: LikelihoodFamily = "auto"
    binary_model: Literal["logistic", "beta_binomial"] = Field(
        "logistic",
        description="Model of binary outcomes: `logistic` (regression with the "
        "design's clusters, blocks and covariates) or `beta_binomial` (the exact conjugate "
        "posterior of each arm's proportion under a `beta_prior`; only for binary outcomes of "
        "individually randomised units: `trialkit check` refuses it for clustered ones).",
    )
    beta_prior: tuple[PositiveFloat, PositiveFloat] = Field(
        (1.0, 1.0),
        description="`[a, b]` of the Beta prior on each arm's proportion "
        "(`binary_model: beta_binomial`); `[1, 1]` is uniform.",
    )
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
