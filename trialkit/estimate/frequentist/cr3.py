"""CR3: the leave-one-cluster-out jackknife covariance (MacKinnon, Nielsen & Webb 2023).

``V = (G-1)/G * sum_g (b_(g) - b)(b_(g) - b)'`` where ``b_(g)`` is the estimate without
cluster g (their CV3), with ``G - 1`` degrees of freedom. Since ``X'e = 0``,
``b_(g) - b = -(X'X - X_g'X_g)^{-1} X_g'e_g``; in the orthonormal basis ``Q`` of the
(weighted) design (``X = QR``) this is ``-R^{-1} (I - M_g)^{-1} Q_g'e_g`` with the k x k
``M_g = Q_g'Q_g``, so no refit is needed. It is more conservative than CR2 with few or
unequal clusters, where CR2 can still under-cover.
"""

from __future__ import annotations

import numpy as np

from trialkit.errors import EstimationError
from trialkit.estimate.frequentist._design import FloatArray
from trialkit.estimate.frequentist.cr2 import CHUNK, _kernel
from trialkit.estimate.frequentist.lstsq import LeastSquares
from trialkit.estimate.frequentist.vcov import Clusters

#: ``I - M_g`` with a condition number above this is singular: dropping the cluster
#: leaves a coefficient unidentified.
CONDITION_LIMIT = 1e10


def cr3_vcov(fit: LeastSquares, clusters: Clusters) -> tuple[FloatArray, FloatArray]:
    """CR3 (jackknife) covariance matrix and its ``G - 1`` df per coefficient.

    Raises
    ------
    EstimationError
        Dropping some cluster leaves a coefficient unidentified (e.g. the only treated
        cluster of an arm, or the only cluster of a block).
    """
    k, g = fit.n_coef, clusters.n_clusters
    q = np.ascontiguousarray(fit.q)
    e = np.ascontiguousarray(fit.resid)
    meat = np.zeros((k, k))
    ids_all = np.arange(g, dtype=np.intp)
    for start in range(0, g, CHUNK):
        ids = ids_all[start : start + CHUNK]
        grams, qe = _kernel("_grams")(q, e, clusters.order, clusters.starts, ids)
        i_minus_m = np.eye(k)[None, :, :] - grams
        if np.any(np.linalg.cond(i_minus_m) > CONDITION_LIMIT):
            raise EstimationError(
                "CR3 needs every coefficient estimable without each cluster in turn; "
                "dropping one cluster leaves a coefficient unidentified (an arm or block "
                "with a single cluster). Fix: use se_type='CR2'."
            )
        scores = np.linalg.solve(i_minus_m, qe[:, :, None])[:, :, 0]
        meat += scores.T @ scores
    vcov = (g - 1) / g * (fit.r_inv @ meat @ fit.r_inv.T)
    return np.asarray((vcov + vcov.T) / 2), np.full(k, float(g - 1))
