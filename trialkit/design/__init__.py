"""Analytic power, sample size and minimum detectable effects, without a protocol.

Three solvers share one signature style: give all but one of the effect, the sizes and
the power, and the missing one is solved for.

- :func:`solve_individual` — individually randomised trials.
- :func:`solve_cluster` — cluster-randomised trials with ICC, unequal cluster sizes and
  covariates at both levels (Bloom 2006; PowerUp!; Eldridge et al. 2006).
- :func:`solve_stepped_wedge` — cross-sectional stepped wedges (Hussey & Hughes 2007).

:func:`power_curve` evaluates any of them over a grid for tables and figures.
"""

from trialkit.design._checks import InvalidParameterError, NoSolutionError
from trialkit.design.cluster import solve_cluster
from trialkit.design.curve import power_curve
from trialkit.design.individual import solve_individual
from trialkit.design.outcomes import BinaryOutcome, ContinuousOutcome
from trialkit.design.results import PowerCurve, PowerResult
from trialkit.design.stepped_wedge import hussey_hughes_variance, solve_stepped_wedge

__all__ = [
    "BinaryOutcome",
    "ContinuousOutcome",
    "InvalidParameterError",
    "NoSolutionError",
    "PowerCurve",
    "PowerResult",
    "hussey_hughes_variance",
    "power_curve",
    "solve_cluster",
    "solve_individual",
    "solve_stepped_wedge",
]
