"""What a registry export is built from: the registered facts, and one registry field.

Every value comes from a typed field of the protocol, the registration record or the power
table computed at registration (:func:`trialkit.design.power_table`); the getters here only
select and arrange those values, never compute new ones. A descriptive field the protocol
leaves at its schema default (``governance.ethics: Not stated``) is missing, not filled with
the default.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from trialkit.protocol.standards import stated_value

if TYPE_CHECKING:
    from trialkit.design import PowerTable
    from trialkit.protocol import Protocol
    from trialkit.register.freeze import Registration


@dataclass(frozen=True, slots=True)
class Facts:
    """Everything known at registration that an export may read.

    Attributes
    ----------
    protocol
        The registered protocol, as parsed from its YAML (so what it writes is told apart
        from schema defaults).
    registration
        The registration record: content hash, UTC time, trialkit version, directory.
    power
        Power and MDE at the planned size, computed at registration; ``None`` if not.
    documents
        The files the registration holds (frozen protocol, pre-analysis plan), by name.
    """

    protocol: Protocol
    registration: Registration
    power: PowerTable | None
    documents: tuple[str, ...]


Getter = Callable[[Facts], Any]


@dataclass(frozen=True, slots=True)
class RegistryField:
    """One field of a registry's form and where its value comes from.

    Attributes
    ----------
    section, label
        Where the field sits on the registry's form, and its label there.
    required
        Whether the registry requires it; ``None`` when that is not known.
    source
        The protocol path(s) or registration fact the value comes from; "" when the
        protocol schema has no field for it.
    get
        Reads the value from the facts; ``None`` (or an empty value) means missing.
    note
        Anything a researcher should know when pasting it.
    """

    section: str
    label: str
    required: bool | None
    source: str = ""
    get: Getter | None = None
    note: str = ""


def field(
    section: str,
    label: str,
    required: bool | None,
    source: str = "",
    get: Getter | None = None,
    note: str = "",
) -> RegistryField:
    """A :class:`RegistryField`; a lone protocol path as ``source`` is its own getter."""
    if get is None and source and " " not in source and "[" not in source:
        get = stated(source)
    return RegistryField(section, label, required, source, get, note)


def stated(path: str) -> Getter:
    """The value at ``path`` when the protocol writes it (schema defaults are missing)."""
    return lambda facts: stated_value(facts.protocol, path)


def attr(path: str) -> Getter:
    """The value at ``path``, schema default included (settings trialkit runs as given)."""

    def get(facts: Facts) -> Any:
        value: Any = facts.protocol
        for part in path.split("."):
            value = getattr(value, part)
        return value

    return get


def arms(facts: Facts) -> list[dict[str, Any]]:
    """Each arm: id, label, control or not, ratio, summary and who delivers it."""
    return [
        {
            "id": a.id,
            "label": a.label,
            "control": a.control,
            "ratio": a.ratio,
            "summary": a.intervention.summary,
            "delivered_by": a.intervention.delivered_by,
        }
        for a in facts.protocol.arms
    ]


def outcomes(*roles: str) -> Getter:
    """Outcomes of the given roles (all but ``primary`` when none given), as declared."""

    def get(facts: Facts) -> list[dict[str, Any]]:
        return [
            {
                "name": o.name,
                "label": o.label,
                "role": o.role,
                "type": o.type,
                "unit": o.unit or None,
                "direction": o.direction,
                "timing": o.timing,
                "measurement": o.measurement,
                "level": o.level,
            }
            for o in facts.protocol.outcomes
            if (o.role in roles if roles else o.role != "primary")
        ]

    return get


def power_rows(facts: Facts) -> list[dict[str, Any]] | None:
    """Power and MDE of each primary outcome at the planned size, from the power table."""
    if facts.power is None:
        return None
    rows = [
        {
            "outcome": r.outcome,
            "comparison": r.comparison,
            "effect": r.effect,
            "effect_unit": r.effect_unit,
            "power": r.power,
            "target_power": r.target_power,
            "mde": None if math.isnan(r.mde) else r.mde,
            "mde_cace": r.mde_cace,
            "alpha": r.alpha,
            "n_units": r.at_planned.n_units,
            "n_clusters": r.at_planned.n_clusters,
            "cluster_size": r.at_planned.cluster_size,
        }
        for r in facts.power.rows
        if r.role == "primary"
    ]
    return rows or None


def sample_size(facts: Facts) -> dict[str, Any]:
    """Planned units, the arms' ratios and each level's planned mean per unit."""
    p = facts.protocol
    return {
        "unit": p.units.name,
        "planned_units": p.units.planned,
        "ratios": {a.id: a.ratio for a in p.arms},
        "per_unit": {lv.name: lv.per_unit.mean for lv in p.levels},
    }


def randomisation(facts: Facts) -> dict[str, Any]:
    """The scheme, its restrictions, the registered seed and who randomises."""
    d, g = facts.protocol.design, facts.protocol.governance
    return {
        "scheme": d.scheme,
        "block_columns": list(d.block_columns),
        "cluster_column": d.cluster_column,
        "seed": d.seed,
        "randomised_by": stated_value(g, "randomised_by"),
        "concealment": stated_value(g, "concealment"),
    }


def registration_facts(facts: Facts) -> dict[str, Any]:
    """The registration record: protocol id and version, content hash, time, files."""
    reg = facts.registration
    return {
        "protocol_id": reg.protocol.identity.id,
        "protocol_version": reg.protocol.identity.version,
        "protocol_hash": reg.protocol_hash,
        "registered_utc": reg.registered_utc,
        "trialkit_version": reg.trialkit_version,
        "documents": list(facts.documents),
    }
