"""Hussey & Hughes (2007) variance of the stepped-wedge treatment effect (eq. 8)."""

from __future__ import annotations

import numpy as np
from numpy.typing import ArrayLike


def hussey_hughes_variance(treatment: ArrayLike, *, sigma2: float, tau2: float) -> float:
    """Variance of the treatment effect for any cluster × period treatment matrix.

    Parameters
    ----------
    treatment
        ``I × T`` matrix of 0/1: cluster ``i`` treated in period ``j``.
    sigma2
        Variance of a cluster-period mean, ``sigma_e² / m``.
    tau2
        Between-cluster variance.

    Returns
    -------
    float
        ``Var(theta_hat)`` from Hussey & Hughes (2007), eq. 8.

    Examples
    --------
    >>> x = [[0, 1, 1], [0, 0, 1]]
    >>> round(hussey_hughes_variance(x, sigma2=1.0, tau2=0.0), 4)
    2.0
    """
    x = np.asarray(treatment, dtype=float)
    n_clusters, n_periods = x.shape
    u = float(x.sum())
    w = float((x.sum(axis=0) ** 2).sum())
    v = float((x.sum(axis=1) ** 2).sum())
    return _hh(n_clusters, n_periods, u, w, v, sigma2, tau2)


def standard_design(clusters: int, steps: int, periods: int | None = None) -> np.ndarray:
    """The standard treatment matrix: equal clusters per step, one baseline period.

    Sequence ``s`` (1..steps) crosses over at the start of period ``s`` (0-indexed); periods
    beyond ``steps + 1`` are added at the end, all clusters treated (swCRTdesign's
    ``extra.time``). Clusters must be a multiple of steps.
    """
    periods = steps + 1 if periods is None else periods
    per_step = clusters // steps
    starts = np.repeat(np.arange(1, steps + 1), per_step)
    return (np.arange(periods)[None, :] >= starts[:, None]).astype(float)


def _hh(i: float, t: float, u: float, w: float, v: float, sigma2: float, tau2: float) -> float:
    denominator = (i * u - w) * sigma2 + (u**2 + i * t * u - t * w - i * v) * tau2
    return i * sigma2 * (sigma2 + t * tau2) / denominator


def standard_variance(
    clusters: float, steps: int, periods: int, sigma2: float, tau2: float
) -> float:
    """Hussey–Hughes variance of the standard design, continuous in the number of clusters."""
    g = clusters / steps
    treated = np.array([periods - s for s in range(1, steps + 1)], dtype=float)
    column = np.minimum(np.arange(periods), steps).astype(float)
    u = g * float(treated.sum())
    w = g**2 * float((column**2).sum())
    v = g * float((treated**2).sum())
    return _hh(clusters, periods, u, w, v, sigma2, tau2)
