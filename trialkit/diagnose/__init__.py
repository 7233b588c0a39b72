"""Diagnose: fabricate data from the protocol and simulate the declared design."""

from trialkit.diagnose.fabricate import fabricate

__all__ = ["fabricate"]
