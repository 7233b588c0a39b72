"""Suggest the name a user probably meant ("did you mean `budget`?")."""

from __future__ import annotations

import difflib
from collections.abc import Iterable


def closest(value: str, choices: Iterable[str]) -> str | None:
    """The choice closest to ``value`` (ignoring case first), or ``None`` if none is close.

    Examples
    --------
    >>> closest("Budget", ["usual", "budget"])
    'budget'
    >>> closest("lonliness", ["loneliness", "wellbeing"])
    'loneliness'
    >>> closest("treatment", ["usual", "budget"]) is None
    True
    """
    names = [str(c) for c in choices]
    folded = {name.casefold(): name for name in names}
    key = str(value).strip().casefold()
    if key in folded:
        return folded[key]
    match = difflib.get_close_matches(key, list(folded), n=1, cutoff=0.6)
    return folded[match[0]] if match else None


def did_you_mean(value: str, choices: Iterable[str]) -> str:
    """`` Did you mean `x`?`` for the closest choice, or an empty string.

    Examples
    --------
    >>> did_you_mean("lonliness", ["loneliness"])
    ' Did you mean `loneliness`?'
    """
    match = closest(value, choices)
    return f" Did you mean `{match}`?" if match is not None and match != value else ""
