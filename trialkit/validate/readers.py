"""Read outcome data from the formats councils use: CSV, Excel, Stata, SPSS and parquet.

The reader is chosen by the file's extension. Id columns are always read as text, so
``007`` stays ``007`` and an Excel id typed as ``12`` does not become ``12.0``. Stata and
SPSS value labels are kept beside the frame, so labelled codes of an ordinal outcome can
be mapped to their labels. Files are opened read-only and never changed.
"""

from __future__ import annotations

import os
from collections.abc import Callable, Collection, Mapping
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from trialkit._core.inputs import not_regular
from trialkit._core.spreadsheet import escaped_by_trialkit, restore_frame
from trialkit.errors import DataValidationError, Issue, Location
from trialkit.validate.excel import excel_errors
from trialkit.validate.texts import needs_trimming

#: Extensions trialkit reads, and the format each means.
FORMATS: Mapping[str, str] = {
    ".csv": "CSV",
    ".xlsx": "Excel workbook",
    ".dta": "Stata dataset",
    ".sav": "SPSS dataset",
    ".parquet": "Parquet file",
}


@dataclass(frozen=True, slots=True, eq=False)
class RawTable:
    """One data file as read, before any checking.

    Attributes
    ----------
    path
        The file read.
    frame
        Its rows; row ``i`` (from 0) is spreadsheet row ``i + 2`` (the header is row 1).
    value_labels
        Stata/SPSS value labels: column → {code: label}; empty for other formats.
    sheet
        The worksheet read, for an Excel workbook (its first sheet); ``None`` otherwise.
    cell_errors
        Excel error values (``#DIV/0!``, ``#N/A``, …) in that sheet, as
        ``(row, column index from 0, error)``; they are read as empty cells.
    problems
        Located errors in the values read (an infinite or absurd number), kept when
        :func:`read_table` is asked to keep them rather than raise.
    """

    path: Path
    frame: pd.DataFrame
    value_labels: Mapping[str, Mapping[Any, str]] = field(default_factory=dict)
    sheet: str | None = None
    cell_errors: tuple[tuple[int, int, str], ...] = ()
    problems: tuple[Issue, ...] = ()

    @property
    def name(self) -> str:
        """The file name used in messages."""
        return self.path.name


def _id_text(series: pd.Series) -> pd.Series:
    """Ids as text: whole numbers lose a trailing ``.0``; missing stays missing."""
    if pd.api.types.is_float_dtype(series.dtype):
        whole = series.dropna()
        if bool((whole == whole.round()).all()):
            return series.astype("Int64").astype("str").where(series.notna(), None)
    if pd.api.types.is_numeric_dtype(series.dtype) or pd.api.types.is_bool_dtype(series.dtype):
        return series.astype("str").where(series.notna(), None)
    if pd.api.types.is_string_dtype(series.dtype) and series.dtype != object:
        return series.str.strip() if needs_trimming(series) else series
    text = series.astype("str").where(series.notna(), None)
    return text.str.strip()


def _ids_as_text(frame: pd.DataFrame, id_columns: Collection[str]) -> pd.DataFrame:
    present = [c for c in frame.columns if c in id_columns]
    if not present:
        return frame
    frame = frame.copy(deep=False)
    for column in present:
        frame[column] = _id_text(frame[column])
    return frame


#: Byte-order marks of encodings trialkit does not read, longest first (UTF-32 LE starts
#: with UTF-16 LE's mark).
_OTHER_ENCODINGS = (
    (b"\xff\xfe\x00\x00", "UTF-32 (little-endian)"),
    (b"\x00\x00\xfe\xff", "UTF-32 (big-endian)"),
    (b"\xff\xfe", "UTF-16 (little-endian)"),
    (b"\xfe\xff", "UTF-16 (big-endian)"),
)
_SAVE_UTF8 = "save it again as 'CSV UTF-8' from your spreadsheet program."


def _encoding_problem(path: Path) -> DataValidationError | None:
    """The error for a CSV in an encoding read wrongly as Windows-1252 (UTF-16, binary)."""
    with open(path, "rb") as handle:
        head = handle.read(1 << 16)
    for mark, name in _OTHER_ENCODINGS:
        if head.startswith(mark):
            return _unreadable(
                path,
                f"is {name} text (it starts with that encoding's "
                "byte-order mark); trialkit reads UTF-8 or Windows-1252 CSV.",
                _SAVE_UTF8,
            )
    nul = head.find(b"\x00")
    if nul >= 0:
        return _unreadable(
            path,
            f"holds a NUL byte at byte {nul + 1}: it is UTF-16 text "
            "without a byte-order mark, or not text at all.",
            _SAVE_UTF8,
        )
    return None


def _read_csv(path: Path, id_columns: Collection[str]) -> RawTable:
    problem = _encoding_problem(path)
    if problem is not None:
        raise problem
    # UTF-8 first (with or without Excel's byte-order mark), then Windows-1252, which is
    # what Excel on Windows writes for a plain "CSV" in the UK.
    for encoding in ("utf-8-sig", "cp1252"):
        try:
            frame = pd.read_csv(path, encoding=encoding)
            if not isinstance(frame.index, pd.RangeIndex):  # extra values became an index
                raise DataValidationError(
                    [
                        Issue(
                            "this row has more values than the header has column names",
                            Location(file=str(path), row=2),
                            fix="remove the extra values (a trailing comma, say), or name "
                            "their columns in the header row.",
                        )
                    ]
                )
            # Ids that look like numbers ("007") are read again as text, so leading zeros
            # survive; forcing text up front would slow every file down.
            numeric = [
                c
                for c in frame.columns
                if c in id_columns and not pd.api.types.is_string_dtype(frame[c].dtype)
            ]
            if numeric:
                text = pd.read_csv(path, usecols=numeric, dtype="str", encoding=encoding)
                frame[numeric] = text[numeric]
        except UnicodeDecodeError:
            continue
        return RawTable(path, _ids_as_text(frame, id_columns))
    raise _unreadable(path, "is neither UTF-8 nor Windows-1252 text.", _SAVE_UTF8)


def _read_excel(path: Path, id_columns: Collection[str]) -> RawTable:
    import python_calamine

    errors = excel_errors(path)  # first: it refuses a workbook over the limits unparsed
    # Id cells keep their own type: text "007" stays text (pandas would read a column of
    # such texts as the number 7); numeric cells are made text by _ids_as_text.
    frame = pd.read_excel(
        path, engine="calamine", sheet_name=0, dtype=dict.fromkeys(id_columns, object)
    )
    sheet = python_calamine.CalamineWorkbook.from_path(str(path)).sheet_names[0]
    return RawTable(path, _ids_as_text(frame, id_columns), sheet=sheet, cell_errors=errors)


def _read_parquet(path: Path, id_columns: Collection[str]) -> RawTable:
    if path.is_dir():  # one table in parts, read in the order of their names
        parts = [str(p) for p in parquet_parts(path)]  # pyarrow reads a list as one table
        frame = pd.read_parquet(parts)  # type: ignore[call-overload]
        return RawTable(path, _ids_as_text(frame, id_columns))
    return RawTable(path, _ids_as_text(pd.read_parquet(path), id_columns))


def parquet_parts(folder: Path) -> list[Path]:
    """The ``.parquet`` files that make up one level's table, in the order of their names.

    Names starting with ``.`` or ``_`` (``_SUCCESS``, ``_metadata``, checksums) are
    skipped, as Arrow and Dask skip them. Every part must have the first part's columns,
    in its order and of its types. Messages about the rows name the folder, and number
    the rows through the parts in this order (the header is row 1).

    Raises
    ------
    DataValidationError
        If the folder holds no part, a file of another kind or a folder, or parts whose
        columns differ; each issue names the file.
    """
    fix = (
        "a folder given as data holds only the `.parquet` parts of one level's table "
        "(written with `dask.dataframe.to_parquet`, say); move other files out of it."
    )
    entries = sorted(e for e in folder.iterdir() if not e.name.startswith((".", "_")))
    issues = [
        Issue(
            "is a folder inside a folder of parts" if e.is_dir() else "is not a Parquet file",
            Location(file=str(e)),
            fix=fix,
        )
        for e in entries
        if e.is_dir() or e.suffix.lower() != ".parquet"
    ]
    if issues:
        raise DataValidationError(issues)
    if not entries:
        raise _unreadable(
            folder,
            "is a folder with no `.parquet` file in it.",
            "put the level's `.parquet` parts in it, or give the path of one data file.",
        )
    first = _schema(entries[0])
    for part in entries[1:]:
        schema = _schema(part)
        if schema != first:
            raise _unreadable(
                part,
                f"has other columns than {entries[0].name}, the first part of "
                f"{folder.name}: {_schema_change(first, schema)}.",
                "write every part with the same columns and types, e.g. from one "
                "DataFrame with `dask.dataframe.to_parquet`.",
            )
    return entries


def _schema(part: Path) -> Any:
    """The Arrow schema of one part, without the metadata that differs between parts."""
    import pyarrow.parquet as pq  # type: ignore[import-untyped]

    try:
        return pq.read_schema(part).remove_metadata()
    except Exception as exc:  # Arrow's errors, for a damaged file or one of another kind
        raise _unreadable(
            part,
            f"could not be read as a {FORMATS['.parquet']}: {exc}",
            f"write the part again as a {FORMATS['.parquet']}, or move it out of the folder.",
        ) from exc


def _schema_change(first: Any, other: Any) -> str:
    """What differs between two Arrow schemas, in words."""
    missing = [n for n in first.names if n not in other.names]
    extra = [n for n in other.names if n not in first.names]
    if missing or extra:
        said = [f"no column {', '.join(missing)}"] if missing else []
        return "; ".join(said + ([f"an extra column {', '.join(extra)}"] if extra else []))
    changed = [
        f"`{n}` is {other.field(n).type}, not {first.field(n).type}"
        for n in first.names
        if other.field(n).type != first.field(n).type
    ]
    return "; ".join(changed) or "its columns are in another order"


def _read_stat(path: Path, id_columns: Collection[str]) -> RawTable:
    import pyreadstat

    stata = path.suffix.lower() == ".dta"
    reader = pyreadstat.read_dta if stata else pyreadstat.read_sav
    # The header alone first: from a damaged one (a row count in the billions) pyreadstat
    # would allocate gigabytes before failing. A Stata row takes a byte per column at least.
    _, head = reader(str(path), metadataonly=True)
    rows, size = head.number_rows or 0, path.stat().st_size
    if stata and rows * max(head.number_columns or 0, 1) > size:
        raise _unreadable(
            path,
            f"its header claims {rows} rows, more than its {size} bytes can hold: the file "
            "is cut short or damaged.",
            f"open it in the program that made it and save it again as a {FORMATS['.dta']}.",
        )
    frame, meta = reader(str(path), dates_as_pandas_datetime=True)
    labels = {str(k): dict(v) for k, v in (meta.variable_value_labels or {}).items()}
    return RawTable(path, _ids_as_text(frame, id_columns), labels)


_READERS: Mapping[str, Callable[[Path, Collection[str]], RawTable]] = {
    ".csv": _read_csv,
    ".xlsx": _read_excel,
    ".dta": _read_stat,
    ".sav": _read_stat,
    ".parquet": _read_parquet,
}


def _unreadable(path: Path, message: str, fix: str) -> DataValidationError:
    return DataValidationError([Issue(message, Location(file=str(path)), fix=fix)])


def read_table(
    path: str | os.PathLike[str], *, id_columns: Collection[str] = (), keep_problems: bool = False
) -> RawTable:
    """Read one data file, choosing the reader by its extension.

    Parameters
    ----------
    path
        A ``.csv``, ``.xlsx``, ``.dta``, ``.sav`` or ``.parquet`` file, or a folder of
        ``.parquet`` files that are one table in parts (:func:`parquet_parts`).
    id_columns
        Columns read as text (ids of units and levels).
    keep_problems
        Return a table whose values hold errors (an infinite or absurd number) with them
        in ``problems``, so the file's other checks still run; raise them otherwise.

    Returns
    -------
    RawTable
        The rows, and Stata/SPSS value labels where present.

    Raises
    ------
    DataValidationError
        If the file is missing, has another extension, or cannot be parsed.

    Examples
    --------
    >>> import tempfile, pathlib
    >>> d = pathlib.Path(tempfile.mkdtemp())
    >>> _ = (d / "t.csv").write_text("team_id,x\\n007,1\\n")
    >>> read_table(d / "t.csv", id_columns={"team_id"}).frame["team_id"].tolist()
    ['007']
    """
    p = Path(path)
    parts = p.is_dir() and p.suffix.lower() in ("", ".parquet")  # a folder: a table in parts
    suffix = ".parquet" if parts else p.suffix.lower()
    if suffix not in _READERS:
        known = ", ".join(f"{ext} ({what})" for ext, what in FORMATS.items())
        raise _unreadable(
            p,
            f"trialkit cannot read '{suffix or 'no extension'}' files.",
            f"save the data as one of: {known}.",
        )
    problem = None if parts else not_regular(p)  # "d.csv/" is a folder, not a CSV
    if problem is not None:
        raise _unreadable(p, *problem)
    try:
        table = _READERS[suffix](p, frozenset(id_columns))
    except DataValidationError:
        raise
    except Exception as exc:  # every parser raises its own types; the user needs one message
        raise _unreadable(
            p,
            f"could not be read as a {FORMATS[suffix]}: {exc}",
            f"open it in the program that made it and save it again as a {FORMATS[suffix]}.",
        ) from exc
    if suffix == ".csv" and escaped_by_trialkit(p):  # simulate's data: cells read as written
        restore_frame(table.frame)
    table.frame.columns = [str(c).strip() for c in table.frame.columns]
    issues = _absurd_numbers(table)
    if issues and not keep_problems:
        raise DataValidationError(issues)
    return replace(table, problems=tuple(issues)) if issues else table


#: No count, score, age or amount of money in a pilot comes near this; a value beyond it
#: (``1e308``) is a typing or export error, and squaring it in a regression overflows.
ABSURD = 1e15


def _absurd_numbers(table: RawTable, *, limit: int = 20) -> list[Issue]:
    """Every infinite or absurdly large number (up to ``limit`` per column), located."""
    issues: list[Issue] = []
    for position, column in enumerate(table.frame.columns):
        values = table.frame.iloc[:, position]
        if not pd.api.types.is_float_dtype(values.dtype):
            continue
        plain = values.dtype == np.float64  # NaN is already missing: no copy needed
        numbers = values.to_numpy() if plain else values.to_numpy(dtype=float, na_value=np.nan)
        if (
            not len(numbers)
            or -ABSURD <= np.fmin.reduce(numbers) <= np.fmax.reduce(numbers) <= ABSURD
        ):
            continue  # the smallest and largest (NaN skipped) are plausible: so is every one
        bad = np.flatnonzero(np.abs(numbers) > ABSURD)  # infinities too; NaN never
        for row in bad[:limit]:
            issues.append(
                Issue(
                    f"`{values.iloc[row]}` is not a finite number of a plausible size (beyond "
                    f"±{ABSURD:.0e})",
                    Location(file=table.name, row=int(row) + 2, column=str(column)),
                    fix="correct the value, or leave the cell empty if it is unknown.",
                    value=str(values.iloc[row]),
                )
            )
    return issues
