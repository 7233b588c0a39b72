"""The base of every protocol model: unknown keys forbidden, immutable once built."""

from __future__ import annotations

import re
import unicodedata
from typing import Annotated, Any

from pydantic import BaseModel, ConfigDict, Field, StringConstraints, field_validator
from pydantic_core import PydanticCustomError

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
_HIDDEN = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\x7f-\x9f\u061c\u200e\u200f"
                     "\u202a-\u202e\u2066-\u2069]")


def _hidden_character(value: Any) -> str | None:
    """A description of the first hidden character in ``value``'s text, or ``None``."""
    texts = (value if isinstance(value, list | tuple) else
             [*value, *value.values()] if isinstance(value, dict) else [value])
    for text in texts:
        found = _HIDDEN.search(text) if isinstance(text, str) else None
        if found is not None:
            char = found.group()
            name = unicodedata.name(char, "a control character")
            return (f"text holds the invisible character U+{ord(char):04X} ({name}) after "
                    f"{text[:found.start()]!r}; invisible and direction-changing characters "
                    "can make a text show differently from what it says")
    return None


class StrictModel(BaseModel):
    """Unknown keys are errors; instances are frozen; numbers must be finite."""

    model_config = ConfigDict(
        extra="forbid", frozen=True, str_strip_whitespace=True, allow_inf_nan=False
    )

    @field_validator("*", mode="before")
    @classmethod
    def _no_hidden_characters(cls, value: Any) -> Any:
        why = _hidden_character(value)
        if why is not None:
            raise PydanticCustomError("hidden_character", why)
        return value
