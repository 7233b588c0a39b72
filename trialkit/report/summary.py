"""Sentences for the plain-language summary that decision makers read first.

Each function takes plain values from the results file and returns short sentences in
GOV.UK style: one idea a sentence, numbers in natural units, chance in words and numbers.
They are pure and unit-tested; none of them raises on a missing key.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from trialkit.protocol.outcomes import Outcome
from trialkit.report.words import (
    capitalise,
    chance_words,
    comparison,
    money,
    natural_frequency,
    number,
    percent,
    plural,
    quantity,
    short_label,
)

Row = Mapping[str, Any]


def _num(row: Row | None, key: str) -> float | None:
    value = None if row is None else row.get(key)
    return float(value) if isinstance(value, int | float) and not isinstance(value, bool) else None


def effect_sentence(
    outcome: Outcome, estimate: float, *, treated: str, control: str, means: Mapping[str, float]
) -> str:
    """What happened to an outcome, in its own units.

    Parameters
    ----------
    outcome
        The outcome.
    estimate
        The effect (treated minus control) in outcome units; a risk difference for binary.
    treated, control
        Arm phrases such as "teams given the discretionary budget".
    means
        Arm means keyed "treated" and "control", when known (used for binary outcomes).

    Returns
    -------
    str
        For example "Clients in teams given the discretionary budget scored 0.6 points lower
        on loneliness, on a 3–9 scale, than clients in teams that kept usual practice."
    """
    who = plural(outcome.level)
    label = short_label(outcome.label)
    word, _ = comparison(estimate, lower_is_better=outcome.direction == "lower_is_better")
    if outcome.type == "binary":
        if "treated" in means and "control" in means:
            freq_t = natural_frequency(means["treated"])
            freq_c = natural_frequency(means["control"])
            freq = f"{freq_t} in both" if freq_t == freq_c else f"{freq_t} against {freq_c}"
            return (
                f"{capitalise(label)}: {percent(means['treated'], places=1)} of {who} in "
                f"{treated}, compared with {percent(means['control'], places=1)} of {who} in "
                f"{control} ({freq})."
            )
        points = number(estimate * 100)
        return (
            f"The share of {who} with {label.lower()} was {points} percentage points {word} "
            f"in {treated} than in {control}."
        )
    if abs(estimate) == 0:
        return f"{capitalise(label)} was the same for {who} in {treated} and in {control}."
    scale = ""
    if outcome.range:
        scale = f", on a {outcome.range[0]:g}–{outcome.range[1]:g} scale"
    if outcome.unit == "points" or outcome.type == "ordinal":
        amount = quantity(estimate, outcome.unit or "points")
        return (
            f"{capitalise(who)} in {treated} scored {amount} {word} on {label}{scale}, "
            f"than {who} in {control}."
        )
    amount = quantity(estimate, outcome.unit)
    return f"{capitalise(label)} was {amount} {word} for {who} in {treated} than in {control}."


def range_sentence(outcome: Outcome, low: float, high: float, level: float = 0.95) -> str:
    """The confidence interval in words: "from 1.4 points lower to 0.2 points higher"."""
    unit = outcome.unit if outcome.type != "binary" else "percentage points"
    scale = 100.0 if outcome.type == "binary" else 1.0

    def end(value: float) -> str:
        if value == 0:
            return "no difference"
        word = "lower" if value < 0 else "higher"
        if unit and unit.isupper() and len(unit) == 3:
            return f"{money(abs(value), unit)} {word}"
        return f"{quantity(value * scale, unit)} {word}"

    return (
        f"Allowing for chance, the true difference is probably between {end(low)} and "
        f"{end(high)} ({percent(level)} confidence interval)."
    )


def benefit_sentence(outcome: Outcome, estimate: float) -> str:
    """Whether the observed direction is good news."""
    lower = outcome.direction == "lower_is_better"
    _, good = comparison(estimate, lower_is_better=lower)
    better = "Lower" if lower else "Higher"
    verdict = "an improvement" if good else "a change for the worse"
    return f"{better} is better here, so this is {verdict}."


def sure_sentences(outcome: Outcome, bayes: Row, *, treatment: str) -> list[str]:
    """How sure we are, from the posterior: "We are 93% sure the budget reduced loneliness"."""
    p_benefit = _num(bayes, "p_benefit")
    if p_benefit is None:
        return []
    change = "reduced" if outcome.direction == "lower_is_better" else "increased"
    label = short_label(outcome.label)
    out = [
        f"We are {percent(p_benefit)} sure that {treatment} {change} {label}. "
        f"On the government's probability scale this is {chance_words(p_benefit)}."
    ]
    p_mid = _num(bayes, "p_mid")
    if p_mid is not None and outcome.mid is not None:
        out.append(
            f"The chance that it {change} {label} by at least "
            f"{quantity(outcome.mid, outcome.unit)}, the smallest change that matters, "
            f"is {percent(p_mid)}."
        )
    p_rope = _num(bayes, "p_rope")
    if p_rope is not None and outcome.rope is not None:
        out.append(
            f"The chance that the effect is too small to matter (within ±"
            f"{quantity(outcome.rope, outcome.unit)}) is {percent(p_rope)}."
        )
    return out


def cost_sentences(net: Row | None, *, cost_per_unit: float, unit: str, currency: str) -> list[str]:
    """Cost and net benefit per randomised unit, with the chance it pays for itself."""
    out = []
    if cost_per_unit:
        out.append(f"It cost {money(cost_per_unit, currency)} extra per {unit}.")
    mean = _num(net, "per_unit_mean")
    if net is None or mean is None:
        return out
    currency = str(net.get("currency") or currency)
    ci = net.get("per_unit_ci") or []
    text = (
        "Counting the money value of the changes we measured, the net result was "
        f"{_gain(mean, currency)} per {unit}"
    )
    if len(ci) == 2:
        text += f" (probably between {_gain(ci[0], currency)} and {_gain(ci[1], currency)})"
    out.append(text + ".")
    p_positive = _num(net, "p_positive")
    if p_positive is not None:
        out.append(f"The chance that the benefits outweighed the costs is {percent(p_positive)}.")
    return out


def _gain(amount: float, currency: str) -> str:
    return f"a {'gain' if amount >= 0 else 'loss'} of {money(abs(amount), currency)}"


def misuse_sentences(misuse: Row | None, *, what: str = "spends") -> list[str]:
    """Misuse observed against its tolerance: "3 of 212 spends (1.4%) were judged unjustified"."""
    if not misuse:
        return []
    cases, reviewed = misuse.get("cases"), misuse.get("reviewed")
    tolerance = _num(misuse, "tolerance")
    out = []
    if isinstance(cases, int) and isinstance(reviewed, int) and reviewed > 0:
        text = (
            f"{cases} of {reviewed} {what} ({percent(cases / reviewed, places=1)}) were judged "
            "unjustified"
        )
        text += f"; the tolerance was {percent(tolerance)}." if tolerance is not None else "."
        out.append(text)
    p_above = _num(misuse, "p_above_tolerance")
    if p_above is not None and tolerance is not None:
        out.append(
            f"The chance that the true rate of misuse is above {percent(tolerance)} is "
            f"{percent(p_above, places=1 if p_above < 0.1 else 0)} ({chance_words(p_above)})."
        )
    return out


_YES = ("1", "True", "true", "yes")
_NO = ("0", "False", "false", "no")


def _level_name(row: Row, who: str) -> str:
    value = str(row.get("level_value", ""))
    label = short_label(str(row.get("label") or row.get("subgroup") or "the group"))
    if value in _YES:
        return "them"
    if value in _NO:
        return f"other {who}"
    return f"{label}: {value}"


def equity_sentences(rows: Sequence[Row], outcome: Outcome, *, alpha: float = 0.05) -> list[str]:
    """Whether the effect on ``outcome`` was fair across pre-specified equity groups."""
    out = []
    label = short_label(outcome.label)
    groups: dict[str, list[Row]] = {}
    for row in rows:
        if row.get("equity") and row.get("outcome") == outcome.name:
            groups.setdefault(str(row.get("subgroup")), []).append(row)
    who = plural(outcome.level)
    lower = outcome.direction == "lower_is_better"
    for members in groups.values():
        members.sort(key=lambda r: str(r.get("level_value")) not in _YES)
        het = _num(members[0], "heterogeneity_p")
        parts = [
            f"{quantity(float(r['estimate']), outcome.unit)} "
            f"{comparison(float(r['estimate']), lower_is_better=lower)[0]}"
            f" for {_level_name(r, who)}"
            for r in members
            if _num(r, "estimate") is not None
        ]
        name = short_label(str(members[0].get("label") or members[0].get("subgroup")))
        if het is None:
            verdict = f"For {name}, we could not test whether the effect differed"
        elif het >= alpha:
            verdict = f"For {name}, the effect on {label} was not clearly different"
        else:
            verdict = f"For {name}, the effect on {label} was different; check that this is fair"
        out.append(f"{verdict}: {'; '.join(parts)}." if parts else f"{verdict}.")
    return out


def goodhart_sentence(indices: Sequence[Row], labels: Mapping[str, str]) -> dict[str, Any] | None:
    """Say plainly when the target family moved but the shadow family did not.

    Indices are oriented so that positive means benefit. A family "moved" when its
    interval excludes zero on the side of benefit.

    Returns
    -------
    dict or None
        ``{"warning": bool, "tone": str, "text": str}``, or ``None`` without both kinds of family.
    """

    def moved(row: Row) -> bool:
        low = _num(row, "ci_low")
        return low is not None and low > 0

    targets = [r for r in indices if r.get("kind") == "target"]
    shadows = [r for r in indices if r.get("kind") == "shadow"]
    if not targets or not shadows:
        return None

    def names(rows: list[Row]) -> str:
        return " and ".join(
            short_label(labels.get(str(r["family"]), str(r["family"]))) for r in rows
        )

    t_names, s_names = names(targets), names(shadows)
    t_moved, s_moved = any(moved(r) for r in targets), all(moved(r) for r in shadows)
    s_worse = any((_num(r, "ci_high") or 0.0) < 0 for r in shadows)
    if s_worse:
        text = (
            f"Warning: {s_names} got worse"
            + (f" while the targets ({t_names}) improved" if t_moved else "")
            + ". Check whether work on the targets crowded out what they are meant to serve."
        )
        return {"warning": True, "tone": "warn", "text": text}
    if t_moved and not s_moved:
        text = (
            f"Warning: the targets ({t_names}) improved, but {s_names} did not clearly "
            f"improve. {capitalise(s_names)} is what the targets are meant to serve, so the "
            "targets may have been hit without the benefit they stand for."
        )
        return {"warning": True, "tone": "warn", "text": text}
    if t_moved:
        text = (
            f"The targets ({t_names}) improved, and so did {s_names}, what they are meant to serve."
        )
        return {"warning": False, "tone": "good", "text": text}
    text = f"The targets ({t_names}) did not clearly move."
    return {"warning": False, "tone": "neutral", "text": text}
