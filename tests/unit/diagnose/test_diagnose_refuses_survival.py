"""Diagnosis refuses time-to-event outcomes rather than simulating them as scores."""

from __future__ import annotations

import pytest

from trialkit.diagnose.simulate import select_outcomes
from trialkit.errors import TrialkitError
from trialkit.protocol import bundled_path, load_protocol


def test_time_to_event_outcomes_are_refused_by_name_and_in_compared() -> None:
    protocol = load_protocol(bundled_path("council_discretionary_budget"))
    assert "time_to_leaving" not in select_outcomes(protocol, "primary")
    for chosen in ("compared", ["time_to_leaving"]):
        with pytest.raises(TrialkitError, match="time-to-event outcomes \\(time_to_leaving\\)"):
            select_outcomes(protocol, chosen)
