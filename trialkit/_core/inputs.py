"""What trialkit agrees to read: regular files, within limits a real pilot never reaches.

A protocol is a few kilobytes and a sheet of a workbook at most Excel's 1,048,576 rows, but a
path can name a directory or a device (``/dev/zero`` never ends), a YAML file of 1 KB can
expand through aliases into a billion values, and a small ``.xlsx`` can unzip into gigabytes.
Each is refused before any parsing, with the limit named and the environment variable that
raises it.
"""

from __future__ import annotations

import os
import stat
from dataclasses import dataclass
from pathlib import Path

from trialkit.errors import TrialkitError


@dataclass(frozen=True, slots=True)
class Limit:
    """A bound on an input, with a default and the environment variable that overrides it.

    Examples
    --------
    >>> PROTOCOL_MB.value()
    5
    >>> PROTOCOL_MB.fix()
    'or raise the limit: set TRIALKIT_MAX_PROTOCOL_MB (now 5) in the environment.'
    """

    what: str
    variable: str
    default: int
    unit: str

    def value(self) -> int:
        """The limit in force: the environment variable when it is a positive whole number."""
        text = os.environ.get(self.variable, "").strip()
        if not text:
            return self.default
        if not text.isdigit() or int(text) == 0:
            raise TrialkitError(
                f"{self.variable}={text!r} is not a positive whole number. "
                f"Fix: set it to a number of {self.unit} such as "
                f"{self.default}, or unset it."
            )
        return int(text)

    def fix(self) -> str:
        """How to raise the limit, ending a Fix: hint."""
        return f"or raise the limit: set {self.variable} (now {self.value()}) in the environment."

    def exceeded(self, amount: float) -> str | None:
        """The problem when ``amount`` (in this limit's unit) is over the limit, else None."""
        if amount <= self.value():
            return None
        shown = f"{amount:,.1f}" if self.unit == "MB" else f"{amount:,.0f}"
        return (
            f"the {self.what} is {shown} {self.unit}, over the limit of "
            f"{self.value():,} {self.unit}"
        )


MB = 1024 * 1024
#: What :func:`not_regular` says of a path that does not exist.
NOT_FOUND = "file not found"

#: A protocol file on disk (the bundled ones are under 0.05 MB).
PROTOCOL_MB = Limit("protocol file", "TRIALKIT_MAX_PROTOCOL_MB", 5, "MB")
#: Values in a protocol once YAML aliases are expanded (the flagship has about 2,000).
PROTOCOL_VALUES = Limit(
    "protocol, with its YAML aliases expanded,", "TRIALKIT_MAX_PROTOCOL_VALUES", 100_000, "values"
)
#: A workbook's content once unzipped (a million-row sheet is a few hundred MB).
WORKBOOK_MB = Limit("workbook, unzipped,", "TRIALKIT_MAX_WORKBOOK_MB", 2048, "MB")
#: Rows of a workbook's sheet: Excel's own maximum.
SHEET_ROWS = Limit("first sheet", "TRIALKIT_MAX_SHEET_ROWS", 1_048_576, "rows")
#: Cells of a workbook's sheet. A spreadsheet parser holds about 100 bytes per cell, so a
#: few kilobytes of zipped XML can ask for gigabytes; 5 million cells (250,000 rows of 20
#: columns) stay within about 500 MB, and a CSV of any size is read without this limit.
SHEET_CELLS = Limit("first sheet", "TRIALKIT_MAX_SHEET_CELLS", 5_000_000, "cells")


def not_regular(path: str | os.PathLike[str]) -> tuple[str, str] | None:
    """Why ``path`` cannot be read as a file (missing, a directory, a device) and the fix.

    Examples
    --------
    >>> not_regular("/dev/null")
    ('is not a regular file (it is a device, pipe or socket)', 'give the path of a file.')
    """
    try:
        mode = os.stat(path).st_mode
    except FileNotFoundError:
        return NOT_FOUND, "check the path and its spelling."
    except OSError as exc:
        return f"cannot be opened ({exc.strerror})", "check the path and its permissions."
    if stat.S_ISDIR(mode):
        return "is a directory, not a file", "give the path of a file inside it."
    if not stat.S_ISREG(mode):
        return "is not a regular file (it is a device, pipe or socket)", "give the path of a file."
    return None


def file_mb(path: str | os.PathLike[str]) -> float:
    """Size of a file in MB (MiB)."""
    return Path(path).stat().st_size / MB
