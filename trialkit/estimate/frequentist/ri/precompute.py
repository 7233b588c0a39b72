"""Randomisation inference: validate the data and precompute what every draw needs.

:func:`setup` residualises the responses on ``[1, X]`` once and sums ``[MR, Q, 1]`` per
randomised group, so a redrawn assignment needs only the sums over the groups in each arm.
"""

from __future__ import annotations

import difflib
from collections.abc import Hashable, Sequence
from dataclasses import dataclass

import numpy as np
import pandas as pd
from scipy import linalg

from trialkit.errors import EstimationError, RandomisationError
from trialkit.estimate.frequentist._design import FloatArray, IntArray
from trialkit.estimate.frequentist.ri_exact import _count_capped
from trialkit.estimate.frequentist.ri_groups import _arm_codes, _groups
from trialkit.randomise import _counts
from trialkit.randomise.schemes import RuleScheme, Scheme, SteppedWedge


@dataclass(frozen=True, slots=True, eq=False)
class Compact:
    """The fast path's lean input when every randomisation unit is one row (two arms).

    Units are renumbered so those observed in treatment come first (below ``boundary``);
    the kernel then counts them without memory, and ``G`` keeps only ``My`` and ``Q``:
    ``Σ Mt = (treated-observed units drawn) − (Σ Q)·Q't``. A smaller ``G`` stays in cache.
    """

    G: FloatArray
    strata: IntArray
    boundary: int
    qt: FloatArray

    def rebuild(self, raw: FloatArray, constant: float) -> FloatArray:
        """Full sums ``[My, Mt, Q…, count]`` from the kernel's ``[My, Q…, count, below]``."""
        n_sel, below = raw[..., -2:-1], raw[..., -1:]
        q = raw[..., 1:-2] if raw.shape[-1] > 3 else constant * n_sel
        mt = below - q @ self.qt[:, None]
        parts = [raw[..., :1], mt] + ([q] if raw.shape[-1] > 3 else []) + [n_sel]
        out: FloatArray = np.concatenate(parts, axis=-1)
        return out


@dataclass(frozen=True, slots=True, eq=False)
class Setup:
    """Everything the draws need, built once from the data and the scheme.

    ``G[g, g_arm[k]]`` holds, for group ``g`` (randomisation unit, or scheme unit when the
    scheme has no count rule) given arm ``k``, the sums over its exposed rows of
    ``[MR, Q, 1]``: the residualised responses, the orthonormal basis of ``[1, X]`` and the
    row count. Only a stepped wedge's exposed rows depend on the arm (its step). Without
    covariates ``Q`` is the constant ``constant_basis`` and is left out (``n_basis = 0``):
    its sums are that constant times the row count.
    """

    G: FloatArray
    g_arm: IntArray
    dummy_of: IntArray
    arm_order: IntArray
    n_responses: int
    n_basis: int
    constant_basis: float
    observed_sums: FloatArray
    arm_labels: tuple[Hashable, ...]
    control: Hashable
    rule: _counts.CountRule | None
    scheme: Scheme | None
    description: str
    compact: Compact | None

    @property
    def n_dummies(self) -> int:
        """Number of arm dummies (non-control arms; 1 for a stepped wedge)."""
        return int(self.dummy_of.max()) + 1

    def count(self) -> int | None:
        """Number of possible assignments, or ``None`` when more than can be enumerated."""
        if self.rule is not None:
            return _count_capped(self.rule)
        base = getattr(self.scheme, "base", None)  # rerandomisation filters its base's draws
        if isinstance(base, RuleScheme) and _count_capped(base.rule) is None:
            return None
        assert self.scheme is not None
        try:
            return self.scheme.count_assignments()
        except RandomisationError:
            return None

    def enumerate(self) -> tuple[IntArray, FloatArray]:
        """Every assignment of the groups and its probability."""
        if self.rule is not None:
            return _counts.enumerate_assignments(self.rule)
        assert self.scheme is not None
        return self.scheme.enumerate_assignments()


def _columns(df: pd.DataFrame, names: Sequence[str | None]) -> None:
    missing = [n for n in names if n is not None and n not in df.columns]
    if missing:
        close = difflib.get_close_matches(missing[0], [str(c) for c in df.columns], n=1)
        hint = f" (did you mean `{close[0]}`?)" if close else ""
        raise EstimationError(
            f"column(s) {', '.join(map(repr, missing))} are not in the data{hint}. "
            "Fix: pass the names of existing columns."
        )
    used = [n for n in dict.fromkeys(names) if n is not None]
    bad = df[used].isna().any(axis=1).to_numpy()
    if bad.any():
        raise EstimationError(
            f"{int(bad.sum())} row(s) have missing values in {', '.join(used)} (first: row "
            f"{int(np.flatnonzero(bad)[0])}). Fix: drop or impute them as pre-registered."
        )


def _numeric(df: pd.DataFrame, names: Sequence[str]) -> FloatArray:
    try:
        return df[list(names)].to_numpy(dtype=np.float64).reshape(len(df), len(names))
    except (TypeError, ValueError) as err:
        raise EstimationError(
            f"columns {list(names)} must be numeric. Fix: code them as "
            "numbers (dummies for categories)."
        ) from err


def _basis(df: pd.DataFrame, covariates: tuple[str, ...], period: str | None) -> FloatArray:
    """Orthonormal basis ``Q`` of ``[1, covariates, period dummies]`` (rank-revealing QR)."""
    parts = [np.ones((len(df), 1)), _numeric(df, covariates)]
    if period is not None:
        parts.append(pd.get_dummies(df[period], drop_first=True).to_numpy(np.float64))
    X = np.concatenate(parts, axis=1)
    Q, R, _ = linalg.qr(X, mode="economic", pivoting=True)
    diag = np.abs(np.diag(R))
    rank = int((diag > 1e-10 * diag[0]).sum())
    out: FloatArray = Q[:, :rank]
    return out


def _group_sums(F: FloatArray, group: IntArray, n_groups: int) -> FloatArray:
    out = np.zeros((n_groups, F.shape[1]))
    np.add.at(out, group, F)
    return out


def _arm_levels(
    df: pd.DataFrame, treatment: str, control: Hashable | None, sw: bool
) -> tuple[list[Hashable], Hashable, IntArray]:
    """Sorted arm labels, the control label and each row's label code."""
    labels = df[treatment].to_numpy()
    if sw:
        levels: list[Hashable] = [0, 1]
        control, codes = 0, (_numeric(df, [treatment])[:, 0] != 0).astype(np.int64)
    else:
        levels = sorted(pd.unique(labels).tolist(), key=lambda v: (str(type(v)), v))
        control = levels[0] if control is None else control
        if control not in levels:
            raise EstimationError(
                f"control arm {control!r} is not among the labels {levels} "
                f"of column {treatment!r}. Fix: pass one of them."
            )
        codes = pd.Index(levels).get_indexer(pd.Index(labels)).astype(np.int64)
    if len(levels) < 2:
        raise EstimationError(
            f"column {treatment!r} has one arm only ({levels}); "
            "randomisation inference compares arms."
        )
    return levels, control, codes


def _layers(
    F: FloatArray, group: IntArray, n_groups: int, K: int, step: FloatArray | None, c: int
) -> tuple[FloatArray, IntArray, IntArray]:
    """``G``, each arm's layer of it, and the order arms take positions (control ``c`` last).

    With a stepped wedge's ``step`` (each row's period), arm ``k`` exposes a group's rows
    from period ``k + 1`` on, so each arm has its own layer.
    """
    if step is not None:
        exposed = step[:, None] >= np.arange(1, K + 1)[None, :]
        G = np.stack([_group_sums(F * exposed[:, [k]], group, n_groups) for k in range(K)], 1)
        order = np.arange(K, dtype=np.int64)
        return G, order, order
    G = _group_sums(F, group, n_groups)[:, None, :]
    return G, np.zeros(K, np.int64), np.array([k for k in range(K) if k != c] + [c], np.int64)


def _compact(
    rule: _counts.CountRule | None,
    group: IntArray,
    n_groups: int,
    exposure: FloatArray,
    G: FloatArray,
    Q: FloatArray,
    constant: float,
) -> Compact | None:
    """The fast path's input (two arms, count rule, one row per group), else ``None``."""
    if rule is None or not np.all(np.bincount(group, minlength=n_groups) == 1):
        return None
    treated = np.zeros(n_groups, bool)
    treated[group] = exposure > 0
    perm = np.argsort(~treated, kind="stable")
    keep = [0, *range(2, 2 + (0 if constant else Q.shape[1]))]
    return Compact(
        G=G[perm][:, :, keep],
        strata=rule.strata[perm],
        boundary=int(treated.sum()),
        qt=Q.T @ exposure,
    )


def setup(
    df: pd.DataFrame,
    *,
    outcome: str,
    treatment: str,
    scheme: Scheme | None,
    unit: str | None,
    covariates: tuple[str, ...],
    control: Hashable | None,
    period: str | None,
    arms: Sequence[Hashable] | None,
) -> Setup:
    """Validate the inputs and precompute ``G``, the dummies and the observed sums."""
    sw = isinstance(scheme, SteppedWedge)
    if sw and period is None:
        raise EstimationError(
            "a stepped wedge needs `period=`, the column of each row's "
            "period (0 = baseline), to tell exposed rows from unexposed."
        )
    _columns(df, [outcome, treatment, unit, period, *covariates])
    y = _numeric(df, [outcome])[:, 0]
    levels, control, codes = _arm_levels(df, treatment, control, sw)
    mapping = {v: i for i, v in enumerate(levels)}
    if scheme is not None and not sw:
        mapping = _arm_codes(levels, scheme, arms)
        codes = np.array([mapping[v] for v in levels], np.int64)[codes]
    group, n_groups, rule, text = _groups(df, treatment, unit, scheme, codes, sw)
    K = scheme.n_arms if scheme is not None else len(levels)
    others = [v for v in levels if v != control]
    dummy_of = np.full(K, -1, np.int64)
    for j, v in enumerate(others):
        dummy_of[mapping[v]] = j
    Q = _basis(df, covariates, period)
    exposure = (codes != mapping[control]).astype(np.float64)
    resp = [y] if len(others) > 1 else [y, exposure]
    R = np.column_stack([v - Q @ (Q.T @ v) for v in resp])
    constant = float(Q[0, 0]) if Q.shape[1] == 1 else 0.0
    F = np.column_stack([R, Q[:, :0] if constant else Q, np.ones(len(df))])
    D = (
        exposure[:, None]
        if sw
        else (codes[:, None] == np.array([mapping[v] for v in others])[None, :]).astype(np.float64)
    )
    step = df[period].to_numpy(np.float64) if sw else None
    G, g_arm, arm_order = _layers(F, group, n_groups, K, step, mapping[control])
    if sw:
        dummy_of[:] = 0
        others = [1]
    if scheme is not None and any(k not in mapping.values() for k in range(K)) and not sw:
        raise EstimationError(
            f"the scheme has {K} arms but the data have rows in "
            f"{len(levels)} of them. Fix: check the treatment column."
        )
    single = not sw and len(others) == 1
    compact = _compact(rule, group, n_groups, exposure, G, Q, constant) if single else None
    return Setup(
        G=G,
        g_arm=g_arm,
        dummy_of=dummy_of,
        arm_order=arm_order,
        n_responses=R.shape[1],
        n_basis=0 if constant else Q.shape[1],
        constant_basis=constant,
        observed_sums=D.T @ F,
        arm_labels=tuple(others),
        control=control,
        rule=rule,
        scheme=scheme,
        description=text,
        compact=compact,
    )


def _check(draws: int, seed: int, sharp_null: float) -> None:
    if isinstance(draws, bool) or not isinstance(draws, int | np.integer) or draws < 1:
        raise EstimationError(
            f"The 'draws' parameter must be a positive whole number. Got {draws!r} instead."
        )
    if isinstance(seed, bool) or not isinstance(seed, int | np.integer) or seed < 0:
        raise EstimationError(
            f"The 'seed' parameter must be a non-negative whole number. Got {seed!r} instead."
        )
    if not np.isfinite(sharp_null):
        raise EstimationError(
            f"The 'sharp_null' parameter must be a finite number. Got {sharp_null!r} instead."
        )
