"""Randomisation inference: per-assignment sums (enumerated or drawn) and statistics."""

from __future__ import annotations

import numpy as np

from trialkit.estimate.frequentist._design import FloatArray
from trialkit.estimate.frequentist.ri_exact import EXACT_LIMIT
from trialkit.estimate.frequentist.ri_setup import Setup

#: Largest number of redrawn statistics kept for the report's histogram.
NULL_SAMPLE_SIZE = 2_000


def _coefficients(sums: FloatArray, m: int, p: int, constant: float) -> FloatArray:
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


def _sums(
    s: Setup, draws: int, seed: int, need_c: bool = True
) -> tuple[FloatArray, FloatArray | None, bool]:
    """Per-assignment sums and probabilities (``None``: equally likely Monte Carlo draws).

    Without ``need_c`` (no sharp null, no interval) the lean fast path skips the sums of
    ``M·T_obs``; their column is then meaningless and must not be used.
    """
    from trialkit.estimate.frequentist import ri_kernels as rk

    total = s.count()
    if total is not None and total <= EXACT_LIMIT:
        table, prob = s.enumerate()
        return rk.table_sums(table, s.G, s.g_arm, s.dummy_of, s.n_dummies), prob, True
    if s.rule is not None:
        rule, c = s.rule, s.compact
        raw = rk.rule_sums(
            seed,
            draws,
            strata=rule.strata if c is None else c.strata,
            floors=rule.floors,
            cum=rule.cum,
            total=sum(rule.ratios),
            arm_order=s.arm_order,
            G=s.G if c is None else c.G,
            g_arm=s.g_arm,
            dummy_of=s.dummy_of,
            n_dummies=s.n_dummies,
            boundary=0 if c is None or not need_c else c.boundary,
        )
        sums = raw[..., :-2] if c is None else c.rebuild(raw, s.constant_basis)
    else:
        assert s.scheme is not None
        from trialkit._core.rng import RawStream

        parts = [
            rk.table_sums(batch, s.G, s.g_arm, s.dummy_of, s.n_dummies)
            for batch in s.scheme.draw_many(RawStream(seed), draws)
        ]
        sums = np.concatenate(parts, axis=0)
    return sums, None, False


def _null_sample(values: FloatArray, w: FloatArray | None, seed: int) -> tuple[float, ...]:
    """The first 2,000 Monte Carlo statistics, or 2,000 drawn by probability when exact."""
    if w is not None:
        keep = np.isfinite(values)
        rng = np.random.default_rng(seed)
        values = rng.choice(
            values[keep], size=min(NULL_SAMPLE_SIZE, int(keep.sum())), p=w[keep] / w[keep].sum()
        )
    return tuple(float(v) for v in values[:NULL_SAMPLE_SIZE])
