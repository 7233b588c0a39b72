"""Least squares with HC2 or CR2 inference for many simulated data sets at once.

The same estimators as :mod:`trialkit.estimate.frequentist` (``ols``/``lin`` with HC2, or
CR2 with Bell-McCaffrey degrees of freedom), for one coefficient, vectorised over
simulations. Each simulation's observed rows are stacked as ``x`` ``(S, R, k)``, with
each row's analysis cluster beside it; rows after a simulation's own are zero with ``mask``
False. Zero rows change nothing (no leverage, no residual, no score), so padding is exact.

Per simulation the design is equilibrated (unit column norms, as ``fit_lstsq``) and
factorised by Cholesky, ``X = Q R`` with ``Q = X R^{-1}``; all HC2/CR2 algebra then works in
``Q`` as in :mod:`trialkit.estimate.frequentist.cr2` (the push-through identity turns each
cluster's ``n_g x n_g`` adjustment into a ``k x k`` eigenproblem). A column that is zero in
a simulation (a covariate that does not vary there, centred to zero) is dropped from that
simulation's fit, as the DataFrame estimators drop covariates that do not vary.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import numpy as np
from numpy.typing import NDArray
from scipy import special

from trialkit.estimate.frequentist.cr2 import SINGULAR_TOLERANCE

FloatArray = NDArray[np.float64]
BoolArray = NDArray[np.bool_]
IntArray = NDArray[np.int64]


@dataclass(frozen=True, slots=True)
class BatchedFit:
    """One coefficient's estimate, SE and df in each of ``S`` simulations.

    Attributes
    ----------
    estimate, std_error, df
        Arrays of length ``S`` (NaN where a simulation's design was singular).
    """

    estimate: FloatArray
    std_error: FloatArray
    df: FloatArray

    @staticmethod
    def combine(parts: list[tuple[IntArray, BatchedFit]], sims: int) -> BatchedFit:
        """One fit of ``sims`` simulations from fits of groups of them (indexes, fit)."""
        if len(parts) == 1 and np.array_equal(parts[0][0], np.arange(sims)):
            return parts[0][1]
        out = np.full((3, sims), np.nan)
        for pick, fit in parts:
            out[:, pick] = (fit.estimate, fit.std_error, fit.df)
        return BatchedFit(out[0], out[1], out[2])

    def inference(self, ci_level: float = 0.95) -> tuple[FloatArray, FloatArray, FloatArray]:
        """Two-sided t p-values and confidence limits, as ``RegressionResult`` gives them."""
        with np.errstate(invalid="ignore", divide="ignore"):
            statistic = self.estimate / self.std_error
            p_value = 2.0 * special.stdtr(self.df, -np.abs(statistic))
            crit = special.stdtrit(self.df, 0.5 + ci_level / 2.0)
        half = crit * self.std_error
        return (
            np.asarray(p_value),
            np.asarray(self.estimate - half),
            np.asarray(self.estimate + half),
        )


@dataclass(frozen=True, slots=True)
class _Factor:
    q: FloatArray  # S x R x k, orthonormal columns (zero for dropped columns)
    a: FloatArray  # S x k, coefficient p of b is a . (Q'y) / scale_p
    scale_p: FloatArray  # S
    coef: FloatArray  # S
    resid: FloatArray  # S x R
    rank: NDArray[np.int64]  # S
    ok: BoolArray  # S


def _factor(x: FloatArray, y: FloatArray, term: int) -> _Factor:
    k = x.shape[2]
    scale = np.sqrt(np.einsum("srk,srk->sk", x, x))
    empty = scale <= 0.0
    scale = np.where(empty, 1.0, scale)
    xs = x / scale[:, None, :]
    gram = np.einsum("srk,srl->skl", xs, xs, optimize=True)
    gram[:, np.arange(k), np.arange(k)] += empty  # a dropped column: beta = 0, Q column = 0
    eig_min = np.linalg.eigvalsh(gram)[:, 0]
    ok = (eig_min > 1e-12) & ~empty[:, term]
    gram[~ok] = np.eye(k)
    chol = np.linalg.cholesky(gram)
    linv = np.linalg.inv(chol)
    q = np.einsum("srk,slk->srl", xs, linv, optimize=True)
    c = np.einsum("srk,sr->sk", q, y)
    resid = y - np.einsum("srk,sk->sr", q, c)
    a = linv[:, :, term]
    coef = np.einsum("sk,sk->s", a, c) / scale[:, term]
    rank = (k - empty.sum(axis=1)).astype(np.int64)
    return _Factor(q, a, scale[:, term], coef, resid, rank, ok)


def _finish(f: _Factor, var: FloatArray, df: FloatArray) -> BatchedFit:
    nan = np.full_like(f.coef, np.nan)
    se = np.sqrt(np.maximum(var, 0.0)) / f.scale_p
    return BatchedFit(
        estimate=np.where(f.ok, f.coef, nan),
        std_error=np.where(f.ok, se, nan),
        df=np.where(f.ok, df, nan),
    )


def fit_hc2(
    x: FloatArray,
    y: FloatArray,
    mask: BoolArray,
    *,
    term: int = 1,
    bell_mccaffrey: bool = False,
) -> BatchedFit:
    """HC2 standard errors for coefficient ``term`` of ``y`` on ``x``, with ``N - K`` df or
    Bell-McCaffrey's.

    Parameters
    ----------
    x
        ``(S, R, k)`` designs, zero on rows where ``mask`` is False.
    y
        Outcomes, same leading shape, zero where ``mask`` is False.
    mask
        Which rows are observed.
    term
        The column whose coefficient is reported.
    bell_mccaffrey
        Bell-McCaffrey df (CR2's with every row its own cluster, as :func:`fit_cr2` would
        give them) in closed form: a row's ``M_i = q_i q_i'`` has the one eigenpair
        ``(h_i, q_i / sqrt(h_i))``, so with ``w_i = q_i'a``, ``d_i = w_i^2 / (1 - h_i)``,
        ``u_i = q_i w_i / sqrt(1 - h_i)``, ``tr(G'G) = sum_i w_i^2`` and ``tr((G'G)^2) =
        sum d_i^2 - 2 sum d_i h_i d_i + ||sum_i u_i u_i'||_F^2`` (rows with ``1 - h_i`` at
        or below the singular tolerance count for nothing, the pseudo-inverse).

    Returns
    -------
    BatchedFit
        Estimates, HC2 standard errors and their degrees of freedom.
    """
    f = _factor(x, y, term)
    w = np.einsum("srk,sk->sr", f.q, f.a)
    h = np.einsum("srk,srk->sr", f.q, f.q)
    if not bell_mccaffrey:
        with np.errstate(invalid="ignore", divide="ignore"):
            u = np.where(mask, f.resid**2 / (1.0 - h), 0.0)
        var = np.einsum("sr,sr->s", w**2, u)
        n = mask.sum(axis=1)
        return _finish(f, var, (n - f.rank).astype(np.float64))
    gap = 1.0 - np.clip(h, 0.0, 1.0)
    good = mask & (gap > SINGULAR_TOLERANCE)
    inverse = np.where(good, 1.0 / np.where(good, gap, 1.0), 0.0)
    var = np.einsum("sr,sr->s", w**2, np.where(good, f.resid**2, 0.0) * inverse)
    d = np.where(good, w**2, 0.0) * inverse
    cross = np.einsum("srk,srl,sr->skl", f.q, f.q, d)  # sum_i u_i u_i'
    tr1 = np.where(good, w**2, 0.0).sum(axis=1)
    tr2 = (d**2).sum(axis=1) - 2.0 * (d * h * d).sum(axis=1) + np.einsum("skl,skl->s", cross, cross)
    with np.errstate(invalid="ignore", divide="ignore"):
        df = tr1**2 / tr2
    return _finish(f, var, df)


def fit_cr2(
    x: FloatArray,
    y: FloatArray,
    mask: BoolArray,
    cluster: IntArray,
    clusters: int,
    *,
    term: int = 1,
) -> BatchedFit:
    """CR2 standard errors with Bell-McCaffrey df for coefficient ``term``.

    Parameters
    ----------
    x
        ``(S, R, k)``: simulation, row, column (zero on rows where ``mask`` is False).
    y
        ``(S, R)`` outcomes.
    mask
        ``(S, R)``: which rows are observed.
    cluster
        ``(S, R)`` analysis cluster code (``0 .. clusters - 1``) of each row.
    clusters
        Number of analysis clusters ``G``.
    term
        The column whose coefficient is reported.

    Returns
    -------
    BatchedFit
        Estimates, CR2 standard errors and Bell-McCaffrey degrees of freedom.
    """
    f = _factor(x, y, term)
    gram, scores = _cluster_sums()(f.q, f.resid, cluster, clusters)  # S x G x k x k, S x G x k
    lam, vec = np.linalg.eigh(gram)
    lam = np.clip(lam, 0.0, 1.0)
    gap = 1.0 - lam
    good = gap > SINGULAR_TOLERANCE
    isq = np.where(good, 1.0 / np.sqrt(np.where(good, gap, 1.0)), 0.0)
    va = np.einsum("sgkl,sk->sgl", vec, f.a)  # V'a
    vc = np.einsum("sgkl,sgk->sgl", vec, scores)  # V'c
    adjusted = np.einsum("sgl,sgl->sg", va, isq * vc)  # a'(I - M_g)^{-1/2} c_g
    var = np.einsum("sg,sg->s", adjusted, adjusted)
    d = np.einsum("sgl,sgl->sg", va**2, lam * isq**2)
    u = np.einsum("sgkl,sgl->sgk", vec, lam * isq * va)
    nu = np.einsum("sgk,sgk->sg", u, u)
    cross = np.einsum("sgk,sgl->skl", u, u)
    tr1 = d.sum(axis=1) - nu.sum(axis=1)
    tr2 = (d**2).sum(axis=1) - 2.0 * (d * nu).sum(axis=1) + np.einsum("skl,skl->s", cross, cross)
    with np.errstate(invalid="ignore", divide="ignore"):
        df = tr1**2 / tr2
    return _finish(f, var, df)


def _cluster_sums_impl(q: Any, e: Any, cluster: Any, g: int) -> Any:
    """Per simulation and cluster, ``M_g = Q_g'Q_g`` and ``c_g = Q_g'e_g`` (compiled)."""
    s, r, k = q.shape
    gram = np.zeros((s, g, k, k))
    scores = np.zeros((s, g, k))
    for i in range(s):
        for row in range(r):
            c = cluster[i, row]
            for a in range(k):
                qa = q[i, row, a]
                scores[i, c, a] += qa * e[i, row]
                for b in range(a, k):
                    gram[i, c, a, b] += qa * q[i, row, b]
        for c in range(g):
            for a in range(k):
                for b in range(a):
                    gram[i, c, a, b] = gram[i, c, b, a]
    return gram, scores


_compiled: list[Callable[..., Any]] = []


def _cluster_sums() -> Callable[..., Any]:
    """The compiled per-cluster sums (compiled once, cached on disk)."""
    if not _compiled:
        import numba

        _compiled.append(numba.njit(cache=True, nogil=True)(_cluster_sums_impl))
    return _compiled[0]
