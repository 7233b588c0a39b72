"""Multiple-testing adjustments within a pre-registered family of hypotheses.

Holm (1979) and Benjamini–Hochberg (1995) adjusted p-values equal
``statsmodels.stats.multitest.multipletests(p, method="holm" | "fdr_bh")[1]``.
Westfall–Young (1993) step-down adjustments (maxT and minP) take the statistics
observed and the statistics recomputed under resampled null assignments (e.g. by
re-randomisation); drawing those resamples is the randomisation-inference module's job.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Literal, get_args

import numpy as np
from numpy.typing import ArrayLike, NDArray

from trialkit.errors import EstimationError
from trialkit.protocol.vocabulary import MultiplicityMethod

__all__ = [
    "MultiplicityMethod",
    "WestfallYoungKind",
    "adjust_p_values",
    "benjamini_hochberg",
    "holm",
    "westfall_young",
]

#: Room for rounding when p-values summed from resample weights are compared.
P_ROUNDING = 1e-12

#: Adjustment methods for a family of hypotheses; one name per option.
#: Westfall–Young step-down variants: successive maxima of |t| or minima of p.
WestfallYoungKind = Literal["maxT", "minP"]


def _as_p(p_values: ArrayLike, caller: str) -> NDArray[np.float64]:
    p = np.asarray(p_values, dtype=float)
    if p.ndim != 1:
        raise EstimationError(f"The 'p_values' parameter of {caller} must be one-dimensional.")
    finite = p[~np.isnan(p)]
    if np.any((finite < 0) | (finite > 1)):
        raise EstimationError(
            f"The 'p_values' parameter of {caller} must lie in [0, 1]. Got {finite.min()!r} "
            f"to {finite.max()!r} instead."
        )
    return p


def holm(p_values: ArrayLike) -> NDArray[np.float64]:
    """Holm's step-down adjusted p-values (family-wise error rate).

    Missing p-values (NaN) are left out of the family and stay NaN.

    Parameters
    ----------
    p_values
        Unadjusted p-values of the family.

    Returns
    -------
    numpy.ndarray
        Adjusted p-values, in the input order.

    Examples
    --------
    >>> holm([0.01, 0.04, 0.03]).round(3).tolist()
    [0.03, 0.06, 0.06]
    """
    p = _as_p(p_values, "holm")
    out = np.full(p.shape, np.nan)
    keep = np.flatnonzero(~np.isnan(p))
    m = keep.size
    order = keep[np.argsort(p[keep], kind="stable")]
    scaled = (m - np.arange(m)) * p[order]
    out[order] = np.minimum(1.0, np.maximum.accumulate(scaled))
    return out


def benjamini_hochberg(p_values: ArrayLike) -> NDArray[np.float64]:
    """Benjamini–Hochberg step-up adjusted p-values (false discovery rate).

    Missing p-values (NaN) are left out of the family and stay NaN.

    Parameters
    ----------
    p_values
        Unadjusted p-values of the family.

    Returns
    -------
    numpy.ndarray
        Adjusted p-values (q-values), in the input order.

    Examples
    --------
    >>> benjamini_hochberg([0.01, 0.04, 0.03]).round(3).tolist()
    [0.03, 0.04, 0.04]
    """
    p = _as_p(p_values, "benjamini_hochberg")
    out = np.full(p.shape, np.nan)
    keep = np.flatnonzero(~np.isnan(p))
    m = keep.size
    order = keep[np.argsort(p[keep], kind="stable")]
    scaled = m / np.arange(1, m + 1) * p[order]
    out[order] = np.minimum(1.0, np.minimum.accumulate(scaled[::-1])[::-1])
    return out


def _null_matrix(null_stats: ArrayLike | Iterable[ArrayLike], m: int) -> NDArray[np.float64]:
    if isinstance(null_stats, np.ndarray):
        batches: list[NDArray[np.float64]] = [np.asarray(null_stats, dtype=float)]
    else:
        batches = [np.asarray(b, dtype=float) for b in null_stats]  # type: ignore[union-attr]
    batches = [b.reshape(1, -1) if b.ndim == 1 else b for b in batches]
    if not batches or any(b.ndim != 2 or b.shape[1] != m for b in batches):
        raise EstimationError(
            f"The 'null_stats' parameter of westfall_young must be a (B, {m}) matrix or batches "
            f"of rows with {m} columns, one column per hypothesis."
        )
    return np.vstack(batches)


def _marginal_p(
    stats: NDArray[np.float64],
    null: NDArray[np.float64],
    weights: NDArray[np.float64] | None,
    slack: NDArray[np.float64],
) -> NDArray[np.float64]:
    """Share (or probability, with ``weights`` per resample) of null draws at least as
    extreme, column by column (ties, within ``slack``, count)."""
    n = null.shape[0]
    out = np.empty(stats.shape)
    for j in range(null.shape[1]):
        order = np.argsort(null[:, j], kind="stable")
        at = np.searchsorted(null[order, j], stats[..., j] - slack[j], side="left")
        if weights is None:
            out[..., j] = (n - at) / n
        else:  # tail[i]: the weight of the draws ranked i or later (the last entry: none)
            out[..., j] = np.append(np.cumsum(weights[order][::-1])[::-1], 0.0)[at]
    return out


def _slack(obs: NDArray[np.float64], null: NDArray[np.float64]) -> NDArray[np.float64]:
    """Each hypothesis's slack for ties between statistics equal up to rounding (a
    resample that reproduces the observed assignment gives the observed statistic): a
    billionth of the typical size of its statistics, which one nearly singular resample
    (a huge statistic) does not move."""
    typical = [
        float(np.median(np.abs(c[np.isfinite(c)]))) if np.isfinite(c).any() else 0.0 for c in null.T
    ]
    out: NDArray[np.float64] = 1e-9 * (np.abs(obs) + np.asarray(typical) + 1e-300)
    return out


def _weights(weights: ArrayLike | None, n: int) -> NDArray[np.float64] | None:
    if weights is None:
        return None
    w = np.asarray(weights, dtype=float)
    if w.shape != (n,) or not np.isfinite(w).all() or (w < 0).any():
        raise EstimationError(
            f"The 'weights' parameter of westfall_young must be {n} probabilities, one per "
            "resample."
        )
    return w


def westfall_young(
    observed: ArrayLike,
    null_stats: ArrayLike | Iterable[ArrayLike],
    *,
    kind: WestfallYoungKind = "maxT",
    two_sided: bool = True,
    weights: ArrayLike | None = None,
) -> NDArray[np.float64]:
    """Westfall–Young step-down adjusted p-values from resampled null statistics.

    Hypotheses are ordered by evidence (largest statistic, or smallest p, first). The
    adjusted p-value of the i-th is the share of resamples in which the most extreme
    statistic among hypotheses i..m is at least as extreme as the i-th observed one,
    made monotone (Westfall & Young 1993, algorithms 2.8 and 4.1). Raw p-values are
    the marginal shares ``mean(|T_b| >= |t|)`` (the ri2 convention, no +1), statistics
    equal to a billionth of their scale counting as ties.

    Parameters
    ----------
    observed
        The m statistics observed (e.g. t statistics or effect estimates).
    null_stats
        A (B, m) matrix of the same statistics under B resampled null assignments, or an
        iterable of such row batches (joined in memory).
    kind
        ``"maxT"`` compares statistics directly (assumes comparable null scales, e.g.
        studentised); ``"minP"`` first turns each into its marginal permutation p-value.
    two_sided
        Compare absolute values.
    weights
        Each resample's probability, when the resamples are every possible assignment
        (exact randomisation inference); ``None``: equally likely draws. A statistic that
        is not finite in a resample (an arm with no rows) is never as extreme as one
        observed, as in :mod:`~trialkit.estimate.frequentist.ri`.

    Returns
    -------
    numpy.ndarray
        Adjusted p-values, in the input order; each at least the raw permutation p-value.

    Raises
    ------
    EstimationError
        If the shapes do not match or ``kind`` is unknown.

    Examples
    --------
    >>> null = [[0.1, 0.2], [1.5, 0.3], [0.4, 2.5], [0.2, 0.1]]
    >>> westfall_young([2.0, 1.0], null).tolist()
    [0.25, 0.25]
    """
    if kind not in get_args(WestfallYoungKind):
        raise EstimationError(
            f"The 'kind' parameter of westfall_young must be one of "
            f"{list(get_args(WestfallYoungKind))}. Got {kind!r} instead."
        )
    obs = np.asarray(observed, dtype=float)
    if obs.ndim != 1 or np.isnan(obs).any():
        raise EstimationError("The 'observed' parameter of westfall_young must be 1-D, no NaN.")
    null = _null_matrix(null_stats, obs.size)
    w = _weights(weights, null.shape[0])
    if two_sided:
        obs, null = np.abs(obs), np.abs(null)
    null = np.where(np.isfinite(null), null, -np.inf)
    slack = _slack(obs, null)
    if kind == "maxT":
        order = np.argsort(-obs, kind="stable")
        succ = np.maximum.accumulate(null[:, order][:, ::-1], axis=1)[:, ::-1]
        exceed = succ >= obs[order] - slack[order]
    else:
        raw = _marginal_p(obs, null, w, slack)
        null_p = _marginal_p(null, null, w, slack)
        order = np.argsort(raw, kind="stable")
        succ = np.minimum.accumulate(null_p[:, order][:, ::-1], axis=1)[:, ::-1]
        # Equal p-values of different hypotheses are sums of the same weights in another
        # order: equal only to rounding, so they are compared with room for it.
        exceed = succ <= raw[order] + P_ROUNDING
    share = exceed.mean(axis=0) if w is None else np.minimum(1.0, w @ exceed)
    adjusted = np.maximum.accumulate(share)
    out = np.empty(obs.size)
    out[order] = adjusted
    return out


def adjust_p_values(
    p_values: ArrayLike,
    *,
    method: MultiplicityMethod,
    observed: ArrayLike | None = None,
    null_stats: ArrayLike | Iterable[ArrayLike] | None = None,
    kind: WestfallYoungKind = "maxT",
) -> NDArray[np.float64]:
    """Adjust a family's p-values by a named method.

    Parameters
    ----------
    p_values
        Unadjusted p-values (ignored by ``"westfall_young"``, which resamples).
    method
        One of :data:`MultiplicityMethod`.
    observed, null_stats, kind
        Needed for ``"westfall_young"``; see :func:`westfall_young`.

    Returns
    -------
    numpy.ndarray
        Adjusted p-values in the input order.

    Raises
    ------
    EstimationError
        For an unknown method, or Westfall–Young without resampled statistics.

    Examples
    --------
    >>> adjust_p_values([0.01, 0.04, 0.03], method="bh").round(3).tolist()
    [0.03, 0.04, 0.04]
    """
    if method == "none":
        return _as_p(p_values, "adjust_p_values").copy()
    if method == "holm":
        return holm(p_values)
    if method == "bh":
        return benjamini_hochberg(p_values)
    if method == "westfall_young":
        if observed is None or null_stats is None:
            raise EstimationError(
                "method='westfall_young' needs 'observed' and 'null_stats'. Fix: pass the "
                "statistics from the re-randomisation draws, or choose method='holm'."
            )
        return westfall_young(observed, null_stats, kind=kind)
    raise EstimationError(
        f"The 'method' parameter of adjust_p_values must be one of "
        f"{list(get_args(MultiplicityMethod))}. Got {method!r} instead."
    )
