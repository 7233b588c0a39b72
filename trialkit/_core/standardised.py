"""Standardised mean differences as the What Works Clearinghouse defines them.

Shared by balance checks (randomise) and effect sizes (estimate), so it lives below both.
WWC Procedures and Standards Handbook v5.0: Hedges' g with the small-sample correction
ω = 1 − 3 / (4N − 9) for continuous measures, and the Cox index (difference in log odds
divided by 1.65, with the same ω) for binary ones.
"""

from __future__ import annotations

import math
from typing import Literal

import numpy as np
from numpy.typing import ArrayLike

WwcVerdict = Literal["satisfied", "adjustment required", "not satisfied"]


def small_sample_correction(n_total: int) -> float:
    """WWC's ω = 1 − 3 / (4N − 9)."""
    return 1.0 - 3.0 / (4.0 * n_total - 9.0)


def hedges_g(treated: ArrayLike, control: ArrayLike) -> float:
    """Hedges' g: difference in means over the pooled SD, times ω.

    Examples
    --------
    >>> round(hedges_g([2.0, 3.0, 4.0, 5.0], [1.0, 2.0, 3.0, 4.0]), 4)
    0.6736
    """
    t = np.asarray(treated, dtype=float)
    c = np.asarray(control, dtype=float)
    n_t, n_c = t.size, c.size
    if n_t < 2 or n_c < 2:
        return math.nan
    pooled = ((n_t - 1) * t.var(ddof=1) + (n_c - 1) * c.var(ddof=1)) / (n_t + n_c - 2)
    if pooled <= 0:
        return 0.0 if t.mean() == c.mean() else math.copysign(math.inf, t.mean() - c.mean())
    return float(small_sample_correction(n_t + n_c) * (t.mean() - c.mean()) / math.sqrt(pooled))


def cox_index(treated: ArrayLike, control: ArrayLike) -> float:
    """Cox index for a binary measure: ω · (logit p_t − logit p_c) / 1.65."""
    t = np.asarray(treated, dtype=float)
    c = np.asarray(control, dtype=float)
    if t.size == 0 or c.size == 0:
        return math.nan
    p_t, p_c = t.mean(), c.mean()
    if p_t in (0.0, 1.0) or p_c in (0.0, 1.0):
        # WWC adds 0.5 to each cell when a proportion is 0 or 1.
        p_t = (t.sum() + 0.5) / (t.size + 1.0)
        p_c = (c.sum() + 0.5) / (c.size + 1.0)
    logit = math.log(p_t / (1 - p_t)) - math.log(p_c / (1 - p_c))
    return float(small_sample_correction(t.size + c.size) * logit / 1.65)


def wwc_verdict(effect_size: float) -> WwcVerdict:
    """WWC baseline-equivalence verdict for a standardised difference."""
    size = abs(effect_size)
    if size <= 0.05:
        return "satisfied"
    if size <= 0.25:
        return "adjustment required"
    return "not satisfied"
