"""Strata and sample sizes of an audit sample of spends.

Strata cross the declared ``review.strata`` (amount band, category, worker). The top amount
band is sampled at ``review.large_spend_share`` (1: every large spend); the other strata
share the rest of the sample in proportion to their size, at least two spends each when
the sample allows (so a variance can be estimated within each), never more than they hold.
"""

from __future__ import annotations

from collections.abc import Sequence
from itertools import pairwise

import numpy as np
from numpy.typing import NDArray

from trialkit.errors import RandomisationError


def band_labels(bounds: Sequence[float]) -> tuple[str, ...]:
    """Labels of the amount bands cut at ``bounds``, closed on the right.

    Examples
    --------
    >>> band_labels((50.0, 150.0))
    ('amount<=50', '50<amount<=150', 'amount>150')
    >>> band_labels(())
    ('any amount',)
    """
    if not bounds:
        return ("any amount",)
    cut = [f"{b:g}" for b in bounds]
    inner = [f"{lo}<amount<={hi}" for lo, hi in pairwise(cut)]
    return (f"amount<={cut[0]}", *inner, f"amount>{cut[-1]}")


def amount_band(amounts: NDArray[np.float64], bounds: Sequence[float]) -> NDArray[np.int64]:
    """The band of each amount: 0 for ``<= bounds[0]`` … ``len(bounds)`` above the last."""
    band = np.searchsorted(np.asarray(bounds, dtype=np.float64), amounts, side="left")
    return np.asarray(band, dtype=np.int64)


def _proportional(
    sizes: NDArray[np.int64], total: int, floor: NDArray[np.int64]
) -> NDArray[np.int64]:
    """Whole sample sizes summing to ``total``, proportional to ``sizes`` within bounds.

    Finds the continuous allocation ``clip(lam * N_h, floor_h, N_h)`` that sums to
    ``total`` (bisection on ``lam``), then rounds by largest remainder, ties to the first
    stratum, so the result is deterministic.
    """
    if total <= int(floor.sum()):
        return floor.copy()
    lo, hi = 0.0, 1.0
    for _ in range(200):
        mid = (lo + hi) / 2
        if np.clip(mid * sizes, floor, sizes).sum() < total:
            lo = mid
        else:
            hi = mid
    share = np.clip(hi * sizes, floor, sizes)
    whole: NDArray[np.int64] = np.minimum(np.floor(share + 1e-9).astype(np.int64), sizes)
    order = np.argsort(-(share - whole), kind="stable")
    for h in order:
        if whole.sum() >= total:
            break
        if whole[h] < sizes[h]:
            whole[h] += 1
    while whole.sum() > total:  # only from rounding up a share that was already whole
        h = int(np.argmax(whole - floor))
        whole[h] -= 1
    return whole


def allocate_sizes(
    sizes: NDArray[np.int64], top: NDArray[np.bool_], *, size: int, large_share: float
) -> NDArray[np.int64]:
    """How many spends to draw from each stratum.

    Parameters
    ----------
    sizes
        Spends in each stratum (``N_h``).
    top
        Whether each stratum lies in the top amount band.
    size
        Spends to review in all (at most the ledger's size).
    large_share
        Sampling rate of the top band.

    Raises
    ------
    RandomisationError
        If ``size`` cannot give every stratum at least one spend after the top band.
    """
    n = np.zeros_like(sizes)
    n[top] = np.minimum(
        sizes[top],
        np.maximum(
            np.minimum(2, sizes[top]), np.ceil(large_share * sizes[top] - 1e-9).astype(np.int64)
        ),
    )
    rest = ~top
    needed = int(n[top].sum()) + int(rest.sum())
    if size < needed:
        raise RandomisationError(
            f"a sample of {size} spends is too small: the top amount band needs "
            f"{int(n[top].sum())} (at `review.large_spend_share: {large_share:g}`) and each "
            f"of the other {int(rest.sum())} strata at least one. Fix: pass --size {needed} "
            "or more, set `spending.review.sample_size` to it, or declare fewer "
            "`spending.review.strata`."
        )
    remaining = size - int(n[top].sum())
    two = np.minimum(2, sizes[rest])
    floor = two if remaining >= int(two.sum()) else np.minimum(1, sizes[rest])
    n[rest] = _proportional(sizes[rest], remaining, floor)
    return n


def is_top(band: NDArray[np.int64], bounds: Sequence[float]) -> NDArray[np.bool_]:
    """Whether each band index is the top band (``False`` when no bands are declared)."""
    return np.asarray(band == len(bounds)) & (len(bounds) > 0)
