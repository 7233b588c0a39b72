"""The pilot protocol: typed models, cross-field rules and a locating YAML loader."""

from trialkit.protocol.bundled import bundled_path, bundled_protocols
from trialkit.protocol.load import load_protocol, parse_protocol
from trialkit.protocol.model import Protocol
from trialkit.protocol.rules import check_rules

__all__ = [
    "Protocol",
    "bundled_path",
    "bundled_protocols",
    "check_rules",
    "load_protocol",
    "parse_protocol",
]
