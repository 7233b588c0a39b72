"""The frame one outcome is analysed on: its level's rows with the unit's columns attached."""

from __future__ import annotations

from collections.abc import Collection
from dataclasses import dataclass, field, replace

import numpy as np
import pandas as pd
from pandas.api.extensions import take

from trialkit.estimate.exposure import exposed_arms
from trialkit.estimate.frequentist._design import positions
from trialkit.protocol import Protocol
from trialkit.protocol.outcomes import Outcome
from trialkit.validate import TrialData


@dataclass(frozen=True, slots=True)
class AnalysisFrame:
    """Rows of one level, ready for an estimator.

    Attributes
    ----------
    data
        The level's rows with ``arm``, the unit-level columns (covariates, take-up,
        subgroups) merged in, and a combined ``block`` column.
    cluster
        The column to cluster on: the unit of randomisation's cluster whenever outcomes are
        measured below it or the design is clustered; ``None`` otherwise.
    blocks
        The block column for fixed effects, or ``None``.
    covariates
        Declared covariates available at this level (adjusted ones only).
    baseline
        The outcome's baseline column, when the data have it.
    fixed_effects
        Extra fixed effects: the period in a stepped-wedge design (secular trend).
    """

    data: pd.DataFrame
    cluster: str | None
    blocks: str | None
    covariates: tuple[str, ...]
    baseline: str | None
    fixed_effects: tuple[str, ...] = ()

    #: What :meth:`complete` and :meth:`usable_covariates` found, by the columns they
    #: looked at (shared by the outcomes of a level: see :func:`analysis_frame`).
    found: dict[tuple[str, ...], _Found] = field(default_factory=dict, compare=False, repr=False)

    def __reduce__(self) -> tuple[type[AnalysisFrame], tuple[object, ...]]:
        """Pickled (for a Dask worker) without what was found: arrays it would copy."""
        fields = (self.data, self.cluster, self.blocks, self.covariates, self.baseline)
        return AnalysisFrame, (*fields, self.fixed_effects)

    def usable_covariates(self, column: str) -> list[str]:
        """Covariates (and the outcome's baseline) that vary in the rows analysed."""
        found = self._found(column)
        if found.varying is None:
            data = self.complete(column)
            names = dict.fromkeys([*self.covariates, *([self.baseline] if self.baseline else [])])
            found.varying = tuple(c for c in names if c in data and varies(data[c]))
        return list(found.varying)

    def complete(self, *columns: str) -> pd.DataFrame:
        """Complete cases for ``columns`` and every covariate (the plan's default)."""
        rows = self._found(*columns).rows
        return self.data.copy(deep=False) if rows is None else self.data.loc[rows]

    def _found(self, *columns: str) -> _Found:
        """The complete rows of ``columns`` and every covariate, found once per columns.

        Kept with the columns' arrays they were found in: a column replaced since
        (``frame.data[c] = ...``, as the summary indices and the dose regressions add
        theirs) is looked at afresh. (A column written into in place would not be
        noticed; nothing does that to an analysis frame.)
        """
        needed = tuple(
            c
            for c in (*columns, *self.covariates, *([self.baseline] if self.baseline else []))
            if c in self.data
        )
        arrays = tuple(_held(self.data[c]) for c in needed)
        found = self.found.get(needed)
        if found is None or not all(map(_same_array, arrays, found.arrays)):
            missing = np.asarray(self.data[list(needed)].isna().to_numpy().any(axis=1))
            found = _Found(arrays, ~missing if missing.any() else None)
            self.found[needed] = found
        return found


@dataclass(slots=True)
class _Found:
    """The complete rows (``None``: every row) of some columns of an analysis frame, the
    covariates that vary in them once asked, and the columns' arrays they were found in."""

    arrays: tuple[object, ...]
    rows: np.ndarray | None
    varying: tuple[str, ...] | None = None


def _held(values: pd.Series) -> object:
    """What a column's values are held in: a NumPy column's array (a view of its memory),
    another column's extension array itself."""
    return values.to_numpy() if isinstance(values.dtype, np.dtype) else values.array


def _same_array(a: object, b: object) -> bool:
    """The same values: the same extension array, or the same memory read the same way
    (``b`` is kept alive, so its address cannot have been reused)."""
    if not isinstance(a, np.ndarray) or not isinstance(b, np.ndarray):
        return a is b
    return bool(
        a.__array_interface__["data"] == b.__array_interface__["data"]
        and a.shape == b.shape
        and a.strides == b.strides
        and a.dtype == b.dtype
    )


def varies(values: pd.Series) -> bool:
    """``values.nunique() > 1``; a numeric column without missing values (the complete
    cases' covariates) is compared with its first value instead of hashed."""
    if pd.api.types.is_float_dtype(values.dtype) or pd.api.types.is_integer_dtype(values.dtype):
        array = values.to_numpy()
        if array.dtype.kind in "fiu" and not (array.dtype.kind == "f" and np.isnan(array).any()):
            return bool(array.size > 1 and (array != array[0]).any())
    return bool(values.nunique() > 1)


def arm_mask(arms: pd.Series, wanted: Collection[str]) -> np.ndarray:
    """``arms.astype(str).isin(wanted)`` as a boolean array (missing: ``False``).

    Each distinct value is converted once: ``astype(str)`` on a categorical column (the
    validated frames' ``arm``) would build one string per row.
    """
    codes, uniques = pd.factorize(arms)
    keep = np.array([str(u) in wanted for u in uniques] + [False], dtype=bool)
    return np.asarray(keep[codes])


def as_text(values: pd.Series) -> pd.Series:
    """``values.astype(str)``, except that a categorical column stays categorical with its
    categories as text (one conversion per category, not per row), unused ones dropped."""
    if isinstance(values.dtype, pd.CategoricalDtype):
        categories = [str(c) for c in values.cat.categories]
        if len(set(categories)) == len(categories):
            return values.cat.rename_categories(categories).cat.remove_unused_categories()
    return values.astype(str)


def codes_of(values: pd.Series) -> np.ndarray:
    """Integer codes of a column, equal where its values are equal (missing: -1)."""
    return np.asarray(pd.factorize(values)[0])


def as_rates(protocol: Protocol, frame: pd.DataFrame, level: str) -> pd.DataFrame:
    """``frame`` with each count that has an exposure at ``level`` divided by it (a rate).

    The plan analyses such a count as a rate, weighted by its exposure (see
    :func:`~trialkit.estimate.frequentist.plan_outcome.estimate_outcome`); a row without a positive
    exposure has no rate. Returns a new frame.
    """
    rates = {}
    for o in protocol.outcomes:
        if o.level == level and o.exposure and o.data_column in frame and o.exposure in frame:
            exposure = pd.to_numeric(frame[o.exposure], errors="coerce")
            count = pd.to_numeric(frame[o.data_column], errors="coerce").astype("float64")
            rates[o.data_column] = count / exposure.where(exposure > 0)
    return frame.assign(**rates) if rates else frame


def _coded_covariates(
    protocol: Protocol, frame: pd.DataFrame, outcome: Outcome
) -> tuple[pd.DataFrame, tuple[str, ...]]:
    """Adjusted covariates as numbers: categorical ones as indicators (first level dropped)."""
    names: list[str] = []
    columns: dict[str, pd.Series] = {}
    for cov in protocol.covariates:
        column = cov.data_column
        if (
            not cov.adjust
            or column not in frame
            or cov.level not in (outcome.level, protocol.units.name)
        ):
            continue
        if cov.type == "categorical":
            dummies = pd.get_dummies(
                frame[column].astype("string"),
                prefix=column,
                prefix_sep="=",
                drop_first=True,
                dtype=float,
            )
            dummies = dummies.where(frame[column].notna())
            columns.update({str(k): v for k, v in dummies.items()})
            names.extend(str(k) for k in dummies.columns)
        else:
            columns[column] = pd.to_numeric(frame[column], errors="coerce")
            names.append(column)
    return frame.assign(**columns), tuple(names)


def analysis_frame(
    protocol: Protocol,
    data: TrialData,
    outcome: Outcome,
    *,
    levels: dict[str, AnalysisFrame] | None = None,
) -> AnalysisFrame:
    """The analysis frame for ``outcome`` (see :class:`AnalysisFrame`).

    ``levels`` keeps each level's frame once built (merged, covariates coded, rates
    formed), so that the outcomes of a level share one conversion; each outcome gets its
    own shallow copy of the rows, so a column one adds is not seen by the others.
    """
    level_frame = None if levels is None else levels.get(outcome.level)
    if level_frame is None:
        level_frame = _level_frame(protocol, data, outcome)
        if levels is not None:
            levels[outcome.level] = level_frame
    frame = level_frame.data
    baseline = outcome.baseline if outcome.baseline in frame else None
    return replace(level_frame, data=frame.copy(deep=False), baseline=baseline)


def _attach(frame: pd.DataFrame, extra: pd.DataFrame, link: str) -> pd.DataFrame:
    """``frame.merge(extra, on=link, how="left", validate="many_to_one")``.

    Text ids (the usual case) are looked up by Arrow hashing and the unit's columns taken
    by position, with no join of the two frames; anything else goes through the merge.
    """
    keys = pd.Index(extra[link])
    text = pd.api.types.is_string_dtype(frame[link]) and pd.api.types.is_string_dtype(keys)
    if not (text and keys.is_unique and frame[link].dtype == keys.dtype):
        return frame.merge(extra, on=link, how="left", validate="many_to_one")
    found = positions(frame[link], keys)
    added = {
        str(c): pd.Series(take(extra[c].array, found, allow_fill=True), name=c)
        for c in extra.columns
        if c != link
    }
    return frame.reset_index(drop=True).assign(**added)


def _level_frame(protocol: Protocol, data: TrialData, outcome: Outcome) -> AnalysisFrame:
    """The rows of ``outcome``'s level ready for estimation, without its baseline."""
    unit = protocol.units
    frame = data.frame(outcome.level)
    if outcome.level != unit.name and unit.name in data.frames:
        level = protocol.level(outcome.level)
        link = level.unit_column if level is not None else unit.id_column
        extra = data.frame(unit.name)
        keep = [c for c in extra.columns if c not in frame.columns or c == unit.id_column]
        extra = extra[keep].rename(columns={unit.id_column: link})
        frame = _attach(frame, extra, link)
    clustered = protocol.design.type != "individual" or outcome.level != unit.name
    cluster = "cluster" if clustered and "cluster" in frame else None
    if cluster is None and clustered:
        level = protocol.level(outcome.level)
        cluster = level.unit_column if level is not None else None
    blocks = "block" if "block" in frame and frame["block"].nunique() > 1 else None
    frame, covariates = _coded_covariates(protocol, frame, outcome)
    frame = as_rates(protocol, frame, outcome.level)
    fixed_effects: tuple[str, ...] = ()
    wedge = protocol.design.stepped_wedge
    if wedge is not None and wedge.period_column in frame and "step" in frame:
        # Exposure, not allocation: a cluster is treated from its step's period onwards.
        frame = exposed_arms(protocol, frame)
        fixed_effects = (wedge.period_column,)
    return AnalysisFrame(
        data=frame,
        cluster=cluster,
        blocks=blocks,
        covariates=covariates,
        baseline=None,
        fixed_effects=fixed_effects,
    )
