"""A deliberately naive CR2 + Bell-McCaffrey df: the formulas as written, O(n^2) memory.

Used only as an independent check of the fast implementation in
``trialkit.estimate.frequentist.cr2``. Follows estimatr's mathematical notes and
Pustejovsky & Tipton (2016, JBES 36(4)), eq. for the Satterthwaite df with Phi = I.
"""

from __future__ import annotations

import numpy as np
from numpy.typing import NDArray

F = NDArray[np.float64]


def _inv_sqrt_psd(a: F, tol: float = 1e-10) -> F:
    lam, vec = np.linalg.eigh(a)
    inv = np.where(lam > tol, 1.0 / np.sqrt(np.where(lam > tol, lam, 1.0)), 0.0)
    return np.asarray((vec * inv) @ vec.T)


def dense_cr2(x: F, y: F, cluster: NDArray[np.int_], weights: F | None = None) -> tuple[F, F, F]:
    """Coefficients, CR2 covariance and BM df, straight from the definitions."""
    if weights is not None:
        sw = np.sqrt(weights)
        x, y = x * sw[:, None], y * sw
    n, k = x.shape
    bread = np.linalg.inv(x.T @ x)
    beta = bread @ x.T @ y
    e = y - x @ beta
    hat = x @ bread @ x.T
    i_minus_h = np.eye(n) - hat
    groups = [np.nonzero(cluster == g)[0] for g in np.unique(cluster)]
    adj = {}
    meat = np.zeros((k, k))
    for g, idx in enumerate(groups):
        a_g = _inv_sqrt_psd(np.eye(len(idx)) - hat[np.ix_(idx, idx)])
        adj[g] = a_g
        sc = x[idx].T @ a_g @ e[idx]
        meat += np.outer(sc, sc)
    vcov = bread @ meat @ bread
    df = np.empty(k)
    for p in range(k):
        cols = []
        for g, idx in enumerate(groups):
            cols.append(i_minus_h[:, idx] @ adj[g] @ x[idx] @ bread[:, p])
        gmat = np.column_stack(cols)
        gtg = gmat.T @ gmat
        df[p] = np.trace(gtg) ** 2 / np.sum(gtg * gtg)
    return beta, vcov, df
