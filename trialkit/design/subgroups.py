"""Power within the pre-specified equity subgroups: can the pilot see the effect for them?

An equity subgroup (``subgroups[].equity``) marks citizens whose fair treatment is at stake,
such as clients in the most deprived areas. The question a council asks is whether the
pilot could detect the hoped-for effect *for them*, so each level of the subgroup is
assessed as if analysed on its own, with the calculation :func:`~trialkit.design.power_table`
makes for the whole pilot and the level's expected share (``subgroups[].shares``):

- a subgroup measured below the randomised unit (clients of a team) keeps every cluster
  and has ``share ×`` the measurements per cluster, for outcomes at that level;
- a subgroup of the randomised units themselves (teams in a locality) keeps
  ``share ×`` the units, rounded to whole units, for every outcome.

Primary outcomes are assessed. Outcomes at another level than the subgroup's are not (a
client subgroup says nothing about staff outcomes), nor are subgroups without shares.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

from trialkit.design.plan import PowerRow, _outcome_spec, _row

if TYPE_CHECKING:
    from trialkit.protocol import Protocol
    from trialkit.protocol.outcomes import Outcome, Subgroup


@dataclass(frozen=True, slots=True)
class SubgroupPowerRow:
    """Power and MDE for one outcome within one level of an equity subgroup.

    Attributes
    ----------
    subgroup, label
        The subgroup's name and label.
    level, share
        The level (e.g. ``"1"``) and its expected share of the subgroup's level.
    units, per_unit
        Randomised units and measurements per unit the level's calculation assumed
        (``per_unit`` is ``None`` for an outcome measured on the units themselves).
    power
        The whole calculation, as :class:`~trialkit.design.PowerRow` gives it for the pilot.
    """

    subgroup: str
    label: str
    level: str
    share: float
    units: int
    per_unit: float | None
    power: PowerRow


@dataclass(frozen=True, slots=True)
class SubgroupPower:
    """Power within the equity subgroups.

    Attributes
    ----------
    rows
        One row per subgroup level × primary outcome × treated arm, in protocol order.
    skipped
        ``(subgroup, reason)`` for equity subgroups that cannot be assessed.
    """

    rows: tuple[SubgroupPowerRow, ...]
    skipped: tuple[tuple[str, str], ...]


def subgroup_power(protocol: Protocol) -> SubgroupPower:
    """Power within each level of every equity subgroup, for the primary outcomes.

    Examples
    --------
    >>> from trialkit.protocol import bundled_protocols, load_protocol
    >>> p = load_protocol(bundled_protocols()["council_discretionary_budget"])
    >>> [(r.subgroup, r.level, r.per_unit) for r in subgroup_power(p).rows][:2]
    [('most_deprived', '0', 22.5), ('most_deprived', '1', 7.5)]
    """
    rows: list[SubgroupPowerRow] = []
    skipped: list[tuple[str, str]] = []
    primary = [o for o in protocol.outcomes if o.role == "primary" and o.assumptions]
    for subgroup in (s for s in protocol.subgroups if s.equity):
        if not subgroup.shares or len(subgroup.shares) != len(subgroup.levels):
            skipped.append((subgroup.name, "no `shares` declared for its levels"))
            continue
        outcomes = [o for o in primary if _assessable(protocol, subgroup, o)]
        if not outcomes:
            skipped.append(
                (subgroup.name, f"no primary outcome is measured at the `{subgroup.level}` level")
            )
            continue
        for level, share in zip(subgroup.levels, subgroup.shares, strict=True):
            for outcome in outcomes:
                rows += _level_rows(protocol, subgroup, level, share, outcome)
    return SubgroupPower(rows=tuple(rows), skipped=tuple(skipped))


def _assessable(protocol: Protocol, subgroup: Subgroup, outcome: Outcome) -> bool:
    spec, _ = _outcome_spec(protocol, outcome)
    same_level = subgroup.level in (outcome.level, protocol.units.name)
    return spec is not None and same_level and outcome.type != "survival"


def _level_rows(
    protocol: Protocol, subgroup: Subgroup, level: str, share: float, outcome: Outcome
) -> list[SubgroupPowerRow]:
    """The outcome's power rows with the level's share of units or of measurements."""
    spec, _ = _outcome_spec(protocol, outcome)
    assert spec is not None
    units = protocol.units.planned
    measured = protocol.level(outcome.level)
    within = protocol
    if subgroup.level == protocol.units.name:
        units = max(2, round(units * share))
    elif measured is not None:
        fewer = measured.per_unit.model_copy(update={"mean": measured.per_unit.mean * share})
        levels = tuple(
            lv.model_copy(update={"per_unit": fewer}) if lv is measured else lv
            for lv in protocol.levels
        )
        within = protocol.model_copy(update={"levels": levels})
    per_unit = None
    if measured is not None:
        fitted = within.level(outcome.level)
        assert fitted is not None
        per_unit = fitted.per_unit.mean
    return [
        SubgroupPowerRow(
            subgroup=subgroup.name,
            label=subgroup.label,
            level=level,
            share=share,
            units=units,
            per_unit=per_unit,
            power=_row(within, outcome, arm, spec, units),
        )
        for arm in protocol.arms
        if not arm.control
    ]
