"""Randomisation inference: ri2's two-sided p-value and its inversion into an interval."""

from __future__ import annotations

import numpy as np

from trialkit.estimate.frequentist._design import FloatArray


def _tolerance(a: FloatArray, obs: float, tau: float) -> float:
    """Slack for ties between statistics that are equal up to rounding."""
    return 1e-9 * (abs(obs) + abs(tau) + float(np.nanmax(np.abs(a))) + 1e-300)


def two_sided_p_value(
    a: FloatArray, c: FloatArray, w: FloatArray | None, obs: float, tau: float
) -> float:
    """ri2's two-sided p: probability of ``|a − τc| ≥ |obs − τ|`` (stat − τ = a − τc)."""
    hit = np.abs(a - tau * c) >= abs(obs - tau) - _tolerance(a, obs, tau)
    # Count Monte Carlo hits exactly; exact probabilities may sum to 1 plus rounding.
    return float(np.count_nonzero(hit) / len(a) if w is None else min(1.0, np.sum(w[hit])))


def one_sided_p_values(
    a: FloatArray, c: FloatArray, w: FloatArray | None, obs: float, tau: float
) -> tuple[float, float]:
    """ri2's upper and lower p: probabilities of ``stat ≥ obs`` and ``stat ≤ obs``.

    The redrawn statistic under the sharp null is ``stat = a − τc + τ``.
    """
    stat = a - tau * c + tau
    tol = _tolerance(a, obs, tau)
    upper, lower = stat >= obs - tol, stat <= obs + tol
    if w is None:
        return float(np.count_nonzero(upper) / len(a)), float(np.count_nonzero(lower) / len(a))
    return min(1.0, float(np.sum(w[upper]))), min(1.0, float(np.sum(w[lower])))


def inverted_interval(
    a: FloatArray, c: FloatArray, w: FloatArray | None, obs: float, alpha: float
) -> tuple[float, float]:
    """Hull of ``{τ : p(τ) > α}``, exactly, by a sweep over each draw's breakpoints.

    ``(a − τc)² − (obs − τ)² = f₁f₂`` with ``fᵢ = pᵢ − qᵢτ``, ``p₁ = a − obs``,
    ``q₁ = c − 1``, ``p₂ = a + obs``, ``q₂ = c + 1``: each draw counts towards ``p(τ)`` on
    one interval or the complement of one, so ``p`` is a step function of ``τ``. (This is
    the bisection of test inversion carried to its end, without missing a crossing where
    ``p`` is not monotone.)
    """
    w = np.full(len(a), 1.0 / len(a)) if w is None else w
    tol = _tolerance(a, obs, 0.0)
    p1, q1, p2, q2 = a - obs, c - 1.0, a + obs, c + 1.0
    flat1, flat2 = np.abs(q1) <= 1e-9, np.abs(q2) <= 1e-9
    always = (flat1 & (np.abs(p1) <= tol)) | (flat2 & (np.abs(p2) <= tol))
    with np.errstate(divide="ignore", invalid="ignore"):
        r1, r2 = np.where(flat1, np.nan, p1 / q1), np.where(flat2, np.nan, p2 / q2)
    inf = np.full(len(a), np.inf)
    both = ~flat1 & ~flat2 & ~always
    lo, hi = np.fmin(r1, r2), np.fmax(r1, r2)
    inside = both & (q1 * q2 < 0)  # f₁f₂ ≥ 0 between the roots
    outside = both & (q1 * q2 > 0)  # ... or outside them
    # One flat factor: f₁f₂ = p·(pⱼ − qⱼτ) ≥ 0 is a half-line.
    one = (flat1 ^ flat2) & ~always
    sign = np.where(flat1, np.sign(p1) * np.sign(q2), np.sign(p2) * np.sign(q1))
    root = np.where(flat1, r2, r1)
    left, right = one & (sign > 0), one & (sign < 0)
    never_both = flat1 & flat2 & ~always & (p1 * p2 < 0)
    whole = always | (flat1 & flat2 & ~never_both & ~always)
    starts = np.concatenate(
        [-inf[whole], lo[inside], -inf[outside], hi[outside], -inf[left], root[right]]
    )
    ends = np.concatenate(
        [inf[whole], hi[inside], lo[outside], inf[outside], root[left], inf[right]]
    )
    weights = np.concatenate([w[whole], w[inside], w[outside], w[outside], w[left], w[right]])
    points = np.concatenate([starts, ends])
    order = np.argsort(points, kind="stable")
    level = np.cumsum(np.concatenate([weights, -weights])[order])
    xs = points[order]
    last = np.r_[xs[1:] != xs[:-1], True]
    xs, level = xs[last], level[last]  # p on (xs[k], xs[k + 1]) is level[k]
    ok = np.flatnonzero(level > alpha + 1e-12)
    if ok.size == 0:
        return obs, obs
    return float(xs[ok[0]]), float(xs[min(ok[-1] + 1, len(xs) - 1)])
