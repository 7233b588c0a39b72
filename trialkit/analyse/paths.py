"""The data files of a directory, as ``trialkit analyse`` takes them."""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path


def data_paths(directory: Path) -> Sequence[Path]:
    """The data files of a directory, in name order."""
    return sorted(
        p
        for p in directory.iterdir()
        if p.suffix.lower() in (".csv", ".xlsx", ".dta", ".sav", ".parquet")
    )
