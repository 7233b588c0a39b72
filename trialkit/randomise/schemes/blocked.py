"""Blocked randomisation: complete randomisation within each block."""

from __future__ import annotations

from typing import ClassVar

from trialkit.protocol.vocabulary import SchemeName
from trialkit.randomise.schemes._base import RuleScheme


class BlockedRandomisation(RuleScheme):
    """Complete randomisation within each block (randomizr ``block_ra``).

    Each block gets the floor or ceiling of its planned count of every arm, and every unit's
    probability of arm ``k`` is exactly ``w_k / W``.

    Parameters
    ----------
    units
        The units to randomise; ``units.blocks`` is required.
    ratios
        Whole-number share of each arm.

    Raises
    ------
    RandomisationError
        When drawing, if a block is too small for every arm to get a unit.

    Examples
    --------
    >>> import numpy as np
    >>> from trialkit._core.rng import RawStream
    >>> from trialkit.randomise.units import Units
    >>> units = Units(ids=np.arange(6), blocks=np.array(list("aaabbb")))
    >>> arms = BlockedRandomisation(units).draw(RawStream(7))
    >>> [int(arms[:3].sum()) in (1, 2), int(arms[3:].sum()) in (1, 2)]
    [True, True]
    """

    name: ClassVar[SchemeName] = "blocked"
    uses_blocks: ClassVar[bool] = True
