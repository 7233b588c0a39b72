"""Register: freeze the protocol, keep a hash-chained ledger, detect deviations.

The deviation names resolve lazily (they need pandas), so commands that never compare
protocols (``trialkit check``, ``init``, ``schema``) start without importing it.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from trialkit._core.lazy import lazy_getattr
from trialkit.register.audit import LedgerCheck, Repair, audit, repair, verify
from trialkit.register.freeze import Registration, commit, freeze, load_registration
from trialkit.register.ledger import LEDGER_NAME, append, ensure_appendable
from trialkit.register.timing import VALIDATING_ACTIONS, ChangeKind, change_kind, kind_basis

if TYPE_CHECKING:
    from trialkit.register.deviations import MAJOR_FIELDS, Deviation, compare, severity

_getattr = lazy_getattr(
    __name__,
    dict.fromkeys(
        ("MAJOR_FIELDS", "Deviation", "compare", "severity"), "trialkit.register.deviations"
    ),
)


def __getattr__(name: str) -> Any:
    return _getattr(name)


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
    "commit",
    "compare",
    "ensure_appendable",
    "freeze",
    "kind_basis",
    "load_registration",
    "repair",
    "severity",
    "verify",
]
