"""Errors that help: every trialkit error says what is wrong, where, and how to fix it.

This module imports nothing from trialkit. The CLI prints a :class:`TrialkitError`'s
message and exits with status 2, without a traceback.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

#: ``finding``: a result worth knowing (a spend that broke a budget rule), never blocking.
Severity = Literal["error", "warning", "finding"]


@dataclass(frozen=True, slots=True)
class Location:
    """Where a problem is: a file, and optionally a line, a row, a column or a field path.

    ``row`` counts as a spreadsheet user sees it (header = row 1); ``line`` counts
    lines of a text file from 1. For an Excel workbook, ``sheet`` names the worksheet and
    ``letter`` the column's letter (``sheet "Clients", row 14, column C ("wellbeing")``).
    """

    file: str | None = None
    line: int | None = None
    row: int | None = None
    column: str | None = None
    field: str | None = None
    sheet: str | None = None
    letter: str | None = None

    def __str__(self) -> str:
        parts: list[str] = []
        if self.file:
            parts.append(self.file)
        if self.sheet:
            parts.append(f'sheet "{self.sheet}"')
        if self.line is not None:
            parts.append(f"line {self.line}")
        if self.row is not None:
            parts.append(f"row {self.row}")
        if self.column is not None and self.letter:
            parts.append(f'column {self.letter} ("{self.column}")')
        elif self.column is not None:
            parts.append(f'column "{self.column}"')
        text = ", ".join(parts)
        if self.field:
            text = f"{text} ({self.field})" if text else self.field
        return text


@dataclass(frozen=True, slots=True)
class Issue:
    """One located problem: what is wrong, where, and how to fix it."""

    message: str
    location: Location = Location()
    fix: str | None = None
    severity: Severity = "error"
    value: str | None = None
    expected: str | None = None

    def __str__(self) -> str:
        where = str(self.location)
        text = f"{where}: {self.message}" if where else self.message
        if self.fix:
            text += f" Fix: {self.fix}"
        return text


class TrialkitError(Exception):
    """Base of every error trialkit raises for a user's mistake.

    The CLI prints the message and exits 2, with no traceback.
    """


class _IssuesError(TrialkitError):
    """An error that carries every located issue found in one pass.

    ``text``, when given, is the message printed instead of one line per issue (e.g. with
    repeated issues grouped); ``.issues`` still holds every issue.
    """

    def __init__(
        self,
        issues: tuple[Issue, ...] | list[Issue],
        header: str | None = None,
        *,
        text: str | None = None,
    ):
        self.issues: tuple[Issue, ...] = tuple(issues)
        lines = [str(issue) for issue in self.issues] if text is None else [text]
        if header:
            lines.insert(0, header)
        super().__init__("\n".join(lines))


class ProtocolError(_IssuesError, ValueError):
    """A pilot protocol is invalid; ``.issues`` holds every located problem."""


class DataValidationError(_IssuesError, ValueError):
    """Outcome or unit data do not match the protocol or allocation; ``.issues`` holds all."""


class RandomisationError(TrialkitError, ValueError):
    """Units cannot be randomised as declared (e.g. a block too small for the arms)."""


class RegistrationError(TrialkitError):
    """A registration, ledger or frozen file is missing, altered, or would be overwritten."""


class EstimationError(TrialkitError, ValueError):
    """An estimator cannot be computed from the data given (e.g. one arm is empty)."""


class OverwriteError(TrialkitError, FileExistsError):
    """Refusing to overwrite an existing output without ``force``."""


class MissingExtraError(TrialkitError, ImportError):
    """An optional dependency is needed; the message says how to install it."""
