"""Provenance: what every output records so it can be traced and reproduced."""

from __future__ import annotations

import platform
from dataclasses import asdict, dataclass, field
from datetime import UTC, datetime
from typing import Any

from trialkit import __version__


def utc_now() -> str:
    """The current UTC time as an ISO 8601 string with a ``Z`` suffix, to the second."""
    return datetime.now(UTC).replace(microsecond=0).isoformat().replace("+00:00", "Z")


def _library_versions() -> dict[str, str]:
    import numpy
    import pandas

    return {
        "python": platform.python_version(),
        "numpy": numpy.__version__,
        "pandas": pandas.__version__,
    }


@dataclass(frozen=True, slots=True)
class Provenance:
    """Where a result came from.

    Attributes
    ----------
    trialkit_version
        The trialkit release that produced the output.
    protocol_hash
        sha256 of the protocol's canonical JSON, or ``None`` when no protocol was used.
    seed
        The seed of the random stream, or ``None`` for deterministic outputs.
    created_utc
        When the output was produced (ISO 8601, UTC).
    inputs
        sha256 of each input file, keyed by its name.
    versions
        Versions of Python and the numerical libraries.
    """

    protocol_hash: str | None = None
    seed: int | None = None
    trialkit_version: str = __version__
    created_utc: str = field(default_factory=utc_now)
    inputs: tuple[tuple[str, str], ...] = ()
    versions: tuple[tuple[str, str], ...] = field(
        default_factory=lambda: tuple(sorted(_library_versions().items()))
    )

    def to_dict(self) -> dict[str, Any]:
        """A JSON-ready dictionary."""
        out = asdict(self)
        out["inputs"] = dict(self.inputs)
        out["versions"] = dict(self.versions)
        return out
