"""Randomisation inference: per-assignment sums (enumerated or drawn) and statistics."""

from __future__ import annotations

import numpy as np

from trialkit.estimate.frequentist._design import FloatArray
from trialkit.estimate.frequentist.ri.exact import EXACT_LIMIT
from trialkit.estimate.frequentist.ri.precompute import Precomputed

#: Largest number of redrawn statistics kept for the report's histogram.
NULL_SAMPLE_SIZE = 2_000


def coefficients(sums: FloatArray, m: int, p: int, constant: float) -> FloatArray:
    """FWL coefficients ``(n, J, m)`` from sums ``(n, J, m + p + 1)`` of ``[MR, Q, 1]``."""
    b, qd, dd = sums[..., :m], sums[..., m : m + p], sums[..., m + p]
    if p == 0:
        qd = constant * dd[..., None]
    A = -np.einsum("njp,nkp->njk", qd, qd)
    J = sums.shape[1]
    A[:, np.arange(J), np.arange(J)] += dd
    with np.errstate(divide="ignore", invalid="ignore"):
        if J == 1:
            out: FloatArray = b / A
            return out
        ok = np.abs(np.linalg.det(A)) > 0
        coef = np.full(b.shape, np.nan)
        coef[ok] = np.linalg.solve(A[ok], b[ok])
        return coef


def _drawn_by_rule(pre: Precomputed, draws: int, seed: int, need_c: bool) -> FloatArray:
    """Sums over count-rule draws (the compiled sampler), lean when ``pre.compact``."""
    from trialkit.estimate.frequentist.ri import kernels

    assert pre.rule is not None
    rule, lean = pre.rule, pre.compact
    raw = kernels.rule_sums(
        seed,
        draws,
        strata=rule.strata if lean is None else lean.strata,
        floors=rule.floors,
        cum=rule.cum,
        total=sum(rule.ratios),
        arm_order=pre.arm_order,
        G=pre.group_sums if lean is None else lean.group_sums,
        g_arm=pre.g_arm,
        dummy_of=pre.dummy_of,
        n_dummies=pre.n_dummies,
        boundary=0 if lean is None or not need_c else lean.boundary,
    )
    return raw[..., :-2] if lean is None else lean.rebuild(raw, pre.constant_basis)


def _drawn_by_scheme(pre: Precomputed, draws: int, seed: int) -> FloatArray:
    """Sums over assignments the scheme draws itself (no count rule)."""
    from trialkit._core.rng import RawStream
    from trialkit.estimate.frequentist.ri import kernels

    assert pre.scheme is not None
    parts = [
        kernels.table_sums(batch, pre.group_sums, pre.g_arm, pre.dummy_of, pre.n_dummies)
        for batch in pre.scheme.draw_many(RawStream(seed), draws)
    ]
    return np.concatenate(parts, axis=0)


def assignment_sums(
    pre: Precomputed, draws: int, seed: int, need_c: bool = True
) -> tuple[FloatArray, FloatArray | None, bool]:
    """Per-assignment sums, their probabilities (``None``: equally likely Monte Carlo
    draws) and whether every assignment was enumerated.

    Without ``need_c`` (no sharp null, no interval) the lean fast path skips the sums of
    ``M·T_obs``; their column is then meaningless and must not be used.
    """
    total = pre.count()
    if total is not None and total <= EXACT_LIMIT:
        from trialkit.estimate.frequentist.ri import kernels

        table, prob = pre.enumerate()
        sums = kernels.table_sums(table, pre.group_sums, pre.g_arm, pre.dummy_of, pre.n_dummies)
        return sums, prob, True
    if pre.rule is not None:
        return _drawn_by_rule(pre, draws, seed, need_c), None, False
    return _drawn_by_scheme(pre, draws, seed), None, False


def null_sample(values: FloatArray, w: FloatArray | None, seed: int) -> tuple[float, ...]:
    """The first 2,000 Monte Carlo statistics, or 2,000 drawn by probability when exact."""
    if w is not None:
        keep = np.isfinite(values)
        rng = np.random.default_rng(seed)
        values = rng.choice(
            values[keep], size=min(NULL_SAMPLE_SIZE, int(keep.sum())), p=w[keep] / w[keep].sum()
        )
    return tuple(float(v) for v in values[:NULL_SAMPLE_SIZE])
