"""Analytic power, sample size and minimum detectable effects, without a protocol.

Three solvers share one signature style: give all but one of the effect, the sizes and
the power, and the missing one is solved for.

- :func:`solve_individual` — individually randomised trials.
- :func:`solve_cluster` — cluster-randomised trials with ICC, unequal cluster sizes and
  covariates at both levels (Bloom 2006; PowerUp!; Eldridge et al. 2006).
- :func:`solve_stepped_wedge` — cross-sectional stepped wedges (Hussey & Hughes 2007).
- :func:`solve_survival` — time to event: Schoenfeld's events formula (1983) with the
  cluster design effect; effects are hazard ratios.

:func:`power_curve` evaluates any of them over a grid for tables and figures, and
:func:`power_table` applies them to every outcome of a protocol.
"""

from trialkit.design._checks import InvalidParameterError, NoSolutionError
from trialkit.design.cluster import solve_cluster
from trialkit.design.curve import power_curve
from trialkit.design.individual import solve_individual
from trialkit.design.outcomes import BinaryOutcome, ContinuousOutcome
from trialkit.design.plan import PowerRow, PowerTable, power_by_units, power_table
from trialkit.design.results import PowerCurve, PowerResult
from trialkit.design.stepped_wedge import hussey_hughes_variance, solve_stepped_wedge
from trialkit.design.subgroups import SubgroupPower, SubgroupPowerRow, subgroup_power
from trialkit.design.survival import SurvivalOutcome, schoenfeld_events, solve_survival

__all__ = [
    "BinaryOutcome",
    "ContinuousOutcome",
    "InvalidParameterError",
    "NoSolutionError",
    "PowerCurve",
    "PowerResult",
    "PowerRow",
    "PowerTable",
    "SubgroupPower",
    "SubgroupPowerRow",
    "SurvivalOutcome",
    "hussey_hughes_variance",
    "power_by_units",
    "power_curve",
    "power_table",
    "schoenfeld_events",
    "solve_cluster",
    "solve_individual",
    "solve_stepped_wedge",
    "solve_survival",
    "subgroup_power",
]
