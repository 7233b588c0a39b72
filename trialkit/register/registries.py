"""The fields of each registry's form, each mapped to the protocol field that fills it.

A registry is a data table: section, label, whether it is required, and where the value
comes from (:mod:`trialkit.register.export_fields`). A field the protocol schema cannot fill
has no source and is always listed as missing. The field lists follow the project's
references; what they mark as recalled is said in each registry's ``caveat``.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal, get_args

from trialkit.register.export_fields import (
    RegistryField,
    arms,
    attr,
    field,
    outcomes,
    power_rows,
    randomisation,
    registration_facts,
    sample_size,
    stated,
)

Registry = Literal["osf", "aea", "uk-registry"]
REGISTRIES: tuple[Registry, ...] = get_args(Registry)


@dataclass(frozen=True, slots=True)
class RegistryForm:
    """A registry's name, where its field list comes from, and its fields in form order."""

    key: Registry
    name: str
    caveat: str
    fields: tuple[RegistryField, ...]


_TRIAL, _DATES, _SPONSOR, _DETAILS = (
    "Trial information",
    "Dates",
    "Sponsors and partners",
    "Experimental details",
)
_CLUSTERED = "design.type"

AEA = RegistryForm(
    "aea",
    "AEA RCT Registry",
    (
        "Fields and required marks (*) from the registry's field list "
        '(https://www.socialscienceregistry.org/site/version); the fields after "Primary '
        "outcomes\" follow J-PAL's summary and are partly recalled."
    ),
    (
        field(_TRIAL, "Trial title", True, "identity.title"),
        field(_TRIAL, "Country", True, "identity.country"),
        field(_TRIAL, "Region", False),
        field(_TRIAL, "Primary investigator name", True, "identity.contact.name"),
        field(_TRIAL, "Primary investigator affiliation", False, "identity.organisation"),
        field(_TRIAL, "Primary investigator email", False, "identity.contact.email"),
        field(_TRIAL, "Other primary investigators", False),
        field(
            _TRIAL,
            "Study status",
            True,
            "identity.status",
            attr("identity.status"),
            "The registry offers: in development, on-going, completed, withdrawn.",
        ),
        field(_TRIAL, "Keywords", True, "identity.keywords"),
        field(_TRIAL, "JEL codes", False),
        field(_TRIAL, "Secondary identifying numbers", False, "identity.registry_ids"),
        field(
            _TRIAL,
            "Abstract",
            True,
            note="`rationale.problem` and `rationale.theory_of_change` hold the material for one.",
        ),
        field(
            _TRIAL,
            "External links",
            False,
            "identity.registry_ids[].url",
            lambda f: [r.url for r in f.protocol.identity.registry_ids if r.url],
        ),
        field(_DATES, "Trial start date", True, "dates.start"),
        field(_DATES, "Intervention start date", True, "dates.intervention_start"),
        field(_DATES, "Intervention end date", True, "dates.intervention_end"),
        field(_DATES, "Trial end date", True, "dates.end"),
        field(_SPONSOR, "Trial sponsors", False, "governance.funder"),
        field(_SPONSOR, "Trial partners", False),
        field(_DETAILS, "Interventions", False, "arms[].intervention", arms),
        field(_DETAILS, "Primary outcomes", True, "outcomes[role=primary]", outcomes("primary")),
        field(_DETAILS, "Secondary outcomes", False, "outcomes[role!=primary]", outcomes()),
        field(
            _DETAILS,
            "Experimental design",
            True,
            "design.type, design.framework",
            lambda f: {"type": f.protocol.design.type, "framework": f.protocol.design.framework},
        ),
        field(
            _DETAILS,
            "Randomisation method",
            True,
            "design, governance.randomised_by",
            randomisation,
        ),
        field(_DETAILS, "Randomisation unit", True, "units.label", attr("units.label")),
        field(
            _DETAILS,
            "Was the treatment clustered?",
            True,
            _CLUSTERED,
            attr(_CLUSTERED),
            "Clustered when the design type is `cluster` or `stepped_wedge`.",
        ),
        field(_DETAILS, "Planned number of clusters", True, "units.planned", attr("units.planned")),
        field(
            _DETAILS,
            "Planned number of observations",
            True,
            "units.planned, levels[].per_unit",
            sample_size,
            "Per level: planned mean per unit (`levels[].per_unit.mean`).",
        ),
        field(
            _DETAILS,
            "Sample size by arm",
            True,
            "units.planned, arms[].ratio",
            lambda f: {
                "planned_units": f.protocol.units.planned,
                "ratios": {a.id: a.ratio for a in f.protocol.arms},
            },
            "Units are split between arms by these ratios.",
        ),
        field(
            _DETAILS,
            "Minimum detectable effect and power",
            False,
            "power table at registration",
            power_rows,
        ),
        field(_DETAILS, "IRB name and approval", False, "governance.ethics"),
        field(_DETAILS, "Analysis plan documents", False, "registration", registration_facts),
    ),
)

_INFO, _DESIGN, _SAMPLING, _VARS, _ANALYSIS = (
    "Study information",
    "Design plan",
    "Sampling plan",
    "Variables",
    "Analysis plan",
)

OSF = RegistryForm(
    "osf",
    "OSF Preregistration",
    (
        "Fields of the OSF Prereg form (Bowman et al. 2016, doi 10.31222/osf.io/epgjd). The "
        "project's references do not record which fields the form requires: required is "
        "null for every field."
    ),
    (
        field(_INFO, "Title", None, "identity.title"),
        field(
            _INFO,
            "Authors",
            None,
            "identity.contact.name",
            note="Only the contact person is in the protocol; add co-authors.",
        ),
        field(
            _INFO,
            "Description",
            None,
            "rationale.problem, rationale.theory_of_change",
            lambda f: {
                "problem": f.protocol.rationale.problem,
                "theory_of_change": f.protocol.rationale.theory_of_change,
            },
        ),
        field(_INFO, "Hypotheses", None, "rationale.hypotheses", attr("rationale.hypotheses")),
        field(
            _INFO,
            "Predicted effects (direction and size)",
            None,
            "outcomes[].direction, outcomes[].assumptions.effect",
            lambda f: [
                {
                    "outcome": o.name,
                    "direction": o.direction,
                    "effect": None if o.assumptions is None else o.assumptions.effect,
                    "unit": o.unit or None,
                }
                for o in f.protocol.outcomes
            ],
        ),
        field(
            _DESIGN,
            "Study type",
            None,
            "design.type",
            attr("design.type"),
            "A randomised trial (an experiment).",
        ),
        field(_DESIGN, "Blinding", None, "governance.blinding"),
        field(
            _DESIGN,
            "Study design",
            None,
            "design, arms",
            lambda f: {
                "type": f.protocol.design.type,
                "framework": f.protocol.design.framework,
                "arms": {a.id: a.ratio for a in f.protocol.arms},
            },
        ),
        field(_DESIGN, "Randomisation", None, "design, governance.randomised_by", randomisation),
        field(
            _SAMPLING,
            "Existing data",
            None,
            note="Not in the protocol; the ledger "
            "(`trialkit verify`) shows whether any data were validated before registration.",
        ),
        field(_SAMPLING, "Explanation of existing data", None),
        field(
            _SAMPLING,
            "Data collection procedures",
            None,
            "outcomes[].measurement",
            outcomes("primary", "secondary", "exploratory", "harm", "monitoring", "mechanism"),
        ),
        field(_SAMPLING, "Sample size", None, "units.planned, levels[].per_unit", sample_size),
        field(_SAMPLING, "Sample size rationale", None, "power table at registration", power_rows),
        field(_SAMPLING, "Stopping rule", None),
        field(_VARS, "Manipulated variables", None, "arms[].intervention", arms),
        field(
            _VARS,
            "Measured variables",
            None,
            "outcomes, covariates",
            lambda f: {
                "outcomes": [o.name for o in f.protocol.outcomes],
                "covariates": [c.name for c in f.protocol.covariates],
            },
        ),
        field(
            _VARS,
            "Indices",
            None,
            "families[].index",
            lambda f: [
                {
                    "family": fam.name,
                    "index": fam.index,
                    "outcomes": [o.name for o in f.protocol.outcomes_in(fam.name)],
                }
                for fam in f.protocol.families
                if fam.index != "none"
            ],
        ),
        field(
            _ANALYSIS,
            "Statistical models",
            None,
            "estimands, analysis.frequentist",
            lambda f: {
                "estimands": [e.type for e in f.protocol.estimands],
                "frequentist": f.protocol.analysis.frequentist.model_dump(mode="json"),
                "bayesian": f.protocol.analysis.bayesian.enabled,
            },
        ),
        field(_ANALYSIS, "Transformations", None),
        field(
            _ANALYSIS,
            "Inference criteria",
            None,
            "analysis.frequentist.alpha, families[].multiplicity, analysis.decision_rules",
            lambda f: {
                "alpha": f.protocol.analysis.frequentist.alpha,
                "multiplicity": {fam.name: fam.multiplicity for fam in f.protocol.families},
                "decision_rules": [
                    r.model_dump(mode="json") for r in f.protocol.analysis.decision_rules
                ],
            },
        ),
        field(
            _ANALYSIS, "Data exclusion", None, "analysis.population", attr("analysis.population")
        ),
        field(
            _ANALYSIS,
            "Missing data",
            None,
            "analysis.frequentist.missing_data",
            attr("analysis.frequentist.missing_data"),
        ),
        field(
            _ANALYSIS,
            "Exploratory analysis",
            None,
            "outcomes[role=exploratory]",
            outcomes("exploratory"),
        ),
        field("Other", "Other", None, "analysis.sensitivity", attr("analysis.sensitivity")),
    ),
)

_ENTRY, _PLAN = "Evaluation entry", "Evaluation plan"

UK_REGISTRY = RegistryForm(
    "uk-registry",
    "UK Evaluation Registry",
    (
        "The project's references give no field list for the Evaluation Registry's form: these "
        "fields follow its guidance (an entry per evaluation, made no later than the first data "
        "collection, with a planned publication date) and the Magenta Book's content of an "
        "evaluation plan, which is partly recalled; which fields are required is not known "
        "(required is null)."
    ),
    (
        field(_ENTRY, "Evaluation title", None, "identity.title"),
        field(_ENTRY, "Organisation", None, "identity.organisation"),
        field(
            _ENTRY,
            "Contact",
            None,
            "identity.contact",
            lambda f: f.protocol.identity.contact.model_dump(mode="json"),
        ),
        field(_ENTRY, "Status", None, "identity.status", attr("identity.status")),
        field(_ENTRY, "Evaluation start date", None, "dates.start"),
        field(_ENTRY, "Evaluation end date", None, "dates.end"),
        field(_ENTRY, "Planned publication date", None),
        field(_ENTRY, "Other registrations", None, "identity.registry_ids"),
        field(_PLAN, "Intervention evaluated", None, "arms[].intervention", arms),
        field(_PLAN, "Theory of change", None, "rationale.theory_of_change"),
        field(
            _PLAN,
            "Evaluation questions",
            None,
            "rationale.hypotheses",
            attr("rationale.hypotheses"),
        ),
        field(
            _PLAN,
            "Impact evaluation design",
            None,
            "design, arms",
            lambda f: {
                "type": f.protocol.design.type,
                "scheme": f.protocol.design.scheme,
                "framework": f.protocol.design.framework,
            },
        ),
        field(_PLAN, "Proportionality of the design", None),
        field(
            _PLAN,
            "Process evaluation",
            None,
            "spending.review",
            lambda f: (
                None
                if f.protocol.spending is None
                else {
                    "reviewer": f.protocol.spending.review.reviewer,
                    "coverage": f.protocol.spending.review.coverage,
                    "sample_size": f.protocol.spending.review.sample_size,
                }
            ),
            "The spend ledger's review is the process element trialkit records.",
        ),
        field(
            _PLAN,
            "Value-for-money evaluation",
            None,
            "costs, arms[].cost_per_unit",
            lambda f: (
                None
                if not stated("costs")(f)
                else {
                    "costs": f.protocol.costs.model_dump(mode="json"),
                    "cost_per_unit": {a.id: a.cost_per_unit for a in f.protocol.arms},
                }
            ),
        ),
        field(
            _PLAN,
            "Data sources",
            None,
            "outcomes[].measurement",
            outcomes("primary", "secondary", "exploratory", "harm", "monitoring", "mechanism"),
        ),
        field(
            _PLAN,
            "Sample size and power",
            None,
            "units.planned, power table at registration",
            lambda f: {"sample": sample_size(f), "power": power_rows(f)},
        ),
        field(_PLAN, "Analysis plan", None, "registration", registration_facts),
        field(_PLAN, "Ethics", None, "governance.ethics"),
        field(_PLAN, "Data and code sharing", None, "governance.data_sharing"),
    ),
)

FORMS: dict[Registry, RegistryForm] = {form.key: form for form in (OSF, AEA, UK_REGISTRY)}
