"""Blocked cluster randomisation: whole clusters, complete within each block."""

from __future__ import annotations

from typing import ClassVar

from trialkit.protocol.vocabulary import SchemeName
from trialkit.randomise.schemes._base import RuleScheme


class BlockedClusterRandomisation(RuleScheme):
    """Complete randomisation of clusters within blocks (randomizr ``block_and_cluster_ra``).

    Every cluster must lie in one block. Each block gets the floor or ceiling of its planned
    number of clusters per arm; each unit's probability of arm ``k`` is exactly ``w_k / W``.

    Parameters
    ----------
    units
        The units to randomise; ``units.blocks`` and ``units.clusters`` are required.
    ratios
        Whole-number share of each arm.

    Raises
    ------
    RandomisationError
        When drawing, if a cluster spans two blocks or a block has too few clusters.

    Examples
    --------
    >>> import numpy as np
    >>> from trialkit._core.rng import RawStream
    >>> from trialkit.randomise.units import Units
    >>> units = Units(ids=np.arange(8), blocks=np.array(list("aaaabbbb")),
    ...               clusters=np.array(list("ppqqrrss")))
    >>> scheme = BlockedClusterRandomisation(units)
    >>> scheme.count_assignments()  # 2 ways in each of 2 blocks
    4
    """

    name: ClassVar[SchemeName] = "blocked_cluster"
    uses_blocks: ClassVar[bool] = True
    uses_clusters: ClassVar[bool] = True
