"""Values as plain JSON: NumPy scalars as Python ones, NaN and NA as ``None``."""

from __future__ import annotations

import math
from collections.abc import Mapping
from typing import Any

import numpy as np
import pandas as pd


def plain(value: Any) -> Any:
    """One value as plain JSON (lists and tuples converted item by item)."""
    if isinstance(value, np.generic):
        value = value.item()
    if isinstance(value, float) and not math.isfinite(value):
        return None
    if isinstance(value, tuple | list):
        return [plain(v) for v in value]
    if value is pd.NA or value is pd.NaT:
        return None
    return value


def plain_mapping(mapping: Mapping[Any, Any]) -> dict[str, Any]:
    """A mapping with string keys and plain values."""
    return {str(k): plain(v) for k, v in mapping.items()}


def records(frame: pd.DataFrame) -> list[dict[str, Any]]:
    """Rows of a frame as JSON-ready dictionaries."""
    return [plain_mapping(row) for row in frame.to_dict("records")]
