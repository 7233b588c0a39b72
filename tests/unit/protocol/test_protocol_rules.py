"""Every cross-field rule in ``trialkit.protocol.rules``, each broken by a minimal edit.

Each case edits the flagship's YAML text as little as possible and checks the message, the
field path and the line of the located issue, and that a fix is offered.
"""

from __future__ import annotations

from dataclasses import dataclass

import pytest
from pydantic import ValidationError

from trialkit.protocol import Protocol, parse_protocol
from trialkit.protocol.rules import RULES
from trialkit.protocol.support import SUPPORT_RULES

SW_DESIGN = (
    ("  type: cluster\n", "  type: stepped_wedge\n"),
    ("  scheme: blocked_cluster\n", "  scheme: stepped_wedge\n"),
)
THIRD_ARM = """  - id: budget_plus
    label: Budget with coaching
    intervention:
      summary: Discretionary budget plus monthly coaching.
      description: As the budget arm, with a monthly coaching session for each worker.

design:"""


@dataclass(frozen=True)
class Case:
    """A broken rule: the edits, the expected message, field path and line."""

    rule: str
    name: str
    edits: tuple[tuple[str, str], ...]
    match: str
    field: str
    line: str
    nth: int = 1


CASES = [
    # _unique_names
    Case(
        "_unique_names",
        "duplicate_arm_id",
        (("  - id: budget", "  - id: usual"),),
        r"id `usual` is used more than once",
        "arms[0].id",
        "  - id: usual",
    ),
    Case(
        "_unique_names",
        "duplicate_outcome",
        (("  - name: wellbeing\n", "  - name: loneliness\n"),),
        r"name `loneliness` is used more than once",
        "outcomes[0].name",
        "  - name: loneliness",
    ),
    Case(
        "_unique_names",
        "duplicate_family",
        (("  - name: service_targets", "  - name: client_wellbeing"),),
        r"name `client_wellbeing` is used more than once",
        "families[0].name",
        "  - name: client_wellbeing",
    ),
    Case(
        "_unique_names",
        "duplicate_covariate",
        (("{name: imd_score,", "{name: caseload,"),),
        r"name `caseload` is used more than once",
        "covariates[0].name",
        "{name: caseload",
    ),
    Case(
        "_unique_names",
        "duplicate_subgroup",
        (("  - name: age_75_plus", "  - name: most_deprived"),),
        r"name `most_deprived` is used more than once",
        "subgroups[0].name",
        "  - name: most_deprived",
    ),
    Case(
        "_unique_names",
        "duplicate_estimand",
        (("  - name: cace", "  - name: itt"),),
        r"name `itt` is used more than once",
        "estimands[0].name",
        "  - name: itt",
    ),
    Case(
        "_unique_names",
        "duplicate_level",
        (("  - name: spend\n", "  - name: staff\n"),),
        r"level name `staff` is used more than once",
        "levels",
        "^levels:",
    ),
    # _arms
    Case(
        "_arms",
        "no_control",
        (("    control: true", "    control: false"),),
        r"exactly one arm must be the control; found 0",
        "arms",
        "^arms:",
    ),
    Case(
        "_arms",
        "two_controls",
        (("    control: false", "    control: true"),),
        r"exactly one arm must be the control; found 2",
        "arms[1].control",
        "    control: true",
        nth=2,
    ),
    # _design
    Case(
        "_design",
        "cluster_without_column",
        (("  cluster_column: team_id\n", ""),),
        r"a cluster design must name its cluster column",
        "design.cluster_column",
        "^design:",
    ),
    Case(
        "_design",
        "cluster_scheme_individual_type",
        (("  type: cluster\n", "  type: individual\n"),),
        r"scheme `blocked_cluster` keeps clusters whole but the design type is `individual`",
        "design.scheme",
        "  scheme: blocked_cluster",
    ),
    Case(
        "_design",
        "cluster_type_splitting_scheme",
        (("  scheme: blocked_cluster", "  scheme: blocked"),),
        r"a cluster design cannot use scheme `blocked`, which splits clusters",
        "design.scheme",
        "  scheme: blocked",
    ),
    Case(
        "_design",
        "blocked_without_columns",
        (("  block_columns: [locality]\n", ""),),
        r"scheme `blocked_cluster` needs block columns",
        "design.block_columns",
        "^design:",
    ),
    Case(
        "_design",
        "matched_pairs_without_pair_on",
        (("  scheme: blocked_cluster", "  scheme: matched_pairs"),),
        r"scheme `matched_pairs` needs `pair_on` covariates",
        "design.pair_on",
        "^design:",
    ),
    Case(
        "_design",
        "rerandomisation_scheme_without_settings",
        (("  scheme: blocked_cluster", "  scheme: rerandomisation"),),
        r"`rerandomisation` settings go with scheme `rerandomisation` and only it",
        "design.rerandomisation",
        "^design:",
    ),
    Case(
        "_design",
        "rerandomisation_settings_without_scheme",
        (
            (
                "  block_columns: [locality]\n",
                "  block_columns: [locality]\n  rerandomisation: {covariates: [caseload]}\n",
            ),
        ),
        r"`rerandomisation` settings go with scheme `rerandomisation` and only it",
        "design.rerandomisation",
        "  rerandomisation:",
    ),
    # _stepped_wedge (reported by _design)
    Case(
        "_stepped_wedge",
        "type_without_scheme_and_block",
        (("  type: cluster\n", "  type: stepped_wedge\n"),),
        r"a stepped-wedge design needs `type: stepped_wedge`, `scheme: stepped_wedge`",
        "design.stepped_wedge",
        "^design:",
    ),
    Case(
        "_stepped_wedge",
        "one_step",
        (
            *SW_DESIGN,
            ("  block_columns: [locality]\n", "  stepped_wedge: {steps: 1, periods: 3}\n"),
        ),
        r"a stepped-wedge design needs at least 2 steps, got 1",
        "design.stepped_wedge.steps",
        "  stepped_wedge: {",
    ),
    Case(
        "_stepped_wedge",
        "too_few_periods",
        (
            *SW_DESIGN,
            ("  block_columns: [locality]\n", "  stepped_wedge: {steps: 4, periods: 4}\n"),
        ),
        r"4 steps need at least 5 periods, got 4",
        "design.stepped_wedge.periods",
        "  stepped_wedge: {",
    ),
    Case(
        "_stepped_wedge",
        "three_arms",
        (
            *SW_DESIGN,
            ("  block_columns: [locality]\n", "  stepped_wedge: {steps: 2, periods: 3}\n"),
            ("\ndesign:", THIRD_ARM),
        ),
        r"a stepped-wedge design has exactly two arms",
        "arms",
        "^arms:",
    ),
    # _outcome_shape
    Case(
        "_outcome_shape",
        "ordinal_without_levels",
        (
            (
                "    levels: [Very dissatisfied, Dissatisfied, Neither, Satisfied, "
                "Very satisfied]\n",
                "",
            ),
        ),
        r"ordinal outcome `job_satisfaction` needs its levels",
        "outcomes[6].levels",
        "  - name: job_satisfaction",
    ),
    Case(
        "_outcome_shape",
        "duplicate_ordinal_level",
        (("[Very dissatisfied, Dissatisfied, Neither,", "[Dissatisfied, Dissatisfied, Neither,"),),
        r"level `Dissatisfied` appears more than once",
        "outcomes[6].levels",
        "    levels: [Dissatisfied, Dissatisfied",
    ),
    Case(
        "_outcome_shape",
        "levels_on_continuous",
        (("    range: [3, 9]\n", "    range: [3, 9]\n    levels: [low, high]\n"),),
        r"only ordinal outcomes have levels; `loneliness` is continuous",
        "outcomes[0].levels",
        "    levels: [low, high]",
    ),
    Case(
        "_outcome_shape",
        "range_reversed",
        (("    range: [3, 9]", "    range: [9, 3]"),),
        r"range must be \[low, high\] with low < high, got \[9.0, 3.0\]",
        "outcomes[0].range",
        "    range: [9, 3]",
    ),
    Case(
        "_outcome_shape",
        "binary_range",
        (("    type: binary\n", "    type: binary\n    range: [0, 2]\n"),),
        r"a binary outcome lies in \[0, 1\]",
        "outcomes[5].range",
        "    range: [0, 2]",
    ),
    # _references
    Case(
        "_references",
        "unknown_family",
        (("    family: client_wellbeing", "    family: client_wellbing"),),
        r"family `client_wellbing` is not declared. Did you mean `client_wellbeing`\?",
        "outcomes[0].family",
        "    family: client_wellbing",
    ),
    Case(
        "_references",
        "unknown_outcome_level",
        (("    level: client\n", "    level: clients\n"),),
        r"level `clients` is not declared. Did you mean `client`\?",
        "outcomes[0].level",
        "    level: clients",
    ),
    Case(
        "_references",
        "unknown_covariate_level",
        (("label: Age at referral, level: client", "label: Age at referral, level: cleint"),),
        r"level `cleint` is not declared. Did you mean `client`\?",
        "covariates[3].level",
        "level: cleint",
    ),
    Case(
        "_references",
        "unknown_subgroup_level",
        (("    level: client\n    equity: true", "    level: patient\n    equity: true"),),
        r"level `patient` is not declared",
        "subgroups[0].level",
        "    level: patient",
    ),
    Case(
        "_references",
        "no_primary",
        (("    role: primary", "    role: secondary"),),
        r"at least one outcome must be primary",
        "outcomes",
        "^outcomes:",
    ),
    Case(
        "_references",
        "family_without_outcomes",
        (("families:\n", "families:\n  - name: unused\n    label: Unused family\n"),),
        r"family `unused` has no outcomes",
        "families[0].name",
        "  - name: unused",
    ),
    # _analysis
    Case(
        "_analysis",
        "cace_without_take_up",
        (("    take_up_column: budget_used\n", ""),),
        r"a CACE estimand needs the take-up column",
        "estimands[1].take_up_column",
        "  - name: cace",
    ),
    Case(
        "_analysis",
        "prior_unknown_outcome",
        (("      - outcome: loneliness", "      - outcome: lonelines"),),
        r"prior for unknown outcome `lonelines`. Did you mean `loneliness`\?",
        "analysis.bayesian.priors[0].outcome",
        "      - outcome: lonelines",
    ),
    Case(
        "_analysis",
        "decision_rule_unknown_outcome",
        (("{outcome: loneliness, event: benefit", "{outcome: lonliness, event: benefit"),),
        r"decision rule `roll_out` refers to unknown outcome `lonliness`",
        "analysis.decision_rules[0].conditions[0].outcome",
        "{outcome: lonliness",
    ),
    Case(
        "_analysis",
        "at_least_mid_without_mid",
        (
            (
                "{outcome: safeguarding_concern, event: harm, margin: 0.02, at_most: 0.1}",
                "{outcome: safeguarding_concern, event: at_least_mid, at_most: 0.1}",
            ),
        ),
        r"outcome `safeguarding_concern` has no minimum important difference",
        "analysis.decision_rules[0].conditions[1].margin",
        "event: at_least_mid",
    ),
    Case(
        "_analysis",
        "both_thresholds",
        (("event: benefit, at_least: 0.9}", "event: benefit, at_least: 0.9, at_most: 0.99}"),),
        r"a condition needs exactly one of `at_least` and `at_most`",
        "analysis.decision_rules[0].conditions[0]",
        "event: benefit",
    ),
    Case(
        "_analysis",
        "no_threshold",
        (("event: benefit, at_least: 0.9}", "event: benefit}"),),
        r"a condition needs exactly one of `at_least` and `at_most`",
        "analysis.decision_rules[0].conditions[0]",
        "event: benefit",
    ),
    Case(
        "_contrasts",
        "contrast_with_control",
        (
            (
                "  frequentist:\n    estimator: lin",
                "  contrasts:\n    - {arm: budget, versus: usual}\n"
                "  frequentist:\n    estimator: lin",
            ),
        ),
        r"a pairwise contrast compares two treated arms; `versus` is the control arm",
        "analysis.contrasts[0].versus",
        "    - {arm: budget, versus: usual}",
    ),
    Case(
        "_survival_support",
        "survival_not_run",
        (
            (
                "    role: exploratory\n    family: workforce\n    level: staff\n    type: count",
                "    role: exploratory\n    family: workforce\n    level: staff\n"
                "    type: survival",
            ),
        ),
        r"outcome `sickness_days` is time-to-event but says not how to read it from the data"
        r".* Fix: add a `survival:` section",
        "outcomes[8].type",
        "    type: survival",
    ),
    # _exposure_support: a rate (a count over its exposure) where the plan cannot run it
    Case(
        "_exposure_support",
        "exposure_not_count",
        (
            (
                "    type: count\n    exposure: fte_years",
                "    type: continuous\n    exposure: fte_years",
            ),
        ),
        r"outcome `sickness_days` has an `exposure` but is `continuous`.* Fix: remove "
        r"`exposure:`",
        "outcomes[8].exposure",
        "    exposure: fte_years",
    ),
    Case(
        "_exposure_support",
        "exposure_bayesian",
        (
            (
                "    role: exploratory\n    family: workforce\n    level: staff\n    type: count",
                "    role: secondary\n    family: workforce\n    level: staff\n    type: count",
            ),
        ),
        r"a Bayesian model of the rate `sickness_days` \(a count per unit of exposure\) is "
        r"not yet run.* Fix: make the outcome `exploratory`",
        "outcomes[8].exposure",
        "    exposure: fte_years",
    ),
    Case(
        "_exposure_support",
        "exposure_missing_data",
        (("    missing_data: complete_case", "    missing_data: multiple_imputation"),),
        r"the rate `sickness_days` under missing-data method `multiple_imputation` is not yet "
        r"run.* Fix: declare `missing_data: complete_case`",
        "outcomes[8].exposure",
        "    exposure: fte_years",
    ),
    Case(
        "_exposure_support",
        "exposure_blocked_difference_in_means",
        (("    estimator: lin", "    estimator: difference_in_means"),),
        r"the rate `sickness_days` by the blocked difference in means is not yet run.* Fix: "
        r"declare `estimator: ols` or `lin`",
        "outcomes[8].exposure",
        "    exposure: fte_years",
    ),
    # _frequentist_support (trialkit.protocol.support): options the plan would not run
    Case(
        "_frequentist_support",
        "westfall_young",
        (("    multiplicity: bh", "    multiplicity: westfall_young"),),
        r"family `workforce`: Westfall–Young adjustment is not yet run by the registered "
        r"plan for a family with a time-to-event outcome \(time_to_leaving\).* Fix: declare "
        r"`multiplicity: holm` \(or `bh`\)",
        "families[2].multiplicity",
        "    multiplicity: westfall_young",
    ),
    Case(
        "_frequentist_support",
        "westfall_young_without_draws",
        (
            ("    multiplicity: holm", "    multiplicity: westfall_young"),
            ("    ri_draws: 2000", "    ri_draws: 0"),
        ),
        r"family `client_wellbeing`: Westfall–Young adjustment is not yet run by the "
        r"registered plan with `analysis.frequentist.ri_draws` below 1,000.* Fix: declare "
        r"`ri_draws: 1000` or more, or `multiplicity: holm`",
        "families[0].multiplicity",
        "    multiplicity: westfall_young",
    ),
    Case(
        "_frequentist_support",
        "westfall_young_imputed",
        (
            ("    multiplicity: holm", "    multiplicity: westfall_young"),
            ("    missing_data: complete_case", "    missing_data: multiple_imputation"),
        ),
        r"family `client_wellbeing`: Westfall–Young adjustment is not yet run by the "
        r"registered plan with missing-data method `multiple_imputation`",
        "families[0].multiplicity",
        "    multiplicity: westfall_young",
    ),
    Case(
        "_frequentist_support",
        "missing_data",
        (
            ("    missing_data: complete_case", "    missing_data: multiple_imputation"),
            ("    estimator: lin", "    estimator: difference_in_means"),
        ),
        r"missing-data method `multiple_imputation` is not yet run by the registered plan "
        r"with the difference in means.* Fix: declare `missing_data: complete_case`",
        "analysis.frequentist.missing_data",
        "    missing_data: multiple_imputation",
    ),
    Case(
        "_frequentist_support",
        "binary_effect",
        (("    binary_effect: risk_difference", "    binary_effect: odds_ratio"),),
        r"binary effect `odds_ratio` is not yet run.* Fix: declare "
        r"`binary_effect: risk_difference`",
        "analysis.frequentist.binary_effect",
        "    binary_effect: odds_ratio",
    ),
    Case(
        "_frequentist_support",
        "alpha",
        (("    alpha: 0.05", "    alpha: 0.1"),),
        r"alpha 0.1 is not yet run by the registered plan, whose confidence intervals are "
        r"95 %.* Fix: declare `alpha: 0.05`",
        "analysis.frequentist.alpha",
        "    alpha: 0.1",
    ),
    Case(
        "_frequentist_support",
        "dim_with_se_type",
        (
            ("    estimator: lin", "    estimator: difference_in_means"),
            ("    se_type: auto", "    se_type: CR2"),
        ),
        r"se_type `CR2` is not used by the difference in means.* Fix: declare `se_type: auto`",
        "analysis.frequentist.se_type",
        "    se_type: CR2",
    ),
    Case(
        "_frequentist_support",
        "stepped_wedge_with_lin",
        (
            *SW_DESIGN,
            ("  block_columns: [locality]\n", "  stepped_wedge: {steps: 3, periods: 4}\n"),
        ),
        r"a stepped-wedge design is analysed by OLS with period effects; estimator `lin`.* "
        r"Fix: declare `estimator: ols`",
        "analysis.frequentist.estimator",
        "    estimator: lin",
    ),
    Case(
        "_frequentist_support",
        "unclustered_se_for_cluster_design",
        (("    se_type: auto", "    se_type: HC2"),),
        r"se_type `HC2` cannot be used for outcome `loneliness`, which needs a cluster-robust "
        r"variance.* Fix: declare `se_type: auto`",
        "analysis.frequentist.se_type",
        "    se_type: HC2",
    ),
    # _bayesian_support
    Case(
        "_bayesian_support",
        "interval",
        (("    draws: 1000\n", "    draws: 1000\n    interval: 0.9\n"),),
        r"interval 0.9 is not yet run by the registered plan, whose credible intervals are "
        r"95 %.* Fix: declare `interval: 0.95`",
        "analysis.bayesian.interval",
        "    interval: 0.9",
    ),
    Case(
        "_bayesian_support",
        "second_prior",
        (
            (
                "    draws: 1000\n",
                "      - {outcome: loneliness, sd: 2, source: x}\n    draws: 1000\n",
            ),
        ),
        r"a second prior for `loneliness`; the plan would use the first only.* Fix: keep one",
        "analysis.bayesian.priors[1].outcome",
        "      - {outcome: loneliness, sd: 2",
    ),
    Case(
        "_bayesian_support",
        "prior_on_unfitted_outcome",
        (
            (
                "    draws: 1000\n",
                "      - {outcome: sickness_days, sd: 2, source: x}\n    draws: 1000\n",
            ),
        ),
        r"outcome `sickness_days` is not fitted by the Bayesian plan.* Fix: remove the prior",
        "analysis.bayesian.priors[1].outcome",
        "      - {outcome: sickness_days",
    ),
    Case(
        "_bayesian_support",
        "decision_rules_without_bayes",
        (("    enabled: true", "    enabled: false"),),
        r"decision rule `roll_out` needs the Bayesian plan, which is disabled.* Fix: set "
        r"`analysis.bayesian.enabled: true`",
        "analysis.decision_rules[0]",
        "    - name: roll_out",
    ),
    # _costs_and_dates
    Case(
        "_costs_and_dates",
        "misuse_unknown_outcome",
        (("    tolerance: 0.05", "    tolerance: 0.05\n    outcome: safeguard_concern"),),
        r"misuse outcome `safeguard_concern` is not declared. "
        r"Did you mean `safeguarding_concern`\?",
        "costs.misuse.outcome",
        "    outcome: safeguard_concern",
    ),
    Case(
        "_costs_and_dates",
        "dates_out_of_order",
        (("  end: 2027-12-17", "  end: 2026-12-17"),),
        r"dates must run start ≤ intervention_start ≤ intervention_end ≤ end",
        "dates",
        "^dates:",
    ),
    # _levels
    Case(
        "_levels",
        "level_unknown_arm",
        (("    arms: [budget]", "    arms: [budgets]"),),
        r"arm `budgets` is not declared. Did you mean `budget`\?",
        "levels[2].arms[0]",
        "    arms: [budgets]",
    ),
    Case(
        "_levels",
        "shares_do_not_add_up",
        (("    shares: [0.75, 0.25]", "    shares: [0.75, 0.35]"),),
        r"shares must give one share per level and add up to 1",
        "subgroups[0].shares",
        "    shares: [0.75, 0.35]",
    ),
    Case(
        "_levels",
        "shares_wrong_length",
        (("    shares: [0.75, 0.25]", "    shares: [1.0]"),),
        r"shares must give one share per level and add up to 1",
        "subgroups[0].shares",
        "    shares: [1.0]",
    ),
    # _spending
    Case(
        "_spending",
        "spending_unknown_level",
        (("  level: spend\n", "  level: spends\n"),),
        r"level `spends` is not declared. Did you mean `spend`\?",
        "spending.level",
        "  level: spends",
    ),
    Case(
        "_spending",
        "sampled_review_without_size",
        (("    coverage: all", "    coverage: sample"),),
        r"a sampled review needs its sample size.* Fix: e.g. `sample_size: 200`",
        "spending.review.sample_size",
        "^  review:",
    ),
    Case(
        "_spending",
        "unknown_calendar",
        (("  calendar: GB-ENG", "  calendar: GB-ENX"),),
        r"no public-holiday calendar for `GB-ENX`. Did you mean `GB-ENG`\?.* Fix: give an "
        r"ISO 3166",
        "spending.calendar",
        "  calendar: GB-ENX",
    ),
    # _covariates
    Case(
        "_covariates",
        "rerandomisation_on_client_covariate",
        (
            ("  scheme: blocked_cluster", "  scheme: rerandomisation"),
            ("  block_columns: [locality]", "  rerandomisation: {covariates: [caseload, age]}"),
        ),
        r"`age` is not a declared unit-level covariate",
        "design.rerandomisation.covariates[1]",
        "  rerandomisation: {",
    ),
]


@pytest.mark.parametrize("case", CASES, ids=[f"{c.rule}-{c.name}" for c in CASES])
def test_broken_rule_is_located(flag, case: Case) -> None:
    text = flag.edit(*case.edits)
    flag.expect(text, case.match, field=case.field, line=flag.line(text, case.line, case.nth))


def test_every_rule_has_a_case() -> None:
    rule_names = {rule.__name__ for rule in (*RULES, *SUPPORT_RULES)} | {"_stepped_wedge"}
    assert rule_names == {case.rule for case in CASES}


def test_valid_variants_of_the_flagship_parse(flag) -> None:
    rerandomised = flag.edit(
        ("  scheme: blocked_cluster", "  scheme: rerandomisation"),
        ("  block_columns: [locality]", "  rerandomisation: {covariates: [caseload, imd_score]}"),
    )
    assert parse_protocol(rerandomised).design.rerandomisation is not None
    stepped = flag.edit(
        *SW_DESIGN,
        ("  block_columns: [locality]\n", "  stepped_wedge: {steps: 3, periods: 4}\n"),
        ("    estimator: lin", "    estimator: ols"),
        ("    type: survival\n", "    type: binary\n"),  # no time-to-event in a wedge
    )
    stepped = stepped.replace(
        stepped[
            stepped.index("    survival:\n") : stepped.index("    assumptions: {rate: 0.20, hazard")
        ],
        "",
    )
    assert parse_protocol(stepped).design.stepped_wedge is not None


def test_model_validate_runs_the_rules_too(flag) -> None:
    import yaml

    data = yaml.safe_load(flag.edit(("    control: false", "    control: true")))
    with pytest.raises(ValidationError, match="exactly one arm must be the control"):
        Protocol.model_validate(data)


def test_every_problem_is_reported_in_one_pass(flag) -> None:
    from trialkit.errors import ProtocolError

    text = flag.edit(
        ("    role: primary", "    role: secondary"),
        ("  end: 2027-12-17", "  end: 2026-12-17"),
    )
    with pytest.raises(ProtocolError, match=r"\(2 problems\)") as info:
        parse_protocol(text, source="pilot.yaml")
    assert [i.location.field for i in info.value.issues] == ["outcomes", "dates"]
