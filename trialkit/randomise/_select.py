"""Compiled kernels of the count rule: group units by code, and hand out arms by selection.

Ranking a stratum's units by ``(key, canonical position)`` and giving the ranked units the
arms in order only needs to know which units fall between the rank boundaries of the arms,
not their full order. :func:`select_assign` finds those sets by multi-quickselect on
``(key, position)`` pairs: positions are unique, so the order is strict, and the sets are
exactly those of a full stable sort (ties of keys included) in ``O(n)`` expected time.
:func:`group_order` is a stable counting sort by small integer codes, and
:func:`canonical_positions` numbers items by (block, label) given their label order.

numba is imported, and the kernels compiled (cached on disk), on first use, so importing
the randomise stage stays light.
"""

from __future__ import annotations

from typing import Any

import numpy as np
from numpy.typing import NDArray

#: Ranges at most this long are finished by insertion sort.
_SMALL = 16

_less_nb: Any = None
_swap_nb: Any = None
_insertion_nb: Any = None
_partition_nb: Any = None
_full_sort_nb: Any = None
_select_nb: Any = None
_select_assign_nb: Any = None
_canonical_positions_nb: Any = None
_group_order_nb: Any = None


def _less(k: Any, i: Any, a: int, b: int) -> bool:
    return bool(k[a] < k[b] or (k[a] == k[b] and i[a] < i[b]))


def _swap(k: Any, i: Any, a: int, b: int) -> None:
    k[a], k[b] = k[b], k[a]
    i[a], i[b] = i[b], i[a]


def _insertion(k: Any, i: Any, lo: int, hi: int) -> None:
    for j in range(lo + 1, hi):
        kj, ij = k[j], i[j]
        t = j
        while t > lo and (k[t - 1] > kj or (k[t - 1] == kj and i[t - 1] > ij)):
            k[t], i[t] = k[t - 1], i[t - 1]
            t -= 1
        k[t], i[t] = kj, ij


def _partition(k: Any, i: Any, lo: int, hi: int) -> int:
    """Partition ``[lo, hi)`` around the median of three; the pivot's final index."""
    mid, last = (lo + hi) // 2, hi - 1
    if _less_nb(k, i, mid, lo):
        _swap_nb(k, i, mid, lo)
    if _less_nb(k, i, last, lo):
        _swap_nb(k, i, last, lo)
    if _less_nb(k, i, last, mid):
        _swap_nb(k, i, last, mid)
    _swap_nb(k, i, mid, last)
    store = lo
    for j in range(lo, last):
        if _less_nb(k, i, j, last):
            _swap_nb(k, i, j, store)
            store += 1
    _swap_nb(k, i, store, last)
    return store


def _full_sort(k: Any, i: Any, m: int) -> None:
    """Sort ``[0, m)`` by (key, position): by position, then stably by key."""
    o = np.argsort(i[:m])
    k2, i2 = k[:m][o], i[:m][o]
    o2 = np.argsort(k2, kind="mergesort")
    k[:m] = k2[o2]
    i[:m] = i2[o2]


def _select(k: Any, i: Any, m: int, bounds: Any, nb: int, stack: Any) -> None:
    """Reorder ``[0, m)`` so that for each ``b`` in ``bounds[:nb]`` the first ``b`` are smallest.

    Live stack entries are disjoint ranges each holding a bound, so ``4 nb`` slots suffice.
    Work beyond ``8 m`` partitioned elements (adversarial keys) falls back to a full sort.
    """
    work = 0
    stack[0], stack[1], stack[2], stack[3] = 0, m, 0, nb
    top = 4
    while top > 0:
        top -= 4
        lo, hi, blo, bhi = stack[top], stack[top + 1], stack[top + 2], stack[top + 3]
        while blo < bhi and bounds[blo] <= lo:
            blo += 1
        while bhi > blo and bounds[bhi - 1] >= hi:
            bhi -= 1
        if blo >= bhi:
            continue
        if hi - lo <= _SMALL:
            _insertion_nb(k, i, lo, hi)
            continue
        work += hi - lo
        if work > 8 * m + 64:
            _full_sort_nb(k, i, m)
            return
        p = _partition_nb(k, i, lo, hi)
        # Bounds p and p + 1 now hold; push only sides that still hold a bound.
        left = blo
        while left < bhi and bounds[left] < p:
            left += 1
        right = left
        while right < bhi and bounds[right] <= p + 1:
            right += 1
        if left > blo:
            stack[top], stack[top + 1], stack[top + 2], stack[top + 3] = lo, p, blo, left
            top += 4
        if bhi > right:
            stack[top], stack[top + 1], stack[top + 2], stack[top + 3] = p + 1, hi, right, bhi
            top += 4


def _select_assign(keys: Any, members: Any, starts: Any, counts: Any, out: Any) -> None:
    batch = keys.shape[0]
    n_strata, n_arms = counts.shape[1], counts.shape[2]
    widest = 0
    for s in range(n_strata):
        widest = max(widest, starts[s + 1] - starts[s])
    kb = np.empty(widest, dtype=np.uint64)
    ib = np.empty(widest, dtype=np.int64)
    bounds = np.empty(n_arms, dtype=np.int64)
    stack = np.empty(4 * (n_arms + 2), dtype=np.int64)
    for b in range(batch):
        for s in range(n_strata):
            lo, m = starts[s], starts[s + 1] - starts[s]
            for j in range(m):
                p = members[lo + j]
                ib[j] = p
                kb[j] = keys[b, p]
            nb, acc = 0, 0
            for a in range(n_arms - 1):
                acc += counts[b, s, a]
                if 0 < acc < m and (nb == 0 or acc > bounds[nb - 1]):
                    bounds[nb] = acc
                    nb += 1
            if nb > 0:
                _select_nb(kb, ib, m, bounds, nb, stack)
            r = 0
            for a in range(n_arms):
                for j in range(r, r + counts[b, s, a]):
                    out[b, ib[j]] = a
                r += counts[b, s, a]


def select_assign(
    keys: NDArray[np.uint64],
    members: NDArray[np.int64],
    starts: NDArray[np.int64],
    counts: NDArray[np.int64],
) -> NDArray[np.int64]:
    """Arms ``(batch, n)`` of units ranked by ``(key, position)`` within their stratum.

    Parameters
    ----------
    keys
        ``(batch, n)`` 64-bit keys of the canonical units.
    members
        Canonical positions grouped by stratum, ascending within each
        (:func:`group_order` of the strata).
    starts
        ``(n_strata + 1,)`` offsets of each stratum's slice of ``members``.
    counts
        ``(batch, n_strata, n_arms)`` units of each arm in each stratum.

    Returns
    -------
    numpy.ndarray
        Rank ``r`` of stratum ``s`` gets the arm ``k`` with
        ``sum(counts[:k]) <= r < sum(counts[:k + 1])``.
    """
    _compile()
    out = np.empty(keys.shape, dtype=np.int64)
    _select_assign_nb(
        np.ascontiguousarray(keys),
        members,
        starts,
        np.ascontiguousarray(counts, dtype=np.int64),
        out,
    )
    return out


def _group_order(codes: Any, n_groups: int) -> Any:
    starts = np.zeros(n_groups + 1, dtype=np.int64)
    for c in codes:
        starts[c + 1] += 1
    for g in range(n_groups):
        starts[g + 1] += starts[g]
    fill = starts[:-1].copy()
    order = np.empty(len(codes), dtype=np.int64)
    for j in range(len(codes)):
        c = codes[j]
        order[fill[c]] = j
        fill[c] += 1
    return order, starts


def group_order(
    codes: NDArray[np.int64], n_groups: int
) -> tuple[NDArray[np.int64], NDArray[np.int64]]:
    """Stable counting sort: ``np.argsort(codes, kind="stable")`` and each group's offset.

    ``codes`` must lie in ``0 … n_groups − 1``.
    """
    _compile()
    order, starts = _group_order_nb(np.ascontiguousarray(codes, dtype=np.int64), int(n_groups))
    return order, starts


def _canonical_positions(block: Any, label_order: Any, n_blocks: int) -> Any:
    fill = np.zeros(n_blocks, dtype=np.int64)
    for c in block:
        fill[c] += 1
    acc = 0
    for g in range(n_blocks):
        size = fill[g]
        fill[g] = acc
        acc += size
    position = np.empty(len(label_order), dtype=np.int64)
    for j in range(len(label_order)):
        u = label_order[j]
        c = block[u]
        position[u] = fill[c]
        fill[c] += 1
    return position


def canonical_positions(
    block: NDArray[np.int64], label_order: NDArray[np.int64], n_blocks: int
) -> NDArray[np.int64]:
    """Position of each item sorted by (block, label): blocks in turn, labels within each.

    ``label_order`` lists the items by label (a permutation); ``block`` is each item's code
    in ``0 … n_blocks − 1``. One counting pass, then one pass in label order.
    """
    _compile()
    out: NDArray[np.int64] = _canonical_positions_nb(
        np.ascontiguousarray(block, dtype=np.int64),
        np.ascontiguousarray(label_order, dtype=np.int64),
        int(n_blocks),
    )
    return out


_KERNELS: tuple[tuple[str, Any, str], ...] = (
    ("_less_nb", _less, "always"),
    ("_swap_nb", _swap, "always"),
    ("_insertion_nb", _insertion, "never"),
    ("_partition_nb", _partition, "never"),
    ("_full_sort_nb", _full_sort, "never"),
    ("_select_nb", _select, "never"),
    ("_select_assign_nb", _select_assign, "never"),
    ("_canonical_positions_nb", _canonical_positions, "never"),
    ("_group_order_nb", _group_order, "never"),
)


def _compile() -> None:
    """Compile the kernels once (numba caches them on disk), in dependency order."""
    if _group_order_nb is not None:
        return
    import numba

    module = globals()
    for name, fn, inline in _KERNELS:
        module[name] = numba.njit(cache=True, nogil=True, inline=inline)(fn)
