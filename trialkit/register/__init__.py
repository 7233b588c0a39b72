"""Register: freeze the protocol, keep a hash-chained ledger, detect deviations."""

from trialkit.register.deviations import Deviation, compare
from trialkit.register.freeze import Registration, freeze, load_registration
from trialkit.register.ledger import LEDGER_NAME, append, verify

__all__ = [
    "LEDGER_NAME",
    "Deviation",
    "Registration",
    "append",
    "compare",
    "freeze",
    "load_registration",
    "verify",
]
