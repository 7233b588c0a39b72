"""Lin's (2013) interacted regression estimator (estimatr's ``lm_lin``).

Covariates are centred at their (weighted, if weights are given) sample means and interacted
with every non-control arm indicator; the arm coefficients are then average treatment
effects, and HC2 (CR2 with clusters) gives conservative design-based inference: the HC2
variance is the conservative Neyman variance, and with ``df="bell_mccaffrey"`` (the
registered plan's default) the t-interval also keeps its level in small samples, where
N - k df under-cover (93% at n = 40 in a simulation).
"""

from __future__ import annotations

from collections.abc import Hashable, Sequence

import numpy as np
import pandas as pd

from trialkit.errors import EstimationError
from trialkit.estimate.frequentist._design import (
    INTERCEPT,
    FloatArray,
    Prepared,
    prepare,
    weighted_mean,
)
from trialkit.estimate.frequentist.kept_factors import DesignKey, kept_design, make_room_for
from trialkit.estimate.frequentist.lstsq import fit_lstsq
from trialkit.estimate.frequentist.ols import fit_linear
from trialkit.estimate.frequentist.result import RegressionResult
from trialkit.estimate.frequentist.row_major import lin_design
from trialkit.protocol.vocabulary import DfMethod, VcovType


def lin(
    data: pd.DataFrame,
    outcome: str,
    treatment: str,
    *,
    covariates: Sequence[str] = (),
    cluster: str | None = None,
    blocks: str | None = None,
    weights: str | None = None,
    se_type: VcovType | None = None,
    ci_level: float = 0.95,
    control: Hashable | None = None,
    df: DfMethod = "residual",
) -> RegressionResult:
    """Treatment effects by Lin's (2013) estimator: centred covariates fully interacted.

    Parameters
    ----------
    data
        One row per unit.
    outcome, treatment
        Column names; the treatment may be 0/1, boolean or labelled arms.
    covariates
        Numeric pre-treatment covariates. Each is centred (``"<name>_c"``) and interacted
        with each non-control arm (``"<arm term>:<name>_c"``).
    cluster
        Column of the unit of randomisation, if clusters were randomised.
    blocks
        Column of randomisation blocks; its indicators (first level dropped) are treated as
        covariates: centred and interacted, which gives the block-weighted estimator.
    weights
        Column of positive weights; centring then uses weighted means.
    se_type
        As in :func:`trialkit.estimate.ols`; default HC2, or CR2 with clusters.
    ci_level
        Confidence level of the intervals.
    control
        The control arm; default 0 if present, else the first arm in sorted order.
    df
        As in :func:`trialkit.estimate.ols`: ``"residual"`` or ``"bell_mccaffrey"`` df for
        HC2 (the latter covers the sample average effect at its level in small samples).

    Returns
    -------
    RegressionResult
        Arm rows first (the average treatment effects), then intercept, centred covariates
        and interactions.

    Raises
    ------
    EstimationError
        No covariates and no blocks, or any error of :func:`trialkit.estimate.ols`.

    Examples
    --------
    >>> import pandas as pd
    >>> df = pd.DataFrame({"y": [1.0, 2.5, 3.0, 5.0, 4.0, 7.5, 2.0, 3.0],
    ...                    "arm": [0, 1, 0, 1, 0, 1, 0, 1],
    ...                    "x": [0.1, 0.4, 0.9, 1.2, 1.1, 2.0, 0.3, 0.2]})
    >>> res = lin(df, "y", "arm", covariates=["x"])
    >>> res.effect().term
    'arm'
    """
    if not covariates and blocks is None:
        raise EstimationError(
            "lin needs at least one covariate (or blocks) to adjust for. Fix: pass "
            "covariates=[...], or use difference_in_means for the unadjusted estimate."
        )
    prep = prepare(
        data,
        outcome=outcome,
        treatment=treatment,
        covariates=covariates,
        cluster=cluster,
        blocks=blocks,
        weights=weights,
        control=control,
    )
    c_names = _centred_names(prep)
    inter_names = [f"{term}:{c}" for term in prep.arms.terms for c in c_names]
    terms = [INTERCEPT, *prep.arms.terms, *c_names, *inter_names]
    fe = prep.fixed_effects[0] if prep.fixed_effects else None
    inputs = (prep.arm_codes, prep.covariates, fe.codes if fe is not None else None, prep.weights)
    for array in inputs:  # this fit's own arrays, read-only from here: a key may hold them
        if array is not None:
            array.flags.writeable = False
    key = DesignKey(
        f"lin/{len(prep.arms.others)} arms/{len(fe.levels) if fe is not None else 0} blocks",
        inputs,
    )
    x = kept_design(key)  # every outcome of a level adjusted alike: built once
    if x is None:
        make_room_for(len(prep.y) * len(terms) * 8)
        x = _design(prep)
    fit = fit_lstsq(x, prep.y, prep.weights, names=terms, key=key)
    return fit_linear(
        prep,
        x,
        terms,
        fit=fit,
        reported=terms[:],
        se_type=se_type,
        ci_level=ci_level,
        estimator="lin",
        df=df,
    )


def _centred_names(prep: Prepared) -> list[str]:
    """The centred columns' names: each covariate's, then each block indicator's."""
    names = list(prep.covariate_names)
    fe = prep.fixed_effects[0] if prep.fixed_effects else None
    if fe is not None and len(fe.levels) > 1:  # block indicators, first level dropped
        names.extend(f"{fe.name}[{level}]" for level in fe.levels[1:])
    return [f"{name}_c" for name in names]


def _design(prep: Prepared) -> FloatArray:
    """Lin's design: intercept, arm indicators, centred covariates (and block indicators),
    then each arm times the centred columns.

    Written row-major in one compiled pass (:func:`~.row_major.lin_design`): the
    least-squares products run fastest on that layout. Returns the design, read-only.
    """
    p = prep.covariates.shape[1]
    fe = prep.fixed_effects[0] if prep.fixed_effects else None
    means = weighted_mean(prep.covariates, prep.weights) if p else np.zeros(0)
    if fe is not None and len(fe.levels) > 1:  # the block indicators' means: their shares
        shares = np.bincount(fe.codes, weights=prep.weights, minlength=len(fe.levels))
        means = np.concatenate([means, shares[1:] / shares.sum()])
    x = lin_design(
        prep.arm_codes,
        prep.covariates,
        means,
        fe.codes if fe is not None else None,
        len(prep.arms.others),
    )
    x.flags.writeable = False  # finished: a design nobody changes may be reused (lstsq)
    return x
