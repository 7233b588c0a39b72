"""Randomisation inference: rows to the groups a redraw assigns whole."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd

from trialkit.errors import EstimationError
from trialkit.estimate.frequentist._design import IntArray, positions
from trialkit.randomise import _counts
from trialkit.randomise.schemes import RuleScheme, Scheme


@dataclass(frozen=True, slots=True, eq=False)
class Groups:
    """The groups a redraw assigns whole, and how they are redrawn.

    Attributes
    ----------
    row_group
        Each row's group: its randomisation unit (cluster), or its scheme unit when the
        scheme has no count rule.
    n_groups
        Number of groups (some may have no rows).
    rule
        The count rule that redraws the groups, or ``None`` (the scheme draws them).
    description
        How assignments are redrawn, in words.
    """

    row_group: IntArray
    n_groups: int
    rule: _counts.CountRule | None
    description: str


def _scheme_unit_of_rows(data: pd.DataFrame, cluster: str | None, scheme: Scheme) -> IntArray:
    """Row → position of its unit in ``scheme.units``."""
    n_units = scheme.units.n_units
    if cluster is None:
        if len(data) != n_units:
            raise EstimationError(
                f"the data have {len(data)} rows but the scheme has {n_units} units. Fix: pass "
                "`cluster=` naming the column of each row's randomised unit."
            )
        return np.arange(n_units, dtype=np.int64)
    idx = positions(data[cluster], pd.Index(scheme.units.ids))
    if (idx < 0).any():
        values = data[cluster].to_numpy()
        as_text = pd.Index(np.asarray(scheme.units.ids).astype(str))
        idx = as_text.get_indexer(pd.Index(values.astype(str)))
    if (idx < 0).any():
        shown = ", ".join(map(str, pd.unique(values[idx < 0])[:5]))
        raise EstimationError(
            f"column {cluster!r}: {int((idx < 0).sum())} row(s) name units the scheme does not "
            f"have (e.g. {shown}). Fix: use the unit ids the trial was randomised with."
        )
    out: IntArray = idx.astype(np.int64)
    return out


def _check_feasible(rule: _counts.CountRule, group_arm: IntArray) -> None:
    """Refuse an observed allocation that the count rule cannot produce."""
    if (group_arm < 0).any():
        return  # units without rows: their arms are unknown
    got = np.zeros((rule.n_strata, len(rule.ratios)), np.int64)
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


def group_arms(row_group: IntArray, row_arm: IntArray, n_groups: int) -> IntArray:
    """Arm of each group (``-1`` without rows); an error if a group's rows disagree."""
    arm = np.full(n_groups, -1, np.int64)
    arm[row_group] = row_arm
    if (arm[row_group] != row_arm).any():
        raise EstimationError(
            "rows of the same randomised unit are in different arms, but a unit is assigned "
            "whole. Fix: check the `cluster` and treatment columns."
        )
    return arm


def _complete_groups(data: pd.DataFrame, cluster: str | None, row_arm: IntArray) -> Groups:
    """No scheme: complete randomisation of the rows (or clusters), arm sizes as observed."""
    row_group = (
        pd.factorize(data[cluster])[0].astype(np.int64)
        if cluster is not None
        else np.arange(len(data), dtype=np.int64)
    )
    n_groups = int(row_group.max()) + 1
    arm_of_group = group_arms(row_group, row_arm, n_groups)
    per_arm = np.bincount(arm_of_group, minlength=int(row_arm.max()) + 1)
    fixed = _counts.count_rule(np.zeros(n_groups, np.int64), tuple(map(int, per_arm)), 1)
    what = "units" if cluster is not None else "rows"
    text = (
        f"complete randomisation of {n_groups} {what} with the observed arm sizes "
        f"{per_arm.tolist()} (no scheme given)"
    )
    return Groups(row_group, n_groups, fixed, text)


def assign_groups(
    data: pd.DataFrame,
    *,
    cluster: str | None,
    scheme: Scheme | None,
    row_arm: IntArray,
    check_arms: bool,
) -> Groups:
    """Each row's group, the count rule (if any) and a description of the redraws.

    ``check_arms`` refuses groups whose rows are in different arms and an allocation the
    count rule cannot produce (not for a stepped wedge, whose rows' exposure varies).
    """
    if scheme is None:
        return _complete_groups(data, cluster, row_arm)
    unit_of_row = _scheme_unit_of_rows(data, cluster, scheme)
    rule: _counts.CountRule | None = None
    row_group, n_groups = unit_of_row, scheme.units.n_units
    if isinstance(scheme, RuleScheme):
        row_group, n_groups = scheme.layout.unit_ru[unit_of_row], scheme.layout.n_ru
        rule = scheme.rule
    if check_arms:
        arm_of_group = group_arms(row_group, row_arm, n_groups)
        if rule is not None:
            _check_feasible(rule, arm_of_group)
    text = f"the declared `{scheme.name}` scheme {scheme.parameters()}"
    return Groups(row_group, n_groups, rule, text)
