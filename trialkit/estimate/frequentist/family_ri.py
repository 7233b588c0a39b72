"""Westfall–Young adjustment of an outcome family by joint re-randomisation.

Each hypothesis of a family is one member outcome's contrast of one treated arm with
control. Its statistic is randomisation inference's (:mod:`.ri`): the OLS coefficient of
the arm's dummy, with an intercept and the ITT's covariates, on the rows the ITT analysed.
The same assignments, drawn from the pilot's own scheme with the protocol's seed (every
assignment, with its probability, when there are at most 100,000), are applied to every
member at once: the statistics keep their joint distribution under the sharp null of no
effect of any arm on any member, and Westfall–Young's step-down minP
(:func:`~.multiplicity.westfall_young`; Westfall & Young 1993, algorithm 2.8) adjusts the
family's p-values from it. minP, not maxT: the members' statistics are on their own scales.

By Frisch–Waugh–Lovell a coefficient needs, per randomised unit, only the sums of the
residualised outcome, of the covariates' orthonormal basis and of the rows; an assignment
adds the units of each arm (one matrix product per batch of draws).
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence

import numpy as np
import pandas as pd

from trialkit._core.rng import RawStream
from trialkit.errors import EstimationError, RandomisationError
from trialkit.estimate.frequentist._design import FloatArray, IntArray
from trialkit.estimate.frequentist.analysis_frame import AnalysisFrame
from trialkit.estimate.frequentist.multiplicity import westfall_young
from trialkit.estimate.frequentist.ri.exact import EXACT_LIMIT
from trialkit.estimate.frequentist.ri.precompute import covariate_basis
from trialkit.estimate.frequentist.ri.redraws import coefficients
from trialkit.protocol import Protocol
from trialkit.protocol.outcomes import Outcome
from trialkit.randomise import Scheme

#: Draws whose sums are formed at once (draws × units of assignments in memory).
BATCH_CELLS = 4_000_000


class _Member:
    """One member outcome: each randomised unit's sums of ``[My, Q, 1]`` over its rows."""

    def __init__(
        self, frame: AnalysisFrame, outcome: Outcome, link: str, unit_of: pd.Series
    ) -> None:
        column = outcome.data_column
        rows = frame.complete(column)
        covariates = tuple(frame.usable_covariates(column))
        basis = covariate_basis(rows, covariates, None)
        self.constant = float(basis[0, 0]) if basis.shape[1] == 1 else 0.0
        y = rows[column].to_numpy(dtype=np.float64)
        residual = y - basis @ (basis.T @ y)
        terms = np.column_stack(
            [residual, basis[:, :0] if self.constant else basis, np.ones(len(rows))]
        )
        self.n_basis = 0 if self.constant else basis.shape[1]
        where = unit_of.reindex(rows[link].astype(str).to_numpy()).to_numpy()
        if np.isnan(where).any():  # validation links every row to an allocated unit
            raise EstimationError(
                f"outcome `{outcome.name}`: rows whose unit is not in the allocation cannot "
                "be re-randomised. Fix: validate the data against the allocation first."
            )
        units = where.astype(np.int64)
        self.sums = np.column_stack(
            [np.bincount(units, weights=term, minlength=len(unit_of)) for term in terms.T]
        )

    def statistics(self, table: IntArray, treated: Sequence[int]) -> FloatArray:
        """The coefficient of each treated arm (columns) under each assignment (rows)."""
        sums = np.stack([(table == arm).astype(np.float64) @ self.sums for arm in treated], 1)
        out: FloatArray = coefficients(sums, 1, self.n_basis, self.constant)[:, :, 0]
        return out


def _assignments(
    scheme: Scheme, draws: int, seed: int
) -> tuple[Iterator[IntArray], FloatArray | None, int]:
    """Batches of assignments (rows: draws, columns: the scheme's units), their
    probabilities when every assignment is enumerated (``None``: equally likely draws),
    and how many there are."""
    try:
        total: int | None = scheme.count_assignments()
    except RandomisationError:  # more than can be counted
        total = None
    if total is not None and total <= EXACT_LIMIT:
        table, probability = scheme.enumerate_assignments()
        return iter([table]), probability, len(table)
    batch = max(1, BATCH_CELLS // max(scheme.units.n_units, 1))
    return scheme.draw_many(RawStream(seed), draws, batch_size=batch), None, draws


def family_p_values(
    protocol: Protocol,
    scheme: Scheme,
    members: Sequence[tuple[Outcome, AnalysisFrame, str]],
    allocated: pd.Series,
    arms: Sequence[str],
) -> tuple[FloatArray, int, bool]:
    """Westfall–Young adjusted p-values of a family's hypotheses, the number of assignments
    they were found over, and whether those were every possible assignment.

    Parameters
    ----------
    protocol
        The protocol (its arms, seed and ``ri_draws``).
    scheme
        The pilot's scheme on its validated units (:func:`~.ri.trial_scheme.trial_scheme`).
    members
        Each member outcome, its analysis frame and the column of its rows' unit.
    allocated
        Each unit's allocated arm, by unit id.
    arms
        The treated arms compared with control.

    Returns
    -------
    tuple
        The adjusted p-values, member by member and arm by arm within each (the order of
        ``members`` and ``arms``); the number of assignments; whether exact.

    Raises
    ------
    EstimationError
        If a statistic cannot be computed on the allocation itself.
    """
    order = [a.id for a in protocol.arms]
    treated = [order.index(a) for a in arms]
    ids = scheme.units.ids.astype(str)
    unit_of = pd.Series(np.arange(len(ids)), index=ids)
    fitted = [_Member(frame, outcome, link, unit_of) for outcome, frame, link in members]
    codes = np.asarray(
        pd.Categorical(allocated.reindex(ids).astype(str), categories=order).codes, np.int64
    )
    if (codes < 0).any():  # the scheme's units are the allocation's: never expected
        raise EstimationError(
            f"{int((codes < 0).sum())} of the scheme's units have no allocated arm, so the "
            "family cannot be re-randomised. Fix: validate the data against the allocation."
        )
    observed_table = codes[None]
    observed = np.concatenate([m.statistics(observed_table, treated)[0] for m in fitted])
    if not np.isfinite(observed).all():
        raise EstimationError(
            "a family's statistic cannot be computed on the allocation itself (an arm "
            "without rows). Fix: register `multiplicity: holm` for this family."
        )
    batches, weights, n = _assignments(
        scheme, protocol.analysis.frequentist.ri_draws, protocol.seed
    )
    null = np.concatenate(
        [np.concatenate([m.statistics(t, treated) for m in fitted], axis=1) for t in batches]
    )
    adjusted = westfall_young(observed, null, kind="minP", weights=weights)
    return adjusted, n, weights is not None
