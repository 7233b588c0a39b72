"""Randomisation inference: rows to randomised groups, and labels to the scheme's arms."""

from __future__ import annotations

from collections.abc import Hashable, Sequence

import numpy as np
import pandas as pd

from trialkit.errors import EstimationError
from trialkit.estimate.frequentist._design import IntArray
from trialkit.randomise import _counts
from trialkit.randomise.schemes import RuleScheme, Scheme


def _unit_index(df: pd.DataFrame, unit: str | None, scheme: Scheme) -> IntArray:
    """Row → position of its unit in ``scheme.units``."""
    n_units = scheme.units.n_units
    if unit is None:
        if len(df) != n_units:
            raise EstimationError(
                f"the data have {len(df)} rows but the scheme has {n_units} units. Fix: pass "
                "`unit=` naming the column of each row's randomised unit."
            )
        return np.arange(n_units, dtype=np.int64)
    values = df[unit].to_numpy()
    idx = pd.Index(scheme.units.ids).get_indexer(pd.Index(values))
    if (idx < 0).any():
        as_text = pd.Index(np.asarray(scheme.units.ids).astype(str))
        idx = as_text.get_indexer(pd.Index(values.astype(str)))
    if (idx < 0).any():
        shown = ", ".join(map(str, pd.unique(values[idx < 0])[:5]))
        raise EstimationError(
            f"column {unit!r}: {int((idx < 0).sum())} row(s) name units the scheme does not "
            f"have (e.g. {shown}). Fix: use the unit ids the trial was randomised with."
        )
    out: IntArray = idx.astype(np.int64)
    return out


def _arm_codes(
    levels: list[Hashable], scheme: Scheme, arms: Sequence[Hashable] | None
) -> dict[Hashable, int]:
    """Scheme arm index of each observed label."""
    K = scheme.n_arms
    if arms is not None:
        if len(arms) != K or any(v not in list(arms) for v in levels):
            raise EstimationError(
                f"`arms` must list the scheme's {K} arm labels in order and include every "
                f"label in the data ({levels}). Got {list(arms)!r} instead."
            )
        return {v: list(arms).index(v) for v in levels}
    if all(isinstance(v, int | np.integer) and 0 <= int(v) < K for v in levels):
        return {v: int(v) for v in levels}  # type: ignore[call-overload]
    if len(levels) == K and len(set(scheme.ratios)) == 1 and K <= 3:
        return {v: i for i, v in enumerate(levels)}
    raise EstimationError(
        f"cannot tell which of the labels {levels} is which of the scheme's {K} arms (ratios "
        f"{':'.join(map(str, scheme.ratios))}). Fix: pass `arms=` with the labels in the "
        "scheme's arm order, or code the treatment column 0 … K−1."
    )


def _check_feasible(rule: _counts.CountRule, group_arm: IntArray) -> None:
    """Refuse an observed allocation that the count rule cannot produce."""
    if (group_arm < 0).any():
        return  # units without rows: their arms are unknown
    K = len(rule.ratios)
    got = np.zeros((rule.n_strata, K), np.int64)
    np.add.at(got, (rule.strata, group_arm), 1)
    ceil = rule.floors + (np.diff(rule.cum, axis=1) > 0)
    bad = np.flatnonzero(((got < rule.floors) | (got > ceil)).any(axis=1))
    if bad.size:
        raise EstimationError(
            f"the observed allocation has arm counts {got[bad[0]].tolist()} in stratum "
            f"{int(bad[0])}, which the declared scheme cannot produce (it gives "
            f"{rule.floors[bad[0]].tolist()} or one more per arm). Fix: pass the scheme the "
            "trial was randomised with, or `arms=` in the scheme's arm order."
        )


def _groups(
    df: pd.DataFrame,
    treatment: str,
    unit: str | None,
    scheme: Scheme | None,
    codes: IntArray,
    sw: bool,
) -> tuple[IntArray, int, _counts.CountRule | None, str]:
    """Group of each row, number of groups, count rule (if any) and a description."""
    if scheme is None:
        group = (
            pd.factorize(df[unit])[0].astype(np.int64)
            if unit is not None
            else np.arange(len(df), dtype=np.int64)
        )
        n_groups = int(group.max()) + 1
        per_arm = np.bincount(_group_arm(group, codes, n_groups), minlength=int(codes.max()) + 1)
        fixed = _counts.count_rule(np.zeros(n_groups, np.int64), tuple(map(int, per_arm)), 1)
        what = "units" if unit is not None else "rows"
        return (
            group,
            n_groups,
            fixed,
            (
                f"complete randomisation of {n_groups} {what} with the observed arm sizes "
                f"{per_arm.tolist()} (no scheme given)"
            ),
        )
    idx = _unit_index(df, unit, scheme)
    rule: _counts.CountRule | None
    if isinstance(scheme, RuleScheme):
        group, n_groups, rule = scheme.layout.unit_ru[idx], scheme.layout.n_ru, scheme.rule
    else:
        group, n_groups, rule = idx, scheme.units.n_units, None
    if not sw:
        group_arm = _group_arm(group, codes, n_groups)
        if rule is not None:
            _check_feasible(rule, group_arm)
    return group, n_groups, rule, f"the declared `{scheme.name}` scheme {scheme.parameters()}"


def _group_arm(group: IntArray, codes: IntArray, n_groups: int) -> IntArray:
    """Arm of each group (``-1`` without rows); an error if a group's rows disagree."""
    arm = np.full(n_groups, -1, np.int64)
    arm[group] = codes
    if (arm[group] != codes).any():
        raise EstimationError(
            "rows of the same randomised unit are in different arms, but a unit is assigned "
            "whole. Fix: check the `unit` and treatment columns."
        )
    return arm
