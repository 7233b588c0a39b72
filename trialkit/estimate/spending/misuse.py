"""Misuse as a distribution: how often each review verdict was given and what it cost.

For each verdict (appropriate, poor value, misuse, fraud) :func:`severity_estimates`
gives the share of all ledger spends with that verdict and the money lost to them,
Horvitz–Thompson estimates over the whole ledger with design-based intervals
(:mod:`trialkit.estimate.spending.review` says which variance, for which target;
:mod:`trialkit.estimate.spending.intervals` which interval).
:func:`net_of_green_tape` sets each treated arm's loss to misuse and fraud against the
prior-approval cost its units no longer bear.
"""

from __future__ import annotations

from collections.abc import Collection, Mapping
from dataclasses import dataclass

import numpy as np
import pandas as pd
from numpy.typing import NDArray

from trialkit.estimate.frequentist.analysis_frame import arm_mask
from trialkit.estimate.spending.intervals import TotalEstimate, total_interval
from trialkit.estimate.spending.review import ReviewDesign, Target
from trialkit.protocol.spending import GreenTape
from trialkit.protocol.vocabulary import MISUSE_VERDICTS, SPEND_VERDICTS, SpendVerdict

Interval = tuple[float, float]


@dataclass(frozen=True, slots=True)
class SeverityEstimate:
    """The share of ledger spends with one review verdict and the money lost to them.

    ``spends`` counts the reviewed spends given the verdict (not weighted); ``rate`` and
    ``loss`` are estimates over the whole ledger. ``loss_per_year`` is ``loss`` scaled
    to twelve months of the same spending. Fields as the results' ``SeverityRow``.
    """

    verdict: SpendVerdict
    spends: int
    rate: float
    rate_ci: Interval
    loss: float
    loss_ci: Interval
    loss_per_year: float
    ci_level: float


@dataclass(frozen=True, slots=True)
class GreenTapeEstimate:
    """One treated arm's loss to misuse and fraud against the approval cost it saved.

    ``net = saved - misuse_loss``: positive when the rules would have cost more than misuse
    did. Fields as the results' ``GreenTapeRow``.
    """

    arm: str
    units: int
    cost_per_unit: float
    saved: float
    misuse_loss: float
    misuse_loss_ci: Interval
    net: float
    net_ci: Interval


def _check_level(ci_level: float) -> None:
    if not 0 < ci_level < 1:
        raise ValueError(f"The 'ci_level' parameter must be in (0, 1). Got {ci_level} instead.")


def _clusters(spends: pd.DataFrame, cluster: str) -> NDArray[np.int64]:
    """Worker numbers; a spend with no worker recorded is a cluster of its own."""
    codes, _ = pd.factorize(spends[cluster])
    alone = codes < 0
    codes[alone] = codes.max(initial=-1) + 1 + np.arange(int(alone.sum()))
    return codes.astype(np.int64)


def _verdicts(spends: pd.DataFrame, column: str) -> tuple[NDArray[np.intp], tuple[str, ...]]:
    """Each spend's verdict as a code into the distinct verdicts (text, stripped; -1:
    none): one string per distinct verdict, not one per spend."""
    codes, uniques = pd.factorize(spends[column])
    return np.asarray(codes, dtype=np.intp), tuple(str(u).strip() for u in uniques)


def _money(spends: pd.DataFrame, column: str) -> NDArray[np.float64]:
    """Money as recorded; a reviewed spend with no loss recorded lost nothing."""
    values = pd.to_numeric(spends[column], errors="coerce").to_numpy(dtype=np.float64)
    return np.asarray(np.nan_to_num(values, nan=0.0), dtype=np.float64)


@dataclass(frozen=True, slots=True)
class _Inputs:
    """What every estimate of one ledger shares."""

    design: ReviewDesign
    workers: NDArray[np.int64]
    verdicts: tuple[NDArray[np.intp], tuple[str, ...]]
    losses: NDArray[np.float64]
    typical: float
    target: Target
    ci_level: float

    def verdict_in(self, wanted: Collection[str]) -> NDArray[np.bool_]:
        """Whether each spend's verdict is one of ``wanted`` (a spend without one: no)."""
        codes, names = self.verdicts
        keep = np.array([name in wanted for name in names] + [False], dtype=bool)
        return np.asarray(keep[codes])

    def count(self, case: NDArray[np.bool_]) -> TotalEstimate:
        return total_interval(
            case.astype(np.float64),
            self.design,
            cluster=self.workers,
            target=self.target,
            ci_level=self.ci_level,
        )

    def money(self, case: NDArray[np.bool_]) -> TotalEstimate:
        return total_interval(
            np.where(case, self.losses, 0.0),
            self.design,
            cluster=self.workers,
            target=self.target,
            ci_level=self.ci_level,
            event=case.astype(np.float64),
            fallback=self.typical,
        )


def _inputs(
    spends: pd.DataFrame,
    *,
    design: ReviewDesign,
    cluster: str,
    ci_level: float,
    verdict_column: str,
    loss_column: str,
    amount_column: str,
    target: Target | None,
) -> _Inputs:
    _check_level(ci_level)
    amounts = (
        _money(spends, amount_column) if amount_column in spends.columns else np.zeros(len(spends))
    )
    reviewed = design.counts
    typical = float(amounts[reviewed].mean()) if reviewed.any() else 0.0
    return _Inputs(
        design,
        _clusters(spends, cluster),
        _verdicts(spends, verdict_column),
        _money(spends, loss_column),
        typical,
        target or design.default_target(),
        ci_level,
    )


def severity_estimates(
    spends: pd.DataFrame,
    *,
    design: ReviewDesign,
    cluster: str,
    months: float,
    ci_level: float = 0.95,
    verdict_column: str = "review_verdict",
    loss_column: str = "loss",
    amount_column: str = "amount",
    target: Target | None = None,
) -> tuple[SeverityEstimate, ...]:
    """The rate of each review verdict and the loss to it, over the whole ledger.

    Parameters
    ----------
    spends
        The validated spend frame, one row per spend.
    design
        The review design (:func:`~trialkit.estimate.spending.review.review_design`).
    cluster
        The worker column (``spending.columns.worker``).
    months
        Months of spending the ledger covers, for ``loss_per_year``.
    ci_level
        Confidence level of the intervals.
    verdict_column, loss_column, amount_column
        The ledger's verdict, loss and amount columns (amounts size an unseen case,
        :mod:`~trialkit.estimate.spending.intervals`).
    target
        ``ledger`` or ``superpopulation``; by default the design's own
        (:meth:`~trialkit.estimate.spending.review.ReviewDesign.default_target`).

    Returns
    -------
    tuple of SeverityEstimate
        One per verdict, in ``SPEND_VERDICTS`` order.

    Examples
    --------
    >>> import pandas as pd
    >>> from trialkit.estimate.spending.review import review_design
    >>> spends = pd.DataFrame({"spend_id": ["a", "b", "c", "d"],
    ...     "staff_id": ["w1", "w1", "w2", "w3"], "loss": [0, 40, 0, 0],
    ...     "review_verdict": ["appropriate", "misuse", "appropriate", "poor_value"]})
    >>> design = review_design(spends, audit=None, id_column="spend_id",
    ...                        verdict_column="review_verdict")
    >>> rows = severity_estimates(spends, design=design, cluster="staff_id", months=6)
    >>> [(r.verdict, r.rate, r.loss, r.loss_per_year) for r in rows][2]
    ('misuse', 0.25, 40.0, 80.0)
    """
    if months <= 0:
        raise ValueError(f"The 'months' parameter must be positive. Got {months} instead.")
    inputs = _inputs(
        spends,
        design=design,
        cluster=cluster,
        ci_level=ci_level,
        verdict_column=verdict_column,
        loss_column=loss_column,
        amount_column=amount_column,
        target=target,
    )
    rows = []
    for verdict in SPEND_VERDICTS:
        case = inputs.verdict_in({verdict})
        count, loss = inputs.count(case), inputs.money(case)
        n = count.covered
        rows.append(
            SeverityEstimate(
                verdict=verdict,
                spends=int(case[design.counts].sum()),
                rate=count.estimate / n,
                rate_ci=(count.ci_low / n, min(count.ci_high / n, 1.0)),
                loss=loss.estimate,
                loss_ci=(loss.ci_low, loss.ci_high),
                loss_per_year=loss.estimate * 12.0 / months,
                ci_level=ci_level,
            )
        )
    return tuple(rows)


def net_of_green_tape(
    spends: pd.DataFrame,
    *,
    design: ReviewDesign,
    green_tape: GreenTape,
    units: Mapping[str, int],
    cluster: str,
    ci_level: float = 0.95,
    arm_column: str = "arm",
    verdict_column: str = "review_verdict",
    loss_column: str = "loss",
    amount_column: str = "amount",
    target: Target | None = None,
) -> tuple[GreenTapeEstimate, ...]:
    """Each treated arm's loss to misuse and fraud against the green tape it saved.

    An arm's loss is a domain total: the ledger's total of losses to misuse and fraud
    among its spends, with the whole ledger's design (the arm's spends are not a stratum).

    Parameters
    ----------
    spends
        The validated spend frame (with the allocation's ``arm``).
    design
        The review design of the whole ledger.
    green_tape
        The protocol's ``costs.green_tape``.
    units
        Treated arm → units allocated to it (the arms whose units no longer seek
        prior approval).
    cluster, ci_level, verdict_column, loss_column, amount_column, target
        As :func:`severity_estimates`.
    arm_column
        The arm of each spend.
    """
    inputs = _inputs(
        spends,
        design=design,
        cluster=cluster,
        ci_level=ci_level,
        verdict_column=verdict_column,
        loss_column=loss_column,
        amount_column=amount_column,
        target=target,
    )
    misuse = inputs.verdict_in(MISUSE_VERDICTS)
    out = []
    for arm, count in units.items():
        loss = inputs.money(misuse & arm_mask(spends[arm_column], {arm}))
        saved = green_tape.cost_per_unit * count
        out.append(
            GreenTapeEstimate(
                arm=arm,
                units=count,
                cost_per_unit=green_tape.cost_per_unit,
                saved=saved,
                misuse_loss=loss.estimate,
                misuse_loss_ci=(loss.ci_low, loss.ci_high),
                net=saved - loss.estimate,
                net_ci=(saved - loss.ci_high, saved - loss.ci_low),
            )
        )
    return tuple(out)


def misuse_totals(
    spends: pd.DataFrame,
    *,
    design: ReviewDesign,
    cluster: str,
    ci_level: float = 0.95,
    verdict_column: str = "review_verdict",
    loss_column: str = "loss",
    amount_column: str = "amount",
    target: Target | None = None,
) -> tuple[TotalEstimate, TotalEstimate]:
    """Spends judged misuse or fraud, and the money lost to them, as ledger totals."""
    inputs = _inputs(
        spends,
        design=design,
        cluster=cluster,
        ci_level=ci_level,
        verdict_column=verdict_column,
        loss_column=loss_column,
        amount_column=amount_column,
        target=target,
    )
    misuse = inputs.verdict_in(MISUSE_VERDICTS)
    return inputs.count(misuse), inputs.money(misuse)
