"""Difference in means, with the design inferred from the arguments (estimatr's rules).

========================  ===============================================  ==============
design                    variance                                         df
========================  ===============================================  ==============
standard                  Welch / Neyman: s1^2/n1 + s0^2/n0                Welch-Satterthwaite
clustered                 CR2 of y on (1, arm) (as ``lm_robust``)          Bell-McCaffrey
blocked                   sum_j (N_j/N)^2 V_j, V_j Neyman within block     N - 2J
block-clustered           sum_j (N_j/N)^2 V_j, V_j CR2 within block        S - 2J
matched-pair              sum_j (d_j - d)^2 / (J (J - 1))                  J - 1
matched-pair-clustered    J/((J-1) N^2) sum_j (N_j d_j - N d / J)^2        J - 1
                          (Imai, King & Nall 2009)
========================  ===============================================  ==============

Blocks are matched pairs when every block holds exactly two units (two clusters when
clustered). With weights (and no blocks) the estimate is WLS of y on (1, arm), HC2 or CR2,
as estimatr hands weighted designs to ``lm_robust``. With several arms, each non-control
arm is compared with control on the rows of those two arms.
"""

from __future__ import annotations

from collections.abc import Hashable
from dataclasses import dataclass, replace

import numpy as np
import pandas as pd

from trialkit.errors import EstimationError
from trialkit.estimate.frequentist._design import FloatArray, IntArray, Prepared, prepare
from trialkit.estimate.frequentist.lstsq import fit_lstsq
from trialkit.estimate.frequentist.result import RegressionResult, build_result, check_ci_level
from trialkit.estimate.frequentist.vcov import Clusters, compute_vcov


@dataclass(frozen=True, slots=True)
class _Contrast:
    estimate: float
    std_error: float
    df: float
    se_type: str
    design: str


def _welch(y: FloatArray, t: FloatArray) -> tuple[float, float, float]:
    y1, y0 = y[t == 1], y[t == 0]
    n1, n0 = y1.size, y0.size
    if min(n1, n0) < 2:
        raise EstimationError(
            "the Welch variance needs at least two units in each arm; found "
            f"{n1} treated and {n0} control. Fix: check the treatment column."
        )
    v1, v0 = y1.var(ddof=1) / n1, y0.var(ddof=1) / n0
    var = v1 + v0
    df = var**2 / (v1**2 / (n1 - 1) + v0**2 / (n0 - 1)) if var > 0 else float(n1 + n0 - 2)
    return float(y1.mean() - y0.mean()), float(np.sqrt(var)), float(df)


def _regression(
    y: FloatArray, t: FloatArray, w: FloatArray | None, cluster: IntArray | None
) -> tuple[float, float, float]:
    """Coefficient of ``t`` in WLS of y on (1, t): HC2, or CR2 with BM df."""
    x = np.column_stack([np.ones_like(t), t])
    fit = fit_lstsq(x, y, w, names=["(Intercept)", "treatment"])
    clusters = Clusters.from_codes(cluster) if cluster is not None else None
    vc = compute_vcov(fit, "CR2" if clusters is not None else "HC2", clusters)
    return float(fit.coef[1]), float(np.sqrt(vc.matrix[1, 1])), float(vc.df[1])


def _check_cluster_level(t: FloatArray, cluster: IntArray, column: str) -> None:
    lo = np.full(cluster.max() + 1, np.inf)
    hi = np.full(cluster.max() + 1, -np.inf)
    np.minimum.at(lo, cluster, t)
    np.maximum.at(hi, cluster, t)
    if np.any(lo != hi):
        raise EstimationError(
            f'treatment varies within a cluster of "{column}", so clusters were not the unit '
            "of randomisation. Fix: check the cluster column, or use ols() with cluster=."
        )


def _blocked(y: FloatArray, t: FloatArray, block: IntArray, cluster: IntArray | None) -> _Contrast:
    codes, block = np.unique(block, return_inverse=True)
    j_blocks = codes.size
    n = y.size
    unit = cluster if cluster is not None else np.arange(n)
    if cluster is not None:
        first_block = np.full(cluster.max() + 1, -1)
        first_block[cluster] = block
        if np.any(first_block[cluster] != block):
            raise EstimationError(
                "a cluster spans several blocks; clusters must be nested in blocks. "
                "Fix: check the block and cluster columns."
            )
    units_per_arm = np.zeros((j_blocks, 2), dtype=np.intp)
    pairs = np.unique(np.column_stack([block, unit, t.astype(np.intp)]), axis=0)
    np.add.at(units_per_arm, (pairs[:, 0], pairs[:, 2]), 1)
    if np.any(units_per_arm == 0):
        bad = int(np.nonzero((units_per_arm == 0).any(axis=1))[0][0])
        raise EstimationError(
            f"block {bad + 1} (in sorted order) has no unit in one of the two arms, so it has "
            "no within-block contrast. Fix: drop or merge that block."
        )
    n_j = np.bincount(block, minlength=j_blocks).astype(float)
    d = np.array(
        [
            y[(block == b) & (t == 1)].mean() - y[(block == b) & (t == 0)].mean()
            for b in range(j_blocks)
        ]
    )
    est = float(np.sum(n_j / n * d))
    if np.all(units_per_arm == 1):
        if j_blocks < 2:
            raise EstimationError("a matched-pair design needs at least two pairs.")
        if cluster is None:
            se = np.sqrt(np.sum((d - d.mean()) ** 2) / (j_blocks * (j_blocks - 1)))
            return _Contrast(est, float(se), j_blocks - 1.0, "matched-pair", "matched-pair")
        var = j_blocks / ((j_blocks - 1) * n**2) * np.sum((n_j * d - n * est / j_blocks) ** 2)
        return _Contrast(
            est, float(np.sqrt(var)), j_blocks - 1.0, "matched-pair", "matched-pair-clustered"
        )
    if np.any(units_per_arm == 1):
        raise EstimationError(
            "some blocks have a single unit (or cluster) in an arm while others are larger, "
            "so the within-block variance is not estimable there. Fix: merge those blocks, "
            "or use ols(..., blocks=) with HC2."
        )
    v = np.empty(j_blocks)
    for b in range(j_blocks):
        rows = block == b
        if cluster is None:
            v[b] = _welch(y[rows], t[rows])[1] ** 2
        else:
            v[b] = _regression(y[rows], t[rows], None, cluster[rows])[1] ** 2
    se = float(np.sqrt(np.sum((n_j / n) ** 2 * v)))
    if cluster is None:
        return _Contrast(est, se, n - 2.0 * j_blocks, "Neyman", "blocked")
    s = np.unique(cluster).size
    return _Contrast(est, se, s - 2.0 * j_blocks, "CR2", "block-clustered")


def _contrast(prep: Prepared, arm: int) -> _Contrast:
    rows = (prep.arm_codes == 0) | (prep.arm_codes == arm)
    y = prep.y[rows]
    t = (prep.arm_codes[rows] == arm).astype(np.float64)
    cluster = prep.cluster.codes[rows] if prep.cluster is not None else None
    if cluster is not None:
        _check_cluster_level(t, cluster, prep.cluster.name if prep.cluster else "")
    if prep.fixed_effects:
        if prep.weights is not None:
            raise EstimationError(
                "difference_in_means does not combine blocks with weights. Fix: use "
                "ols(..., blocks=..., weights=...)."
            )
        return _blocked(y, t, prep.fixed_effects[0].codes[rows], cluster)
    if cluster is not None or prep.weights is not None:
        w = prep.weights[rows] if prep.weights is not None else None
        est, se, df = _regression(y, t, w, cluster)
        kind = "CR2" if cluster is not None else "HC2"
        return _Contrast(est, se, df, kind, "clustered" if cluster is not None else "weighted")
    est, se, df = _welch(y, t)
    return _Contrast(est, se, df, "Neyman", "standard")


def difference_in_means(
    data: pd.DataFrame,
    outcome: str,
    treatment: str,
    *,
    cluster: str | None = None,
    blocks: str | None = None,
    weights: str | None = None,
    ci_level: float = 0.95,
    control: Hashable | None = None,
) -> RegressionResult:
    """Difference in means with the variance and df of the randomisation design.

    Parameters
    ----------
    data
        One row per unit.
    outcome, treatment
        Column names; the treatment may be 0/1, boolean or labelled arms.
    cluster
        Column of clusters (the unit of randomisation); treatment must be constant within.
    blocks
        Column of randomisation blocks. Blocks of exactly two units (clusters) are pairs.
    weights
        Column of positive weights (not with blocks): WLS with HC2/CR2.
    ci_level
        Confidence level of the intervals.
    control
        The control arm; default 0 if present, else the first arm in sorted order.

    Returns
    -------
    RegressionResult
        One row per non-control arm. ``se_type`` names the variance (``"Neyman"``,
        ``"CR2"``, ``"HC2"``, ``"matched-pair"``) and ``estimator`` the inferred design.
        With several arms the off-diagonal of ``vcov`` is NaN (not estimated).

    Raises
    ------
    EstimationError
        Bad columns, an empty arm, a block without both arms, clusters not nested in blocks
        or with varying treatment, or too few units to estimate a variance.

    Examples
    --------
    >>> import pandas as pd
    >>> df = pd.DataFrame({"y": [1.0, 2.0, 3.0, 5.0, 4.0, 7.0], "arm": [0, 1, 0, 1, 0, 1]})
    >>> res = difference_in_means(df, "y", "arm")
    >>> round(res.effect().estimate, 6), res.effect().se_type
    (2.0, 'Neyman')
    """
    ci_level = check_ci_level(ci_level)
    prep = prepare(
        data,
        outcome=outcome,
        treatment=treatment,
        cluster=cluster,
        blocks=blocks,
        weights=weights,
        control=control,
    )
    contrasts = [_contrast(prep, j) for j in range(1, len(prep.arms.others) + 1)]
    m = len(contrasts)
    vcov = np.full((m, m), np.nan)
    np.fill_diagonal(vcov, [c.std_error**2 for c in contrasts])
    kinds = {c.se_type for c in contrasts}
    designs = {c.design for c in contrasts}
    n_clusters = int(np.unique(prep.cluster.codes).size) if prep.cluster is not None else None
    result = build_result(
        outcome=outcome,
        terms=prep.arms.terms,
        coefficients=np.array([c.estimate for c in contrasts]),
        vcov=vcov,
        df=np.array([c.df for c in contrasts]),
        reported=prep.arms.terms,
        treatment_terms=prep.arms.terms,
        treatment_arms=prep.arms.others,
        ci_level=ci_level,
        se_type="/".join(sorted(kinds)),
        n_obs=prep.n_obs,
        n_clusters=n_clusters,
        estimator=f"difference_in_means ({'/'.join(sorted(designs))})",
    )
    if m == 1:
        return result
    # Each arm is compared with control on the rows of those two arms: report that count.
    used = [int(np.sum((prep.arm_codes == 0) | (prep.arm_codes == j))) for j in range(1, m + 1)]
    rows = tuple(replace(r, n_obs=n) for r, n in zip(result.rows, used, strict=True))
    return replace(result, rows=rows)
