"""Who runs the pilot, why, and under what governance."""

from __future__ import annotations

import datetime as dt

from pydantic import Field

from trialkit.protocol.base import StrictModel, Text
from trialkit.protocol.vocabulary import Mechanism, Status


class Contact(StrictModel):
    """The person to contact about the pilot."""

    name: Text
    email: str = Field(pattern=r"^[^@\s]+@[^@\s]+\.[^@\s]+$")
    role: str | None = None


class RegistryId(StrictModel):
    """An entry in a trial registry (AEA RCT Registry, ISRCTN, OSF, UK Evaluation Registry)."""

    registry: Text
    id: Text
    url: str | None = Field(None, pattern=r"^https?://\S+$")
    date: dt.date | None = None


class Identity(StrictModel):
    """What the pilot is called and who is responsible for it (SPIRIT 1–3, AEA trial info)."""

    id: str = Field(
        pattern=r"^[a-z0-9][a-z0-9-]*$",
        description="A short lower-case id with hyphens, e.g. `gateshead-discretionary-budget`.",
    )
    title: Text
    organisation: Text
    contact: Contact
    version: Text = "1.0"
    status: Status = "draft"
    registry_ids: tuple[RegistryId, ...] = ()
    country: str = "United Kingdom"
    keywords: tuple[str, ...] = ()


class Rationale(StrictModel):
    """The problem, the management mechanism tested, and what is expected (SPIRIT 9–10)."""

    problem: Text
    mechanisms: tuple[Mechanism, ...] = Field(min_length=1)
    theory_of_change: Text
    hypotheses: tuple[Text, ...] = Field(min_length=1)
    harms_considered: Text = Field(
        description="Which harms (misuse, shirking, unfairness, gaming) are monitored, and why."
    )


class Governance(StrictModel):
    """Open-science, ethics and conduct items a registry and CONSORT 2025 ask for."""

    funder: str = "Not stated"
    funder_role: str = "Not stated"
    conflicts: str = "None declared"
    ethics: str = "Not stated"
    public_involvement: str = "None"
    data_sharing: str = "Not stated"
    dissemination: str = "Not stated"
    randomised_by: str = Field(
        "An analyst independent of service delivery, using trialkit with the registered seed",
        description="Who generated the allocation sequence and how (CONSORT 17a).",
    )
    concealment: str = "Allocation revealed only after all units were enrolled"
    blinding: str = "Staff and citizens cannot be blinded to a management reform"
    settings: str = "Not stated"


class Dates(StrictModel):
    """Key dates (AEA registry: trial start, intervention start/end, trial end)."""

    start: dt.date
    intervention_start: dt.date
    intervention_end: dt.date
    end: dt.date
