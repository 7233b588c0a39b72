"""Link each level's rows to the allocation: recorded arms, allocation columns, missingness.

A recorded ``arm`` that differs from the unit's allocated arm is reported as crossover or
contamination and never changed; analyses use the allocated arm (intention to treat). A
column named ``arm_received`` is taken as deliberately recorded receipt and not checked.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
from numpy.typing import NDArray

from trialkit.errors import Issue, Location
from trialkit.validate.issues import MAX_ROWS_PER_RULE, sheet_row
from trialkit.validate.layout import LevelSpec

#: Allocation columns attached to every level's frame.
ALLOCATION_COLUMNS = ("arm", "block", "cluster", "probability", "step")

#: Share of missing values of an outcome above which a warning is given.
MISSING_WARNING_SHARE = 0.20


def unit_positions(unit_ids: pd.Series, allocation: pd.DataFrame) -> NDArray[np.int64]:
    """Each row's position in the allocation (−1 for unknown or missing units).

    Distinct ids are looked up once, so a million rows cost a few dozen look-ups.
    """
    codes, uniques = pd.factorize(unit_ids, use_na_sentinel=True)
    found = pd.Index(allocation["unit_id"]).get_indexer(pd.Index(uniques).astype(str))
    return np.append(found, -1).astype(np.int64)[codes]


def arm_issues(
    raw: pd.DataFrame,
    spec: LevelSpec,
    allocation: pd.DataFrame,
    positions: NDArray[np.int64],
    *,
    file: str,
    unit_name: str,
) -> list[Issue]:
    """Rows whose recorded ``arm`` differs from their unit's allocated arm."""
    if "arm" not in raw.columns or spec.unit_column not in raw.columns:
        return []
    codes, uniques = pd.factorize(raw["arm"], use_na_sentinel=True)
    recorded = np.array([str(u).strip() for u in uniques] + [""], dtype=object)[codes]
    allocated = np.append(allocation["arm"].to_numpy(dtype=object), "")[positions]
    differs = (positions >= 0) & (recorded != "") & (recorded != allocated)
    if not differs.any():
        return []
    what = "crossover" if spec.is_unit else "contamination or crossover"
    units, expected, shown = raw[spec.unit_column].to_numpy(), allocated, recorded
    fix = (
        "if the record is a typing error, correct it; if the row really received the "
        "other arm, rename the column to `arm_received` and record the deviation."
    )
    flagged = np.flatnonzero(differs)
    issues = [
        Issue(
            f"the recorded arm '{shown[i]}' differs from the arm '{expected[i]}' allocated to "
            f"{unit_name} '{units[i]}' ({what}); trialkit analyses every row in its allocated "
            "arm and never changes the record.",
            Location(file=file, row=sheet_row(int(raw.index[i])), column="arm"),
            fix=fix,
            value=str(shown[i]),
            expected=str(expected[i]),
        )
        for i in flagged[:MAX_ROWS_PER_RULE]
    ]
    if flagged.size > MAX_ROWS_PER_RULE:
        issues.append(
            Issue(
                f"{flagged.size - MAX_ROWS_PER_RULE:,} more rows have a recorded "
                "arm that differs from the allocation.",
                Location(file=file, column="arm"),
                fix=fix,
            )
        )
    return issues


def attach_allocation(
    coded: pd.DataFrame, spec: LevelSpec, allocation: pd.DataFrame, positions: NDArray[np.int64]
) -> pd.DataFrame:
    """Add ``arm, block, cluster, probability`` (+ ``step``) from the allocation by unit.

    ``arm``, ``block`` and ``cluster`` are categoricals of text labels. Columns of the file
    with those names are kept as ``<name>_recorded``.
    """
    extra = [c for c in ALLOCATION_COLUMNS if c in allocation.columns]
    frame = coded.rename(columns={c: f"{c}_recorded" for c in extra if c in coded.columns})
    known = positions >= 0
    every = bool(known.all())  # then no row needs masking
    at = positions if every else np.where(known, positions, 0)
    for column in extra:
        values = allocation[column]
        if column in ("probability", "step"):
            taken = pd.Series(values.to_numpy()[at], index=frame.index, copy=False)
            frame[column] = taken if every else taken.where(known)
            continue
        # Labels as categoricals: a million rows share a few dozen arms, blocks, clusters.
        codes, labels = pd.factorize(values)
        # Gathered at the width the categorical keeps (a byte for a few dozen labels), not
        # as a million 8-byte codes narrowed afterwards; −1 and every code fit in it.
        codes = codes.astype(np.min_scalar_type(-max(len(labels), 1)))
        # The codes are the allocation's own (or −1), so pandas need not check them again.
        frame[column] = pd.Categorical.from_codes(
            codes[at] if every else np.where(known, codes[at], -1),
            categories=labels.astype(str),
            validate=False,
        )
    return frame


def missing_warnings(coded: pd.DataFrame, spec: LevelSpec, *, file: str) -> list[Issue]:
    """One warning per file naming every outcome missing in more than 20 % of its rows."""
    shares = {}
    for outcome in spec.outcomes:
        column = outcome.data_column
        if column in coded.columns and len(coded) > 0:
            share = float(coded[column].isna().mean())
            if share > MISSING_WARNING_SHARE:
                shares[outcome.name] = (column, share)
    if not shares:
        return []
    listed = ", ".join(f'"{name}" ({share:.1%})' for name, (_, share) in shares.items())
    noun = "outcome" if len(shares) == 1 else "outcomes"
    first = next(iter(shares.values()))
    return [
        Issue(
            f"{noun} missing for more than {MISSING_WARNING_SHARE:.0%} of rows: {listed}; "
            "attrition may bias the estimates.",
            Location(file=file, column=first[0] if len(shares) == 1 else None),
            severity="warning",
            fix="check whether data are still to come; see the attrition table and the "
            "WWC verdicts, and plan the sensitivity analyses the protocol names.",
            value=", ".join(f"{share:.1%}" for _, share in shares.values()),
            expected=f"at most {MISSING_WARNING_SHARE:.0%} missing",
        )
    ]


def take_up_warnings(
    coded: pd.DataFrame,
    spec: LevelSpec,
    allocation: pd.DataFrame,
    positions: NDArray[np.int64],
    control: str,
    *,
    file: str,
    unit_name: str,
) -> list[Issue]:
    """Control units whose take-up column says they received an intervention.

    Data and allocation then disagree about who got the intervention: often data recorded
    or simulated for another allocation. A warning, not an error: a control unit can
    really have received it (a deviation); trialkit analyses it in its allocated arm.
    """
    column = spec.take_up
    if column is None or column not in coded.columns:
        return []
    allocated = np.append(allocation["arm"].to_numpy(dtype=object), "")[positions]
    took = pd.to_numeric(coded[column], errors="coerce").to_numpy(dtype=float) == 1
    flagged = np.flatnonzero((positions >= 0) & (allocated == control) & took)
    if flagged.size == 0:
        return []
    units = coded[spec.unit_column].to_numpy()  # present: the rows were found in the allocation
    shown = ", ".join(str(units[i]) for i in flagged[:MAX_ROWS_PER_RULE])
    extra = flagged.size - MAX_ROWS_PER_RULE
    more = f" and {extra:,} more" if extra > 0 else ""
    first = int(flagged[0])
    return [
        Issue(
            f"{flagged.size:,} {unit_name}{'s' if flagged.size > 1 else ''} allocated to the "
            f"control arm '{control}' "
            f"received the intervention according to `{column}` ({shown}{more}): the data "
            "and the allocation disagree about who got it; trialkit analyses every "
            f"{unit_name} in its allocated arm.",
            Location(file=file, row=sheet_row(int(coded.index[first])), column=column),
            severity="warning",
            fix="check that the data belong to this allocation (`trialkit simulate --units "
            "--allocation` draws data for the pilot's own allocation); if they really received "
            "it, record the deviation.",
            value="1",
            expected="0 in the control arm",
        )
    ]
