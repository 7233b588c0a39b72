"""The pilot protocol: typed models, cross-field rules and a locating YAML loader.

The models resolve lazily (pydantic builds them on import, about 0.2 s), so commands that
only list or copy bundled files (``trialkit protocols``, ``schema``, ``init``) start
without them.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from trialkit._core.lazy import lazy_getattr
from trialkit.protocol.bundled import bundled_path, bundled_protocols

if TYPE_CHECKING:
    from trialkit.protocol.load import load_protocol, parse_protocol
    from trialkit.protocol.model import Protocol
    from trialkit.protocol.rules import check_rules

_getattr = lazy_getattr(
    __name__,
    {
        "load_protocol": "trialkit.protocol.load",
        "parse_protocol": "trialkit.protocol.load",
        "Protocol": "trialkit.protocol.model",
        "check_rules": "trialkit.protocol.rules",
    },
)


def __getattr__(name: str) -> Any:
    return _getattr(name)


__all__ = [
    "Protocol",
    "bundled_path",
    "bundled_protocols",
    "check_rules",
    "load_protocol",
    "parse_protocol",
]
