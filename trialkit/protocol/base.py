"""The base of every protocol model: unknown keys forbidden, immutable once built."""

from __future__ import annotations

import re
import unicodedata
from typing import Annotated

from pydantic import BaseModel, ConfigDict, Field, StringConstraints

#: Names used as identifiers (arm ids, outcome names, family names): snake_case.
Name = Annotated[
    str,
    StringConstraints(pattern=r"^[a-z][a-z0-9_]*$", min_length=1, max_length=64),
    Field(description="A lower_snake_case identifier such as `loneliness` or `budget`."),
]
#: A column name in a data file: any non-empty text.
Column = Annotated[str, StringConstraints(min_length=1, max_length=128)]
#: Free text that must not be empty.
Text = Annotated[str, StringConstraints(min_length=1)]
Probability = Annotated[float, Field(gt=0, lt=1)]

#: Control characters (but tab and line ends) and the bidirectional controls that make text
#: display in another order than it is stored ("Trojan Source"): never in protocol text.
_HIDDEN = re.compile(
    "[\x00-\x08\x0b\x0c\x0e-\x1f\x7f-\x9f\u061c\u200e\u200f\u202a-\u202e\u2066-\u2069]"
)


def hidden_character(text: str) -> str | None:
    """A description of the first hidden character in ``text``, or ``None``.

    Protocol loading checks every text of the YAML once, before validation
    (:func:`trialkit.protocol.load.parse_protocol`), rather than a validator on every field.

    Examples
    --------
    >>> hidden_character("Lonel\u202einess")[:62]
    'text holds the invisible character U+202E (RIGHT-TO-LEFT OVERR'
    >>> hidden_character("Loneliness") is None
    True
    """
    found = _HIDDEN.search(text)
    if found is None:
        return None
    char = found.group()
    name = unicodedata.name(char, "a control character")
    return (
        f"text holds the invisible character U+{ord(char):04X} ({name}) after "
        f"{text[: found.start()]!r}; invisible and direction-changing characters "
        "can make a text show differently from what it says"
    )


class StrictModel(BaseModel):
    """Unknown keys are errors; instances are frozen; numbers must be finite."""

    model_config = ConfigDict(
        extra="forbid", frozen=True, str_strip_whitespace=True, allow_inf_nan=False
    )
