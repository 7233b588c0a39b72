"""Randomisation inference: p-values and intervals from the trial's own assignment mechanism.

The public face is :func:`randomisation_test` and its results, :class:`RandomisationTest`
(one per outcome) and :class:`ArmTest` (one per compared arm). The modules behind it:

- :mod:`.estimator`: the entry point, from inputs to tests;
- :mod:`.checks`, :mod:`.arms`, :mod:`.groups`, :mod:`.precompute`: validate the data and
  precompute each randomised group's sums;
- :mod:`.exact`, :mod:`.redraws`: enumerate every assignment or draw them, into sums;
- :mod:`.kernels`, :mod:`.sampler`, :mod:`.pcg64`: the compiled draws (numba, imported only
  when drawing);
- :mod:`.inversion`: p-values and the test-inversion interval;
- :mod:`.result`: the result types and their tidy frame.
"""

from __future__ import annotations

from trialkit.estimate.frequentist.ri.estimator import randomisation_test
from trialkit.estimate.frequentist.ri.result import ArmTest, RandomisationTest

__all__ = ["ArmTest", "RandomisationTest", "randomisation_test"]
