"""Diagnose: fabricate data from the protocol and simulate the declared design."""

from trialkit.diagnose.fabricate import fabricate, fabricate_units

__all__ = ["fabricate", "fabricate_units"]
