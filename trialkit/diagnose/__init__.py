"""Diagnose: fabricate data from the protocol and simulate the declared design.

``diagnose(protocol, sims=500)`` repeats fabricate → randomise (the protocol's scheme) →
estimate (the plan's estimator) and reports power, bias, RMSE, coverage and more, each with
its Monte Carlo standard error, for one or several numbers of units.
"""

from trialkit.diagnose.diagnosands import DIAGNOSANDS, Simulated, diagnosands, retrodesign
from trialkit.diagnose.fabricate import fabricate, fabricate_units
from trialkit.diagnose.results import Diagnosis
from trialkit.diagnose.simulate import diagnose

__all__ = [
    "DIAGNOSANDS",
    "Diagnosis",
    "Simulated",
    "diagnosands",
    "diagnose",
    "fabricate",
    "fabricate_units",
    "retrodesign",
]
