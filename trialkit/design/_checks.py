"""Parameter checks with scikit-learn style messages, and the design errors.

Every message names the parameter, the function, the allowed range and the value given,
e.g. "The 'icc' parameter of solve_cluster must be in [0, 1). Got 1.5 instead."
"""

from __future__ import annotations

import math
import numbers
from collections.abc import Sequence
from typing import Literal, get_args

from trialkit.errors import TrialkitError

Closed = Literal["neither", "left", "right", "both"]


class InvalidParameterError(TrialkitError, ValueError):
    """A power-calculation parameter is outside its allowed range or of the wrong type."""


class NoSolutionError(TrialkitError, ValueError):
    """No value of the quantity being solved for reaches the target (e.g. a variance floor)."""


def _bound(value: float) -> str:
    if math.isinf(value):
        return "inf" if value > 0 else "-inf"
    return f"{value:g}"


def check_real(
    name: str,
    value: object,
    low: float,
    high: float,
    *,
    closed: Closed,
    func: str,
) -> float:
    """Return ``value`` as a float, or raise if it is not a finite real number in the interval.

    Parameters
    ----------
    name, func
        Parameter and function names, used in the message.
    value
        The value given.
    low, high
        The interval's bounds.
    closed
        Which bounds are included.

    Returns
    -------
    float
        The value.

    Raises
    ------
    InvalidParameterError
        When the value is not a real number or lies outside the interval.
    """
    left = "[" if closed in ("left", "both") else "("
    right = "]" if closed in ("right", "both") else ")"
    interval = f"{left}{_bound(low)}, {_bound(high)}{right}"
    message = f"The '{name}' parameter of {func} must be in {interval}. Got {value!r} instead."
    if isinstance(value, bool) or not isinstance(value, numbers.Real):
        raise InvalidParameterError(message)
    number = float(value)
    if math.isnan(number):
        raise InvalidParameterError(message)
    above = number >= low if closed in ("left", "both") else number > low
    below = number <= high if closed in ("right", "both") else number < high
    if not (above and below):
        raise InvalidParameterError(message)
    return number


def check_int(name: str, value: object, low: int, *, func: str) -> int:
    """Return ``value`` if it is a whole number ``>= low``; raise otherwise."""
    if isinstance(value, numbers.Integral) and not isinstance(value, bool) and int(value) >= low:
        return int(value)
    raise InvalidParameterError(
        f"The '{name}' parameter of {func} must be an int in [{low}, inf). Got {value!r} instead."
    )


def check_option(name: str, value: object, alias: object, *, func: str) -> str:
    """Return ``value`` if it is one of the ``Literal`` alias's options; raise otherwise."""
    allowed: Sequence[object] = get_args(alias)
    if value not in allowed:
        listed = ", ".join(repr(option) for option in allowed)
        raise InvalidParameterError(
            f"The '{name}' parameter of {func} must be one of {listed}. Got {value!r} instead."
        )
    return str(value)


def check_one_unknown(values: dict[str, object], *, func: str) -> str:
    """Return the name of the single ``None`` among ``values``; raise unless exactly one."""
    missing = [name for name, value in values.items() if value is None]
    if len(missing) != 1:
        names = ", ".join(f"'{name}'" for name in values)
        got = ", ".join(f"'{name}'" for name in missing) or "none"
        raise InvalidParameterError(
            f"Exactly one of {names} must be None in {func}: it is the quantity solved for. "
            f"Got None for {got}. Fix: give every other quantity a value."
        )
    return missing[0]
