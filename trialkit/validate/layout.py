"""Which columns each level's file must hold, and which file holds which level.

A file holding a measurement level's ``id_column`` is that level's file; a file with the
randomised unit's id column and no level id column is the unit-level file. Each level needs
its ids, the link to the unit, its outcomes (for a time-to-event outcome, its date and
reason columns instead), and the covariates, subgroups, baseline measures, take-up and
period columns the protocol declares for it.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from trialkit._core.names import closest
from trialkit.errors import Issue, Location, Severity
from trialkit.protocol.model import Protocol
from trialkit.protocol.outcomes import Outcome
from trialkit.validate.readers import RawTable


@dataclass(frozen=True, slots=True)
class LevelSpec:
    """What the protocol asks of one level's data file.

    Attributes
    ----------
    name
        The level's name (the unit's name for the randomised unit).
    id_column
        Column identifying a row's subject at this level.
    unit_column
        Column holding the randomised unit's id (the id column itself at unit level).
    is_unit
        Whether this is the randomised unit's own level.
    outcomes
        Outcomes measured at this level, in protocol order.
    covariates, subgroups, baselines
        Columns of declared covariates, subgroups and baseline measures at this level.
    take_up
        The take-up column (unit level only), or ``None``.
    period
        The stepped-wedge period column, or ``None``.
    ledger_dates
        The spend ledger's date columns (its level only), checked by
        :mod:`trialkit.validate.spending_data` against the pilot's dates.
    """

    name: str
    id_column: str
    unit_column: str
    is_unit: bool
    outcomes: tuple[Outcome, ...]
    covariates: tuple[str, ...] = ()
    subgroups: tuple[str, ...] = ()
    baselines: tuple[str, ...] = ()
    take_up: str | None = None
    period: str | None = None
    ledger_dates: tuple[str, ...] = ()

    @property
    def required(self) -> tuple[str, ...]:
        """Every column the file must have, without repeats, ids first."""
        columns = [self.id_column, self.unit_column]
        for outcome in self.outcomes:
            columns += survival_columns(outcome) if outcome.survival else [outcome.data_column]
            columns += [outcome.exposure] if outcome.exposure else []
        columns += [*self.covariates, *self.subgroups, *self.baselines]
        columns += [c for c in (self.take_up, self.period) if c]
        return tuple(dict.fromkeys(columns))

    @property
    def survival_dates(self) -> frozenset[str]:
        """The start and end date columns of this level's time-to-event outcomes."""
        return frozenset(
            column
            for o in self.outcomes
            if o.survival is not None
            for column in (o.survival.start_column, o.survival.end_column)
            if column
        )

    @property
    def own_dates(self) -> frozenset[str]:
        """Date columns checked by their own module (survival, spend ledger), not as
        generic dates inside the trial window."""
        return self.survival_dates | frozenset(self.ledger_dates)


def survival_columns(outcome: Outcome) -> list[str]:
    """The columns a time-to-event outcome is read from: end date, start date, reason.

    A survival outcome's own column (its time in days) is derived by validation, so the
    file need not hold it.
    """
    if outcome.survival is None:
        return []
    declared = outcome.survival
    return [c for c in (declared.end_column, declared.start_column, declared.reason_column) if c]


def level_specs(protocol: Protocol) -> tuple[LevelSpec, ...]:
    """One :class:`LevelSpec` per level, the randomised unit first."""
    sw = protocol.design.stepped_wedge
    period = sw.period_column if protocol.design.type == "stepped_wedge" and sw else None
    take_up = tuple(e.take_up_column for e in protocol.estimands if e.take_up_column)
    unit = protocol.units
    spending = protocol.spending
    specs = []
    for name in protocol.level_names:
        level = protocol.level(name)
        outcomes = tuple(o for o in protocol.outcomes if o.level == name)
        covariates = [c.data_column for c in protocol.covariates if c.level == name]
        baselines = [o.baseline for o in outcomes if o.baseline and o.baseline not in covariates]
        specs.append(
            LevelSpec(
                name=name,
                id_column=level.id_column if level else unit.id_column,
                unit_column=level.unit_column if level else unit.id_column,
                is_unit=level is None,
                outcomes=outcomes,
                covariates=tuple(covariates),
                subgroups=tuple(s.column for s in protocol.subgroups if s.level == name),
                baselines=tuple(baselines),
                take_up=take_up[0] if take_up and level is None else None,
                period=period if (level is not None or outcomes) else None,
                ledger_dates=(spending.columns.date, spending.columns.justified_on)
                if spending is not None and spending.level == name
                else (),
            )
        )
    return tuple(specs)


def id_columns(specs: Sequence[LevelSpec]) -> frozenset[str]:
    """Every column read as text: ids of units and levels, and the period column."""
    cols = {s.id_column for s in specs} | {s.unit_column for s in specs}
    return frozenset(cols)


def _level_of(table: RawTable, specs: Sequence[LevelSpec]) -> tuple[LevelSpec | None, str]:
    columns = set(table.frame.columns)
    below = [s for s in specs if not s.is_unit and s.id_column in columns]
    ledger = [s for s in below if s.ledger_dates]
    if ledger:  # the spend ledger names workers and clients by their levels' ids
        below = ledger
    if len(below) > 1:
        with_outcomes = [
            s
            for s in below
            if any({o.data_column, *survival_columns(o)[:1]} & columns for o in s.outcomes)
        ]
        below = with_outcomes if len(with_outcomes) == 1 else below
    if len(below) == 1:
        return below[0], ""
    if len(below) > 1:
        names = ", ".join(f"{s.name} ({s.id_column})" for s in below)
        return None, f"holds the id columns of several levels: {names}"
    unit = next(s for s in specs if s.is_unit)
    if unit.id_column in columns:
        return unit, ""
    wanted = ", ".join(f'"{s.id_column}" ({s.name})' for s in specs)
    return None, f"has none of the id columns that say which level it holds: {wanted}"


def assign_levels(
    tables: Sequence[RawTable], specs: Sequence[LevelSpec]
) -> tuple[dict[str, RawTable], list[Issue]]:
    """Match each file to its level by its columns; report files that match none or twice.

    Returns
    -------
    tuple
        ``{level name: table}`` and the issues found (missing files, missing columns).
    """
    found: dict[str, RawTable] = {}
    issues: list[Issue] = []
    for table in tables:
        spec, why = _level_of(table, specs)
        if spec is None:
            issues.append(
                Issue(
                    f"cannot tell which level this file holds: it {why}.",
                    Location(file=table.name, row=1),
                    fix="name the id column as in the protocol's `units`/`levels`, or leave out "
                    "files that are not outcome data.",
                )
            )
        elif spec.name in found:
            issues.append(
                Issue(
                    f"a second file for level `{spec.name}` "
                    f"(the first is {found[spec.name].name}).",
                    Location(file=table.name, row=1),
                    fix=f"combine the two {spec.name} files into one, one row per {spec.name}.",
                )
            )
        else:
            found[spec.name] = table
    for spec in specs:
        if spec.name not in found:
            issues.append(_no_file(spec))
            continue
        table = found[spec.name]
        issues += _missing_columns(table, spec)
    return found, issues


def _missing_columns(table: RawTable, spec: LevelSpec) -> list[Issue]:
    """A required column that is absent; when a present heading is close to it (``lonliness``
    for ``loneliness``), the message names that heading: probably a misspelling."""
    present = [str(c) for c in table.frame.columns]
    spare = [c for c in present if c not in spec.required]
    issues = []
    for column in spec.required:
        if column in present:
            continue
        typo = closest(column, spare)
        hint = f' The file has a column "{typo}": did you mean `{column}`?' if typo else ""
        fix = (
            f'rename the column "{typo}" to "{column}".'
            if typo
            else f'add a column headed "{column}" (or correct the heading\'s spelling).'
        )
        issues.append(
            Issue(
                f'the column "{column}" is missing; the protocol needs it for level '
                f"`{spec.name}`.{hint}",
                Location(file=table.name, row=1, column=column),
                fix=fix,
                value=typo,
                expected=column,
            )
        )
    return issues


def _no_file(spec: LevelSpec) -> Issue:
    needed = [o.name for o in spec.outcomes]
    severity: Severity = "error" if needed else "warning"
    what = (
        f"its outcomes ({', '.join(needed)})"
        if needed
        else f"its columns ({', '.join(spec.required[1:]) or 'none'}) will be unavailable"
    )
    message = (
        f"no data file holds level `{spec.name}` (a file with the column "
        f'"{spec.id_column}"); {what}' + (" cannot be checked." if needed else ".")
    )
    return Issue(
        message,
        Location(field=f"levels.{spec.name}"),
        severity=severity,
        fix=f'add the {spec.name} file with a "{spec.id_column}" column.',
    )
