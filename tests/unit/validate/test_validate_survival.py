"""Time-to-event outcomes: time and event columns derived from dates and reasons.

The protocol is the flagship with ``time_to_leaving`` at the staff level (tests/data):
follow-up from the pilot start (2027-03-01) or joining, to leaving or 2028-02-29.
"""

from __future__ import annotations

import copy
import functools
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import pytest
import yaml
from validate_frames import ROOT, Writer, make_allocation, make_outcome_spend, make_staff

from trialkit.errors import DataValidationError, Issue
from trialkit.protocol.model import Protocol
from trialkit.validate import outcomes

SURVIVAL = ROOT / "tests" / "data" / "protocol_staff_survival.yaml"
#: From the pilot start (2027-03-01) to the declared end of follow-up (2028-02-29).
FULL_YEAR = 365


def _raw() -> dict[str, Any]:
    return yaml.safe_load(SURVIVAL.read_text(encoding="utf-8"))  # type: ignore[no-any-return]


def _protocol(edit: dict[str, Any] | None = None, *, drop: tuple[str, ...] = ()) -> Protocol:
    """The survival protocol, with its ``survival`` block edited (rules of check deferred)."""
    data = copy.deepcopy(_raw())
    outcome = next(o for o in data["outcomes"] if o["name"] == "time_to_leaving")
    outcome["survival"].update(edit or {})
    for key in drop:
        outcome["survival"].pop(key)
    return Protocol.model_validate(data, context={"defer_rules": True})


@pytest.fixture(scope="module")
def survival_protocol() -> Protocol:
    return _protocol()


@pytest.fixture
def write_data(write_data: Writer) -> Writer:
    """The demo frames, with the spend file this protocol declares (no ledger: spending
    is the monitoring outcome ``unjustified_spend``)."""
    return functools.partial(write_data, spend=make_outcome_spend())


#: (joined_on, left_on, leaving_reason) → expected (time in days, event code).
CASES: list[tuple[tuple[str, str, str], tuple[float, float]]] = [
    (("2019-05-01", "", ""), (FULL_YEAR, 0)),  # in post throughout: censored at follow-up end
    (("2019-05-01", "2027-06-01", "Resigned"), (92, 1)),  # an incumbent resigns
    (("01/05/2027", "01/07/2027", "transferred"), (61, 2)),  # a joiner transfers (day first)
    (("2019-05-01", "2028-06-01", "Resigned"), (FULL_YEAR, 0)),  # leaves after follow-up end
    (("2027-09-01", "", ""), (181, 0)),  # a joiner still in post
    (("2019-05-01", "2027-10-10", " RETIRED "), (223, 1)),  # case and spaces ignored
    (("2019-05-01", "2027-04-01", "End of fixed-term contract"), (31, 0)),  # other: censored
    (("2027-03-01", "2027-03-01", "Dismissed"), (0, 1)),  # leaves on the first day
]


def _staff(rows: list[tuple[str, str, str]]) -> pd.DataFrame:
    """The demo staff frame, its first rows given these dates and reasons, the rest in post."""
    staff = make_staff()
    filled = rows + [("2020-01-01", "", "")] * (len(staff) - len(rows))
    staff["joined_on"], staff["left_on"], staff["leaving_reason"] = zip(*filled, strict=True)
    return staff


def _errors(exc: pytest.ExceptionInfo[DataValidationError], column: str) -> list[Issue]:
    return [i for i in exc.value.issues if i.severity == "error" and i.location.column == column]


def test_time_and_event_are_derived_from_dates_and_reasons(
    survival_protocol: Protocol, write_data: Writer
) -> None:
    staff = _staff([case for case, _ in CASES])
    data = outcomes(survival_protocol, make_allocation(), write_data(staff=staff))
    frame = data.frame("staff")
    for k, (case, (days, event)) in enumerate(CASES):
        assert frame["time_to_leaving"].iloc[k] == days, f"time of {case}"
        assert frame["time_to_leaving_event"].iloc[k] == event, f"event of {case}"
    assert frame["time_to_leaving"].iloc[len(CASES) :].eq(FULL_YEAR - 0).all()
    assert frame["time_to_leaving"].dtype == "float64"


def test_undeclared_reason_is_censoring_with_one_warning(
    survival_protocol: Protocol, write_data: Writer
) -> None:
    rows = [("2019-05-01", "2027-04-01", "End of fixed-term contract")] * 3
    data = outcomes(survival_protocol, make_allocation(), write_data(staff=_staff(rows)))
    found = [w for w in data.warnings if w.location.column == "leaving_reason"]
    assert len(found) == 1, found
    assert "3 rows" in found[0].message and "treated as a censoring" in found[0].message
    assert found[0].location.row == 2 and found[0].fix and "event_reasons" in found[0].fix


def test_end_after_follow_up_end_is_censored_not_an_error(
    survival_protocol: Protocol, write_data: Writer
) -> None:
    rows = [("2019-05-01", "2029-01-01", "Resigned")]
    data = outcomes(survival_protocol, make_allocation(), write_data(staff=_staff(rows)))
    frame = data.frame("staff")
    assert (frame["time_to_leaving"].iloc[0], frame["time_to_leaving_event"].iloc[0]) == (
        FULL_YEAR,
        0,
    )
    assert not [w for w in data.warnings if w.location.column in ("left_on", "leaving_reason")]


@pytest.mark.parametrize(
    ("row", "column", "words"),
    [
        (("2019-05-01", "soon", "Resigned"), "left_on", "'soon' is not a date"),
        (("2019-05-01", "31/02/2027", "Resigned"), "left_on", "is not a date"),
        (("last year", "", ""), "joined_on", "is not a date"),
        (("2027-05-01", "2027-04-01", "Resigned"), "left_on", "before the start of follow-up"),
        (("2019-05-01", "2026-12-01", "Resigned"), "left_on", "the pilot start 2027-03-01"),
        (("2019-05-01", "2027-06-01", ""), "leaving_reason", "no reason is given"),
        (("2019-05-01", "2027-06-01", "Resignd"), "leaving_reason", "did you mean 'resigned'"),
        (("2028-03-05", "", ""), "joined_on", "after the end of follow-up (2028-02-29)"),
    ],
)
def test_date_and_reason_problems_are_located(
    survival_protocol: Protocol,
    write_data: Writer,
    row: tuple[str, str, str],
    column: str,
    words: str,
) -> None:
    staff = _staff([("2019-05-01", "", ""), row])
    with pytest.raises(DataValidationError) as exc:
        outcomes(survival_protocol, make_allocation(), write_data(staff=staff))
    found = _errors(exc, column)
    assert len(found) == 1, [str(i) for i in exc.value.issues]
    issue = found[0]
    assert words in issue.message, issue.message
    assert issue.location.file == "staff.csv" and issue.location.row == 3  # header + 1 row
    assert issue.fix and issue.expected and issue.value is not None


def test_reason_without_end_date_is_a_warning(
    survival_protocol: Protocol, write_data: Writer
) -> None:
    rows = [("2019-05-01", "", "Resigned")]
    data = outcomes(survival_protocol, make_allocation(), write_data(staff=_staff(rows)))
    found = [w for w in data.warnings if w.location.column == "leaving_reason"]
    assert len(found) == 1 and "no end date" in found[0].message
    assert data.frame("staff")["time_to_leaving_event"].iloc[0] == 0


def test_derived_column_already_in_the_file_is_refused(
    survival_protocol: Protocol, write_data: Writer
) -> None:
    staff = _staff([]).assign(time_to_leaving=100)
    with pytest.raises(DataValidationError, match="would be replaced"):
        outcomes(survival_protocol, make_allocation(), write_data(staff=staff))


def test_declared_date_columns_are_required_not_the_time(
    survival_protocol: Protocol, write_data: Writer
) -> None:
    staff = _staff([]).drop(columns=["left_on"])
    with pytest.raises(DataValidationError) as exc:
        outcomes(survival_protocol, make_allocation(), write_data(staff=staff))
    missing = [i for i in exc.value.issues if "is missing" in i.message]
    assert [i.location.column for i in missing] == ["left_on"]


def test_without_event_reasons_every_end_is_the_event(write_data: Writer) -> None:
    """No event reasons: an end date is the event unless its reason is competing."""
    protocol = _protocol({"event_reasons": []})
    rows = [("2019-05-01", "2027-06-01", ""), ("2019-05-01", "2027-06-01", "Transferred")]
    data = outcomes(protocol, make_allocation(), write_data(staff=_staff(rows)))
    events = data.frame("staff")["time_to_leaving_event"]
    assert events.iloc[:2].tolist() == [1, 2]


def test_defaults_start_at_pilot_and_end_at_trial_end(write_data: Writer) -> None:
    """No start or reason column and no follow_up_end: 2027-03-01 to dates.end 2027-12-17."""
    protocol = _protocol(
        {"event_reasons": [], "competing_reasons": []},
        drop=("start_column", "reason_column", "follow_up_end"),
    )
    staff = _staff([("", "2027-06-01", ""), ("", "2027-12-20", "")])
    staff = staff.drop(columns=["joined_on", "leaving_reason"])
    data = outcomes(protocol, make_allocation(), write_data(staff=staff))
    frame = data.frame("staff")
    assert frame["time_to_leaving"].iloc[:3].tolist() == [92, 291, 291]
    assert frame["time_to_leaving_event"].iloc[:3].tolist() == [1, 0, 0]


def test_leavers_are_followed_up_not_lost(survival_protocol: Protocol, write_data: Writer) -> None:
    """Half the staff leave: none of them is attrition; a row without a start date is."""
    staff = make_staff()
    n = len(staff)
    staff["joined_on"] = ["2019-05-01"] * (n - 1) + [""]
    staff["left_on"] = ["2027-06-01" if k % 2 else "" for k in range(n)]
    staff["leaving_reason"] = ["Resigned" if k % 2 else "" for k in range(n)]
    data = outcomes(survival_protocol, make_allocation(), write_data(staff=staff))
    counts = data.attrition.to_frame().query(
        "outcome == 'time_to_leaving' and level == 'individual'"
    )
    assert counts["assigned"].sum() == n
    assert counts["followed_up"].sum() == n - 1, "only the row without a start date is missing"
    flow = data.flow("time_to_leaving").to_frame()
    assert flow["individuals_lost"].sum() == 1
    assert flow["individuals_analysed"].sum() == n - 1
    leavers = int(data.frame("staff")["time_to_leaving_event"].eq(1).sum())
    assert leavers == n // 2 - 1, "every leaver with a start date is an event"


def test_missing_start_is_missing_not_guessed(
    survival_protocol: Protocol, write_data: Writer
) -> None:
    staff = _staff([("", "2027-06-01", "Resigned")])
    frame = outcomes(survival_protocol, make_allocation(), write_data(staff=staff)).frame("staff")
    assert np.isnan(frame["time_to_leaving"].iloc[0])
    assert np.isnan(frame["time_to_leaving_event"].iloc[0])


def test_no_end_of_follow_up_is_reported(write_data: Writer) -> None:
    data = copy.deepcopy(_raw())
    data.pop("dates")
    outcome = next(o for o in data["outcomes"] if o["name"] == "time_to_leaving")
    outcome["survival"].pop("follow_up_end")
    protocol = Protocol.model_validate(data, context={"defer_rules": True})
    with pytest.raises(DataValidationError, match="no end of follow-up"):
        outcomes(protocol, make_allocation(), write_data(staff=_staff([])))


def test_input_files_are_unchanged(survival_protocol: Protocol, write_data: Writer) -> None:
    paths = write_data(staff=_staff([case for case, _ in CASES]))
    before = {p: Path(p).read_bytes() for p in paths}
    outcomes(survival_protocol, make_allocation(), paths)
    assert {p: Path(p).read_bytes() for p in paths} == before
