"""The base of every protocol model: unknown keys forbidden, immutable once built."""

from __future__ import annotations

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


class StrictModel(BaseModel):
    """Unknown keys are errors; instances are frozen; numbers must be finite."""

    model_config = ConfigDict(
        extra="forbid", frozen=True, str_strip_whitespace=True, allow_inf_nan=False
    )
