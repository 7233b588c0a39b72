"""The count rule: complete randomisation within strata, with exact probabilities.

In a stratum of ``n`` randomisation units and arms with whole-number ratios ``w`` (total
``W``), arm ``k`` is planned ``n·w_k / W`` units. Each arm first gets the floor of that;
the ``R`` units left over go one each to ``R`` distinct arms chosen by systematic sampling
with inclusion probabilities equal to the fractional parts: draw ``u`` uniformly from
``{0, …, W−1}`` and give arm ``k`` an extra unit when a point ``u + jW`` falls in
``[C_{k−1}, C_k)``, where ``C`` are the cumulative remainders ``(n·w_k) mod W``. So every
arm gets the floor or ceiling of its planned count, and ``E[count_k] = n·w_k / W``. Units
are then ranked by 64-bit keys (ties by canonical position) and the ranked units take the
arms in order, so each unit's probability of arm ``k`` is exactly ``w_k / W``, as in
randomizr's ``complete_ra`` and ``block_ra``.

Each draw consumes ``S + R`` raw words (``S`` strata, ``R`` randomisation units), so a
batch of draws equals the same draws made one at a time.

Only which units fall between the arms' rank boundaries matters, so :func:`assign` selects
them (:func:`trialkit.randomise._select.select_assign`, ``O(R)`` expected) rather than
sorting; :func:`_sorted_assign` is the sorting definition it is tested against.
"""

from __future__ import annotations

import itertools
import math
from collections.abc import Iterator
from dataclasses import dataclass

import numpy as np
from numpy.typing import NDArray

from trialkit.randomise._select import group_order, select_assign

IntArray = NDArray[np.int64]
FloatArray = NDArray[np.float64]

#: Largest number of assignments that may be enumerated.
ENUMERATION_LIMIT = 100_000


@dataclass(frozen=True, slots=True, eq=False)
class CountRule:
    """Precomputed counts for complete randomisation within strata.

    Attributes
    ----------
    strata
        Stratum code of each canonical randomisation unit.
    ratios
        Whole-number share of each arm.
    sizes
        Number of randomisation units in each stratum.
    floors
        ``(n_strata, n_arms)`` floor of each arm's planned count.
    cum
        ``(n_strata, n_arms + 1)`` cumulative remainders ``(n·w_k) mod W``.
    members
        Canonical positions grouped by stratum, ascending within each.
    starts
        ``(n_strata + 1,)`` offset of each stratum's slice of ``members``.
    """

    strata: IntArray
    ratios: tuple[int, ...]
    sizes: IntArray
    floors: IntArray
    cum: IntArray
    members: IntArray
    starts: IntArray

    @property
    def n_strata(self) -> int:
        """Number of strata."""
        return len(self.sizes)

    @property
    def words_per_draw(self) -> int:
        """Raw 64-bit words one draw consumes."""
        return self.n_strata + len(self.strata)


def count_rule(strata: IntArray, ratios: tuple[int, ...], n_strata: int) -> CountRule:
    """Build the :class:`CountRule` for ``strata`` (codes ``0 … n_strata−1``)."""
    w = np.asarray(ratios, dtype=np.int64)
    sizes = np.bincount(strata, minlength=n_strata).astype(np.int64)
    planned = sizes[:, None] * w[None, :]
    floors = planned // int(w.sum())
    rem = planned % int(w.sum())
    cum = np.concatenate([np.zeros((n_strata, 1), np.int64), np.cumsum(rem, axis=1)], axis=1)
    codes = strata.astype(np.int64)
    if len(codes) == 0 or bool((codes[1:] >= codes[:-1]).all()):  # contiguous, as blocks are
        members = np.arange(len(codes), dtype=np.int64)
        starts = np.concatenate([np.zeros(1, np.int64), np.cumsum(sizes)])
    else:  # matched pairs
        members, starts = group_order(codes, n_strata)
    return CountRule(
        strata=codes,
        ratios=tuple(int(r) for r in ratios),
        sizes=sizes,
        floors=floors,
        cum=cum,
        members=members,
        starts=starts,
    )


def _extras(rule: CountRule, u: IntArray) -> IntArray:
    """Arms given an extra unit for offsets ``u`` of shape ``(..., n_strata)``."""
    total = sum(rule.ratios)
    hits = -((u[..., None] - rule.cum) // total)  # points u + jW below each C
    return np.diff(hits, axis=-1)


def counts(rule: CountRule, words: NDArray[np.uint64]) -> IntArray:
    """Arm counts ``(batch, n_strata, n_arms)`` from ``(batch, n_strata)`` raw words."""
    u = (words % np.uint64(sum(rule.ratios))).astype(np.int64)
    return rule.floors[None] + _extras(rule, u)


def _ranked_arms(rule: CountRule, c: IntArray) -> IntArray:
    """Arm of each rank: strata in order, arms in order within each, ``(batch, n_ru)``."""
    batch, n_strata, n_arms = c.shape
    labels = np.tile(np.arange(n_arms, dtype=np.int64), batch * n_strata)
    return np.repeat(labels, c.reshape(-1)).reshape(batch, len(rule.strata))


def _sorted_assign(rule: CountRule, keys: NDArray[np.uint64], ranked: IntArray) -> IntArray:
    """Rank by (stratum, key, position) with stable sorts, and hand out arms by rank."""
    order = np.argsort(keys, axis=1)
    flat = (order + (np.arange(len(keys)) * keys.shape[1])[:, None]).ravel()
    ranked_keys = keys.ravel()[flat].reshape(keys.shape)
    tie = (ranked_keys[:, 1:] == ranked_keys[:, :-1]).any(axis=1)
    if tie.any():  # equal keys: order them by position, as a stable sort would
        order[tie] = np.argsort(keys[tie], axis=1, kind="stable")
    if rule.n_strata > 1:
        small = rule.strata.astype(np.int16 if rule.n_strata < 2**15 else np.int64)
        by_stratum = np.argsort(small[order], axis=1, kind="stable")
        order = np.take_along_axis(order, by_stratum, axis=1)
    return _scatter(order, ranked)


def _scatter(order: IntArray, values: IntArray) -> IntArray:
    """``out[i, order[i, j]] = values[i, j]`` by flat indexing (faster than put_along_axis)."""
    batch, width = order.shape
    out = np.empty(batch * width, dtype=np.int64)
    flat = order + (np.arange(batch, dtype=np.int64) * width)[:, None]
    out[flat.ravel()] = values.ravel()
    return out.reshape(batch, width)


def assign(rule: CountRule, raw: NDArray[np.uint64]) -> NDArray[np.int64]:
    """Arms ``(batch, n_ru)`` of canonical randomisation units from ``(batch, S + R)`` words.

    Units are ranked within their stratum by their key (ties by canonical position) and
    the ranked units take the arms in order.
    """
    n_strata = rule.n_strata
    c = counts(rule, raw[:, :n_strata])
    return select_assign(raw[:, n_strata:], rule.members, rule.starts, c)


def _count_distribution(rule: CountRule, stratum: int) -> dict[tuple[int, ...], float]:
    """Each possible count vector of one stratum and its probability."""
    total = sum(rule.ratios)
    extras = _extras(
        rule, np.arange(total, dtype=np.int64)[:, None] * np.ones((1, rule.n_strata), np.int64)
    )[:, stratum, :]
    dist: dict[tuple[int, ...], float] = {}
    for row in extras:
        key = tuple(int(x) for x in rule.floors[stratum] + row)
        dist[key] = dist.get(key, 0.0) + 1.0 / total
    return dist


def _multinomial(counts_: tuple[int, ...]) -> int:
    out, left = 1, sum(counts_)
    for c in counts_:
        out *= math.comb(left, c)
        left -= c
    return out


def count_assignments(rule: CountRule) -> int:
    """Number of distinct assignments with positive probability."""
    out = 1
    cache: dict[int, int] = {}
    for s in range(rule.n_strata):
        if s not in cache:
            cache[s] = sum(_multinomial(k) for k in _count_distribution(rule, s))
        out *= cache[s]
    return out


def _arrangements(counts_: tuple[int, ...]) -> Iterator[tuple[int, ...]]:
    """Every sequence with ``counts_[k]`` copies of ``k``, in lexicographic order."""
    n = sum(counts_)
    if n == 0:
        yield ()
        return
    for k, c in enumerate(counts_):
        if c:
            rest = tuple(x - (i == k) for i, x in enumerate(counts_))
            for tail in _arrangements(rest):
                yield (k, *tail)


def enumerate_assignments(rule: CountRule) -> tuple[IntArray, FloatArray]:
    """All assignments ``(n, n_ru)`` of canonical randomisation units and their probabilities."""
    n_ru = len(rule.strata)
    table = np.zeros((1, n_ru), dtype=np.int64)
    prob = np.ones(1)
    for s in range(rule.n_strata):
        members = np.flatnonzero(rule.strata == s)
        local: list[tuple[int, ...]] = []
        local_p: list[float] = []
        for k, p in _count_distribution(rule, s).items():
            arrangements = list(_arrangements(k))
            local.extend(arrangements)
            local_p.extend([p / len(arrangements)] * len(arrangements))
        m = len(local)
        table = np.repeat(table, m, axis=0)
        table[:, members] = np.tile(
            np.asarray(local, dtype=np.int64).reshape(m, -1), (len(table) // m, 1)
        )
        prob = np.outer(prob, np.asarray(local_p)).reshape(-1)
    return table, prob


def enumerate_simple(n_ru: int, probs: FloatArray) -> tuple[IntArray, FloatArray]:
    """All ``K^n`` assignments of independent units and their probabilities."""
    rows = list(itertools.product(range(len(probs)), repeat=n_ru))
    table = np.asarray(rows, dtype=np.int64).reshape(len(rows), n_ru)
    return table, np.prod(probs[table], axis=1) if n_ru else np.ones(1)
