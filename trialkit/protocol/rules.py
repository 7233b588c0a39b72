"""Cross-field rules of a protocol, each returning located problems with a fix.

Pydantic checks each field on its own; these rules check that fields agree with each
other (a cluster design names its cluster column, every family referenced exists, ...).
Every rule is a small function; :func:`check_rules` runs them all so a user fixes a file
in one pass.
"""

from __future__ import annotations

import difflib
from collections import Counter
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass
from itertools import pairwise

from trialkit.protocol.model import Protocol
from trialkit.protocol.vocabulary import BLOCK_SCHEMES, CLUSTER_SCHEMES

Loc = tuple[str | int, ...]


@dataclass(frozen=True, slots=True)
class Problem:
    """A broken cross-field rule at a field path."""

    loc: Loc
    message: str
    fix: str


def _closest(value: str, choices: Iterable[str]) -> str:
    match = difflib.get_close_matches(value, list(choices), n=1, cutoff=0.5)
    return f" Did you mean `{match[0]}`?" if match else ""


def _duplicates(names: Iterable[str]) -> list[str]:
    return [name for name, count in Counter(names).items() if count > 1]


def _unique_names(p: Protocol) -> Iterator[Problem]:
    for key in ("arms", "outcomes", "families", "covariates", "subgroups", "estimands"):
        items = getattr(p, key)
        attr = "id" if key == "arms" else "name"
        for dup in _duplicates(getattr(item, attr) for item in items):
            index = next(i for i, item in enumerate(items) if getattr(item, attr) == dup)
            yield Problem(
                (key, index, attr),
                f"{attr} `{dup}` is used more than once",
                f"give each entry of `{key}` its own {attr}.",
            )
    for dup in _duplicates(p.level_names):
        yield Problem(
            ("levels",),
            f"level name `{dup}` is used more than once",
            "give the unit and each measurement level distinct names.",
        )


def _arms(p: Protocol) -> Iterator[Problem]:
    controls = [i for i, arm in enumerate(p.arms) if arm.control]
    if len(controls) != 1:
        where: Loc = ("arms", controls[1], "control") if controls else ("arms",)
        yield Problem(
            where,
            f"exactly one arm must be the control; found {len(controls)}",
            "set `control: true` on the comparison arm only.",
        )


def _contrasts(p: Protocol) -> Iterator[Problem]:
    treated = [a.id for a in p.arms if not a.control]
    seen: set[tuple[str, str]] = set()
    for i, contrast in enumerate(p.analysis.contrasts):
        loc: Loc = ("analysis", "contrasts", i)
        for key in ("arm", "versus"):
            name = getattr(contrast, key)
            if name not in treated:
                what = "the control arm" if name == p.control.id else f"unknown arm `{name}`"
                yield Problem(
                    (*loc, key),
                    f"a pairwise contrast compares two treated arms; `{key}` is {what}."
                    f"{_closest(name, treated) if name != p.control.id else ''}",
                    "name a treated arm (each arm against control is estimated anyway).",
                )
        pair = tuple(sorted((contrast.arm, contrast.versus)))
        if contrast.arm == contrast.versus or pair in seen:
            yield Problem(
                loc,
                "a contrast compares an arm with itself or repeats another",
                "remove it, or compare two different treated arms once.",
            )
        seen.add((pair[0], pair[1]))


def _design(p: Protocol) -> Iterator[Problem]:
    d = p.design
    clustered = d.type in ("cluster", "stepped_wedge")
    if clustered and d.cluster_column is None:
        yield Problem(
            ("design", "cluster_column"),
            f"a {d.type} design must name its cluster column",
            "add `cluster_column:` naming the column that identifies clusters.",
        )
    if d.scheme in CLUSTER_SCHEMES and not clustered:
        yield Problem(
            ("design", "scheme"),
            f"scheme `{d.scheme}` keeps clusters whole but the design type is `{d.type}`",
            "set `type: cluster` (or `stepped_wedge`), or choose "
            "an individual scheme such as `complete` or `blocked`.",
        )
    if d.type == "cluster" and d.scheme not in CLUSTER_SCHEMES | {
        "rerandomisation",
        "matched_pairs",
    }:
        yield Problem(
            ("design", "scheme"),
            f"a cluster design cannot use scheme `{d.scheme}`, which splits clusters",
            "use `cluster` or `blocked_cluster`.",
        )
    if d.scheme in BLOCK_SCHEMES and not d.block_columns:
        yield Problem(
            ("design", "block_columns"),
            f"scheme `{d.scheme}` needs block columns",
            "list the blocking columns, e.g. `block_columns: [locality]`.",
        )
    if d.scheme == "matched_pairs" and not d.pair_on:
        yield Problem(
            ("design", "pair_on"),
            "scheme `matched_pairs` needs `pair_on` covariates",
            "list the covariate columns that pairs are formed on.",
        )
    if (d.scheme == "rerandomisation") != (d.rerandomisation is not None):
        yield Problem(
            ("design", "rerandomisation"),
            "`rerandomisation` settings go with scheme `rerandomisation` and only it",
            "set both `scheme: rerandomisation` and a `rerandomisation:` block, or neither.",
        )
    yield from _stepped_wedge(p)


def _stepped_wedge(p: Protocol) -> Iterator[Problem]:
    d = p.design
    is_sw = d.type == "stepped_wedge"
    if is_sw != (d.scheme == "stepped_wedge") or is_sw != (d.stepped_wedge is not None):
        yield Problem(
            ("design", "stepped_wedge"),
            "a stepped-wedge design needs `type: stepped_wedge`, `scheme: "
            "stepped_wedge` and a `stepped_wedge:` block together",
            "set all three, or none of them.",
        )
        return
    if d.stepped_wedge is None:
        return
    sw = d.stepped_wedge
    if sw.steps < 2:
        yield Problem(
            ("design", "stepped_wedge", "steps"),
            f"a stepped-wedge design needs at least 2 steps, got {sw.steps}",
            "use `steps: 2` or more; with one step it is a parallel cluster trial.",
        )
    if sw.periods < sw.steps + 1:
        yield Problem(
            ("design", "stepped_wedge", "periods"),
            f"{sw.steps} steps need at least {sw.steps + 1} periods, got {sw.periods}",
            "add a baseline period before the first step: `periods: steps + 1`.",
        )
    if len(p.arms) != 2:
        yield Problem(
            ("arms",),
            "a stepped-wedge design has exactly two arms",
            "keep one control arm and one intervention arm.",
        )


def _outcome_shape(p: Protocol) -> Iterator[Problem]:
    for i, o in enumerate(p.outcomes):
        loc: Loc = ("outcomes", i)
        if o.type == "ordinal":
            if len(o.levels) < 2:
                yield Problem(
                    (*loc, "levels"),
                    f"ordinal outcome `{o.name}` needs its levels",
                    "list the Likert labels from lowest to highest under `levels:`.",
                )
            for dup in _duplicates(o.levels):
                yield Problem(
                    (*loc, "levels"),
                    f"level `{dup}` appears more than once",
                    "give each Likert level once, ordered from lowest to highest.",
                )
        elif o.levels:
            yield Problem(
                (*loc, "levels"),
                f"only ordinal outcomes have levels; `{o.name}` is {o.type}",
                "remove `levels:` or set `type: ordinal`.",
            )
        if o.range is not None and not o.range[0] < o.range[1]:
            yield Problem(
                (*loc, "range"),
                f"range must be [low, high] with low < high, got {list(o.range)}",
                "write the range as `[minimum, maximum]`.",
            )
        if o.type in ("binary", "proportion") and o.range not in (None, (0.0, 1.0)):
            yield Problem(
                (*loc, "range"),
                f"a {o.type} outcome lies in [0, 1]",
                "remove `range:` or set it to `[0, 1]`.",
            )


def _references(p: Protocol) -> Iterator[Problem]:
    families = [f.name for f in p.families]
    levels = p.level_names
    for i, o in enumerate(p.outcomes):
        if o.family is not None and o.family not in families:
            yield Problem(
                ("outcomes", i, "family"),
                f"family `{o.family}` is not declared.{_closest(o.family, families)}",
                "add it under `families:` or correct the name.",
            )
    for key in ("outcomes", "covariates", "subgroups"):
        for i, item in enumerate(getattr(p, key)):
            if item.level not in levels:
                yield Problem(
                    (key, i, "level"),
                    f"level `{item.level}` is not declared.{_closest(item.level, levels)}",
                    f"use one of: {', '.join(f'`{n}`' for n in levels)}.",
                )
    if not any(o.role == "primary" for o in p.outcomes):
        yield Problem(
            ("outcomes",),
            "at least one outcome must be primary",
            "set `role: primary` on the outcome the pilot is judged by.",
        )
    for i, family in enumerate(p.families):
        if not p.outcomes_in(family.name):
            yield Problem(
                ("families", i, "name"),
                f"family `{family.name}` has no outcomes",
                "set `family:` on its outcomes, or remove the family.",
            )


def _analysis(p: Protocol) -> Iterator[Problem]:
    outcomes = [o.name for o in p.outcomes]
    for i, e in enumerate(p.estimands):
        if e.type == "CACE" and e.take_up_column is None:
            yield Problem(
                ("estimands", i, "take_up_column"),
                "a CACE estimand needs the take-up column",
                "add `take_up_column:` (1 = took up its arm).",
            )
    if p.analysis.bayesian.enabled and p.analysis.bayesian.binary_model == "beta_binomial":
        clustered = [
            o.name
            for o in p.outcomes
            if o.type == "binary" and (p.design.type != "individual" or o.level != p.units.name)
        ]
        if clustered:
            yield Problem(
                ("analysis", "bayesian", "binary_model"),
                f"`beta_binomial` treats every {', '.join(f'`{n}`' for n in clustered)} "
                "answer as independent, but these binary outcomes are clustered (randomised "
                "by cluster or measured below the randomised unit)",
                "use `binary_model: logistic`, which has cluster effects.",
            )
    for i, prior in enumerate(p.analysis.bayesian.priors):
        if prior.outcome not in outcomes:
            yield Problem(
                ("analysis", "bayesian", "priors", i, "outcome"),
                f"prior for unknown outcome `{prior.outcome}`.{_closest(prior.outcome, outcomes)}",
                "name a declared outcome.",
            )
    for r, rule in enumerate(p.analysis.decision_rules):
        for c, cond in enumerate(rule.conditions):
            loc: Loc = ("analysis", "decision_rules", r, "conditions", c)
            if cond.outcome not in outcomes:
                yield Problem(
                    (*loc, "outcome"),
                    f"decision rule `{rule.name}` refers to "
                    f"unknown outcome `{cond.outcome}`."
                    f"{_closest(cond.outcome, outcomes)}",
                    "name an outcome declared under `outcomes:`.",
                )
            elif (
                cond.event == "at_least_mid"
                and cond.margin is None
                and p.outcome(cond.outcome).mid is None
            ):
                yield Problem(
                    (*loc, "margin"),
                    f"outcome `{cond.outcome}` has no minimum important difference",
                    "declare `mid:` on the outcome or give `margin:` here.",
                )
            if (cond.at_least is None) == (cond.at_most is None):
                yield Problem(
                    loc,
                    "a condition needs exactly one of `at_least` and `at_most`",
                    "e.g. `at_least: 0.8` for benefit, `at_most: 0.1` for harm.",
                )


def _costs_and_dates(p: Protocol) -> Iterator[Problem]:
    misuse = p.costs.misuse
    outcomes = [o.name for o in p.outcomes]
    if misuse is not None and misuse.outcome is None and p.spending is None:
        yield Problem(
            ("costs", "misuse", "outcome"),
            "misuse needs an outcome or a spend ledger",
            "name a binary monitoring outcome in `outcome:`, or declare "
            "`spending:` so misuse is read from each spend's review verdict.",
        )
    if misuse is not None and misuse.outcome is not None and misuse.outcome not in outcomes:
        yield Problem(
            ("costs", "misuse", "outcome"),
            f"misuse outcome `{misuse.outcome}` is "
            f"not declared.{_closest(misuse.outcome, outcomes)}",
            "name a monitoring outcome declared under `outcomes:`.",
        )
    if p.dates is not None:
        d = p.dates
        if not d.start <= d.intervention_start <= d.intervention_end <= d.end:
            yield Problem(
                ("dates",),
                "dates must run start ≤ intervention_start ≤ intervention_end ≤ end",
                "correct the order of the dates.",
            )


def _levels(p: Protocol) -> Iterator[Problem]:
    arms = [a.id for a in p.arms]
    for i, level in enumerate(p.levels):
        for j, arm in enumerate(level.arms):
            if arm not in arms:
                yield Problem(
                    ("levels", i, "arms", j),
                    f"arm `{arm}` is not declared.{_closest(arm, arms)}",
                    "name arms declared under `arms:`.",
                )
    for i, sub in enumerate(p.subgroups):
        if sub.shares and (len(sub.shares) != len(sub.levels) or abs(sum(sub.shares) - 1) > 1e-6):
            yield Problem(
                ("subgroups", i, "shares"),
                "shares must give one share per level and add up to 1",
                'e.g. `levels: ["0", "1"]` with `shares: [0.8, 0.2]`.',
            )


def _covariates(p: Protocol) -> Iterator[Problem]:
    rr = p.design.rerandomisation
    unit_columns = {c.data_column for c in p.covariates if c.level == p.units.name}
    if rr is not None:
        for i, column in enumerate(rr.covariates):
            if column not in unit_columns:
                yield Problem(
                    ("design", "rerandomisation", "covariates", i),
                    f"`{column}` is not a declared unit-level covariate."
                    f"{_closest(column, unit_columns)}",
                    "declare it under `covariates:` with the unit's level.",
                )


def _spending(p: Protocol) -> Iterator[Problem]:
    spending = p.spending
    if spending is None:
        return
    levels = [lv.name for lv in p.levels]
    for key in ("level", "worker_level", "client_level"):
        name = getattr(spending, key)
        if name is not None and name not in levels:
            yield Problem(
                ("spending", key),
                f"level `{name}` is not declared.{_closest(name, levels)}",
                "name a level declared under `levels:`.",
            )
    if not any(a.intervention.discretionary_budget for a in p.arms):
        yield Problem(
            ("spending",),
            "a spend ledger needs an arm with a budget",
            "declare `intervention.discretionary_budget` on the treated arm(s).",
        )
    review = spending.review
    if review.coverage == "sample" and review.sample_size is None:
        yield Problem(
            ("spending", "review", "sample_size"),
            "a sampled review needs its sample size",
            "e.g. `sample_size: 200`.",
        )
    bands = review.amount_bands
    if any(b <= a for a, b in pairwise(bands)) or any(b <= 0 for b in bands):
        yield Problem(
            ("spending", "review", "amount_bands"),
            "amount bands must be positive and ascending",
            "e.g. `amount_bands: [50, 150]`.",
        )
    yield from _calendar(spending.calendar)
    for i, arm in enumerate(p.arms):
        budget = arm.intervention.discretionary_budget
        if budget is None:
            continue
        loc = ("arms", i, "intervention", "discretionary_budget", "categories")
        for name in _duplicates(c.name for c in budget.categories):
            yield Problem(
                loc, f"category `{name}` is declared twice", "give each category one entry."
            )


def _calendar(code: str) -> Iterator[Problem]:
    from trialkit.protocol.calendars import calendar_codes

    known = calendar_codes()
    if code not in known:
        yield Problem(
            ("spending", "calendar"),
            f"no public-holiday calendar for `{code}`.{_closest(code, known)}",
            "give an ISO 3166 country and subdivision the `holidays` package "
            "knows, e.g. `GB-ENG`, `GB-SCT`, `GB-WLS`, `IE`.",
        )


RULES: tuple[Callable[[Protocol], Iterator[Problem]], ...] = (
    _unique_names,
    _arms,
    _contrasts,
    _design,
    _outcome_shape,
    _references,
    _analysis,
    _costs_and_dates,
    _levels,
    _covariates,
    _spending,
)


def check_rules(protocol: Protocol) -> list[Problem]:
    """Every cross-field problem of ``protocol``, in rule order.

    The rules here come first, then :data:`trialkit.protocol.support.SUPPORT_RULES`: the
    options the registered plans would not run, refused rather than replaced silently.
    """
    from trialkit.protocol.support import SUPPORT_RULES  # support imports this module

    return [problem for rule in (*RULES, *SUPPORT_RULES) for problem in rule(protocol)]
