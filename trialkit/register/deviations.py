"""Deviations: every difference between the registered protocol and the one analysed.

Lists are compared by their items' ``name`` or ``id`` (so reordering is not a deviation) and
every leaf that differs becomes one :class:`Deviation`. A deviation is **major** when it
touches what the pilot is judged by — primary outcomes, arms, estimands, the estimator or
decision rules — and **minor** otherwise (CONSORT 2025 item 10, SPIRIT 2025 item 31).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Literal

import pandas as pd

from trialkit.protocol import Protocol

Severity = Literal["major", "minor"]
_MAJOR_PREFIXES = (
    "arms",
    "estimands",
    "analysis.frequentist.estimator",
    "analysis.decision_rules",
    "design.type",
    "design.scheme",
)


@dataclass(frozen=True, slots=True)
class Deviation:
    """One field that differs from the registration."""

    field: str
    registered: str
    current: str
    severity: Severity
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


def _severity(field: str, primary: set[str]) -> Severity:
    if field.startswith(_MAJOR_PREFIXES):
        return "major"
    if field.startswith("outcomes[") and field[9:].split("]")[0] in primary:
        return "major"
    return "minor"


def _shown(value: Any) -> str:
    return "(absent)" if value is None else str(value)


def compare(registered: Protocol, current: Protocol, *, reason: str = "") -> tuple[Deviation, ...]:
    """Every field-level difference between ``registered`` and ``current``.

    Parameters
    ----------
    registered, current
        The frozen protocol and the protocol now used for analysis.
    reason
        The reason given for the changes (``--deviation-reason``); empty when none given.
    """
    before = _flatten(registered.model_dump(mode="json"))
    after = _flatten(current.model_dump(mode="json"))
    primary = _primary(registered) | _primary(current)
    given = reason or "No reason given."
    return tuple(
        Deviation(
            field,
            _shown(before.get(field)),
            _shown(after.get(field)),
            _severity(field, primary),
            given,
        )
        for field in sorted(before.keys() | after.keys())
        if before.get(field) != after.get(field)
    )


def to_frame(deviations: tuple[Deviation, ...]) -> pd.DataFrame:
    """A tidy table of deviations: field, registered, current, severity, reason."""
    columns = ["field", "registered", "current", "severity", "reason"]
    return pd.DataFrame([[getattr(d, c) for c in columns] for d in deviations], columns=columns)
