"""Canonical JSON and sha256, in the spirit of RFC 8785 (JSON Canonicalization Scheme).

Keys are sorted, no insignificant whitespace, strings as UTF-8, and numbers written in one
way: integral floats as integers, other floats in Python's shortest round-trip form (which
matches ECMAScript's for the values protocols use). Non-finite numbers are refused.
"""

from __future__ import annotations

import hashlib
import json
import math
from collections.abc import Mapping, Sequence
from typing import Any


def _normalise(value: Any) -> Any:
    if isinstance(value, bool) or value is None or isinstance(value, str):
        return value
    if isinstance(value, int):
        return value
    if isinstance(value, float):
        if not math.isfinite(value):
            raise ValueError(f"canonical JSON cannot hold the non-finite number {value!r}")
        return int(value) if value.is_integer() and abs(value) < 2**53 else value
    if isinstance(value, Mapping):
        return {str(k): _normalise(v) for k, v in value.items()}
    if isinstance(value, Sequence):
        return [_normalise(v) for v in value]
    raise TypeError(f"canonical JSON cannot hold a {type(value).__name__}")


def canonical_json(value: Any) -> str:
    """Serialise ``value`` (JSON types only) canonically: one text per meaning."""
    return json.dumps(
        _normalise(value),
        sort_keys=True,
        separators=(",", ":"),
        ensure_ascii=False,
        allow_nan=False,
    )


def sha256_bytes(data: bytes) -> str:
    """Hex sha256 of bytes."""
    return hashlib.sha256(data).hexdigest()


def sha256_text(text: str) -> str:
    """Hex sha256 of text encoded as UTF-8."""
    return sha256_bytes(text.encode("utf-8"))
