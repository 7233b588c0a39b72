"""A count with an exposure (a rate per FTE-year): the exposure column is required, coded
as numbers, and must be positive wherever the count is given."""

from __future__ import annotations

import pandas as pd
import pytest
from validate_frames import Writer, make_allocation, make_staff

from trialkit import validate
from trialkit.errors import DataValidationError
from trialkit.protocol.model import Protocol


def _issues(protocol: Protocol, write_data: Writer, staff: pd.DataFrame) -> list[str]:
    with pytest.raises(DataValidationError) as info:
        validate.outcomes(protocol, make_allocation(), write_data(staff=staff))
    return [str(i) for i in info.value.issues if i.location.column == "fte_years"]


def test_the_flagship_analyses_sickness_as_a_rate(protocol: Protocol) -> None:
    assert protocol.outcome("sickness_days").exposure == "fte_years"


def test_the_exposure_column_is_required(protocol: Protocol, write_data: Writer) -> None:
    found = _issues(protocol, write_data, make_staff().drop(columns="fte_years"))
    assert len(found) == 1 and 'the column "fte_years" is missing' in found[0]


def test_non_positive_or_missing_exposures_are_located(
    protocol: Protocol, write_data: Writer
) -> None:
    staff = make_staff()
    staff["fte_years"] = staff["fte_years"].astype(object)
    staff.loc[2, "fte_years"] = 0
    staff.loc[4, "fte_years"] = -0.5
    staff.loc[6, "fte_years"] = None  # the count is given: its rate cannot be computed
    staff.loc[8, ["fte_years", "sickness_days"]] = None  # no count, no exposure: fine
    staff.loc[10, "fte_years"] = "half"
    found = sorted(
        _issues(protocol, write_data, staff),
        key=lambda text: int(text.split("row ")[1].split(",")[0]),
    )
    assert len(found) == 4, found
    assert "row 4" in found[0] and "0 is not a positive exposure" in found[0]
    assert "row 6" in found[1] and "-0.5 is not a positive exposure" in found[1]
    assert "row 8" in found[2] and "the exposure is empty" in found[2]
    assert "row 12" in found[3] and "half" in found[3]
    assert all("Fix:" in text for text in found)


def test_the_exposure_is_coded_as_numbers(protocol: Protocol, write_data: Writer) -> None:
    data = validate.outcomes(protocol, make_allocation(), write_data())
    staff = data.frame("staff")
    assert staff["fte_years"].dtype == "float64"
    assert staff["fte_years"].tolist() == make_staff()["fte_years"].tolist()
