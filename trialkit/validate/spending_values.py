"""Values of the spend ledger judged one column at a time: amounts, currencies, ids,
categories and verdicts, dates, losses. Each problem is a located data error.

Values are judged through their distinct values where possible, so a million spends with
a few hundred clients, categories and days stay cheap.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Sequence
from dataclasses import dataclass

import numpy as np
import pandas as pd
from numpy.typing import NDArray

from trialkit.errors import Issue, Location
from trialkit.protocol.model import Protocol
from trialkit.validate.coding import blank_mask, normalise
from trialkit.validate.frames import DistinctDates, Factorized, code_dates, distinct_dates
from trialkit.validate.issues import MAX_ROWS_PER_RULE, sheet_row, show
from trialkit.validate.texts import short_keys

BoolArray = NDArray[np.bool_]
IntArray = NDArray[np.int64]


#: Known ids from which short ids are looked up as numbers rather than as text.
LARGE_ID_SET = 1 << 16


@dataclass(frozen=True, slots=True)
class People:
    """The ids of a level the ledger points to: its ``role`` (``worker`` or ``client``).

    ``file`` is ``None`` when no file of that level was given: ids cannot be checked.
    ``positions``, if already found, is each spend's position in ``ids`` (−1: not there),
    and ``blank`` where the spend's id is blank.
    """

    level: str
    role: str
    file: str | None
    ids: pd.Index
    positions: IntArray | None = None
    blank: BoolArray | None = None


def _key(text: object) -> str:
    """A code compared as a name: case, spaces, hyphens and underscores ignored."""
    return normalise(text).replace(" ", "_").replace("-", "_")


def located(
    mask: BoolArray,
    raw: pd.Series,
    *,
    file: str,
    column: str,
    message: Callable[[int, str], str],
    fix: str,
    expected: str | None = None,
) -> list[Issue]:
    """One error per flagged row (the message sees the row's position and value as typed),
    up to :data:`MAX_ROWS_PER_RULE`, then one count of the rest."""
    flagged = np.flatnonzero(mask)
    if flagged.size == 0:
        return []
    listed = flagged[:MAX_ROWS_PER_RULE]
    values = raw.iloc[listed].to_numpy()
    index = raw.index.to_numpy()[listed]
    issues = [
        Issue(
            message(int(i), show(value)),
            Location(file=file, row=sheet_row(row), column=column),
            fix=fix,
            value=show(value),
            expected=expected,
        )
        for i, value, row in zip(listed, values, index, strict=True)
    ]
    if flagged.size > MAX_ROWS_PER_RULE:
        issues.append(
            Issue(
                f"{flagged.size - MAX_ROWS_PER_RULE:,} more rows have the same problem "
                "(not listed one by one).",
                Location(file=file, column=column),
                fix=fix,
                expected=expected,
            )
        )
    return issues


def numbers(raw: pd.Series) -> tuple[NDArray[np.float64], BoolArray, BoolArray]:
    """Values as floats, where text is not a number, and where the cell is empty."""
    if pd.api.types.is_numeric_dtype(raw.dtype) and not pd.api.types.is_bool_dtype(raw.dtype):
        plain = raw.dtype == np.float64  # NaN is already missing: the column itself, no copy
        values = raw.to_numpy() if plain else raw.to_numpy(dtype="float64", na_value=np.nan)
        blank = np.isnan(values)
        return values, np.zeros(len(raw), dtype=bool), blank
    values = pd.to_numeric(raw, errors="coerce").to_numpy(dtype="float64", na_value=np.nan)
    blank = blank_mask(raw)
    return values, np.isnan(values) & ~blank, blank


def amounts(raw: pd.Series, *, file: str, column: str) -> tuple[pd.Series, list[Issue]]:
    values, bad, blank = numbers(raw)
    where = {"file": file, "column": column, "expected": "an amount of 0 or more"}
    issues = located(
        bad,
        raw,
        message=lambda i, v: f"'{v}' is not an amount of money.",
        fix="type the number alone, without a currency sign or words (12.50, not £12.50).",
        **where,
    )
    issues += located(
        blank,
        raw,
        message=lambda i, v: "the amount is empty.",
        fix="give the amount spent, in the budget's currency.",
        **where,
    )
    issues += located(
        values < 0,
        raw,
        message=lambda i, v: f"{v} is negative; an amount spent is 0 or more.",
        fix="correct the amount; a refund corrects the original spend's row, it is not a "
        "negative spend.",
        **where,
    )
    return pd.Series(values, index=raw.index, dtype="float64", copy=False), issues


def currencies(
    raw: pd.Series,
    arm: IntArray,
    expected: Sequence[str],
    *,
    file: str,
    column: str,
    factorized: Factorized | None = None,
) -> list[Issue]:
    """Codes other than the arm's budget currency (``expected[arm]``); empty is fine."""
    codes, uniques = factorized or pd.factorize(raw, use_na_sentinel=True)
    texts = [normalise(u).upper() for u in uniques]
    # ok[arm, value]: the value is blank or the arm's currency; unknown units are not judged.
    ok = np.ones((len(expected) + 1, len(texts) + 1), dtype=bool)
    for a, code in enumerate(expected):
        ok[a, : len(texts)] = [t in ("", code) for t in texts]
    if ok.all():  # every value is blank or every arm's currency
        return []
    row_arm = np.where(arm < 0, len(expected), arm)
    bad = ~ok[row_arm, np.where(codes < 0, len(texts), codes)]
    return located(
        bad,
        raw,
        file=file,
        column=column,
        message=lambda i, v: f"'{v}' is not the budget's currency ({expected[row_arm[i]]}).",
        fix="convert the amount into the budget's currency and write its code, or correct "
        "the code.",
        expected="the budget's currency",
    )


def positions_in(values: pd.Series, known: pd.Index) -> IntArray:
    """Each value's position in ``known`` (its first), −1 where it is not there or missing.

    Text is looked up with Arrow's hash table; short ids (up to 7 bytes) among many
    (:data:`LARGE_ID_SET`), whose table outgrows the processor's caches, as numbers
    (:func:`~trialkit.validate.texts.short_keys`). The positions then serve as the values' codes.
    """
    import pyarrow as pa  # type: ignore[import-untyped]
    import pyarrow.compute as pc  # type: ignore[import-untyped]

    if len(known) >= LARGE_ID_SET:
        keys, wanted = short_keys(values), short_keys(pd.Series(known))
        if keys is not None and wanted is not None:
            table = pd.Index(wanted)
            if table.is_unique:
                return np.asarray(table.get_indexer(pd.Index(keys)), dtype=np.int64)
    if pd.api.types.is_string_dtype(values.dtype) and pd.api.types.is_string_dtype(known.dtype):
        try:
            array = pa.array(values.array)
            wanted = pa.array(pd.Series(known).array).cast(array.type)
            found = pc.index_in(array, value_set=wanted).fill_null(-1)
            return np.asarray(found.to_numpy(zero_copy_only=False), dtype=np.int64)
        except (pa.ArrowInvalid, pa.ArrowTypeError, pa.ArrowNotImplementedError):
            pass
    return np.asarray(pd.Index(known).get_indexer_for(values), dtype=np.int64)


def people_ids(
    raw: pd.Series, people: People, *, file: str, column: str
) -> tuple[list[Issue], IntArray | None]:
    """Empty ids, and ids not in the level's file (a warning when there is no such file);
    each id's position in that file (``None`` without the file)."""
    what = people.role
    blank = blank_mask(raw) if people.blank is None else people.blank
    issues = located(
        blank,
        raw,
        file=file,
        column=column,
        message=lambda i, v: f"the {what} id is empty.",
        fix=f"give the id of the {what}, as in the `{people.level}` file.",
        expected=f"a {what} id",
    )
    if people.file is None:
        return [
            *issues,
            Issue(
                f"{what} ids cannot be checked: no data file holds level `{people.level}`.",
                Location(file=file, column=column),
                severity="warning",
                fix=f"give the `{people.level}` file too, so each spend's {what} is checked.",
            ),
        ], None
    found = positions_in(raw, people.ids) if people.positions is None else people.positions
    issues += located(
        (found < 0) & ~blank,
        raw,
        file=file,
        column=column,
        message=lambda i, v: f"{what} '{v}' is not in {people.file} (unknown {what}).",
        fix=f"correct the {what} id, or add the {what} to {people.file}.",
        expected=f"a {what} id of {people.file}",
    )
    return issues, found


def names(
    raw: pd.Series,
    names: tuple[str, ...],
    *,
    file: str,
    column: str,
    what: str,
    fix: str,
    required: bool,
    factorized: Factorized | None = None,
) -> tuple[pd.Series, IntArray, list[Issue]]:
    """Codes as their declared ``names`` (case, spaces and hyphens ignored): the names
    (NaN where empty or unknown), their positions in ``names`` (−1), and the issues.
    ``what`` names one value (``category``); empty cells are issues if ``required``."""
    lookup = {_key(n): k for k, n in enumerate(names)}
    codes, uniques = factorized or pd.factorize(raw, use_na_sentinel=True)
    keys = [_key(u) for u in uniques]
    # Each distinct value's name and blankness (the last: a missing cell); rows are
    # looked at only where some distinct value is unknown or blank.
    found = np.array([lookup.get(k, -1) for k in keys] + [-1], dtype=np.int64)
    empty = np.array([k == "" for k in keys] + [True])
    unknown = (found < 0) & ~empty
    # Gathered at the width the positions need (a byte for a few names), not 8 bytes a row.
    mapped = found.astype(np.min_scalar_type(-len(names) - 1))[codes]  # −1 … len(names) fit
    shown = ", ".join(names)
    issues = located(
        unknown[codes] if unknown.any() else np.zeros(0, dtype=bool),
        raw,
        file=file,
        column=column,
        message=lambda i, v: f"'{v}' is not a {what}: {shown}.",
        fix=fix,
        expected=shown,
    )
    if required and (empty[:-1].any() or bool((codes < 0).any())):
        issues += located(
            empty[codes],
            raw,
            file=file,
            column=column,
            message=lambda i, v: f"the {what} is empty.",
            fix=fix,
            expected=shown,
        )
    text = np.array([*names, np.nan], dtype=object)[np.where(found < 0, len(names), found)]
    return pd.Series(text[codes], index=raw.index, dtype=object, copy=False), mapped, issues


def spent_on(
    raw: pd.Series,
    protocol: Protocol,
    *,
    file: str,
    column: str,
    factorized: Factorized | None = None,
    distinct: DistinctDates | None = None,
) -> tuple[pd.Series, list[Issue]]:
    spent, issues = code_dates(
        raw, file=file, column=column, factorized=factorized, distinct=distinct
    )
    missing = spent.isna().to_numpy()  # an empty cell is never a date
    issues += located(
        blank_mask(raw) if missing.any() else missing,
        raw,
        file=file,
        column=column,
        message=lambda i, v: "the date of the spend is empty.",
        fix="give the date the money was spent (2027-03-01).",
        expected="a date",
    )
    dates = protocol.dates
    if dates is None:
        return spent, issues
    window = f"{dates.intervention_start.isoformat()} to {dates.end.isoformat()}"
    start = pd.Timestamp(dates.intervention_start)
    end = pd.Timestamp(dates.end + dt.timedelta(days=1))
    before, after = _outside(spent, raw, start, end, factorized, distinct)
    issues += located(
        before,
        raw,
        file=file,
        column=column,
        expected=window,
        message=lambda i, v: (
            f"{v} is before the budget began "
            f"({dates.intervention_start.isoformat()}, `dates.intervention_start`)."
        ),
        fix="correct the date, or remove spends made before the pilot's budget began.",
    )
    issues += located(
        after,
        raw,
        file=file,
        column=column,
        expected=window,
        message=lambda i, v: (
            f"{v} is after the trial ended ({dates.end.isoformat()}, `dates.end`)."
        ),
        fix="correct the date, or remove spends made after the trial ended.",
    )
    return spent, issues


def _outside(
    spent: pd.Series,
    raw: pd.Series,
    start: pd.Timestamp,
    end: pd.Timestamp,
    factorized: Factorized | None,
    distinct: DistinctDates | None = None,
) -> tuple[BoolArray, BoolArray]:
    """Where the dates ``spent`` (coded from ``raw``) are before ``start`` and from ``end``
    on; judged on the distinct texts where they were factorized (no rows: none is)."""
    if factorized is None or pd.api.types.is_datetime64_any_dtype(raw.dtype):
        return (spent < start).to_numpy(), (spent >= end).to_numpy()
    codes, uniques = factorized
    # The same parse of the same texts as the column's own (code_dates parses each once).
    days = pd.Series((distinct or distinct_dates(uniques))[0][:-1], dtype="datetime64[ns]")
    none = np.zeros(0, dtype=bool)

    def rows(outside: pd.Series) -> BoolArray:
        flags = np.append(outside.to_numpy(dtype=bool), False)  # a missing date is neither
        return flags[codes] if flags.any() else none

    return rows(days < start), rows(days >= end)


def losses(
    raw: pd.Series,
    amount: NDArray[np.float64],
    reviewed: BoolArray,
    *,
    file: str,
    column: str,
    verdict: str,
) -> tuple[pd.Series, list[Issue]]:
    values, bad, _ = numbers(raw)
    where = {"file": file, "column": column, "expected": "0 up to the amount spent"}
    issues = located(
        bad,
        raw,
        message=lambda i, v: f"'{v}' is not an amount of money lost.",
        fix="type the number alone, or leave the cell empty while the spend is not reviewed.",
        **where,
    )
    issues += located(
        values < 0,
        raw,
        message=lambda i, v: f"{v} is negative; a loss is 0 or more.",
        fix="give the money lost (0 if none).",
        **where,
    )
    issues += located(
        (values > amount) & (amount >= 0),
        raw,
        message=lambda i, v: f"a loss of {v} is more than the amount spent ({show(amount[i])}).",
        fix="correct the loss or the amount; no more can be lost than was spent.",
        **where,
    )
    issues += located(
        ~np.isnan(values) & ~reviewed,
        raw,
        message=lambda i, v: f"a loss of {v} is recorded, but the spend has no review verdict.",
        fix=f'give the reviewer\'s verdict in "{verdict}", or leave the loss empty until the '
        "spend is reviewed.",
        **where,
    )
    return pd.Series(values, index=raw.index, dtype="float64", copy=False), issues
