"""CR2 (Bell-McCaffrey / Pustejovsky-Tipton) covariance and Satterthwaite df, fast.

The CR2 estimator is ``B sum_g X_g' A_g e_g e_g' A_g X_g B`` with ``A_g = (I - H_gg)^{-1/2}``
(symmetric square root; a pseudo-inverse where ``I - H_gg`` is singular, as estimatr does).
In the orthonormal basis ``Q`` of the (weighted) design, ``H_gg = Q_g Q_g'``, so
``A_g`` differs from the identity only on the column space of ``Q_g`` (dimension <= k).
The push-through identity ``Q_g' (I - Q_g Q_g')^{-1/2} = (I - M_g)^{-1/2} Q_g'`` with the
k x k matrix ``M_g = Q_g' Q_g`` turns every n_g x n_g operation into a k x k one. Clusters
smaller than k use the n_g x n_g ("dense") route instead, which is cheaper for them.

Degrees of freedom (Bell & McCaffrey 2002; Pustejovsky & Tipton 2016, working model
``Phi = I``; estimatr's ``lm_robust`` CR2 df). For coefficient p, let ``G_p`` be the n x G
matrix whose column g is ``(I - H)[:, g] A_g X_g B e_p``; then ``df_p = tr(G_p'G_p)^2 /
tr((G_p'G_p)^2)``. Writing ``v_g = A_g Q_g a`` with ``a = R^{-T} e_p``,
``(G'G)_{gh} = delta_gh v_g'v_g - (Q_g'v_g)'(Q_h'v_h)``, i.e. ``G'G = D - U'U`` with
``D = diag(d_g)``, ``d_g = a' F_g a``, ``F_g = Q_g'A_g^2 Q_g``, and the k x G matrix ``U``
with columns ``u_g = P_g a``, ``P_g = Q_g'A_g Q_g``. Hence

    tr(G'G)     = sum d_g - sum |u_g|^2
    tr((G'G)^2) = sum d_g^2 - 2 sum d_g |u_g|^2 + || sum_g u_g u_g' ||_F^2

which costs O(n k^2 + G k^3) in total instead of O(n^2).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, cast

import numpy as np

from trialkit.estimate.frequentist._design import FloatArray, IntArray
from trialkit.estimate.frequentist.lstsq import LeastSquares
from trialkit.estimate.frequentist.vcov import Clusters, cluster_scores

#: Eigenvalues of ``I - H_gg`` at or below this are treated as zero (pseudo-inverse).
SINGULAR_TOLERANCE = 1e-10

_GramKernel = Callable[[FloatArray, IntArray, IntArray, IntArray], FloatArray]
_kernel: _GramKernel | None = None


def _gram_kernel() -> _GramKernel:
    """Compile (once, cached on disk) the per-cluster ``Q_g'Q_g`` kernel."""
    global _kernel
    if _kernel is None:
        import numba

        def grams(q: Any, order: Any, starts: Any, ids: Any) -> Any:
            k = q.shape[1]
            out = np.zeros((ids.shape[0], k, k))
            for c in range(ids.shape[0]):
                g = ids[c]
                for t in range(starts[g], starts[g + 1]):
                    i = order[t]
                    for a in range(k):
                        qa = q[i, a]
                        for b in range(a, k):
                            out[c, a, b] += qa * q[i, b]
                for a in range(k):
                    for b in range(a):
                        out[c, a, b] = out[c, b, a]
            return out

        _kernel = cast(_GramKernel, numba.njit(cache=True, nogil=True)(grams))
    return _kernel


def _inverse_roots(lam: FloatArray) -> tuple[FloatArray, FloatArray]:
    """``(1 - lam)^{-1/2}`` and ``(1 - lam)^{-1}``, zero where ``1 - lam`` is ~0."""
    gap = 1.0 - lam
    ok = gap > SINGULAR_TOLERANCE
    isq = np.where(ok, 1.0 / np.sqrt(np.where(ok, gap, 1.0)), 0.0)
    return isq, isq**2


def _low_rank(
    fit: LeastSquares, clusters: Clusters, ids: IntArray, scores: FloatArray
) -> tuple[FloatArray, FloatArray, FloatArray]:
    """Adjusted scores, F_g and P_g from the k x k eigenproblem of ``M_g = Q_g'Q_g``."""
    m = _gram_kernel()(fit.q, clusters.order, clusters.starts, ids)
    lam, vec = np.linalg.eigh(m)
    lam = np.clip(lam, 0.0, 1.0)
    isq, inv = _inverse_roots(lam)
    c = scores[ids]
    s = np.einsum("gak,gk->ga", vec, isq * np.einsum("gak,ga->gk", vec, c))
    vt = np.swapaxes(vec, 1, 2)
    f = (vec * (lam * inv)[:, None, :]) @ vt
    p = (vec * (lam * isq)[:, None, :]) @ vt
    return s, f, p


def _dense(
    fit: LeastSquares, clusters: Clusters, ids: IntArray, size: int
) -> tuple[FloatArray, FloatArray, FloatArray]:
    """The same from the n_g x n_g eigenproblem of ``H_gg`` (every cluster of ``size``)."""
    rows = clusters.order[clusters.starts[ids][:, None] + np.arange(size)[None, :]]
    qg = fit.q[rows]  # c x size x k
    eg = fit.resid[rows]  # c x size
    h = qg @ np.swapaxes(qg, 1, 2)
    lam, u = np.linalg.eigh(h)
    lam = np.clip(lam, 0.0, 1.0)
    isq, inv = _inverse_roots(lam)
    w = np.swapaxes(qg, 1, 2) @ u  # c x k x size
    s = np.einsum("gkm,gm->gk", w, isq * np.einsum("gim,gi->gm", u, eg))
    wt = np.swapaxes(w, 1, 2)
    f = (w * inv[:, None, :]) @ wt
    p = (w * isq[:, None, :]) @ wt
    return s, f, p


def cr2_parts(fit: LeastSquares, clusters: Clusters) -> tuple[FloatArray, FloatArray, FloatArray]:
    """Per cluster: adjusted score ``Q_g'A_g e_g`` (G x k), ``F_g`` and ``P_g`` (G x k x k)."""
    k, g = fit.n_coef, clusters.n_clusters
    sizes = clusters.sizes
    s = np.empty((g, k))
    f = np.empty((g, k, k))
    p = np.empty((g, k, k))
    big = np.nonzero(sizes >= k)[0].astype(np.intp)
    if big.size:
        s[big], f[big], p[big] = _low_rank(fit, clusters, big, cluster_scores(fit, clusters))
    for size in np.unique(sizes[sizes < k]):
        ids = np.nonzero(sizes == size)[0].astype(np.intp)
        s[ids], f[ids], p[ids] = _dense(fit, clusters, ids, int(size))
    return s, f, p


def bell_mccaffrey_df(r_inv: FloatArray, f: FloatArray, p: FloatArray) -> FloatArray:
    """Satterthwaite df of each coefficient's CR2 variance (see the module docstring)."""
    k = r_inv.shape[0]
    d = np.einsum("pa,gap->gp", r_inv, f @ r_inv.T)
    u = p @ r_inv.T  # u[g, :, p] = u_gp
    nu = np.einsum("gap,gap->gp", u, u)
    tr1 = d.sum(axis=0) - nu.sum(axis=0)
    cross = np.array([np.sum(np.square(u[:, :, j].T @ u[:, :, j])) for j in range(k)])
    tr2 = np.sum(d**2, axis=0) - 2.0 * np.sum(d * nu, axis=0) + cross
    return np.asarray(tr1**2 / tr2)


def cr2_vcov(fit: LeastSquares, clusters: Clusters) -> tuple[FloatArray, FloatArray]:
    """CR2 covariance matrix and Bell-McCaffrey df per coefficient.

    Parameters
    ----------
    fit
        A least-squares fit (weighted fits are handled through ``sqrt(w)``).
    clusters
        The cluster index.

    Returns
    -------
    tuple of ndarray
        The k x k covariance and the k degrees of freedom.
    """
    s, f, p = cr2_parts(fit, clusters)
    vcov = fit.r_inv @ (s.T @ s) @ fit.r_inv.T
    return np.asarray((vcov + vcov.T) / 2), bell_mccaffrey_df(fit.r_inv, f, p)
