"""Exact randomisation inference: how many assignments a count rule allows, capped.

When a design allows at most :data:`EXACT_LIMIT` assignments, every one is enumerated
and weighted by its probability instead of drawn at random.
"""

from __future__ import annotations

import math

import numpy as np

from trialkit.randomise import _counts

#: Largest number of assignments enumerated exactly (``_counts.ENUMERATION_LIMIT``).
EXACT_LIMIT = 100_000


def count_capped(rule: _counts.CountRule) -> int | None:
    """``_counts.count_assignments``, but ``None`` as soon as it exceeds the limit.

    Strata of equal size have the same count vectors, so each size is counted once; with
    many strata (matched pairs) the total is never formed when it is astronomically large.
    """
    W = sum(rule.ratios)
    _, first, times = np.unique(rule.sizes, return_index=True, return_counts=True)
    log_total, per_size = 0.0, []
    for s, k in zip(first, times, strict=True):
        # The extras change only where u crosses a cumulative remainder.
        u = np.unique(np.r_[0, rule.cum[s] % W])[:, None]
        extras = np.diff(-((u - rule.cum[s][None, :]) // W), axis=1)
        vectors = np.unique(rule.floors[s] + extras, axis=0).tolist()
        logs = [math.lgamma(sum(v) + 1) - sum(math.lgamma(x + 1) for x in v) for v in vectors]
        log_total += int(k) * max(logs)  # a lower bound on the log of the count
        if log_total > math.log(EXACT_LIMIT) + 1e-6:
            return None
        per_size.append((sum(_counts._multinomial(tuple(v)) for v in vectors), int(k)))
    total = 1
    for m, k in per_size:
        total *= m**k
    return total if total <= EXACT_LIMIT else None
