"""Randomisation inference: validate the data and precompute what every draw needs.

:func:`precompute` residualises the responses on ``[1, X]`` once and sums ``[MR, Q, 1]`` per
randomised group, so a redrawn assignment needs only the sums over the groups in each arm.
"""

from __future__ import annotations

from collections.abc import Hashable, Sequence
from dataclasses import dataclass

import numpy as np
import pandas as pd
from scipy import linalg

from trialkit.errors import EstimationError, RandomisationError
from trialkit.estimate.frequentist._design import FloatArray, IntArray
from trialkit.estimate.frequentist.ri.arms import ArmCoding, code_arms
from trialkit.estimate.frequentist.ri.checks import check_columns, numeric_columns
from trialkit.estimate.frequentist.ri.exact import count_capped
from trialkit.estimate.frequentist.ri.groups import Groups, assign_groups
from trialkit.randomise import _counts
from trialkit.randomise.schemes import RuleScheme, Scheme, SteppedWedge


@dataclass(frozen=True, slots=True, eq=False)
class Compact:
    """The fast path's lean input when every randomisation unit is one row (two arms).

    Units are renumbered so those observed in treatment come first (below ``boundary``);
    the kernel then counts them without memory, and ``group_sums`` keeps only ``My`` and
    ``Q``: ``Σ Mt = (treated-observed units drawn) − (Σ Q)·Q't``. A smaller array stays in
    cache.
    """

    group_sums: FloatArray
    strata: IntArray
    boundary: int
    basis_treated: FloatArray

    def rebuild(self, raw: FloatArray, constant: float) -> FloatArray:
        """Full sums ``[My, Mt, Q…, count]`` from the kernel's ``[My, Q…, count, below]``."""
        n_sel, below = raw[..., -2:-1], raw[..., -1:]
        basis_sums = raw[..., 1:-2] if raw.shape[-1] > 3 else constant * n_sel
        mt = below - basis_sums @ self.basis_treated[:, None]
        parts = [raw[..., :1], mt] + ([basis_sums] if raw.shape[-1] > 3 else []) + [n_sel]
        out: FloatArray = np.concatenate(parts, axis=-1)
        return out


@dataclass(frozen=True, slots=True, eq=False)
class Precomputed:
    """Everything the draws need, built once from the data and the scheme.

    ``group_sums[g, g_arm[k]]`` holds, for group ``g`` (randomisation unit, or scheme unit
    when the scheme has no count rule) given arm ``k``, the sums over its exposed rows of
    ``[MR, Q, 1]``: the residualised responses, the orthonormal basis of ``[1, X]`` and the
    row count. Only a stepped wedge's exposed rows depend on the arm (its step). Without
    covariates ``Q`` is the constant ``constant_basis`` and is left out (``n_basis = 0``):
    its sums are that constant times the row count.
    """

    group_sums: FloatArray
    g_arm: IntArray
    dummy_of: IntArray
    arm_order: IntArray
    n_responses: int
    n_basis: int
    constant_basis: float
    observed_sums: FloatArray
    arm_labels: tuple[Hashable, ...]
    control: Hashable
    rule: _counts.CountRule | None
    scheme: Scheme | None
    description: str
    compact: Compact | None
    n_obs: int
    n_clusters: int | None

    @property
    def n_dummies(self) -> int:
        """Number of arm dummies (non-control arms; 1 for a stepped wedge)."""
        return int(self.dummy_of.max()) + 1

    def count(self) -> int | None:
        """Number of possible assignments, or ``None`` when more than can be enumerated."""
        if self.rule is not None:
            return count_capped(self.rule)
        base = getattr(self.scheme, "base", None)  # rerandomisation filters its base's draws
        if isinstance(base, RuleScheme) and count_capped(base.rule) is None:
            return None
        assert self.scheme is not None
        try:
            return self.scheme.count_assignments()
        except RandomisationError:
            return None

    def enumerate(self) -> tuple[IntArray, FloatArray]:
        """Every assignment of the groups and its probability."""
        if self.rule is not None:
            return _counts.enumerate_assignments(self.rule)
        assert self.scheme is not None
        return self.scheme.enumerate_assignments()


def covariate_basis(
    data: pd.DataFrame, covariates: tuple[str, ...], period: str | None
) -> FloatArray:
    """Orthonormal basis ``Q`` of ``[1, covariates, period dummies]`` (rank-revealing QR)."""
    parts = [np.ones((len(data), 1)), numeric_columns(data, covariates)]
    if period is not None:
        parts.append(pd.get_dummies(data[period], drop_first=True).to_numpy(np.float64))
    design = np.concatenate(parts, axis=1)
    basis, triangle, _ = linalg.qr(design, mode="economic", pivoting=True)
    diagonal = np.abs(np.diag(triangle))
    rank = int((diagonal > 1e-10 * diagonal[0]).sum())
    out: FloatArray = basis[:, :rank]
    return out


def _sum_by_group(row_terms: FloatArray, row_group: IntArray, n_groups: int) -> FloatArray:
    out = np.zeros((n_groups, row_terms.shape[1]))
    np.add.at(out, row_group, row_terms)
    return out


def _layers(
    row_terms: FloatArray, groups: Groups, arms: ArmCoding, step: FloatArray | None
) -> tuple[FloatArray, IntArray, IntArray]:
    """Group sums, each arm's layer of them, and the order arms take positions.

    The control arm takes positions last, so its units are never visited. With a stepped
    wedge's ``step`` (each row's period), arm ``k`` exposes a group's rows from period
    ``k + 1`` on, so each arm has its own layer.
    """
    n_arms, row_group, n_groups = arms.n_arms, groups.row_group, groups.n_groups
    if step is not None:
        exposed = step[:, None] >= np.arange(1, n_arms + 1)[None, :]
        layers = [
            _sum_by_group(row_terms * exposed[:, [k]], row_group, n_groups) for k in range(n_arms)
        ]
        in_order = np.arange(n_arms, dtype=np.int64)
        return np.stack(layers, 1), in_order, in_order
    control = arms.control_arm
    control_last = [k for k in range(n_arms) if k != control] + [control]
    return (
        _sum_by_group(row_terms, row_group, n_groups)[:, None, :],
        np.zeros(n_arms, np.int64),
        np.array(control_last, np.int64),
    )


def _compact(
    groups: Groups,
    exposure: FloatArray,
    group_sums: FloatArray,
    basis: FloatArray,
    constant: float,
) -> Compact | None:
    """The fast path's input (count rule, one row per group), else ``None``."""
    rule, row_group, n_groups = groups.rule, groups.row_group, groups.n_groups
    if rule is None or not np.all(np.bincount(row_group, minlength=n_groups) == 1):
        return None
    treated = np.zeros(n_groups, bool)
    treated[row_group] = exposure > 0
    treated_first = np.argsort(~treated, kind="stable")
    keep = [0, *range(2, 2 + (0 if constant else basis.shape[1]))]
    return Compact(
        group_sums=group_sums[treated_first][:, :, keep],
        strata=rule.strata[treated_first],
        boundary=int(treated.sum()),
        basis_treated=basis.T @ exposure,
    )


def _require_period(wedge: bool, period: str | None) -> None:
    if wedge and period is None:
        raise EstimationError(
            "a stepped wedge needs `period=`, the column of each row's "
            "period (0 = baseline), to tell exposed rows from unexposed."
        )


def _n_clusters(groups: Groups, cluster: str | None) -> int | None:
    """Randomised clusters with rows, when rows were grouped by ``cluster``."""
    return None if cluster is None else len(np.unique(groups.row_group))


def precompute(
    data: pd.DataFrame,
    *,
    outcome: str,
    treatment: str,
    scheme: Scheme | None,
    cluster: str | None,
    covariates: tuple[str, ...],
    control: Hashable | None,
    period: str | None,
    arms: Sequence[Hashable] | None,
) -> Precomputed:
    """Validate the inputs and precompute the group sums, the dummies and the observed sums."""
    wedge = isinstance(scheme, SteppedWedge)
    _require_period(wedge, period)
    check_columns(data, [outcome, treatment, cluster, period, *covariates])
    response = numeric_columns(data, [outcome])[:, 0]
    coding = code_arms(data, treatment, control, scheme=scheme, arms=arms)
    groups = assign_groups(
        data, cluster=cluster, scheme=scheme, row_arm=coding.row_arm, check_arms=not wedge
    )
    basis = covariate_basis(data, covariates, period)
    constant = float(basis[0, 0]) if basis.shape[1] == 1 else 0.0
    exposure = coding.exposure()
    # With two arms the exposure is residualised too: the sharp null's second statistic.
    responses = [response] if len(coding.compared) > 1 else [response, exposure]
    residuals = np.column_stack([v - basis @ (basis.T @ v) for v in responses])
    row_terms = np.column_stack(
        [residuals, basis[:, :0] if constant else basis, np.ones(len(data))]
    )
    step = data[period].to_numpy(np.float64) if wedge and period else None
    group_sums, g_arm, arm_order = _layers(row_terms, groups, coding, step)
    lean = not wedge and len(coding.compared) == 1
    return Precomputed(
        group_sums=group_sums,
        g_arm=g_arm,
        dummy_of=coding.dummy_of,
        arm_order=arm_order,
        n_responses=residuals.shape[1],
        n_basis=0 if constant else basis.shape[1],
        constant_basis=constant,
        observed_sums=coding.dummies().T @ row_terms,
        arm_labels=coding.compared,
        control=coding.control,
        rule=groups.rule,
        scheme=scheme,
        description=groups.description,
        compact=_compact(groups, exposure, group_sums, basis, constant) if lean else None,
        n_obs=len(data),
        n_clusters=_n_clusters(groups, cluster),
    )
