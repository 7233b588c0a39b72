"""Baseline balance by arm: means, standardised differences, WWC verdicts, and an omnibus test.

The omnibus test compares the Mahalanobis balance ``M`` of the actual allocation with its
distribution over assignments redrawn from the same scheme (so a blocked, clustered or
rerandomised design is judged against its own randomisation distribution).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Literal

import numpy as np
import pandas as pd

from trialkit._core.rng import RawStream
from trialkit._core.standardised import cox_index, hedges_g, wwc_verdict
from trialkit.errors import DataValidationError, Issue, Location
from trialkit.randomise.allocation import Allocation
from trialkit.randomise.schemes import Scheme
from trialkit.randomise.schemes.matched_pairs import whiten
from trialkit.randomise.schemes.rerandomisation import mahalanobis
from trialkit.randomise.units import FloatArray, IntArray

CovariateKind = Literal["continuous", "binary"]

#: Columns of :attr:`Balance.table`, one row per covariate × arm.
BALANCE_COLUMNS = (
    "covariate",
    "kind",
    "arm",
    "n",
    "mean",
    "sd",
    "control_arm",
    "std_diff",
    "measure",
    "wwc_verdict",
)


@dataclass(frozen=True, slots=True)
class BalanceTest:
    """Omnibus balance test by randomisation.

    Attributes
    ----------
    statistic
        Mahalanobis balance ``M`` of the actual allocation.
    p_value
        Share of redrawn assignments (plus the actual one) with ``M`` at least as large.
    draws
        Number of redrawn assignments.
    scheme
        The scheme the assignments were redrawn from.
    """

    statistic: float
    p_value: float
    draws: int
    scheme: str


@dataclass(frozen=True, slots=True)
class Balance:
    """Baseline balance: a tidy table (for a love plot) and, optionally, the omnibus test."""

    table: pd.DataFrame
    test: BalanceTest | None

    def to_frame(self) -> pd.DataFrame:
        """One row per covariate × arm, columns :data:`BALANCE_COLUMNS`."""
        return self.table.copy()


def balance_test(
    scheme: Scheme,
    assignment: IntArray,
    covariates: FloatArray,
    *,
    draws: int = 1000,
    seed: int = 0,
) -> BalanceTest:
    """Compare the actual ``M`` with ``M`` over ``draws`` assignments redrawn from ``scheme``.

    ``assignment`` and ``covariates`` follow the order of ``scheme.units``.
    """
    z = whiten(np.asarray(covariates, dtype=np.float64))
    observed = float(mahalanobis(z, np.asarray(assignment)[None, :], scheme.n_arms)[0])
    exceed = 0
    for batch in scheme.draw_many(RawStream(seed), draws):
        exceed += int((mahalanobis(z, batch, scheme.n_arms) >= observed - 1e-9).sum())
    return BalanceTest(
        statistic=observed, p_value=(1 + exceed) / (1 + draws), draws=draws, scheme=scheme.name
    )


def _omnibus(
    scheme: Scheme,
    allocation: Allocation,
    values: pd.DataFrame,
    group: pd.Series,
    levels: Sequence[str],
    *,
    draws: int,
    seed: int,
) -> BalanceTest | None:
    """The omnibus test on the covariates every unit has, in the scheme's unit order."""
    ids = np.asarray(scheme.units.ids).astype(str)
    order = np.argsort(ids, kind="stable")
    if list(ids[order]) != list(allocation.unit_id):
        raise DataValidationError(
            [
                Issue(
                    "the scheme was declared on other units than the allocation holds",
                    fix="declare the scheme on the units that were randomised (randomise.declare).",
                )
            ]
        )
    x = values.apply(pd.to_numeric, errors="coerce").to_numpy(float)
    x = x[:, np.isfinite(x).all(axis=0)]
    if x.shape[1] == 0:
        return None
    index = {label: k for k, label in enumerate(levels)}
    in_scheme = np.empty(len(ids), dtype=np.int64)
    in_scheme[order] = [index[g] for g in group]
    x_scheme = np.empty_like(x)
    x_scheme[order] = x
    return balance_test(scheme, in_scheme, x_scheme, draws=draws, seed=seed)


def _kind(values: pd.Series) -> CovariateKind:
    return "binary" if set(values.dropna().unique()) <= {0, 1} else "continuous"


def covariate_rows(
    name: str,
    kind: CovariateKind,
    values: pd.Series,
    group: pd.Series,
    levels: Sequence[str],
    control: str,
) -> list[dict[str, object]]:
    """One row per arm: n, mean, SD, and against ``control`` the standardised difference
    (Hedges' g, or the Cox index for a binary covariate) with the WWC verdict.

    Missing values are the caller's to remove; shared by the allocation's balance table and
    the analysed sample's baseline equivalence.
    """
    rows: list[dict[str, object]] = []
    reference = values[group == control].to_numpy(dtype=float)
    for level in levels:
        x = values[group == level].to_numpy(dtype=float)
        diff = np.nan
        if level != control:
            diff = cox_index(x, reference) if kind == "binary" else hedges_g(x, reference)
        rows.append(
            {
                "covariate": name,
                "kind": kind,
                "arm": level,
                "n": int(x.size),
                "mean": float(x.mean()) if x.size else np.nan,
                "sd": float(x.std(ddof=1)) if x.size > 1 else np.nan,
                "control_arm": control,
                "std_diff": diff,
                "measure": None
                if level == control
                else ("cox_index" if kind == "binary" else "hedges_g"),
                "wwc_verdict": None if np.isnan(diff) else wwc_verdict(float(diff)),
            }
        )
    return rows


def balance(
    allocation: Allocation,
    units: pd.DataFrame,
    *,
    covariates: Sequence[str],
    id_column: str,
    kinds: Mapping[str, CovariateKind] | None = None,
    control: str | None = None,
    scheme: Scheme | None = None,
    draws: int = 1000,
    seed: int = 0,
) -> Balance:
    """Balance of ``covariates`` across the arms of ``allocation``.

    Parameters
    ----------
    allocation
        The allocation (for a stepped wedge, steps are compared with step 1).
    units
        The units table holding ``id_column`` and the covariates.
    covariates
        Covariate columns; missing values are left out covariate by covariate.
    id_column
        The unit id column of ``units``.
    kinds
        ``"continuous"`` or ``"binary"`` per covariate; guessed from the values otherwise.
    control
        The arm others are compared with; defaults to the allocation's first arm.
    scheme
        The declaration that made the allocation (:func:`~trialkit.randomise.declare`); when
        given, the omnibus test runs on the covariates that no unit lacks.
    draws, seed
        Redrawn assignments for the omnibus test, and the seed of their stream.

    Returns
    -------
    Balance
        ``table`` (columns :data:`BALANCE_COLUMNS`; Hedges' g for continuous covariates,
        Cox index for binary ones, arm minus control, with the WWC verdict) and ``test``.
    """
    if not covariates:
        return Balance(table=pd.DataFrame(columns=list(BALANCE_COLUMNS)), test=None)
    frame = units.assign(**{id_column: units[id_column].astype(str).str.strip()})
    frame = frame.set_index(id_column).reindex(pd.Index(allocation.unit_id, dtype=object))
    absent = frame.index[frame[list(covariates)].isna().all(axis=1)]
    if len(absent) == len(frame):
        raise DataValidationError(
            [
                Issue(
                    "no allocated unit has covariate values",
                    Location(column=id_column),
                    fix="pass the units table that was randomised.",
                )
            ]
        )
    if allocation.step is not None:
        group = pd.Series([f"step {s}" for s in allocation.step], index=frame.index)
    else:
        group = pd.Series(allocation.arm, index=frame.index)
    levels = list(allocation.arms)
    ref = control or levels[0]
    rows: list[dict[str, object]] = []
    for name in covariates:
        values = pd.to_numeric(frame[name], errors="coerce")
        kind = (kinds or {}).get(name) or _kind(values)
        ok = values.notna()
        rows += covariate_rows(name, kind, values[ok], group[ok], levels, ref)
    table = pd.DataFrame(rows, columns=list(BALANCE_COLUMNS))
    test = (
        None
        if scheme is None
        else _omnibus(
            scheme, allocation, frame[list(covariates)], group, levels, draws=draws, seed=seed
        )
    )
    return Balance(table=table, test=test)
