"""Cluster randomisation: whole clusters share an arm."""

from __future__ import annotations

from typing import ClassVar

import numpy as np

from trialkit.protocol.vocabulary import SchemeName
from trialkit.randomise.schemes._base import RuleScheme
from trialkit.randomise.units import IntArray


class ClusterRandomisation(RuleScheme):
    """Complete randomisation of clusters (randomizr ``cluster_ra``); clusters are never split.

    Clusters are numbered by their sorted labels, so the allocation does not depend on the
    order of units. Each unit's probability is its cluster's: exactly ``w_k / W``.

    Parameters
    ----------
    units
        The units to randomise; ``units.clusters`` is required.
    ratios
        Whole-number share of each arm.

    Examples
    --------
    >>> import numpy as np
    >>> from trialkit._core.rng import RawStream
    >>> from trialkit.randomise.units import Units
    >>> units = Units(ids=np.arange(6), clusters=np.array(list("xxyyzz")))
    >>> arms = ClusterRandomisation(units).draw(RawStream(2))
    >>> bool((arms[0::2] == arms[1::2]).all())
    True
    """

    name: ClassVar[SchemeName] = "cluster"
    uses_clusters: ClassVar[bool] = True

    def _strata(self) -> tuple[IntArray, int]:
        return np.zeros(self.layout.n_ru, dtype=np.int64), 1
