"""Attrition per outcome and arm, at cluster and individual level, with WWC verdicts.

For each outcome and arm: *assigned* (allocated clusters; individuals in the level's file),
*received* (took up the arm, where the protocol declares a take-up column), *followed up*
(non-missing outcome) and *analysed* (followed up; everyone assigned when the plan is
multiple imputation). Attrition is ``1 − followed up / assigned``. For a time-to-event
outcome every row with a usable start date is followed up — leavers (followed to the
event) and rows censored at the end of follow-up alike — so leaving is never attrition;
only rows without usable dates are missing (:mod:`trialkit.validate.survival`).

Each treated arm is compared with control on its own, as the What Works Clearinghouse
does for a study with several arms: *overall* attrition pools the two arms, *differential*
attrition is the absolute difference of their rates, and both are judged against the WWC
boundary (:mod:`trialkit.validate.wwc`) under the cautious and the optimistic assumption.

A measurement level the protocol restricts to some arms (``levels[...].arms``, e.g.
spending records exist only where there is a budget) is **not measured by design** in the
other arms: those arms are shown with ``measured`` false and no attrition rate, and left
out of overall and differential attrition. When fewer than two arms (or no control arm)
are measured, there is no WWC verdict, and the row's ``note`` says why.
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Mapping
from dataclasses import asdict, dataclass, replace
from typing import Any, Literal

import pandas as pd

from trialkit.protocol.model import Protocol
from trialkit.protocol.outcomes import Outcome
from trialkit.validate.attrition_text import attrition_summary
from trialkit.validate.counting import ArmTable, Counter
from trialkit.validate.wwc import AttritionVerdict, attrition_verdict, max_differential

CountLevel = Literal["cluster", "individual"]

#: The columns of :meth:`Attrition.to_frame`, in order (documented there).
FRAME_COLUMNS: tuple[str, ...] = (
    "outcome",
    "level",
    "arm",
    "measured",
    "assigned",
    "received",
    "followed_up",
    "analysed",
    "attrition",
    "compared_with",
    "overall",
    "differential",
    "wwc_cautious",
    "wwc_cautious_limit",
    "wwc_optimistic",
    "wwc_optimistic_limit",
    "note",
)


@dataclass(frozen=True, slots=True)
class ArmCounts:
    """Counts of one arm for one outcome at one level (clusters or individuals).

    ``measured`` is false when the outcome's level does not exist in this arm by design;
    ``note`` says why an arm has no attrition rate or no WWC verdict (empty otherwise).
    """

    outcome: str
    level: CountLevel
    arm: str
    assigned: int
    received: int | None
    followed_up: int
    analysed: int
    measured: bool = True
    note: str = ""

    @property
    def attrition(self) -> float | None:
        """Share of the assigned with no outcome; ``None`` when not measured or none assigned."""
        if not self.measured or not self.assigned:
            return None
        return 1.0 - self.followed_up / self.assigned


@dataclass(frozen=True, slots=True)
class AttritionCheck:
    """Overall and differential attrition of one arm against control, with WWC verdicts.

    ``cautious_limit`` and ``optimistic_limit`` are the highest differential attrition still
    *low* at this overall rate under each boundary (``None`` beyond the table: high).
    """

    outcome: str
    level: CountLevel
    arm: str
    control: str
    overall: float
    differential: float
    cautious_limit: float | None
    cautious: AttritionVerdict
    optimistic_limit: float | None
    optimistic: AttritionVerdict


def _nan(value: float | None) -> float:
    return math.nan if value is None else value


def _comparison(arm: str, k: AttritionCheck | None) -> dict[str, Any]:
    """The comparison columns of one arm's row in :meth:`Attrition.to_frame`."""
    if k is None:
        return {
            "compared_with": None,
            **dict.fromkeys(("overall", "differential"), math.nan),
            **dict.fromkeys(("wwc_cautious", "wwc_optimistic"), None),
            **dict.fromkeys(("wwc_cautious_limit", "wwc_optimistic_limit"), math.nan),
        }
    return {
        "compared_with": k.arm if k.arm != arm else k.control,
        "overall": k.overall,
        "differential": k.differential,
        "wwc_cautious": k.cautious,
        "wwc_cautious_limit": _nan(k.cautious_limit),
        "wwc_optimistic": k.optimistic,
        "wwc_optimistic_limit": _nan(k.optimistic_limit),
    }


@dataclass(frozen=True, slots=True)
class Attrition:
    """Attrition of every outcome: counts per arm and WWC checks per arm against control."""

    counts: tuple[ArmCounts, ...]
    checks: tuple[AttritionCheck, ...]

    def _check_of(self, c: ArmCounts) -> AttritionCheck | None:
        """The check of ``c``'s arm; for control, the only check of its outcome and level."""
        found = [k for k in self.checks if (k.outcome, k.level) == (c.outcome, c.level)]
        mine = [k for k in found if k.arm == c.arm]
        if mine:
            return mine[0]
        return found[0] if len(found) == 1 and found[0].control == c.arm else None

    def to_frame(self) -> pd.DataFrame:
        """One row per outcome × level × arm, in :data:`FRAME_COLUMNS`.

        Columns: ``outcome``; ``level`` (``cluster`` or ``individual``: what is counted);
        ``arm``; ``measured`` (false: the level does not exist in this arm by design);
        ``assigned``, ``received`` (``None`` without a take-up column), ``followed_up``,
        ``analysed``; ``attrition`` (NaN when not measured or none assigned);
        ``compared_with`` (control for a treated arm; for control, the treated arm when it
        is the only comparison); ``overall`` and ``differential`` attrition of that
        comparison; ``wwc_cautious`` and ``wwc_optimistic`` (``"low"`` or ``"high"``) and
        the boundary each used, ``wwc_cautious_limit`` and ``wwc_optimistic_limit`` (the
        highest differential still low at this overall rate; NaN beyond the table);
        ``note`` (why an arm has no rate or no verdict, else empty). Comparison columns
        are NaN or ``None`` in a row without a comparison.
        """
        rows = [
            {f: getattr(c, f) for f in FRAME_COLUMNS[:8]}
            | {"attrition": _nan(c.attrition)}
            | _comparison(c.arm, self._check_of(c))
            | {"note": c.note}
            for c in self.counts
        ]
        return pd.DataFrame(rows, columns=list(FRAME_COLUMNS))

    def checks_frame(self) -> pd.DataFrame:
        """One row per outcome × level × compared arm, with both WWC verdicts."""
        columns = list(AttritionCheck.__dataclass_fields__)
        return pd.DataFrame([asdict(c) for c in self.checks], columns=columns)

    def summary(self) -> str:
        """A fixed-width text table: each comparison with its WWC verdicts, and why not."""
        return attrition_summary(self.counts, self.checks)

    def __str__(self) -> str:
        return self.summary()


def _analysed(protocol: Protocol, assigned: int, followed: int) -> int:
    plan = protocol.analysis.frequentist.missing_data
    return assigned if plan == "multiple_imputation" else followed


def _measured_arms(outcome: Outcome, protocol: Protocol) -> frozenset[str] | None:
    """Arms in which the outcome's level exists by design; ``None`` for every arm."""
    level = protocol.level(outcome.level)
    return frozenset(level.arms) if level is not None and level.arms else None


def _arms(arms: Iterable[str]) -> str:
    names = sorted(arms)
    return f"arm{'s' if len(names) != 1 else ''} {', '.join(f'`{n}`' for n in names) or 'none'}"


def _not_measured(level: str, measured: frozenset[str] | None) -> str:
    return f"not measured by design: level `{level}` exists only in {_arms(measured or ())}"


def arm_counts(outcome: Outcome, protocol: Protocol, table: ArmTable) -> list[ArmCounts]:
    """Counts per arm at cluster level (cluster designs) and individual level."""
    individual = protocol.design.type == "individual"
    at_unit = outcome.level == protocol.units.name
    levels: list[CountLevel] = (
        ["individual"] if individual else ["cluster"] if at_unit else ["cluster", "individual"]
    )
    measured = _measured_arms(outcome, protocol)
    out: list[ArmCounts] = []
    for a, arm in enumerate(table.arms):
        for level in levels:
            if level == "cluster":
                assigned, followed = int(table.clusters[a]), int(table.clusters_seen[a])
                got = table.clusters_received
            else:
                assigned, followed = int(table.individuals[a]), int(table.individuals_seen[a])
                got = table.individuals_received
            by_design = measured is None or arm in measured
            out.append(
                ArmCounts(
                    outcome.name,
                    level,
                    arm,
                    assigned,
                    None if got is None else int(got[a]),
                    followed,
                    _analysed(protocol, assigned, followed),
                    measured=by_design,
                    note="" if by_design else _not_measured(outcome.level, measured),
                )
            )
    return out


def _check(c: ArmCounts, base: ArmCounts) -> AttritionCheck:
    """WWC check of arm ``c`` against the control arm ``base`` (both measured, assigned)."""
    overall = 1 - (c.followed_up + base.followed_up) / (c.assigned + base.assigned)
    diff = abs(_nan(c.attrition) - _nan(base.attrition))
    return AttritionCheck(
        c.outcome,
        c.level,
        c.arm,
        base.arm,
        overall,
        diff,
        max_differential(overall, "cautious"),
        attrition_verdict(overall, diff, "cautious"),
        max_differential(overall, "optimistic"),
        attrition_verdict(overall, diff, "optimistic"),
    )


def _why_not(c: ArmCounts, base: ArmCounts | None, measured: list[str]) -> str:
    """Why the measured arm ``c`` cannot be compared with control (empty if it can)."""
    if len(measured) < 2:
        return (
            f"no WWC verdict: only {_arms(measured)} measured by design; "
            "attrition compares two arms"
        )
    if base is None or not base.measured:
        control = base.arm if base is not None else "control"
        return f"no WWC verdict: the control arm `{control}` is not measured by design"
    if not c.assigned:
        return "no WWC verdict: none assigned in this arm"
    if not base.assigned:
        return f"no WWC verdict: none assigned in the control arm `{base.arm}`"
    return ""


def _judge(counts: list[ArmCounts], control: str) -> tuple[list[ArmCounts], list[AttritionCheck]]:
    """WWC checks of each measured treated arm against control; notes where there is none."""
    checks: list[AttritionCheck] = []
    notes: dict[tuple[str, str], str] = {}
    for level in dict.fromkeys(c.level for c in counts):
        rows = [c for c in counts if c.level == level]
        base = next((c for c in rows if c.arm == control), None)
        measured = [c.arm for c in rows if c.measured]
        for c in rows:
            if c.measured and c.arm != control:
                notes[(level, c.arm)] = why = _why_not(c, base, measured)
                if not why and base is not None:
                    checks.append(_check(c, base))
        if base is not None and base.measured and not any(k.level == level for k in checks):
            notes[(level, control)] = _why_not(base, base, measured) or (
                "no WWC verdict: no treated arm has anyone assigned"
            )
    noted = [replace(c, note=notes.get((c.level, c.arm), c.note)) for c in counts]
    return noted, checks


def wwc_checks(counts: list[ArmCounts], control: str) -> list[AttritionCheck]:
    """Each measured treated arm against control: overall and differential attrition."""
    return _judge(counts, control)[1]


def attrition_table(
    protocol: Protocol,
    frames: Mapping[str, pd.DataFrame],
    allocation: pd.DataFrame,
    received: frozenset[str] | None = None,
) -> Attrition:
    """Attrition of every outcome of the protocol.

    Parameters
    ----------
    protocol
        The protocol.
    frames
        Coded frames by level.
    allocation
        The allocation frame (``unit_id, block, cluster, arm, probability``).
    received
        Ids of units that received their allocated arm, or ``None`` when no take-up is
        declared.

    Returns
    -------
    Attrition
        Counts per arm and WWC checks.
    """
    return attrition_from(protocol, Counter(protocol, frames, allocation, received))


def attrition_from(protocol: Protocol, counter: Counter) -> Attrition:
    """Attrition of every outcome with data, from a :class:`Counter`."""
    counts: list[ArmCounts] = []
    checks: list[AttritionCheck] = []
    for outcome in protocol.outcomes:
        if outcome.level != protocol.units.name and outcome.level not in counter.frames:
            continue
        noted, found = _judge(
            arm_counts(outcome, protocol, counter.table(outcome)), protocol.control.id
        )
        counts += noted
        checks += found
    return Attrition(tuple(counts), tuple(checks))
