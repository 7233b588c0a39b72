"""Simple (Bernoulli) randomisation: each unit's arm drawn independently."""

from __future__ import annotations

from typing import Any, ClassVar

import numpy as np

from trialkit.protocol.vocabulary import SchemeName
from trialkit.randomise import _counts
from trialkit.randomise.schemes._base import Scheme
from trialkit.randomise.units import FloatArray, IntArray

_BITS = 53


class SimpleRandomisation(Scheme):
    """Each unit independently gets arm ``k`` with probability ``w_k / W`` (``simple_ra``).

    Arm counts are random. A unit's arm is found by comparing the top 53 bits ``x`` of a raw
    word with the whole-number thresholds ``⌊C_k · 2⁵³ / W⌋``, so probabilities are exact to
    within 2⁻⁵³.

    Parameters
    ----------
    units
        The units to randomise.
    ratios
        Whole-number share of each arm; ``(1, 1)`` gives probability 1/2 each.

    Examples
    --------
    >>> from trialkit._core.rng import RawStream
    >>> from trialkit.randomise.units import Units
    >>> scheme = SimpleRandomisation(Units(ids=np.arange(4)))
    >>> scheme.probabilities()[0].tolist()
    [0.5, 0.5]
    >>> scheme.draw(RawStream(1)).shape
    (4,)
    """

    name: ClassVar[SchemeName] = "simple"

    @property
    def words_per_draw(self) -> int:
        return self.layout.n_ru

    def _thresholds(self) -> np.ndarray[Any, np.dtype[np.uint64]]:
        total = sum(self.ratios)
        cum = np.cumsum(self.ratios)[:-1]
        return np.asarray([(int(c) << _BITS) // total for c in cum], dtype=np.uint64)

    def _assign_ru(self, raw: np.ndarray[Any, np.dtype[np.uint64]]) -> IntArray:
        x = raw >> np.uint64(64 - _BITS)
        return np.searchsorted(self._thresholds(), x, side="right").astype(np.int64)

    def count_assignments(self) -> int:
        return int(self.n_arms**self.layout.n_ru)

    def _enumerate_ru(self) -> tuple[IntArray, FloatArray]:
        p = np.asarray(self.ratios, dtype=np.float64) / sum(self.ratios)
        return _counts.enumerate_simple(self.layout.n_ru, p)
