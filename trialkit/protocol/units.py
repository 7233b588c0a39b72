"""The unit of randomisation and the levels at which outcomes are measured."""

from __future__ import annotations

from pydantic import Field, PositiveInt

from trialkit.protocol.base import Column, Name, StrictModel, Text


class ClusterSize(StrictModel):
    """Planned measurement units per randomised unit: mean and coefficient of variation."""

    mean: float = Field(gt=0)
    cv: float = Field(0.0, ge=0)


class Units(StrictModel):
    """What is randomised: one row per unit in the units file."""

    name: Name = Field(description="What a unit is, e.g. `team`, `school`, `caseworker`.")
    label: Text
    id_column: Column
    planned: PositiveInt = Field(description="Planned number of randomised units.")
    eligibility: tuple[Text, ...] = Field(min_length=1)


class Level(StrictModel):
    """A level at which outcomes are measured below the randomised unit (clients, staff)."""

    name: Name
    label: Text
    id_column: Column
    unit_column: Column = Field(description="Column holding the randomised unit's id.")
    per_unit: ClusterSize
    eligibility: tuple[Text, ...] = ()
    arms: tuple[Name, ...] = Field(
        (),
        description="Arms in which this level exists (e.g. spending records only where "
        "there is a budget); empty means every arm.",
    )
