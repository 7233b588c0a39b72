"""Shared plumbing with no statistics: atomic files, canonical hashing, randomness, provenance."""

from trialkit._core.files import atomic_write, ensure_absent, sha256_file
from trialkit._core.hashing import canonical_json, sha256_bytes, sha256_text
from trialkit._core.provenance import Provenance
from trialkit._core.rng import RawStream

__all__ = [
    "Provenance",
    "RawStream",
    "atomic_write",
    "canonical_json",
    "ensure_absent",
    "sha256_bytes",
    "sha256_file",
    "sha256_text",
]
