"""What the registered plans run: options they would not honour, and advice.

``trialkit check`` refuses (errors) every option that the registered plans
(:mod:`trialkit.estimate.frequentist.plan`, :mod:`trialkit.estimate.bayesian.plan`) would not
run, so that nothing is replaced silently at analysis time; remove a refusal in the same
change that makes the plan run its option. It also gives warnings: declarations that are
valid and will be run, but that probably do not say what the pilot team means (a power
calculation for an effect smaller than the one that matters). Warnings never stop a stage;
:func:`protocol_warnings` locates them in the YAML file as errors are.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from pathlib import Path

from trialkit.errors import Issue
from trialkit.protocol.model import Protocol
from trialkit.protocol.rules import Problem

_NOT_RUN = "is not yet run by the registered plan"
#: Fewest re-randomisations a Westfall–Young family is adjusted over.
WESTFALL_YOUNG_DRAWS = 1_000


def _westfall_young_support(p: Protocol, i: int) -> Iterator[Problem]:
    """What a Westfall–Young family needs: its members re-randomised jointly, each by the
    randomisation-inference statistic on its complete cases."""
    family, at = p.families[i], ("families", i, "multiplicity")
    why, fix = None, "declare `multiplicity: holm` (or `bh`)."
    survival = [o.name for o in p.outcomes_in(family.name) if o.type == "survival"]
    if p.analysis.frequentist.ri_draws < WESTFALL_YOUNG_DRAWS:
        why = (
            f"with `analysis.frequentist.ri_draws` below {WESTFALL_YOUNG_DRAWS:,} (it "
            "re-randomises the family; fewer draws give p-values too coarse to adjust)"
        )
        fix = f"declare `ri_draws: {WESTFALL_YOUNG_DRAWS}` or more, or `multiplicity: holm`."
    elif p.design.stepped_wedge is not None:
        why = "for a stepped wedge"
    elif survival:
        why = f"for a family with a time-to-event outcome ({', '.join(survival)})"
    elif p.analysis.frequentist.missing_data != "complete_case":
        why = (
            f"with missing-data method `{p.analysis.frequentist.missing_data}` (it "
            "re-randomises complete cases)"
        )
    if why is not None:
        yield Problem(
            at,
            f"family `{family.name}`: Westfall–Young adjustment {_NOT_RUN} {why}",
            fix,
        )


def _frequentist_support(p: Protocol) -> Iterator[Problem]:
    plan, loc = p.analysis.frequentist, ("analysis", "frequentist")
    for i, family in enumerate(p.families):
        if family.multiplicity == "westfall_young":
            yield from _westfall_young_support(p, i)
    if plan.missing_data != "complete_case" and (
        p.design.stepped_wedge is not None or plan.estimator == "difference_in_means"
    ):
        yield Problem(
            (*loc, "missing_data"),
            f"missing-data method `{plan.missing_data}` {_NOT_RUN} with "
            + (
                "a stepped wedge"
                if p.design.stepped_wedge is not None
                else "the difference in means"
            )
            + ", which analyses complete cases",
            "declare `missing_data: complete_case` (and list the method under "
            "`analysis.sensitivity`), or `estimator: ols` or `lin`.",
        )
    if plan.binary_effect != "risk_difference":
        yield Problem(
            (*loc, "binary_effect"),
            f"binary effect `{plan.binary_effect}` {_NOT_RUN}, which estimates risk "
            "differences (linear probability model)",
            "declare `binary_effect: risk_difference`.",
        )
    if plan.alpha != 0.05:
        yield Problem(
            (*loc, "alpha"),
            f"alpha {plan.alpha:g} {_NOT_RUN}, whose confidence intervals are 95 %",
            "declare `alpha: 0.05`.",
        )
    if plan.estimator == "difference_in_means" and plan.se_type != "auto":
        yield Problem(
            (*loc, "se_type"),
            f"se_type `{plan.se_type}` is not used by the difference in means, whose "
            "variance follows the design (Neyman, or CR2 with clusters)",
            "declare `se_type: auto`, or `estimator: lin` to choose the standard errors.",
        )
    if p.design.type == "stepped_wedge" and plan.estimator != "ols":
        yield Problem(
            (*loc, "estimator"),
            f"a stepped-wedge design is analysed by OLS with period effects; estimator "
            f"`{plan.estimator}` {_NOT_RUN} for it",
            "declare `estimator: ols`.",
        )
    yield from _se_type_fits_design(p)


def _se_type_fits_design(p: Protocol) -> Iterator[Problem]:
    se_type = p.analysis.frequentist.se_type
    if se_type == "auto" or p.analysis.frequentist.estimator == "difference_in_means":
        return
    cluster_se = se_type.startswith("CR")
    clustered = {
        o.name: p.design.type != "individual" or o.level != p.units.name
        for o in p.outcomes
        if o.role != "monitoring"
    }
    mismatched = [name for name, c in clustered.items() if c != cluster_se]
    if mismatched:
        need = "an unclustered" if cluster_se else "a cluster-robust"
        yield Problem(
            ("analysis", "frequentist", "se_type"),
            f"se_type `{se_type}` cannot be used for outcome `{mismatched[0]}`, which "
            f"needs {need} variance",
            "declare `se_type: auto` (HC2 without clusters, CR2 with).",
        )


def _survival_support(p: Protocol) -> Iterator[Problem]:
    timed = {o.name for o in p.outcomes if o.type == "survival"}
    for i, outcome in enumerate(p.outcomes):
        if outcome.type == "survival" and outcome.survival is None:
            yield Problem(
                ("outcomes", i, "type"),
                f"outcome `{outcome.name}` is time-to-event but says not how to "
                "read it from the data",
                "add a `survival:` section (`end_column:` and `horizon_days:` at least).",
            )
        elif outcome.type != "survival" and outcome.survival is not None:
            yield Problem(
                ("outcomes", i, "survival"),
                f"outcome `{outcome.name}` has a `survival` section but is `{outcome.type}`",
                "remove `survival:`, or declare `type: survival`.",
            )
        elif outcome.type == "survival" and p.design.stepped_wedge is not None:
            yield Problem(
                ("outcomes", i, "type"),
                f"a time-to-event outcome (`{outcome.name}`) in a stepped wedge {_NOT_RUN}",
                "measure it as `binary` (left within a period).",
            )
    for r, rule in enumerate(p.analysis.decision_rules):
        for c, cond in enumerate(rule.conditions):
            if cond.outcome in timed and (cond.event == "at_least_mid" or cond.margin):
                yield Problem(
                    ("analysis", "decision_rules", r, "conditions", c, "event"),
                    f"the Bayesian model of the time-to-event outcome "
                    f"`{cond.outcome}` is a discrete-time hazard model, whose effect "
                    "is a hazard-odds ratio, so a margin or MID in days cannot be "
                    "judged on it",
                    "use `event: benefit` (fewer events) or `event: harm` (more "
                    "events) without a margin.",
                )
    for k, prior in enumerate(p.analysis.bayesian.priors):
        if prior.outcome in timed:
            yield Problem(
                ("analysis", "bayesian", "priors", k, "outcome"),
                f"a prior in days on the time-to-event outcome `{prior.outcome}` "
                f"{_NOT_RUN}: its Bayesian model is a discrete-time hazard model "
                "with the default prior on the log hazard-odds ratio",
                "remove the prior.",
            )


def _exposure_support(p: Protocol) -> Iterator[Problem]:
    """A rate (a count over its exposure) is estimated by the frequentist plan only."""
    fitted = {o.name for o in p.bayesian_outcomes()} if p.analysis.bayesian.enabled else set()
    for i, outcome in enumerate(p.outcomes):
        if outcome.exposure is None:
            continue
        if outcome.type != "count":
            yield Problem(
                ("outcomes", i, "exposure"),
                f"outcome `{outcome.name}` has an `exposure` but is "
                f"`{outcome.type}`; only counts are analysed as rates",
                "remove `exposure:`, or declare `type: count`.",
            )
        elif outcome.name in fitted:
            yield Problem(
                ("outcomes", i, "exposure"),
                f"a Bayesian model of the rate `{outcome.name}` (a count per unit "
                f"of exposure) {_NOT_RUN}",
                "make the outcome `exploratory` and name it in no decision rule "
                "(the frequentist plan estimates the rate difference), or remove "
                "`exposure:`.",
            )
        elif p.analysis.frequentist.missing_data != "complete_case":
            yield Problem(
                ("outcomes", i, "exposure"),
                f"the rate `{outcome.name}` under missing-data method "
                f"`{p.analysis.frequentist.missing_data}` {_NOT_RUN}",
                "declare `missing_data: complete_case`, or remove `exposure:`.",
            )
        elif p.analysis.frequentist.estimator == "difference_in_means" and p.design.block_columns:
            yield Problem(
                ("outcomes", i, "exposure"),
                f"the rate `{outcome.name}` by the blocked difference in means "
                f"{_NOT_RUN} (its block weights and the exposure weights do not "
                "combine)",
                "declare `estimator: ols` or `lin`, or remove `exposure:`.",
            )


def _bayesian_support(p: Protocol) -> Iterator[Problem]:
    plan, loc = p.analysis.bayesian, ("analysis", "bayesian")
    fitted = {o.name for o in p.bayesian_outcomes()}
    if plan.interval != 0.95:
        yield Problem(
            (*loc, "interval"),
            f"interval {plan.interval:g} {_NOT_RUN}, whose credible intervals are 95 %",
            "declare `interval: 0.95`.",
        )
    seen: set[str] = set()
    for i, prior in enumerate(plan.priors):
        known = prior.outcome in {o.name for o in p.outcomes}
        if prior.outcome in seen:
            yield Problem(
                (*loc, "priors", i, "outcome"),
                f"a second prior for `{prior.outcome}`; the plan would use the first only",
                "keep one prior per outcome.",
            )
        elif known and prior.outcome not in fitted:
            yield Problem(
                (*loc, "priors", i, "outcome"),
                f"outcome `{prior.outcome}` is not fitted by the Bayesian plan (only "
                "primary, secondary and harm outcomes are), so its prior would be unused",
                "remove the prior, or give the outcome one of those roles.",
            )
        seen.add(prior.outcome)
    for r, rule in enumerate(p.analysis.decision_rules if not plan.enabled else ()):
        yield Problem(
            ("analysis", "decision_rules", r),
            f"decision rule `{rule.name}` needs the Bayesian plan, which is disabled",
            "set `analysis.bayesian.enabled: true`, or remove the rule.",
        )


def _powered_below_mid(p: Protocol) -> Iterator[Problem]:
    for i, o in enumerate(p.outcomes):
        a = o.assumptions
        if o.mid is not None and a is not None and abs(a.effect) < o.mid:
            yield Problem(
                ("outcomes", i, "assumptions", "effect"),
                f"outcome `{o.name}` is powered for an effect of {abs(a.effect):g}, smaller "
                f"than its minimum important difference ({o.mid:g}): the pilot is sized to "
                "detect a change its own protocol says is too small to matter",
                f"power for the MID (`effect: {o.mid:g}` in the direction of benefit), or "
                "lower `mid:` if smaller changes matter.",
            )


def _rope_wider_than_mid(p: Protocol) -> Iterator[Problem]:
    for i, o in enumerate(p.outcomes):
        if o.mid is not None and o.rope is not None and o.rope > o.mid:
            yield Problem(
                ("outcomes", i, "rope"),
                f"outcome `{o.name}`'s band of effects too small to matter (rope ±{o.rope:g}) "
                f"is wider than its minimum important difference ({o.mid:g}): an effect large "
                "enough to matter would also count as practically zero",
                f"set `rope:` below `mid:` (for example `rope: {o.mid / 2:g}`).",
            )


Rule = Callable[[Protocol], Iterator[Problem]]

#: Refusals, run by :func:`trialkit.protocol.rules.check_rules` after its own rules.
SUPPORT_RULES: tuple[Rule, ...] = (
    _frequentist_support,
    _bayesian_support,
    _survival_support,
    _exposure_support,
)

#: Advice: valid declarations that probably do not say what is meant.
WARNINGS: tuple[Rule, ...] = (_powered_below_mid, _rope_wider_than_mid)


def check_warnings(protocol: Protocol) -> list[Problem]:
    """Every warning about ``protocol``, in rule order (empty when there is nothing to say)."""
    return [problem for rule in WARNINGS for problem in rule(protocol)]


def protocol_warnings(path: str | Path, *, protocol: Protocol | None = None) -> tuple[Issue, ...]:
    """The warnings about a protocol file, each located by file, line and field.

    Parameters
    ----------
    path
        A YAML protocol file.
    protocol
        The protocol already loaded from ``path`` (saves loading it again).

    Returns
    -------
    tuple of Issue
        One issue per warning (``severity="warning"``), with a fix; empty when none.

    Raises
    ------
    ProtocolError
        When the protocol is invalid (as :func:`trialkit.protocol.load_protocol`).

    Examples
    --------
    >>> import pathlib, tempfile
    >>> from trialkit.protocol import bundled_path
    >>> text = bundled_path("green_tape_benefits").read_text(encoding="utf-8")
    >>> path = pathlib.Path(tempfile.mkdtemp()) / "pilot.yaml"
    >>> _ = path.write_text(text.replace("effect: -0.4, icc: 0.03", "effect: -0.3, icc: 0.03"))
    >>> [(issue.location.field, issue.severity) for issue in protocol_warnings(path)]
    [('outcomes[3].assumptions.effect', 'warning')]
    """
    # load's position map is private; reusing it keeps one YAML-to-line mapping.
    from trialkit.protocol.load import _location, _parse_yaml, load_protocol

    if protocol is None:
        protocol = load_protocol(path)
    warnings = check_warnings(protocol)
    if not warnings:  # nothing to locate: the YAML is not read again
        return ()
    source = str(path)
    _, positions = _parse_yaml(Path(path).read_text(encoding="utf-8"), source)
    return tuple(
        Issue(
            w.message.rstrip(".") + ".",
            _location(w.loc, positions, source),
            fix=w.fix,
            severity="warning",
        )
        for w in warnings
    )
