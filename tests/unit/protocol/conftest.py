"""Helpers for protocol tests: minimal text mutations of the flagship and error checks."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from trialkit.errors import Issue, ProtocolError
from trialkit.protocol import parse_protocol

SOURCE = "pilot.yaml"


def mutate_text(text: str, old: str, new: str) -> str:
    """Replace the first occurrence of ``old`` (which must be present) by ``new``."""
    assert old in text, f"the flagship no longer contains {old!r}; update the test"
    return text.replace(old, new, 1)


def line_of(text: str, needle: str, nth: int = 1) -> int:
    """1-based number of the ``nth`` line containing ``needle`` (``^`` anchors at line start)."""
    anchored = needle.startswith("^")
    seen = 0
    for number, line in enumerate(text.splitlines(), start=1):
        if line.startswith(needle[1:]) if anchored else needle in line:
            seen += 1
            if seen == nth:
                return number
    raise AssertionError(f"{needle!r} not found {nth} times")


def expect_protocol_error(text: str, match: str, *, field: str | None, line: int | None) -> Issue:
    """Parse ``text``; assert a ProtocolError matching ``match`` with an issue at field/line."""
    with pytest.raises(ProtocolError, match=match) as info:
        parse_protocol(text, source=SOURCE)
    issues = info.value.issues
    matching = [i for i in issues if re.search(match, str(i))]
    assert matching, [str(i) for i in issues]
    issue = matching[0]
    assert issue.location.file == SOURCE
    assert issue.location.field == field, str(issue)
    assert issue.location.line == line, str(issue)
    assert issue.fix, f"no fix given: {issue}"
    assert f"{SOURCE}, line {line}" in str(info.value) if line else SOURCE in str(info.value)
    return issue


class Flagship:
    """The flagship's text with helpers to mutate it and check the errors that follow."""

    def __init__(self, text: str) -> None:
        self.text = text

    def edit(self, *pairs: tuple[str, str]) -> str:
        """The flagship with each ``(old, new)`` replacement applied once, in order."""
        text = self.text
        for old, new in pairs:
            text = mutate_text(text, old, new)
        return text

    line = staticmethod(line_of)
    expect = staticmethod(expect_protocol_error)


@pytest.fixture(scope="session")
def flagship_text(flagship_path: Path) -> str:
    """The flagship protocol's YAML text."""
    return flagship_path.read_text(encoding="utf-8")


@pytest.fixture(scope="session")
def flag(flagship_text: str) -> Flagship:
    """Mutation and error-checking helpers around the flagship's text."""
    return Flagship(flagship_text)
