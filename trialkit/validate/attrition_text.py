"""The attrition table ``trialkit validate`` prints: WWC verdicts, and why there is none."""

from __future__ import annotations

import math
from collections.abc import Mapping
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from trialkit.validate.attrition import ArmCounts, AttritionCheck

HEADER = "Attrition, What Works Clearinghouse boundary (cautious / optimistic)"


def _pct(value: float | None) -> str:
    return "-" if value is None or not math.isfinite(value) else f"{value:.1%}"


def _limit(verdict: str, limit: float | None) -> str:
    return f"{verdict} ({'beyond table' if limit is None else f'<= {limit:.1%}'})"


def _check_line(k: AttritionCheck, rates: Mapping[tuple[str, str, str], float | None]) -> str:
    arm, control = rates[(k.outcome, k.level, k.arm)], rates[(k.outcome, k.level, k.control)]
    return (
        f"{k.outcome:<22} {k.level:<10} {f'{k.arm} vs {k.control}':<22}"
        f"{_pct(arm):>7}{_pct(control):>8}{_pct(k.overall):>8}{_pct(k.differential):>7}  "
        f"{_limit(k.cautious, k.cautious_limit):<20}{_limit(k.optimistic, k.optimistic_limit)}"
    )


def attrition_summary(counts: tuple[ArmCounts, ...], checks: tuple[AttritionCheck, ...]) -> str:
    """Each comparison with both WWC verdicts and limits; a note for each arm without one.

    One line per treated arm against control (arm and control attrition, overall and
    differential attrition, each verdict with the highest differential still low), then
    one line per arm with no verdict or not measured by design, saying why.
    """
    lines = [
        HEADER,
        f"{'outcome':<22} {'level':<10} {'arm vs control':<22}{'arm':>7}{'control':>8}"
        f"{'overall':>8}{'diff':>7}  {'cautious':<20}optimistic",
    ]
    rates: dict[tuple[str, str, str], float | None] = {
        (c.outcome, c.level, c.arm): c.attrition for c in counts
    }
    for outcome, level in dict.fromkeys((c.outcome, c.level) for c in counts):
        mine = [k for k in checks if (k.outcome, k.level) == (outcome, level)]
        compared = {k.arm for k in mine} | {k.control for k in mine}
        lines += [_check_line(k, rates) for k in mine]
        lines += [
            f"{c.outcome:<22} {c.level:<10} {c.arm:<22}{c.note}"
            for c in counts
            if (c.outcome, c.level) == (outcome, level) and c.note and c.arm not in compared
        ]
    return "\n".join(lines)
