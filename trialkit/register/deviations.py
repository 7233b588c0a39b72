"""Deviations: every difference between the registered protocol and the one analysed.

Lists are compared by their items' ``name``, ``id`` or ``outcome`` (so reordering is not a
deviation) and every leaf that differs becomes one :class:`Deviation`.

Severity
--------
A change is **major** when it touches what the pilot is judged by (CONSORT 2025 item 10,
SPIRIT 2025 item 31); every major field is listed once, in :data:`MAJOR_FIELDS`, and
everything else is **minor** (labels, descriptions, power assumptions, sampler settings,
secondary outcomes…). Patterns name a field and everything below it; ``[*]`` stands for
any list item and ``[primary]`` for an outcome (or a prior on an outcome) that is primary
in the registered or the current protocol, so a role changing to or from ``primary``,
and a primary outcome added or removed, are caught by ``outcomes[primary].role``.
The protocol fills in its defaults, so leaving out a section (``analysis.frequentist``)
means "the default plan" and is compared field by field; a plan absent from one side
altogether (:data:`MAJOR_IF_ABSENT`) is major.

Kind
----
Each deviation is also an **amendment** (made before outcome data were validated) or a
**deviation** in the narrow sense (made after), decided from the ledger by
:func:`trialkit.register.timing.change_kind`; without a ledger, every change is a
deviation.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path
from typing import Any, Literal

import pandas as pd

from trialkit.protocol import Protocol
from trialkit.register.timing import ChangeKind, change_kind

Severity = Literal["major", "minor"]

#: Every field whose change is major, with what it protects. See the module docstring.
MAJOR_FIELDS: tuple[tuple[str, str], ...] = (
    ("arms", "the arms compared"),
    ("design.type", "the design"),
    ("design.scheme", "the randomisation scheme"),
    ("estimands", "the effects estimated"),
    ("outcomes[primary].role", "which outcomes are primary"),
    ("outcomes[primary].column", "a primary outcome's definition"),
    ("outcomes[primary].level", "a primary outcome's definition"),
    ("outcomes[primary].type", "a primary outcome's definition"),
    ("outcomes[primary].direction", "a primary outcome's definition"),
    ("outcomes[primary].range", "a primary outcome's definition"),
    ("outcomes[primary].timing", "a primary outcome's definition (CONSORT: outcome switching)"),
    ("outcomes[primary].levels", "a primary outcome's definition"),
    ("outcomes[primary].mid", "a primary outcome's minimum important difference"),
    ("outcomes[primary].rope", "a primary outcome's region of practical equivalence"),
    ("families[*].multiplicity", "the multiplicity correction"),
    ("analysis.frequentist.estimator", "the estimator"),
    ("analysis.frequentist.alpha", "the significance level"),
    ("analysis.frequentist.se_type", "the standard errors"),
    ("analysis.frequentist.missing_data", "the handling of missing outcomes"),
    ("analysis.bayesian.enabled", "whether the Bayesian analysis runs"),
    ("analysis.bayesian.default_prior", "the default priors"),
    ("analysis.bayesian.likelihood", "the Bayesian likelihood"),
    ("analysis.bayesian.priors[primary]", "a primary outcome's prior"),
    ("analysis.decision_rules", "the decision rules"),
)

#: Sections whose fields are major when absent from one side (the plan dropped or added).
MAJOR_IF_ABSENT: tuple[str, ...] = ("analysis.frequentist",)


@dataclass(frozen=True, slots=True)
class Deviation:
    """One field that differs from the registration.

    Attributes
    ----------
    field
        The field's path, lists keyed by item name, e.g. ``outcomes[loneliness].mid`` or
        ``analysis.bayesian.priors[loneliness].sd``.
    registered
        Its registered value as text; ``"(absent)"`` when the registration lacks it.
    current
        Its current value as text; ``"(absent)"`` when the current protocol lacks it.
    severity
        ``"major"`` when the field is in :data:`MAJOR_FIELDS` (or a dropped plan),
        ``"minor"`` otherwise.
    kind
        ``"amendment"`` (changed before outcome data were first validated) or
        ``"deviation"`` (after, or unknown for want of a ledger); see
        :mod:`trialkit.register.timing`.
    reason
        The reason given for the changes; ``"No reason given."`` when none was.
    """

    field: str
    registered: str
    current: str
    severity: Severity
    kind: ChangeKind
    reason: str


def _key(item: Any, index: int) -> str:
    if isinstance(item, dict):
        for attr in ("name", "id", "outcome"):
            if isinstance(item.get(attr), str):
                return str(item[attr])
    return str(index)


def _flatten(value: Any, prefix: str = "") -> dict[str, Any]:
    if isinstance(value, dict):
        out: dict[str, Any] = {}
        for key, item in value.items():
            out.update(_flatten(item, f"{prefix}.{key}" if prefix else str(key)))
        return out
    if isinstance(value, list) and value and all(isinstance(v, dict) for v in value):
        out = {}
        for index, item in enumerate(value):
            out.update(_flatten(item, f"{prefix}[{_key(item, index)}]"))
        return out
    return {prefix: value}


def _primary(protocol: Protocol) -> set[str]:
    return {o.name for o in protocol.outcomes if o.role == "primary"}


@lru_cache(maxsize=64)
def _pattern(primary: frozenset[str]) -> re.Pattern[str]:
    names = "|".join(re.escape(n) for n in sorted(primary)) or "(?!)"
    parts = []
    for field, _ in MAJOR_FIELDS:
        escaped = re.escape(field)
        escaped = escaped.replace(r"\[primary\]", rf"\[(?:{names})\]")
        parts.append(escaped.replace(r"\[\*\]", r"\[[^\]]+\]"))
    return re.compile(rf"(?:{'|'.join(parts)})(?:$|[.\[])")


def severity(field: str, *, primary: frozenset[str], one_sided: bool = False) -> Severity:
    """The severity of a change to ``field``.

    Parameters
    ----------
    field
        The field's path (as in :attr:`Deviation.field`).
    primary
        Names of the outcomes primary in the registered or the current protocol.
    one_sided
        The field exists in only one of the two protocols.

    Examples
    --------
    >>> severity("analysis.frequentist.alpha", primary=frozenset())
    'major'
    >>> severity("outcomes[loneliness].label", primary=frozenset({"loneliness"}))
    'minor'
    """
    if _pattern(primary).match(field):
        return "major"
    if one_sided and any(field.startswith(f"{p}.") for p in MAJOR_IF_ABSENT):
        return "major"
    return "minor"


def _shown(value: Any) -> str:
    return "(absent)" if value is None else str(value)


def compare(
    registered: Protocol,
    current: Protocol,
    *,
    reason: str = "",
    ledger: Path | None = None,
) -> tuple[Deviation, ...]:
    """Every field-level difference between ``registered`` and ``current``.

    Parameters
    ----------
    registered, current
        The frozen protocol and the protocol now used for analysis.
    reason
        The reason given for the changes (``--deviation-reason``); empty when none given.
    ledger
        The pilot's ledger. It decides each change's :attr:`Deviation.kind`; without one,
        every change is a ``"deviation"`` (the conservative reading).

    Returns
    -------
    tuple of Deviation
        Sorted by field; empty when the protocols agree.

    Raises
    ------
    RegistrationError
        If ``ledger`` is given but is not a readable ledger.
    """
    before = _flatten(registered.model_dump(mode="json"))
    after = _flatten(current.model_dump(mode="json"))
    primary = frozenset(_primary(registered) | _primary(current))
    changed = [
        field
        for field in sorted(before.keys() | after.keys())
        if before.get(field) != after.get(field)  # absent and null read alike
    ]
    if not changed:
        return ()
    kind = change_kind(current.content_hash(), ledger)
    given = reason or "No reason given."
    return tuple(
        Deviation(
            field=field,
            registered=_shown(before.get(field)),
            current=_shown(after.get(field)),
            severity=severity(
                field, primary=primary, one_sided=(field in before) != (field in after)
            ),
            reason=given,
            kind=kind,
        )
        for field in changed
    )


COLUMNS = ("field", "registered", "current", "severity", "kind", "reason")


def to_frame(deviations: tuple[Deviation, ...]) -> pd.DataFrame:
    """A tidy table of deviations, one row each, in :data:`COLUMNS`."""
    return pd.DataFrame(
        [[getattr(d, c) for c in COLUMNS] for d in deviations], columns=list(COLUMNS)
    )
