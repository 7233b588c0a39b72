"""What every scheme is: a declaration that knows its probabilities, apart from its draw."""

from __future__ import annotations

import math
from abc import ABC, abstractmethod
from collections.abc import Iterator, Sequence
from typing import Any, ClassVar

import numpy as np

from trialkit._core.rng import RawStream
from trialkit.errors import RandomisationError
from trialkit.protocol.vocabulary import SchemeName
from trialkit.randomise import _counts
from trialkit.randomise.units import FloatArray, IntArray, Layout, Units, layout

#: Elements (draws × units) held in memory at once by ``draw_many``.
BATCH_ELEMENTS = 1 << 21


def check_ratios(ratios: tuple[int, ...]) -> tuple[int, ...]:
    """Validate arm ratios: at least two positive whole numbers."""
    if len(ratios) < 2 or any(not isinstance(r, int | np.integer) or r < 1 for r in ratios):
        raise RandomisationError(
            f"The 'ratios' parameter must hold two or more positive whole numbers. "
            f"Got {ratios!r} instead."
        )
    return tuple(int(r) for r in ratios)


class Scheme(ABC):
    """A randomisation scheme declared on a set of units.

    The constructor only stores the units and parameters; :meth:`probabilities` gives each
    unit's exact probability of each arm and :meth:`draw` realises one assignment from a
    :class:`~trialkit._core.rng.RawStream`.
    """

    name: ClassVar[SchemeName]
    uses_blocks: ClassVar[bool] = False
    uses_clusters: ClassVar[bool] = False
    #: Use blocks or clusters when the units have them (matched pairs, rerandomisation).
    optional_blocks: ClassVar[bool] = False
    optional_clusters: ClassVar[bool] = False

    def __init__(self, units: Units, *, ratios: tuple[int, ...] = (1, 1)) -> None:
        self.units = units
        self.ratios = tuple(ratios)
        self._layout: Layout | None = None

    # ------------------------------------------------------------------ declaration
    @property
    def n_arms(self) -> int:
        """Number of arms (steps, for a stepped wedge)."""
        return len(self.ratios)

    @property
    def layout(self) -> Layout:
        """The canonical randomisation units (computed once, on first use)."""
        if self._layout is None:
            check_ratios(self.ratios)
            use_blocks = self.uses_blocks or (
                self.optional_blocks and self.units.blocks is not None
            )
            use_clusters = self.uses_clusters or (
                self.optional_clusters and self.units.clusters is not None
            )
            if self.units.clusters is not None and not use_clusters:
                raise RandomisationError(
                    f"scheme `{self.name}` assigns units one by one and would split clusters. "
                    "Fix: use `cluster` or `blocked_cluster`, or drop the cluster column."
                )
            self._layout = layout(self.units, use_blocks=use_blocks, use_clusters=use_clusters)
        return self._layout

    def parameters(self) -> dict[str, Any]:
        """The scheme's parameters, JSON-ready (recorded beside an allocation)."""
        return {"ratios": list(self.ratios)}

    def probabilities(self) -> FloatArray:
        """Each unit's exact probability of each arm, ``(n_units, n_arms)``."""
        ratios = check_ratios(self.ratios)
        p = np.asarray(ratios, dtype=np.float64) / sum(ratios)
        return np.tile(p, (self.units.n_units, 1))

    # ------------------------------------------------------------------ draws
    @property
    @abstractmethod
    def words_per_draw(self) -> int:
        """Raw 64-bit words one draw consumes."""

    @abstractmethod
    def _assign_ru(self, raw: np.ndarray[Any, np.dtype[np.uint64]]) -> IntArray:
        """Arms ``(batch, n_ru)`` of canonical randomisation units from raw words."""

    def draw(self, stream: RawStream) -> IntArray:
        """One assignment: the arm index of each unit, in the order the units were given."""
        first: IntArray = next(self.draw_many(stream, 1))[0]
        return first

    def draw_many(
        self, stream: RawStream, n: int, *, batch_size: int | None = None
    ) -> Iterator[IntArray]:
        """Yield ``n`` assignments in batches of shape ``(batch, n_units)``.

        Draws are the same as ``n`` calls of :meth:`draw`; memory is proportional to
        ``n_units × batch_size``, never to ``n_units × n``.
        """
        width = self.words_per_draw
        if batch_size is None:
            batch_size = max(1, BATCH_ELEMENTS // max(width, 1))
        done = 0
        while done < n:
            b = min(batch_size, n - done)
            raw = stream.raw(b * width).reshape(b, width)
            yield self.assign_raw(raw)
            done += b

    def assign_raw(self, raw: np.ndarray[Any, np.dtype[np.uint64]]) -> IntArray:
        """Assignments ``(batch, n_units)`` from raw words ``(batch, words_per_draw)``.

        The transformation every draw applies to the stream's words; row ``i`` of the
        result is ``draw`` of a stream whose next words are ``raw[i]``.
        """
        return self._assign_ru(raw)[:, self.layout.unit_ru]

    def draw_seeds(self, seeds: Sequence[int]) -> IntArray:
        """One draw per seed, ``(len(seeds), n_units)``: row ``i`` is ``draw(RawStream(seeds[i]))``.

        Vectorised over seeds, for checking frequencies across many seeds.
        """
        width = self.words_per_draw
        raw = np.stack([RawStream(int(s)).raw(width) for s in seeds]).reshape(len(seeds), width)
        return self.assign_raw(raw)

    # ------------------------------------------------------------------ enumeration
    @abstractmethod
    def count_assignments(self) -> int:
        """Number of distinct assignments with positive probability (obtain_num_permutations)."""

    @abstractmethod
    def _enumerate_ru(self) -> tuple[IntArray, FloatArray]:
        """Every assignment of canonical randomisation units, with its probability."""

    def enumerate_assignments(self) -> tuple[IntArray, FloatArray]:
        """Every possible assignment ``(n_assignments, n_units)`` and its probability.

        Like randomizr's ``obtain_permutation_matrix`` (one row per assignment rather than
        one column), with probabilities because they need not be equal.

        Raises
        ------
        RandomisationError
            If there are more than 100,000 assignments.
        """
        total = self.count_assignments()
        if total > _counts.ENUMERATION_LIMIT:
            raise RandomisationError(
                f"scheme `{self.name}` has {total:,} possible assignments, more than the "
                f"{_counts.ENUMERATION_LIMIT:,} that can be enumerated. "
                "Fix: sample assignments with draw_many instead."
            )
        table, prob = self._enumerate_ru()
        return table[:, self.layout.unit_ru], prob


class RuleScheme(Scheme):
    """A scheme that is complete randomisation within strata (the count rule)."""

    check_block_size: ClassVar[bool] = True

    def __init__(self, units: Units, *, ratios: tuple[int, ...] = (1, 1)) -> None:
        super().__init__(units, ratios=ratios)
        self._rule: _counts.CountRule | None = None

    def _strata(self) -> tuple[IntArray, int]:
        """Stratum code of each canonical randomisation unit, and the number of strata."""
        lay = self.layout
        return lay.ru_block, len(lay.block_labels)

    @property
    def rule(self) -> _counts.CountRule:
        """The precomputed counts of each stratum."""
        if self._rule is None:
            strata, n_strata = self._strata()
            rule = _counts.count_rule(strata, check_ratios(self.ratios), n_strata)
            if self.check_block_size:
                self._check_sizes(rule)
            self._rule = rule
        return self._rule

    def _check_sizes(self, rule: _counts.CountRule) -> None:
        need = math.ceil(sum(self.ratios) / min(self.ratios))
        small = np.flatnonzero(rule.sizes < need)
        if small.size:
            labels = self.layout.block_labels
            what = "clusters" if self.uses_clusters else "units"
            named = ", ".join(f"`{labels[i]}` ({rule.sizes[i]})" for i in small[:10])
            ratio_text = ":".join(map(str, self.ratios))
            raise RandomisationError(
                f"block(s) {named} have fewer than the {need} {what} that arms with ratios "
                f"{ratio_text} need so every arm gets at least one. "
                "Fix: merge small blocks, or block on a coarser column."
            )

    @property
    def words_per_draw(self) -> int:
        return self.rule.words_per_draw

    def _assign_ru(self, raw: np.ndarray[Any, np.dtype[np.uint64]]) -> IntArray:
        return _counts.assign(self.rule, raw)

    def count_assignments(self) -> int:
        return _counts.count_assignments(self.rule)

    def _enumerate_ru(self) -> tuple[IntArray, FloatArray]:
        return _counts.enumerate_assignments(self.rule)
