"""Equity of discretion: did the budget reach the clients it should?

Within one treated arm, for the levels of one client subgroup: the share of clients who
received any spend and the mean spend per client (0 for a client who received none).
Both are means of a client-level variable within each level, estimated by least squares
on the level indicators (no intercept), so each coefficient is a level's mean; the gap
between a level and the reference is the coefficient of the level's indicator in the
same regression with the reference as intercept. Standard errors are cluster-robust over
the units of randomisation: CR2 with Bell–McCaffrey degrees of freedom by default (the
frequentist plan's own :mod:`~trialkit.estimate.frequentist.vcov`), as every client of a
unit shares its workers and its budget.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Literal

import numpy as np
import pandas as pd

from trialkit.estimate.frequentist._design import FloatArray
from trialkit.estimate.frequentist.analysis_frame import arm_mask
from trialkit.estimate.frequentist.lstsq import fit_lstsq
from trialkit.estimate.frequentist.result import check_ci_level, t_inference
from trialkit.estimate.frequentist.vcov import Clusters, compute_vcov, resolve_se_type
from trialkit.protocol.vocabulary import VcovType

Statistic = Literal["share_receiving", "per_client"]
#: The two statistics of each level, in the order they are reported.
STATISTICS: tuple[Statistic, ...] = ("share_receiving", "per_client")


@dataclass(frozen=True, slots=True)
class EquityLevel:
    """Clients of one subgroup level in one arm: the share receiving any spend and the
    mean spend per client, each with a cluster-robust interval."""

    subgroup: str
    level: str
    arm: str
    clients: int
    share_receiving: float
    share_ci: tuple[float, float]
    per_client: float
    per_client_ci: tuple[float, float]


@dataclass(frozen=True, slots=True)
class EquityGap:
    """``level`` minus ``reference`` in one statistic, arm and subgroup."""

    subgroup: str
    arm: str
    statistic: Statistic
    level: str
    reference: str
    estimate: float
    std_error: float
    df: float
    ci_low: float
    ci_high: float
    ci_level: float
    p_value: float


@dataclass(frozen=True, slots=True)
class _Fit:
    """Coefficients, standard errors and df; whether each level's values are all equal
    (``constant``) and each level's first value."""

    coef: FloatArray
    se: FloatArray
    df: FloatArray
    constant: np.ndarray
    first: FloatArray

    def mean(self, j: int) -> float:
        """Level ``j``'s mean (indicator model): exact where the level does not vary."""
        return float(self.first[j] if self.constant[j] else self.coef[j])


def equity(
    clients: pd.DataFrame,
    *,
    subgroup: str,
    column: str,
    arm: str,
    levels: Sequence[str] = (),
    spend: str = "spend",
    cluster: str = "cluster",
    se_type: VcovType = "CR2",
    ci_level: float = 0.95,
) -> tuple[tuple[EquityLevel, ...], tuple[EquityGap, ...]]:
    """Spending by the levels of a subgroup among the clients of ``arm``.

    Parameters
    ----------
    clients
        One row per client: ``arm``, ``spend`` (total, 0 for none), the subgroup
        ``column`` and the ``cluster`` (unit of randomisation).
    subgroup
        The subgroup's name (carried into the rows).
    column, arm
        The subgroup column, and the arm whose clients are compared.
    levels
        The subgroup's declared levels: their order; the first present is the reference.
        Clients missing the subgroup are left out.
    se_type
        A cluster-robust type: ``"CR2"`` (default), ``"CR1"`` or ``"CR0"``.
    ci_level
        Confidence level of the intervals.

    Returns
    -------
    tuple
        One :class:`EquityLevel` per level present, and one :class:`EquityGap` per
        non-reference level and statistic (left out where neither level varies, so the
        gap has no standard error).

    Raises
    ------
    EstimationError
        Fewer than two clusters, or a non-cluster ``se_type``.
    """
    ci_level = check_ci_level(ci_level)
    kind = resolve_se_type(se_type, clustered=True)
    rows = clients[arm_mask(clients["arm"], {arm}) & clients[column].notna().to_numpy()]
    if rows.empty:
        return (), ()
    found_codes, uniques = pd.factorize(rows[column])  # each distinct value as text once
    names = np.array([str(u) for u in uniques], dtype=object)
    order = _levels(names, levels)
    position = {name: j for j, name in enumerate(order)}
    codes = np.array([position[n] for n in names], dtype=np.intp)[found_codes]
    clusters = Clusters.from_codes(pd.factorize(rows[cluster])[0])
    spent = rows[spend].to_numpy(float)
    outcomes: dict[Statistic, FloatArray] = {
        "share_receiving": (spent > 0).astype(float),
        "per_client": spent,
    }
    means = {
        s: _fit(y, codes, len(order), clusters, kind, intercept=False) for s, y in outcomes.items()
    }
    counts = np.bincount(codes, minlength=len(order))
    found = tuple(
        EquityLevel(
            subgroup=subgroup,
            level=level,
            arm=arm,
            clients=int(counts[j]),
            share_receiving=means["share_receiving"].mean(j),
            share_ci=_interval(means["share_receiving"], j, ci_level),
            per_client=means["per_client"].mean(j),
            per_client_ci=_interval(means["per_client"], j, ci_level),
        )
        for j, level in enumerate(order)
    )
    gaps = tuple(
        _gap(
            _fit(y, codes, len(order), clusters, kind, intercept=True),
            j,
            subgroup=subgroup,
            arm=arm,
            statistic=s,
            level=order[j],
            reference=order[0],
            ci_level=ci_level,
        )
        for s, y in outcomes.items()
        for j in range(1, len(order))
        if not (means[s].constant[0] and means[s].constant[j])
    )
    return found, gaps


def _levels(values: np.ndarray, declared: Sequence[str]) -> list[str]:
    """Declared levels present, in declared order, then any undeclared ones sorted."""
    present = set(pd.unique(values).tolist())
    order = [str(level) for level in declared if str(level) in present]
    return order + sorted(present - set(order))


def _fit(
    y: FloatArray,
    codes: np.ndarray,
    n_levels: int,
    clusters: Clusters,
    kind: str,
    *,
    intercept: bool,
) -> _Fit:
    """Least squares of ``y`` on level indicators (or intercept + non-reference ones)."""
    x = np.zeros((y.size, n_levels))
    x[np.arange(y.size), codes] = 1.0
    if intercept:
        x[:, 0] = 1.0
    x.flags.writeable = False  # the same design for each statistic: factorised once (lstsq)
    fit = fit_lstsq(x, y)
    vcov = compute_vcov(fit, kind, clusters)
    constant = np.array([np.ptp(y[codes == j]) == 0 for j in range(n_levels)])
    return _Fit(
        coef=fit.coef,
        se=np.sqrt(np.clip(np.diag(vcov.matrix), 0.0, None)),
        df=vcov.df,
        constant=constant,
        first=y[[int(np.argmax(codes == j)) for j in range(n_levels)]],  # each level present
    )


def _interval(fit: _Fit, j: int, ci_level: float) -> tuple[float, float]:
    """The t interval of a level's mean; the value itself where the level does not vary."""
    if fit.constant[j]:
        return fit.mean(j), fit.mean(j)
    _, _, low, high = t_inference(float(fit.coef[j]), float(fit.se[j]), float(fit.df[j]), ci_level)
    return low, high


def _gap(
    fit: _Fit,
    j: int,
    *,
    subgroup: str,
    arm: str,
    statistic: Statistic,
    level: str,
    reference: str,
    ci_level: float,
) -> EquityGap:
    estimate, se, df = float(fit.coef[j]), float(fit.se[j]), float(fit.df[j])
    _, p_value, low, high = t_inference(estimate, se, df, ci_level)
    return EquityGap(
        subgroup=subgroup,
        arm=arm,
        statistic=statistic,
        level=level,
        reference=reference,
        estimate=estimate,
        std_error=se,
        df=df,
        ci_low=low,
        ci_high=high,
        ci_level=ci_level,
        p_value=p_value,
    )
