"""From a DataFrame and column names to checked arrays: outcome, arms, covariates, clusters.

Every estimator starts here, so bad input is rejected in one place with one style of message:
what is wrong, where (which column), and how to fix it.
"""

from __future__ import annotations

import difflib
from collections.abc import Hashable, Sequence
from dataclasses import dataclass
from typing import Any, Literal

import numpy as np
import pandas as pd
from numpy.typing import NDArray

from trialkit.errors import EstimationError

FloatArray = NDArray[np.float64]
IntArray = NDArray[np.intp]

INTERCEPT = "(Intercept)"
#: A regression on the arms: OLS on arm and covariates, or Lin's interacted regression.
RegressionModel = Literal["ols", "lin"]


@dataclass(frozen=True, slots=True)
class Arms:
    """The treatment column's arms: the control arm and the others, in report order.

    Attributes
    ----------
    column
        The treatment column's name.
    control
        The control arm's value.
    others
        The non-control arms, in sorted order.
    """

    column: str
    control: Any
    others: tuple[Any, ...]

    def term(self, arm: Any) -> str:
        """The term's name: the column for two arms, ``"column[arm]"`` for several."""
        return self.column if len(self.others) == 1 else f"{self.column}[{arm}]"

    @property
    def terms(self) -> tuple[str, ...]:
        """One term per non-control arm."""
        return tuple(self.term(arm) for arm in self.others)


@dataclass(frozen=True, slots=True)
class Factor:
    """A categorical column coded as integers 0..levels-1 (levels in sorted order)."""

    name: str
    codes: IntArray
    levels: tuple[Any, ...]


@dataclass(frozen=True, slots=True)
class Prepared:
    """Checked, complete-case arrays for one outcome, ready to build a design matrix."""

    outcome: str
    y: FloatArray
    arms: Arms
    arm_codes: IntArray  # 0 = control, j = others[j-1]
    covariate_names: tuple[str, ...]
    covariates: FloatArray  # n x p
    cluster: Factor | None
    fixed_effects: tuple[Factor, ...]
    weights: FloatArray | None

    @property
    def n_obs(self) -> int:
        """Number of observations."""
        return int(self.y.shape[0])

    def arm_dummies(self) -> FloatArray:
        """n x (arms - 1) indicator matrix of the non-control arms."""
        j = np.arange(1, len(self.arms.others) + 1)
        return np.asarray(self.arm_codes[:, None] == j[None, :], dtype=np.float64)


def _suggest(name: str, frame: pd.DataFrame) -> str:
    columns = [str(c) for c in frame.columns]
    close = difflib.get_close_matches(name, columns, n=1)
    if close:
        return f' Did you mean "{close[0]}"?'
    shown = ", ".join(f'"{c}"' for c in columns[:12])
    return f" Available columns: {shown}{', ...' if len(columns) > 12 else ''}."


def check_columns(frame: pd.DataFrame, roles: dict[str, Sequence[str]]) -> None:
    """Raise :class:`EstimationError` naming every missing column and its role."""
    if not isinstance(frame, pd.DataFrame):
        raise EstimationError(
            f"data must be a pandas DataFrame, got {type(frame).__name__}. "
            "Fix: pass a DataFrame with one row per unit."
        )
    problems = []
    for role, names in roles.items():
        for name in names:
            if name not in frame.columns:
                problems.append(
                    f'column "{name}" (the {role}) is not in the data.' + _suggest(name, frame)
                )
    if problems:
        raise EstimationError(" ".join(problems) + " Fix: correct the column name.")
    used = {name for names in roles.values() for name in names}
    twice = sorted({str(c) for c in frame.columns[frame.columns.duplicated()] if c in used})
    if twice:
        named = ", ".join(f'"{c}"' for c in twice)
        raise EstimationError(
            f"the data have more than one column named {named}, so trialkit cannot tell which "
            "to use. Fix: rename or drop the extra column(s)."
        )


def _check_complete(frame: pd.DataFrame, names: Sequence[str]) -> None:
    for name in dict.fromkeys(names):
        column = frame[name]
        if _is_numpy_kind(column, "iub"):  # integer and boolean arrays cannot hold NaN
            continue
        if column.hasnans:
            count = int(column.isna().sum())
            first = frame.index[column.isna()][0]
            raise EstimationError(
                f'column "{name}" has {count} missing value(s) (first at index '
                f"{first!r}). trialkit does not drop rows silently. Fix: drop or impute those "
                "rows before estimating, and record the rule in the analysis plan."
            )


def _is_numpy_kind(column: pd.Series[Any], kinds: str) -> bool:
    """Whether the column is a plain numpy array of one of these dtype kinds."""
    dtype = getattr(column, "dtype", None)  # a duplicated column name gives a DataFrame
    return isinstance(dtype, np.dtype) and dtype.kind in kinds


def numeric_column(frame: pd.DataFrame, name: str, role: str) -> FloatArray:
    """A column as float64, or a clear error if it is not numeric."""
    col = frame[name]
    if pd.api.types.is_bool_dtype(col) or pd.api.types.is_numeric_dtype(col):
        values = col.to_numpy(dtype=np.float64)
        if not np.all(np.isfinite(values)):
            raise EstimationError(
                f'column "{name}" (the {role}) has infinite values. Fix: remove or recode them.'
            )
        return values
    raise EstimationError(
        f'column "{name}" (the {role}) must be numeric, got dtype {col.dtype}. '
        "Fix: recode it as numbers, or pass a categorical column as fixed_effects=."
    )


@dataclass(frozen=True, slots=True)
class _Block:
    """Numeric columns read from a DataFrame at once: one float64 copy, one finiteness check."""

    names: tuple[str, ...]
    values: FloatArray  # n x len(names), column-major

    def column(self, name: str) -> FloatArray:
        return np.ascontiguousarray(self.values[:, self.names.index(name)])

    def columns(self, names: Sequence[str]) -> FloatArray:
        index = [self.names.index(c) for c in names]
        first = index[0] if index else 0
        if index == list(range(first, first + len(index))):  # adjacent: a view, not a copy
            return self.values[:, first : first + len(index)]
        return self.values[:, index]


def _finite_block(frame: pd.DataFrame, names: Sequence[str]) -> _Block | None:
    """The columns as float64 when all are numeric (or boolean) and finite, else ``None``.

    ``None`` sends the caller to the column-by-column checks, which say what is wrong where;
    this is their fast path for the common case, not a second set of rules.
    """
    unique = tuple(dict.fromkeys(names))
    if not frame.columns.is_unique:
        return None
    values = np.empty((len(frame), len(unique)), order="F")
    for j, name in enumerate(unique):  # column by column: selecting a sub-frame costs more
        col = frame[name]
        if not _is_numpy_kind(col, "biuf") and not (
            pd.api.types.is_bool_dtype(col) or pd.api.types.is_numeric_dtype(col)
        ):
            return None
        try:
            values[:, j] = col.to_numpy(dtype=np.float64)
        except (TypeError, ValueError):  # e.g. a nullable column holding pd.NA
            return None
    # A sum is finite only if every term is (an overflow merely sends us to the slow path).
    if not np.isfinite(values.sum(axis=0)).all():
        return None
    return _Block(unique, values)


def factor(frame: pd.DataFrame, name: str) -> Factor:
    """Code a column as integers over its sorted levels."""
    col = frame[name]
    counted = _count_integers(col)
    if counted is not None:  # as pandas.factorize(sort=True), without hashing
        low, counts = counted
        present = counts > 0
        lookup = np.cumsum(present, dtype=np.intp) - 1
        values = col.to_numpy()
        codes = lookup[(values - low).astype(np.intp)]
        levels = (np.flatnonzero(present) + low).astype(values.dtype).tolist()
        return Factor(name, codes, tuple(levels))
    codes, uniques = pd.factorize(col, sort=True)
    return Factor(name, codes.astype(np.intp), tuple(uniques.tolist()))


def _count_integers(col: pd.Series[Any]) -> tuple[int, IntArray] | None:
    """``(low, counts)``: how often each of ``low, low + 1, ...`` occurs in a plain integer
    column with a small range (at most a few times its length); else ``None``."""
    if not _is_numpy_kind(col, "iu") or len(col) == 0:
        return None
    values = col.to_numpy()
    low, high = int(values.min()), int(values.max())
    if high - low > 4 * len(values) + 1024:
        return None
    return low, np.bincount((values - low).astype(np.intp))


def _integer_levels(col: pd.Series[Any]) -> list[Any] | None:
    """The sorted distinct values of a plain integer column with a small range, by counting."""
    counted = _count_integers(col)
    if counted is None:
        return None
    low, counts = counted
    return list((np.flatnonzero(counts) + low).astype(col.to_numpy().dtype).tolist())


def _categorical_arms(col: pd.Series[Any]) -> tuple[list[Any], list[Any]] | None:
    """``(sorted levels present, all categories)`` of a categorical column without missing
    values, from its codes (no value per row); else ``None``."""
    if not isinstance(col.dtype, pd.CategoricalDtype):
        return None
    codes = col.cat.codes.to_numpy()
    if codes.size == 0 or int(codes.min()) < 0:
        return None
    categories = col.cat.categories.tolist()
    present = np.bincount(codes, minlength=len(categories)) > 0
    levels = [c for c, used in zip(categories, present, strict=True) if used]
    return sorted(levels, key=lambda v: (str(type(v)), v)), categories


def encode_arms(
    frame: pd.DataFrame, treatment: str, control: Hashable | None
) -> tuple[Arms, IntArray]:
    """Code the treatment column: 0 for control, 1.. for the other arms in sorted order."""
    col = frame[treatment]
    categorical = _categorical_arms(col)
    levels = _integer_levels(col) if categorical is None else categorical[0]
    if levels is None:
        levels = sorted(pd.unique(col).tolist(), key=lambda v: (str(type(v)), v))
    if control is None:  # 0 (or False) when present, else the first arm in sorted order
        control = next((v for v in levels if not isinstance(v, str) and v == 0), levels[0])
    if control not in levels:
        raise EstimationError(
            f'control arm {control!r} does not occur in column "{treatment}" '
            f"(arms found: {levels}). Fix: pass control= one of those values."
        )
    others = tuple(v for v in levels if v != control)
    if not others:
        raise EstimationError(
            f'column "{treatment}" has only the control arm {control!r}; every other arm is '
            "empty. Fix: check the treatment column and the rows selected."
        )
    if categorical is not None:  # map each category once, then index by its codes
        lookup = np.zeros(len(categorical[1]), dtype=np.intp)
        for j, arm in enumerate(others, start=1):
            lookup[[c == arm for c in categorical[1]]] = j
        codes = lookup[col.cat.codes.to_numpy()]
    else:
        codes = np.zeros(len(col), dtype=np.intp)
        values = col.to_numpy()
        for j, arm in enumerate(others, start=1):
            codes[values == arm] = j
    arms = Arms(
        treatment,
        control.item() if isinstance(control, np.generic) else control,
        tuple(v.item() if isinstance(v, np.generic) else v for v in others),
    )
    return arms, codes


def prepare(
    frame: pd.DataFrame,
    *,
    outcome: str,
    treatment: str,
    covariates: Sequence[str] = (),
    cluster: str | None = None,
    blocks: str | None = None,
    fixed_effects: Sequence[str] = (),
    weights: str | None = None,
    control: Hashable | None = None,
) -> Prepared:
    """Check the columns and return complete-case arrays.

    Raises
    ------
    EstimationError
        A column is missing, non-numeric or incomplete; an arm is empty; weights are not
        positive.
    """
    if isinstance(covariates, str) or isinstance(fixed_effects, str):
        raise EstimationError(
            "covariates and fixed_effects take a list of column names, got a single string. "
            'Fix: write covariates=["x1"].'
        )
    fe_names = ([blocks] if blocks is not None else []) + list(fixed_effects)
    roles: dict[str, Sequence[str]] = {
        "outcome": [outcome],
        "treatment": [treatment],
        "covariates": list(covariates),
        "cluster": [cluster] if cluster else [],
        "fixed effects": fe_names,
        "weights": [weights] if weights else [],
    }
    check_columns(frame, roles)
    numeric = [outcome, *covariates, *([weights] if weights is not None else [])]
    block = _finite_block(frame, numeric)
    if block is None:  # something is missing, not numeric or infinite: find it, in order
        _check_complete(frame, [name for names in roles.values() for name in names])
        y = numeric_column(frame, outcome, "outcome")
    else:
        _check_complete(frame, [n for names in roles.values() for n in names if n not in numeric])
        y = block.column(outcome)
    arms, codes = encode_arms(frame, treatment, control)
    if block is not None:
        cov = block.columns(covariates)
    elif covariates:
        cov = np.column_stack([numeric_column(frame, c, "covariate") for c in covariates])
    else:
        cov = np.empty((len(frame), 0))
    w = None
    if weights is not None:
        w = numeric_column(frame, weights, "weights") if block is None else block.column(weights)
        if np.any(w <= 0):
            raise EstimationError(
                f'column "{weights}" (the weights) must be positive; '
                f"{int(np.sum(w <= 0))} value(s) are zero or negative. Fix: drop those rows."
            )
    return Prepared(
        outcome=outcome,
        y=y,
        arms=arms,
        arm_codes=codes,
        covariate_names=tuple(covariates),
        covariates=cov,
        cluster=factor(frame, cluster) if cluster is not None else None,
        fixed_effects=tuple(factor(frame, name) for name in fe_names),
        weights=w,
    )


def fe_dummies(fe: Factor) -> tuple[FloatArray, tuple[str, ...]]:
    """Indicators for every level but the first, with ``"name[level]"`` names."""
    k = len(fe.levels)
    if k < 2:
        return np.empty((fe.codes.shape[0], 0)), ()
    dummies = np.zeros((fe.codes.shape[0], k - 1))
    rows = np.nonzero(fe.codes > 0)[0]
    dummies[rows, fe.codes[rows] - 1] = 1.0
    return dummies, tuple(f"{fe.name}[{lev}]" for lev in fe.levels[1:])


def weighted_mean(x: FloatArray, w: FloatArray | None) -> FloatArray:
    """Column means, weighted when ``w`` is given."""
    return np.asarray(np.average(x, axis=0, weights=w), dtype=np.float64)


def positions(values: pd.Series, keys: pd.Index) -> IntArray:
    """Where each value sits in the unique ``keys`` (-1: absent): ``keys.get_indexer(values)``.

    A categorical column is looked up through its categories (one lookup per category,
    not per row); text ids are hashed by Arrow on their own buffers, with no Python string
    per row; other types (or mixed ones) take pandas' route.
    """
    import pyarrow as pa  # type: ignore[import-untyped]
    import pyarrow.compute as pc  # type: ignore[import-untyped]

    if isinstance(values.dtype, pd.CategoricalDtype):
        found = keys.get_indexer(pd.Index(values.cat.categories))
        return np.asarray(np.append(found, -1)[values.cat.codes.to_numpy()], dtype=np.intp)
    try:
        hits = pc.index_in(pa.array(values.array), value_set=pa.array(keys.array))
    except (pa.ArrowInvalid, pa.ArrowTypeError, pa.ArrowNotImplementedError, TypeError):
        return np.asarray(keys.get_indexer(pd.Index(values)), dtype=np.intp)
    return np.asarray(hits.fill_null(-1).to_numpy(zero_copy_only=False), dtype=np.intp)
