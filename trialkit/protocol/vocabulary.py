"""Every closed option set of the protocol, in one place.

Messages build their lists of allowed values from these aliases with ``typing.get_args``,
so the text cannot drift from the code.
"""

from __future__ import annotations

from typing import Literal, get_args

Status = Literal["draft", "registered", "recruiting", "active", "completed", "withdrawn"]
Mechanism = Literal[
    "autonomy",
    "mission_clarity",
    "peer_accountability",
    "citizen_accountability",
    "discretionary_resources",
    "fewer_rules",
]
DesignType = Literal["individual", "cluster", "stepped_wedge"]
Framework = Literal["superiority", "non_inferiority", "equivalence", "exploratory"]
SchemeName = Literal[
    "simple",
    "complete",
    "blocked",
    "cluster",
    "blocked_cluster",
    "matched_pairs",
    "rerandomisation",
    "stepped_wedge",
]
OutcomeRole = Literal["primary", "secondary", "exploratory", "harm", "monitoring", "mechanism"]
OutcomeType = Literal["continuous", "binary", "count", "ordinal", "proportion", "survival"]
Direction = Literal["higher_is_better", "lower_is_better"]
CovariateType = Literal["continuous", "binary", "categorical"]
FamilyKind = Literal["target", "shadow", "shirking", "general"]
MultiplicityMethod = Literal["none", "holm", "bh", "westfall_young"]
IndexMethod = Literal["none", "anderson", "kling"]
EstimandType = Literal["ITT", "CACE"]
EstimatorName = Literal["difference_in_means", "ols", "lin"]
#: Covariance estimators of the frequentist estimators (``se_type``).
VcovType = Literal["classical", "HC0", "HC1", "HC2", "HC3", "CR0", "CR1", "CR2", "CR3"]
#: The plan's ``se_type``: a covariance estimator, or ``auto`` (HC2, or CR2 when clustered).
SeType = Literal["auto", VcovType]
#: Degrees of freedom of HC2 intervals: Bell–McCaffrey (Imbens & Kolesár 2016), or N − k
#: (estimatr's ``lm_robust``). Other standard errors keep their own df.
DfMethod = Literal["bell_mccaffrey", "residual"]
MissingData = Literal["complete_case", "inverse_probability_weighting", "multiple_imputation"]
BinaryEffect = Literal["risk_difference", "odds_ratio", "risk_ratio"]
PriorDefault = Literal["weakly_informative", "sceptical"]
PriorDistribution = Literal["normal", "student_t"]
LikelihoodFamily = Literal["auto", "normal", "student_t"]
DecisionEvent = Literal["benefit", "at_least_mid", "harm"]
Period = Literal["week", "month", "quarter", "year"]
Justification = Literal["after_the_fact", "prior_approval"]
#: A reviewer's verdict on one spend, from best to worst.
SpendVerdict = Literal["appropriate", "poor_value", "misuse", "fraud"]
SPEND_VERDICTS: tuple[SpendVerdict, ...] = ("appropriate", "poor_value", "misuse", "fraud")
#: Verdicts that count as misuse of the budget (money lost to it, not just spent poorly).
MISUSE_VERDICTS: tuple[SpendVerdict, ...] = ("misuse", "fraud")
ReviewCoverage = Literal["all", "sample"]
AuditStratum = Literal["amount", "category", "worker"]
#: Compliance findings of the spend ledger: results, counted and reported, never fatal.
SpendRule = Literal[
    "cap_per_client",
    "cap_per_client_per_period",
    "cap_per_worker_per_period",
    "cap_per_unit_per_period",
    "excluded_category",
    "late_justification",
    "missing_justification",
    "control_arm_spend",
    "not_reviewed",
]

#: Roles whose outcomes are compared between arms (``monitoring`` is only described).
#: A ``mechanism`` outcome (felt autonomy, mission clarity) is what the reform should move
#: first: the report shows it as a manipulation check before the outcomes.
COMPARED_ROLES: tuple[str, ...] = ("primary", "secondary", "exploratory", "harm", "mechanism")

#: Schemes that keep clusters whole, and those that need block columns.
CLUSTER_SCHEMES: frozenset[str] = frozenset({"cluster", "blocked_cluster", "stepped_wedge"})
BLOCK_SCHEMES: frozenset[str] = frozenset({"blocked", "blocked_cluster"})


def options(alias: object) -> str:
    """The allowed values of a ``Literal`` alias, quoted and comma-separated."""
    return ", ".join(f"`{value}`" for value in get_args(alias))
