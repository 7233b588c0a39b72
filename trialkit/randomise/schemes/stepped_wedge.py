"""Stepped wedge: clusters randomised to the step at which they cross over."""

from __future__ import annotations

from typing import Any, ClassVar

from trialkit.errors import RandomisationError
from trialkit.protocol.vocabulary import SchemeName
from trialkit.randomise.schemes._base import RuleScheme
from trialkit.randomise.units import Units


class SteppedWedge(RuleScheme):
    """Clusters assigned to crossover steps ``1 … steps``, balanced within blocks.

    Each block gets the floor or ceiling of ``n_clusters / steps`` clusters at every step,
    and every cluster's probability of each step is exactly ``1 / steps``. The scheme's
    "arms" are the steps; arm index ``k`` means crossing over at step ``k + 1``. Blocks
    smaller than the number of steps are allowed (some steps then get none of that block).

    Parameters
    ----------
    units
        The units, with ``clusters`` (and optionally ``blocks``).
    steps
        Number of crossover steps, at least 2.

    Examples
    --------
    >>> import numpy as np
    >>> from trialkit._core.rng import RawStream
    >>> units = Units(ids=np.arange(6), clusters=np.array(list("abcdef")))
    >>> sorted(SteppedWedge(units, steps=3).draw(RawStream(4)).tolist())
    [0, 0, 1, 1, 2, 2]
    """

    name: ClassVar[SchemeName] = "stepped_wedge"
    uses_clusters: ClassVar[bool] = True
    optional_blocks: ClassVar[bool] = True
    check_block_size: ClassVar[bool] = False

    def __init__(self, units: Units, *, steps: int) -> None:
        if not isinstance(steps, int) or steps < 2:
            raise RandomisationError(
                f"The 'steps' parameter of SteppedWedge must be a whole number of at least 2. "
                f"Got {steps!r} instead."
            )
        super().__init__(units, ratios=(1,) * steps)
        self.steps = steps

    def parameters(self) -> dict[str, Any]:
        return {"steps": self.steps}
