"""CR2 (Bell-McCaffrey / Pustejovsky-Tipton) covariance and Satterthwaite df, fast.

The CR2 estimator is ``B sum_g X_g' A_g e_g e_g' A_g X_g B`` with ``A_g = (I - H_gg)^{-1/2}``
(symmetric square root; a pseudo-inverse where ``I - H_gg`` is singular, as estimatr does).
Weighted fits use the ``sqrt(w)``-transformed design (precision weights; see
:mod:`trialkit.estimate.frequentist.vcov` for how this differs from estimatr's weighted CR2).
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

Implementation: rows not stored in cluster order are first copied into cluster order by a
counting sort that streams them in storage order (random access per cluster is several
times slower than the sort); per-cluster Gram matrices are then BLAS products of contiguous
row blocks (and, for small clusters, the n_g x n_g blocks are formed) in compiled passes
(numba), the eigenproblems are solved in batches by LAPACK
through ``numpy.linalg.eigh``, and a second compiled pass turns each cluster's eigenpairs
into its adjusted score, ``d_g`` and ``u_g`` for every coefficient at once (``u_g`` for all
p is ``P_g R^{-T}``). Clusters are processed in chunks to bound memory.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import numpy as np

from trialkit.estimate.frequentist._design import FloatArray, IntArray
from trialkit.estimate.frequentist.lstsq import LeastSquares
from trialkit.estimate.frequentist.vcov import Clusters

#: Eigenvalues of ``I - H_gg`` at or below this are treated as zero (pseudo-inverse).
SINGULAR_TOLERANCE = 1e-10
#: Clusters per batch of eigenproblems.
CHUNK = 16384


def _grams(q: Any, e: Any, order: Any, starts: Any, ids: Any) -> Any:
    """``M_g = Q_g'Q_g`` and ``Q_g'e_g`` for the clusters ``ids``, rows through ``order``.

    (Compiled; used by CR3. CR2 sorts the rows first and uses :func:`_block_grams`.)
    """
    k = q.shape[1]
    grams = np.zeros((ids.shape[0], k, k))
    qe = np.zeros((ids.shape[0], k))
    for t in range(ids.shape[0]):
        g = ids[t]
        for row in range(starts[g], starts[g + 1]):
            i = order[row]
            for a in range(k):
                qa = q[i, a]
                qe[t, a] += qa * e[i]
                for b in range(a, k):
                    grams[t, a, b] += qa * q[i, b]
        for a in range(k):
            for b in range(a):
                grams[t, a, b] = grams[t, b, a]
    return grams, qe


def _sort_rows(q: Any, e: Any, codes: Any, starts: Any, qs: Any, es: Any) -> None:
    """Write the rows of ``q`` and ``e`` into ``qs`` and ``es`` in cluster order (compiled).

    One pass in storage order, a counting sort: each row goes to the next free slot of its
    cluster's range, so rows keep their storage order within a cluster (a stable sort).
    """
    n, k = q.shape
    free = starts[:-1].copy()
    for i in range(n):
        g = codes[i]
        slot = free[g]
        free[g] = slot + 1
        for a in range(k):
            qs[slot, a] = q[i, a]
        es[slot] = e[i]


def _block_grams(q: Any, e: Any, starts: Any, ids: Any) -> Any:
    """``M_g = Q_g'Q_g`` and ``Q_g'e_g`` for clusters ``ids`` of rows in cluster order (compiled).

    Each cluster's rows are contiguous, so both are BLAS products.
    """
    k = q.shape[1]
    grams = np.empty((ids.shape[0], k, k))
    qe = np.empty((ids.shape[0], k))
    for t in range(ids.shape[0]):
        lo, hi = starts[ids[t]], starts[ids[t] + 1]
        block = q[lo:hi]
        grams[t] = np.dot(block.T, block)
        qe[t] = np.dot(e[lo:hi], block)
    return grams, qe


def _block_scores(q: Any, e: Any, starts: Any, ids: Any) -> Any:
    """``Q_g'e_g`` for clusters ``ids`` of rows in cluster order, as :func:`_block_grams`
    computes it (compiled)."""
    k = q.shape[1]
    qe = np.empty((ids.shape[0], k))
    for t in range(ids.shape[0]):
        lo, hi = starts[ids[t]], starts[ids[t] + 1]
        qe[t] = np.dot(e[lo:hi], q[lo:hi])
    return qe


def _block_gather(q: Any, e: Any, starts: Any, ids: Any, m: int) -> Any:
    """``Q_g``, ``e_g`` and ``H_gg = Q_g Q_g'`` for clusters of size m, rows in cluster order."""
    k = q.shape[1]
    c = ids.shape[0]
    qg = np.empty((c, m, k))
    eg = np.empty((c, m))
    h = np.empty((c, m, m))
    for t in range(c):
        base = starts[ids[t]]
        for r in range(m):
            eg[t, r] = e[base + r]
            for a in range(k):
                qg[t, r, a] = q[base + r, a]
        for r in range(m):
            for s in range(r, m):
                v = 0.0
                for a in range(k):
                    v += qg[t, r, a] * qg[t, s, a]
                h[t, r, s] = v
                h[t, s, r] = v
    return qg, eg, h


def _project(
    lam: Any, vec: Any, qg: Any, eg: Any, qe: Any, r_inv: Any, tol: float, dense: bool
) -> Any:
    """Adjusted scores, ``d_g`` and ``u_g`` from each cluster's eigenpairs (compiled).

    Low rank: ``M_g = V diag(lam) V'``, ``W = V``, ``F = W diag(lam/(1-lam)) W'``,
    ``P = W diag(lam/sqrt(1-lam)) W'``. Dense: ``H_gg = U diag(lam) U'``, ``W = Q_g'U``,
    ``F = W diag(1/(1-lam)) W'``, ``P = W diag(1/sqrt(1-lam)) W'``.
    """
    c, r = lam.shape
    k = r_inv.shape[0]
    s = np.zeros((c, k))
    d = np.zeros((c, k))
    u = np.zeros((c, k, k))
    w = np.empty((k, r))
    a = np.empty(r)
    fl = np.empty(r)
    pl = np.empty(r)
    tt = np.empty((k, r))
    for t in range(c):
        for j in range(r):
            v = 0.0
            if dense:
                for x in range(k):
                    wx = 0.0
                    for i in range(r):
                        wx += qg[t, i, x] * vec[t, i, j]
                    w[x, j] = wx
                for i in range(r):
                    v += vec[t, i, j] * eg[t, i]
            else:
                for x in range(k):
                    w[x, j] = vec[t, x, j]
                    v += vec[t, x, j] * qe[t, x]
            lj = min(max(lam[t, j], 0.0), 1.0)
            isq = 1.0 / np.sqrt(1.0 - lj) if 1.0 - lj > tol else 0.0
            a[j] = v * isq
            fl[j] = isq * isq if dense else lj * isq * isq
            pl[j] = isq if dense else lj * isq
        for x in range(k):
            v = 0.0
            for j in range(r):
                v += w[x, j] * a[j]
            s[t, x] = v
        for p in range(k):
            for j in range(r):
                v = 0.0
                for x in range(p, k):  # r_inv is upper triangular
                    v += r_inv[p, x] * w[x, j]
                tt[p, j] = v
        for p in range(k):
            v = 0.0
            for j in range(r):
                v += fl[j] * tt[p, j] * tt[p, j]
            d[t, p] = v
            for x in range(k):
                v = 0.0
                for j in range(r):
                    v += w[x, j] * pl[j] * tt[p, j]
                u[t, x, p] = v
    return s, d, u


_kernels: dict[str, Callable[..., Any]] = {}


def _kernel(name: str) -> Callable[..., Any]:
    """The numba-compiled kernel (compiled once, cached on disk)."""
    if not _kernels:
        import numba

        for fn in (_grams, _sort_rows, _block_grams, _block_scores, _block_gather, _project):
            _kernels[fn.__name__] = numba.njit(cache=True, nogil=True)(fn)
    return _kernels[name]


class _Accumulator:
    """Running sums for the CR2 meat and the Bell-McCaffrey traces."""

    def __init__(self, k: int) -> None:
        self.meat = np.zeros((k, k))
        self.tr1 = np.zeros(k)
        self.d2 = np.zeros(k)
        self.dnu = np.zeros(k)
        self.cross = np.zeros((k, k, k))

    def add(self, s: FloatArray, d: FloatArray, u: FloatArray) -> None:
        nu = np.einsum("gap,gap->gp", u, u)
        self.meat += s.T @ s
        self.tr1 += d.sum(axis=0) - nu.sum(axis=0)
        self.d2 += np.sum(d * d, axis=0)
        self.dnu += np.sum(d * nu, axis=0)
        ut = np.ascontiguousarray(u.transpose(2, 0, 1))  # p, g, a
        self.cross += np.swapaxes(ut, 1, 2) @ ut

    def df(self) -> FloatArray:
        tr2 = self.d2 - 2.0 * self.dnu + np.square(self.cross).sum(axis=(1, 2))
        return np.asarray(self.tr1**2 / tr2)


def _chunks(ids: IntArray) -> list[IntArray]:
    return [ids[i : i + CHUNK] for i in range(0, ids.size, CHUNK)]


#: Where a kept design holds its clusters' eigenpairs (``LeastSquares.design.extras``).
_EIGENPAIRS = "cr2 eigenpairs"


def _kept_eigenpairs(fit: LeastSquares, clusters: Clusters) -> Any:
    """The eigenpairs a fit on the same kept design and clusters found, if any.

    They depend on the design and the clusters alone (``M_g = Q_g'Q_g``, or ``H_gg`` for
    the small clusters), so another outcome fitted on that design reuses them, with the
    very same numbers: its covariance is bit-for-bit the one computed afresh.
    """
    if fit.design is None or _EIGENPAIRS not in fit.design.extras:
        return None
    codes, low, dense = fit.design.extras[_EIGENPAIRS]
    if codes is not clusters.codes and not np.array_equal(codes, clusters.codes):
        return None
    return low, dense


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
    k = fit.n_coef
    q = np.ascontiguousarray(fit.q)
    e = np.ascontiguousarray(fit.resid)
    r_inv = np.ascontiguousarray(fit.r_inv)
    starts, sizes = clusters.starts, clusters.sizes
    if not clusters.in_order:  # one streaming pass instead of random access per cluster
        # allocated by numpy, which asks for huge pages: a tenth of the page faults
        q, e, rows = np.empty_like(q), np.empty_like(e), (q, e)
        _kernel("_sort_rows")(*rows, clusters.codes, starts, q, e)
    acc = _Accumulator(k)
    none2, none3 = np.empty((0, 0)), np.empty((0, 0, 0))

    def add(lam: Any, vec: Any, qg: Any, eg: Any, qe: Any, dense_route: bool) -> None:
        project = _kernel("_project")
        acc.add(*project(lam, vec, qg, eg, qe, r_inv, SINGULAR_TOLERANCE, dense_route))

    kept = _kept_eigenpairs(fit, clusters)
    if kept is None:
        low: list[tuple[IntArray, FloatArray, FloatArray]] = []
        dense: list[tuple[IntArray, int, FloatArray, FloatArray, FloatArray]] = []
        for ids in _chunks(np.nonzero(sizes >= k)[0].astype(np.intp)):
            grams, qe = _kernel("_block_grams")(q, e, starts, ids)
            lam, vec = np.linalg.eigh(grams)
            low.append((ids, lam, vec))
            add(lam, vec, none3, none2, qe, False)
        for size in np.unique(sizes[sizes < k]):
            for ids in _chunks(np.nonzero(sizes == size)[0].astype(np.intp)):
                qg, eg, h = _kernel("_block_gather")(q, e, starts, ids, int(size))
                lam, vec = np.linalg.eigh(h)
                dense.append((ids, int(size), qg, lam, vec))
                add(lam, vec, qg, eg, none2, True)
        if fit.design is not None:  # a kept design: its next fits reuse the eigenpairs
            fit.design.extras[_EIGENPAIRS] = (clusters.codes, low, dense)
    else:  # the same design and clusters: only the residuals' parts are new
        low, dense = kept
        for ids, lam, vec in low:
            qe = _kernel("_block_scores")(q, e, starts, ids)
            add(lam, vec, none3, none2, qe, False)
        for ids, size, qg, lam, vec in dense:
            eg = e[starts[ids][:, None] + np.arange(size)]
            add(lam, vec, qg, eg, none2, True)
    vcov = r_inv @ acc.meat @ r_inv.T
    return np.asarray((vcov + vcov.T) / 2), acc.df()


#: Rows per block when the Bell-McCaffrey traces of singleton clusters are accumulated.
ROW_CHUNK = 65536


def singleton_df(fit: LeastSquares) -> FloatArray:
    """Bell-McCaffrey df of CR2 with every unit its own cluster (HC2's), in closed form.

    With one row per cluster, ``H_gg = h_i`` (the leverage), so for coefficient p:
    ``d_i = z_ip^2 / (1 - h_i)`` with ``Z = Q R^{-T}``, ``|u_i|^2 = h_i d_i`` and
    ``sum_i u_i u_i' = Q' diag(d_p) Q``. Equal to :func:`cr2_vcov`'s df for singleton
    clusters (rows where ``1 - h_i`` is at or below :data:`SINGULAR_TOLERANCE` contribute
    nothing, the pseudo-inverse), in a few BLAS passes instead of n eigenproblems.
    """
    q = fit.q
    k = fit.n_coef
    h = np.einsum("ij,ij->i", q, q)
    one_minus = 1.0 - np.clip(h, 0.0, 1.0)
    inv = np.zeros_like(one_minus)
    np.divide(1.0, one_minus, out=inv, where=one_minus > SINGULAR_TOLERANCE)
    d = np.square(q @ fit.r_inv.T)
    d *= inv[:, None]
    nu = d * h[:, None]
    rows, cols = np.triu_indices(k)
    sums = np.zeros((rows.size, k))  # sum_i q_ia q_ib d_ip over the pairs a <= b
    for lo in range(0, fit.n_obs, ROW_CHUNK):
        block = q[lo : lo + ROW_CHUNK]
        sums += (block[:, rows] * block[:, cols]).T @ d[lo : lo + ROW_CHUNK]
    cross = np.where(rows == cols, 1.0, 2.0) @ np.square(sums)
    tr1 = d.sum(axis=0) - nu.sum(axis=0)
    tr2 = np.sum(d * d, axis=0) - 2.0 * np.sum(d * nu, axis=0) + cross
    return np.asarray(tr1**2 / tr2)
