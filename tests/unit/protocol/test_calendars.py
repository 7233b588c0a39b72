"""The calendar codes `check` accepts are those `holidays` knows; the cache only saves time."""

from __future__ import annotations

from pathlib import Path

import holidays
import pytest

from trialkit.protocol import calendars
from trialkit.protocol.calendars import calendar_codes


@pytest.fixture
def cache_dir(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    monkeypatch.setenv("TRIALKIT_CACHE_DIR", str(tmp_path / "cache"))
    return tmp_path / "cache"


@pytest.mark.parametrize(
    "code", ["GB", "GB-ENG", "GB-SCT", "GB-WLS", "GB-NIR", "IE", "FR", "DE-BY"]
)
def test_known_codes_build_a_calendar(cache_dir: Path, code: str) -> None:
    assert code in calendar_codes()
    country, _, subdiv = code.partition("-")
    assert holidays.country_holidays(country, subdiv=subdiv or None, years=2027)


@pytest.mark.parametrize("code", ["GB-XYZ", "XX", "gb-eng", "GB-ZZ", "England"])
def test_unknown_codes_are_refused_as_holidays_refuses_them(cache_dir: Path, code: str) -> None:
    assert code not in calendar_codes()
    country, _, subdiv = code.partition("-")
    with pytest.raises(NotImplementedError):
        holidays.country_holidays(country, subdiv=subdiv or None, years=2027)


def test_the_second_call_reads_the_cache(cache_dir: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    first = calendar_codes()
    [cached] = cache_dir.iterdir()

    def refuse() -> frozenset[str]:
        raise AssertionError("holidays asked again although the cache exists")

    monkeypatch.setattr(calendars, "_ask_holidays", refuse)
    assert calendar_codes() == first
    assert cached.read_text(encoding="utf-8").startswith('{"codes": [')


def test_a_broken_cache_is_rebuilt(cache_dir: Path) -> None:
    first = calendar_codes()
    [cached] = cache_dir.iterdir()
    cached.write_text('{"codes": ', encoding="utf-8")
    assert calendar_codes() == first
    assert calendar_codes() == first  # and stored again
    assert cached.read_text(encoding="utf-8").endswith("]}")


def test_an_unwritable_cache_costs_time_not_answers(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    blocker = tmp_path / "not-a-directory"
    blocker.write_text("", encoding="utf-8")
    monkeypatch.setenv("TRIALKIT_CACHE_DIR", str(blocker / "cache"))
    assert "GB-ENG" in calendar_codes()
    assert list(tmp_path.iterdir()) == [blocker]
