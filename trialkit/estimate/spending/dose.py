"""What a pound of the budget did: client outcomes against the money spent on each client.

:func:`dose_effect` is the complier average causal effect per ``per`` (e.g. £100) spent on
a client: two-stage least squares of the outcome on the client's total spend (in units of
``per``; 0 for a client who received none, control clients included), instrumented by
the arm, adjusting for the covariates and blocks the ITT adjusts for, with cluster-robust
standard errors over units (:func:`trialkit.estimate.frequentist.iv`, with a continuous
take-up). It assumes the budget changes outcomes only through the money spent on each
client (exclusion), which a budget that also frees workers' time would break. The first
stage's F statistic is the squared robust t statistic of the arm (one instrument).

:func:`dose_bins` is exploratory and not causal: outcome means among a treated arm's
clients by how much was spent on them, since who receives more is chosen, not randomised.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from itertools import pairwise

import numpy as np
import pandas as pd

from trialkit.estimate.frequentist.analysis_frame import arm_mask, as_text
from trialkit.estimate.frequentist.iv import iv
from trialkit.protocol.vocabulary import VcovType

#: The received-treatment column the dose regressions use (spend in units of ``per``).
DOSE = "dose"


@dataclass(frozen=True, slots=True)
class DoseEffect:
    """The effect on ``outcome`` of each ``per`` spent on a client of ``arm`` (IV)."""

    outcome: str
    arm: str
    per: float
    estimate: float
    std_error: float
    df: float
    ci_low: float
    ci_high: float
    ci_level: float
    p_value: float
    first_stage_f: float | None
    mean_dose: float
    n_obs: int
    n_clusters: int | None
    adjusted_for: tuple[str, ...]


@dataclass(frozen=True, slots=True)
class DoseBin:
    """Mean ``outcome`` of ``arm``'s clients whose spend lies in ``[spend_low, spend_high)``
    (the last bin includes its upper edge; ``0, 0``: clients who received nothing)."""

    outcome: str
    arm: str
    spend_low: float
    spend_high: float
    clients: int
    outcome_mean: float | None


def dose_effect(
    data: pd.DataFrame,
    outcome: str,
    *,
    arm: str,
    control: str,
    spend: str = "spend",
    per: float = 100.0,
    covariates: Sequence[str] = (),
    cluster: str | None = None,
    blocks: str | None = None,
    fixed_effects: Sequence[str] = (),
    se_type: VcovType | None = None,
    ci_level: float = 0.95,
) -> DoseEffect:
    """CACE per ``per`` spent on a client of ``arm``, its arm as the instrument.

    Parameters
    ----------
    data
        One row per client (complete cases): ``outcome``, ``arm`` and ``spend`` (the
        client's total spend, 0 for none), and the other columns named.
    outcome
        The outcome column.
    arm, control
        The treated arm compared, and the control arm (only their clients are used).
    per
        Money per unit of dose (the protocol's ``spending.dose_per``).
    covariates, cluster, blocks, fixed_effects, se_type, ci_level
        As in :func:`trialkit.estimate.frequentist.iv` (CR2 by default with clusters).

    Returns
    -------
    DoseEffect
        The CACE row, the first-stage F and the arm's mean dose.

    Raises
    ------
    EstimationError
        From :func:`~trialkit.estimate.frequentist.iv`, e.g. when the arm does not shift
        the spend at all.
    """
    compared = arm_mask(data["arm"], {arm, control})
    rows = data if compared.all() else data[compared]  # two arms: no copy of the rows
    rows = rows.assign(arm=as_text(rows["arm"]), **{DOSE: rows[spend].astype(float) / per})
    result = iv(
        rows,
        outcome,
        "arm",
        received=DOSE,
        covariates=covariates,
        cluster=cluster,
        blocks=blocks,
        fixed_effects=fixed_effects,
        se_type=se_type,
        ci_level=ci_level,
        control=control,
        reduced_form=False,
    )
    cace = result.rows[0]
    first = result.first_stage.effect()
    statistic = first.statistic
    return DoseEffect(
        outcome=outcome,
        arm=arm,
        per=float(per),
        estimate=cace.estimate,
        std_error=cace.std_error,
        df=cace.df,
        ci_low=cace.ci_low,
        ci_high=cace.ci_high,
        ci_level=cace.ci_level,
        p_value=cace.p_value,
        first_stage_f=None if not np.isfinite(statistic) else float(statistic) ** 2,
        mean_dose=float(rows.loc[rows["arm"] == arm, DOSE].mean()),
        n_obs=cace.n_obs,
        n_clusters=cace.n_clusters,
        adjusted_for=tuple(covariates),
    )


def dose_bins(
    data: pd.DataFrame, outcome: str, *, arm: str, spend: str = "spend", bins: int = 4
) -> tuple[DoseBin, ...]:
    """Exploratory: mean ``outcome`` among ``arm``'s clients by spend, not causal.

    The first bin holds clients who received nothing; the others split those who
    received any into ``bins`` groups at quantiles of their spend (fewer where spends tie).

    Examples
    --------
    >>> import pandas as pd
    >>> df = pd.DataFrame({"arm": ["b"] * 5, "spend": [0, 10, 20, 30, 40],
    ...                    "y": [1.0, 2.0, 3.0, 4.0, 5.0]})
    >>> [(b.spend_low, b.spend_high, b.clients) for b in dose_bins(df, "y", arm="b", bins=2)]
    [(0.0, 0.0, 1), (10.0, 25.0, 2), (25.0, 40.0, 2)]
    """
    # the two columns' values, not the frame's rows, are selected
    keep = arm_mask(data["arm"], {arm}) & data[outcome].notna().to_numpy()
    spent = data[spend].to_numpy(float)[keep]
    y = data[outcome].to_numpy(float)[keep]
    found = [_bin(outcome, arm, 0.0, 0.0, y[spent <= 0])]
    receivers = spent[spent > 0]
    if receivers.size == 0:
        return tuple(found)
    edges = np.unique(np.quantile(receivers, np.linspace(0.0, 1.0, bins + 1)))
    if edges.size == 1:
        edges = np.repeat(edges, 2)
    for j, (low, high) in enumerate(pairwise(edges)):
        last = j == edges.size - 2
        inside = (spent >= low) & ((spent <= high) if last else (spent < high)) & (spent > 0)
        found.append(_bin(outcome, arm, float(low), float(high), y[inside]))
    return tuple(found)


def _bin(outcome: str, arm: str, low: float, high: float, values: np.ndarray) -> DoseBin:
    return DoseBin(
        outcome=outcome,
        arm=arm,
        spend_low=low,
        spend_high=high,
        clients=int(values.size),
        outcome_mean=float(values.mean()) if values.size else None,
    )
