"""Register: freeze the protocol, keep a hash-chained ledger, detect deviations."""

from trialkit.register.audit import LedgerCheck, Repair, audit, repair, verify
from trialkit.register.deviations import MAJOR_FIELDS, Deviation, compare, severity
from trialkit.register.freeze import Registration, freeze, load_registration
from trialkit.register.ledger import LEDGER_NAME, append, ensure_appendable
from trialkit.register.timing import VALIDATING_ACTIONS, ChangeKind, change_kind, kind_basis

__all__ = [
    "LEDGER_NAME",
    "MAJOR_FIELDS",
    "VALIDATING_ACTIONS",
    "ChangeKind",
    "Deviation",
    "LedgerCheck",
    "Registration",
    "Repair",
    "append",
    "audit",
    "change_kind",
    "compare",
    "ensure_appendable",
    "freeze",
    "kind_basis",
    "load_registration",
    "repair",
    "severity",
    "verify",
]
