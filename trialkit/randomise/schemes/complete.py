"""Complete randomisation: exact arm counts over all units."""

from __future__ import annotations

from typing import ClassVar

import numpy as np

from trialkit.protocol.vocabulary import SchemeName
from trialkit.randomise.schemes._base import RuleScheme
from trialkit.randomise.units import IntArray


class CompleteRandomisation(RuleScheme):
    """Exactly the floor or ceiling of ``N·w_k/W`` units per arm (randomizr ``complete_ra``).

    When ``N·w_k/W`` is not whole, which arms get the leftover units is drawn so that every
    unit's probability of arm ``k`` is exactly ``w_k / W``; with unequal ratios this is the
    multi-arm rule "floor per arm, then the remainder at random".

    Parameters
    ----------
    units
        The units to randomise (blocks, if any, are ignored).
    ratios
        Whole-number share of each arm, e.g. ``(1, 1)`` or ``(2, 1, 1)``.

    Examples
    --------
    >>> from trialkit._core.rng import RawStream
    >>> from trialkit.randomise.units import Units
    >>> scheme = CompleteRandomisation(Units(ids=np.arange(5)))
    >>> sorted(np.bincount(scheme.draw(RawStream(3))).tolist())
    [2, 3]
    >>> scheme.count_assignments()  # 2 × C(5, 2)
    20
    """

    name: ClassVar[SchemeName] = "complete"

    def _strata(self) -> tuple[IntArray, int]:
        return np.zeros(self.layout.n_ru, dtype=np.int64), 1
