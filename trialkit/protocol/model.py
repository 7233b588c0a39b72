"""The pilot protocol: one typed document that drives every stage."""

from __future__ import annotations

from typing import Literal

from pydantic import Field, ValidationInfo, model_validator

from trialkit._core.hashing import canonical_json, sha256_text
from trialkit.protocol.analysis import Analysis, Estimand
from trialkit.protocol.arms import Arm, DiscretionaryBudget
from trialkit.protocol.base import StrictModel
from trialkit.protocol.costs import Costs, PowerPlan
from trialkit.protocol.design import Design
from trialkit.protocol.outcomes import Covariate, Family, Outcome, Subgroup
from trialkit.protocol.spending import Spending
from trialkit.protocol.trial import Dates, Governance, Identity, Rationale
from trialkit.protocol.units import Level, Units

_ITT = Estimand(name="itt", type="ITT", label="Effect of being offered the reform (ITT)")


class Protocol(StrictModel):
    """A pilot protocol.

    Build one with :func:`trialkit.protocol.load_protocol` from YAML, which reports every
    problem with its file and line; ``Protocol.model_validate`` runs the same checks.
    """

    schema_version: Literal[1] = 1
    identity: Identity
    rationale: Rationale
    governance: Governance = Governance()
    dates: Dates | None = None
    units: Units
    levels: tuple[Level, ...] = ()
    arms: tuple[Arm, ...] = Field(min_length=2)
    design: Design
    outcomes: tuple[Outcome, ...] = Field(min_length=1)
    families: tuple[Family, ...] = ()
    covariates: tuple[Covariate, ...] = ()
    subgroups: tuple[Subgroup, ...] = ()
    estimands: tuple[Estimand, ...] = (_ITT,)
    analysis: Analysis = Analysis()
    power: PowerPlan = PowerPlan()
    costs: Costs = Costs()
    spending: Spending | None = None

    @model_validator(mode="after")
    def _cross_field_rules(self, info: ValidationInfo) -> Protocol:
        if info.context and info.context.get("defer_rules"):
            return self
        from trialkit.protocol.rules import check_rules

        problems = check_rules(self)
        if problems:
            raise ValueError(
                "; ".join(f"{'.'.join(map(str, p.loc))}: {p.message}" for p in problems)
            )
        return self

    # Convenience views used by every stage -------------------------------------------------

    @property
    def seed(self) -> int:
        """The registered seed of the allocation."""
        return self.design.seed

    @property
    def control(self) -> Arm:
        """The control (comparison) arm."""
        return next(arm for arm in self.arms if arm.control)

    @property
    def level_names(self) -> tuple[str, ...]:
        """The unit's name followed by every measurement level's name."""
        return (self.units.name, *(level.name for level in self.levels))

    def level(self, name: str) -> Level | None:
        """The measurement level called ``name``; ``None`` for the randomised unit itself."""
        return next((lv for lv in self.levels if lv.name == name), None)

    def budget(self, arm: str) -> DiscretionaryBudget | None:
        """The discretionary budget of ``arm``, if it has one."""
        found = next((a for a in self.arms if a.id == arm), None)
        return None if found is None else found.intervention.discretionary_budget

    def outcome(self, name: str) -> Outcome:
        """The outcome called ``name``."""
        for outcome in self.outcomes:
            if outcome.name == name:
                return outcome
        raise KeyError(name)

    def bayesian_outcomes(self) -> tuple[Outcome, ...]:
        """The outcomes the Bayesian plan fits: primary, secondary, harm and mechanism
        outcomes, and any other outcome a decision rule names (so every registered rule can
        be evaluated); time-to-event outcomes by a discrete-time hazard model."""
        named = {c.outcome for rule in self.analysis.decision_rules for c in rule.conditions}
        return tuple(
            o
            for o in self.outcomes
            if o.role in ("primary", "secondary", "harm", "mechanism") or o.name in named
        )

    def outcomes_in(self, family: str) -> tuple[Outcome, ...]:
        """The outcomes of one family, in protocol order."""
        return tuple(o for o in self.outcomes if o.family == family)

    def canonical_json(self) -> str:
        """The protocol as canonical JSON (sorted keys, one number format)."""
        return canonical_json(self.model_dump(mode="json"))

    def content_hash(self) -> str:
        """sha256 of :meth:`canonical_json`: the protocol's identity for provenance."""
        return sha256_text(self.canonical_json())
