"""Deviation severity, field by field: the bundled flagship changed one field at a time."""

from __future__ import annotations

import copy
from collections.abc import Callable
from typing import Any

import pytest

from trialkit import register
from trialkit.protocol import Protocol

Edit = Callable[[dict[str, Any]], None]


def _outcome(data: dict[str, Any], name: str) -> dict[str, Any]:
    return next(o for o in data["outcomes"] if o["name"] == name)


def _family(data: dict[str, Any], name: str) -> dict[str, Any]:
    return next(f for f in data["families"] if f["name"] == name)


def _set(path: str, value: Any) -> Edit:
    """An edit setting ``a.b.c`` to ``value``."""

    def edit(data: dict[str, Any]) -> None:
        *parents, last = path.split(".")
        for key in parents:
            data = data[key]
        data[last] = value

    return edit


def _outcome_set(name: str, key: str, value: Any) -> Edit:
    return lambda data: _outcome(data, name).__setitem__(key, value)


def _add_primary(data: dict[str, Any]) -> None:
    new = dict(_outcome(data, "wellbeing"), name="wellbeing_2", role="primary")
    data["outcomes"].append(new)


def _add_prior(outcome: str) -> Edit:
    def edit(data: dict[str, Any]) -> None:
        priors = data["analysis"]["bayesian"]["priors"]
        priors.append(dict(priors[0], outcome=outcome))

    return edit


MAJOR: list[tuple[str, Edit]] = [
    ("analysis.frequentist.alpha", _set("analysis.frequentist.alpha", 0.10)),
    ("analysis.frequentist.se_type", _set("analysis.frequentist.se_type", "CR1")),
    (
        "analysis.frequentist.missing_data",
        _set("analysis.frequentist.missing_data", "multiple_imputation"),
    ),
    ("analysis.frequentist.estimator", _set("analysis.frequentist.estimator", "ols")),
    ("analysis.bayesian.enabled", _set("analysis.bayesian.enabled", False)),
    ("analysis.bayesian.default_prior", _set("analysis.bayesian.default_prior", "sceptical")),
    ("analysis.bayesian.likelihood", _set("analysis.bayesian.likelihood", "student_t")),
    (
        "analysis.bayesian.priors[loneliness].sd",
        lambda d: d["analysis"]["bayesian"]["priors"][0].__setitem__("sd", 2.0),
    ),
    (
        "analysis.decision_rules[roll_out].conditions[loneliness].at_least",
        lambda d: d["analysis"]["decision_rules"][0]["conditions"][0].__setitem__("at_least", 0.8),
    ),
    (
        "families[workforce].multiplicity",
        lambda d: _family(d, "workforce").__setitem__("multiplicity", "holm"),
    ),
    ("outcomes[loneliness].role", _outcome_set("loneliness", "role", "secondary")),
    ("outcomes[wellbeing].role", _outcome_set("wellbeing", "role", "primary")),
    ("outcomes[wellbeing_2].role", _add_primary),
    ("outcomes[loneliness].column", _outcome_set("loneliness", "column", "ucla3")),
    ("outcomes[loneliness].type", _outcome_set("loneliness", "type", "count")),
    ("outcomes[loneliness].direction", _outcome_set("loneliness", "direction", "higher_is_better")),
    ("outcomes[loneliness].range", _outcome_set("loneliness", "range", [3, 12])),
    ("outcomes[loneliness].mid", _outcome_set("loneliness", "mid", 0.8)),
    ("outcomes[loneliness].timing", _outcome_set("loneliness", "timing", "Six months on")),
    ("outcomes[loneliness].rope", _outcome_set("loneliness", "rope", 0.5)),
    ("arms[budget].ratio", lambda d: d["arms"][1].__setitem__("ratio", 2)),
    ("design.scheme", _set("design.scheme", "cluster")),
]

MINOR: list[tuple[str, Edit]] = [
    ("outcomes[loneliness].label", _outcome_set("loneliness", "label", "Loneliness (UCLA-3)")),
    (
        "outcomes[loneliness].assumptions.sd",
        lambda d: _outcome(d, "loneliness")["assumptions"].__setitem__("sd", 2.0),
    ),
    ("outcomes[wellbeing].mid", _outcome_set("wellbeing", "mid", 2.0)),
    ("outcomes[wellbeing].range", _outcome_set("wellbeing", "range", [7, 36])),
    ("outcomes[wellbeing].direction", _outcome_set("wellbeing", "direction", "lower_is_better")),
    ("analysis.bayesian.priors[wellbeing].sd", _add_prior("wellbeing")),
    ("analysis.bayesian.draws", _set("analysis.bayesian.draws", 2000)),
    ("analysis.frequentist.ri_draws", _set("analysis.frequentist.ri_draws", 5000)),
    ("families[workforce].label", lambda d: _family(d, "workforce").__setitem__("label", "Staff")),
    ("identity.title", _set("identity.title", "A discretionary budget pilot")),
    ("power.target", _set("power.target", 0.9)),
]


def _changed(flagship: Protocol, edit: Edit) -> Protocol:
    """The flagship with one edit, its fields validated but cross-field rules deferred.

    Some changes the comparison must class (alpha 0.10, the Bayesian plan switched off
    while decision rules need it, no primary outcome left) are refused by the protocol's
    cross-field rules; a deviation is classed whether or not the plan can run it.
    """
    data = copy.deepcopy(flagship.model_dump(mode="json"))
    edit(data)
    return Protocol.model_validate(data, context={"defer_rules": True})


@pytest.mark.parametrize("field,edit", MAJOR, ids=[f for f, _ in MAJOR])
def test_major_field(flagship: Protocol, field: str, edit: Edit) -> None:
    found = {d.field: d for d in register.compare(flagship, _changed(flagship, edit))}
    assert found[field].severity == "major", field


@pytest.mark.parametrize("field,edit", MINOR, ids=[f for f, _ in MINOR])
def test_minor_field(flagship: Protocol, field: str, edit: Edit) -> None:
    found = {d.field: d.severity for d in register.compare(flagship, _changed(flagship, edit))}
    assert found.get(field) == "minor", field
    assert set(found.values()) == {"minor"}, found


def test_single_field_changes_are_one_deviation_each(flagship: Protocol) -> None:
    (dev,) = register.compare(
        flagship, _changed(flagship, _set("analysis.frequentist.alpha", 0.10)), reason="typo"
    )
    assert (dev.registered, dev.current, dev.reason) == ("0.05", "0.1", "typo")


def test_removed_primary_outcome_is_major(flagship: Protocol) -> None:
    registered = _changed(flagship, _add_primary)
    found = {d.field: d for d in register.compare(registered, flagship)}
    assert found["outcomes[wellbeing_2].role"].severity == "major"
    assert found["outcomes[wellbeing_2].role"].current == "(absent)"
    assert found["outcomes[wellbeing_2].label"].severity == "minor"


def test_dropped_frequentist_plan_is_major() -> None:
    primary = frozenset({"loneliness"})
    assert register.severity("analysis.frequentist.ri_draws", primary=primary) == "minor"
    dropped = register.severity("analysis.frequentist.ri_draws", primary=primary, one_sided=True)
    assert dropped == "major"


def test_major_fields_are_declared_once() -> None:
    patterns = [p for p, _ in register.MAJOR_FIELDS]
    assert len(patterns) == len(set(patterns))
    assert all(why for _, why in register.MAJOR_FIELDS)
