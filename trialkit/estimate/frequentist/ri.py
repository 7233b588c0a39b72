"""Randomisation inference: p-values and intervals from the trial's own assignment mechanism.

The statistic is the OLS coefficient on each non-control arm's dummy, with an intercept
and any covariates (the difference in means without covariates). By Frisch–Waugh–Lovell
it is ``(D'MD)⁻¹ D'My`` with ``M = I − QQ'`` from one QR factorisation of ``[1, X]``, so a
redrawn assignment needs only the sums of ``My``, ``Q`` and the row count over the units
it puts in each arm. Those sums are accumulated per draw (compiled, :mod:`.ri_kernels`)
without storing assignments: memory grows with ``N + draws``, never ``N × draws``.

The sharp null ``τ₀`` (two arms) uses linearity: with ``a = coef(y, T*)`` and
``c = coef(T_obs, T*)``, the redrawn statistic is ``a − τ₀c + τ₀``, so two numbers per draw
give the p-value at every ``τ₀``, and the interval inverts the test by bisection. The
two-sided p-value is ri2's: the probability of ``|stat − τ₀| ≥ |obs − τ₀|``, exact over all
assignments when there are at most 100,000 of them, Monte Carlo otherwise.
"""

from __future__ import annotations

import difflib
import math
from collections.abc import Hashable, Sequence
from dataclasses import dataclass

import numpy as np
import pandas as pd
from scipy import linalg

from trialkit.errors import EstimationError, RandomisationError
from trialkit.estimate.frequentist._design import FloatArray, IntArray
from trialkit.estimate.frequentist.result import check_ci_level
from trialkit.randomise import _counts
from trialkit.randomise.schemes import RuleScheme, Scheme, SteppedWedge

#: Largest number of redrawn statistics kept for the report's histogram.
NULL_SAMPLE_SIZE = 2_000
#: Largest number of assignments enumerated exactly (``_counts.ENUMERATION_LIMIT``).
EXACT_LIMIT = 100_000


@dataclass(frozen=True, slots=True)
class ArmTest:
    """The randomisation test of one non-control arm against control.

    Attributes
    ----------
    arm
        The arm's label in the treatment column.
    observed
        The observed statistic (OLS coefficient on the arm's dummy).
    p_value
        Two-sided randomisation p-value under the sharp null.
    mc_se
        Monte Carlo standard error of ``p_value``; 0 when exact.
    ci_low, ci_high
        Test-inversion interval (``nan`` when no ``ci_level`` was asked for).
    null_sample
        Up to 2,000 statistics under the sharp null, for a histogram.
    """

    arm: str
    observed: float
    p_value: float
    mc_se: float
    ci_low: float
    ci_high: float
    null_sample: tuple[float, ...]


@dataclass(frozen=True, slots=True)
class RandomisationTest:
    """Randomisation inference for one outcome: one :class:`ArmTest` per non-control arm.

    Attributes
    ----------
    outcome
        The outcome column.
    control
        The control arm's label.
    tests
        One test per non-control arm, in the order of the arm labels.
    draws
        Assignments used (all of them when exact).
    exact
        Whether every possible assignment was enumerated, weighted by its probability.
    sharp_null
        The hypothesised constant effect ``τ₀``.
    ci_level
        Level of the test-inversion interval, or ``None``.
    design
        How assignments were redrawn, in words.
    """

    outcome: str
    control: str
    tests: tuple[ArmTest, ...]
    draws: int
    exact: bool
    sharp_null: float
    ci_level: float | None
    design: str

    def _only(self) -> ArmTest:
        if len(self.tests) != 1:
            raise EstimationError(
                f"this trial has {len(self.tests)} non-control arms, so there is one test per "
                "arm. Fix: read `tests[i]` or `to_frame()`."
            )
        return self.tests[0]

    @property
    def p_value(self) -> float:
        """Two-sided p-value (trials with two arms)."""
        return self._only().p_value

    @property
    def observed(self) -> float:
        """Observed statistic (trials with two arms)."""
        return self._only().observed

    @property
    def mc_se(self) -> float:
        """Monte Carlo standard error of the p-value; 0 when exact (two arms)."""
        return self._only().mc_se

    @property
    def ci_low(self) -> float:
        """Lower end of the test-inversion interval (two arms)."""
        return self._only().ci_low

    @property
    def ci_high(self) -> float:
        """Upper end of the test-inversion interval (two arms)."""
        return self._only().ci_high

    @property
    def null_sample(self) -> tuple[float, ...]:
        """Up to 2,000 statistics under the sharp null (two arms)."""
        return self._only().null_sample

    def to_frame(self) -> pd.DataFrame:
        """One tidy row per non-control arm (estimatr's column names)."""
        rows = [
            {
                "outcome": self.outcome,
                "term": f"{t.arm} vs {self.control}",
                "estimator": "randomisation inference",
                "estimate": t.observed,
                "observed": t.observed,
                "p_value": t.p_value,
                "mc_se": t.mc_se,
                "draws": self.draws,
                "exact": self.exact,
                "sharp_null": self.sharp_null,
                "ci_low": t.ci_low,
                "ci_high": t.ci_high,
                "ci_level": self.ci_level,
                "ci_kind": "test inversion" if self.ci_level else None,
                "null_sample": list(t.null_sample),
            }
            for t in self.tests
        ]
        return pd.DataFrame(rows)

    def summary(self) -> str:
        """A fixed-width text table."""
        kind = "exact" if self.exact else "Monte Carlo"
        lines = [
            f"Randomisation inference: {self.outcome} ({kind}, {self.draws:,} assignments;"
            f" sharp null effect {self.sharp_null:g})",
            f"Design: {self.design}",
            f"{'term':<28}{'estimate':>12}{'p_value':>10}{'mc_se':>9}{'ci_low':>11}{'ci_high':>11}",
        ]
        for t in self.tests:
            term = f"{t.arm} vs {self.control}"[:27]
            lines.append(
                f"{term:<28}{t.observed:>12.4g}{t.p_value:>10.4f}{t.mc_se:>9.4f}"
                f"{t.ci_low:>11.4g}{t.ci_high:>11.4g}"
            )
        return "\n".join(lines)

    def __str__(self) -> str:
        return self.summary()


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


def _count_capped(rule: _counts.CountRule) -> int | None:
    """``_counts.count_assignments``, but ``None`` as soon as it exceeds the limit.

    Strata of equal size have the same count vectors, so each size is counted once; with
    many strata (matched pairs) the total is never formed when it is astronomically large.
    """
    W = sum(rule.ratios)
    _, first, times = np.unique(rule.sizes, return_index=True, return_counts=True)
    log_total, per_size = 0.0, []
    for s, k in zip(first, times, strict=True):
        # The extras change only where u crosses a cumulative remainder.
        u = np.unique(np.r_[0, rule.cum[s] % W])[:, None]
        extras = np.diff(-((u - rule.cum[s][None, :]) // W), axis=1)
        vectors = np.unique(rule.floors[s] + extras, axis=0).tolist()
        logs = [math.lgamma(sum(v) + 1) - sum(math.lgamma(x + 1) for x in v) for v in vectors]
        log_total += int(k) * max(logs)  # a lower bound on the log of the count
        if log_total > math.log(EXACT_LIMIT) + 1e-6:
            return None
        per_size.append((sum(_counts._multinomial(tuple(v)) for v in vectors), int(k)))
    total = 1
    for m, k in per_size:
        total *= m**k
    return total if total <= EXACT_LIMIT else None


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


def _unit_index(df: pd.DataFrame, unit: str | None, scheme: Scheme) -> IntArray:
    """Row → position of its unit in ``scheme.units``."""
    n_units = scheme.units.n_units
    if unit is None:
        if len(df) != n_units:
            raise EstimationError(
                f"the data have {len(df)} rows but the scheme has {n_units} units. Fix: pass "
                "`unit=` naming the column of each row's randomised unit."
            )
        return np.arange(n_units, dtype=np.int64)
    values = df[unit].to_numpy()
    idx = pd.Index(scheme.units.ids).get_indexer(pd.Index(values))
    if (idx < 0).any():
        as_text = pd.Index(np.asarray(scheme.units.ids).astype(str))
        idx = as_text.get_indexer(pd.Index(values.astype(str)))
    if (idx < 0).any():
        shown = ", ".join(map(str, pd.unique(values[idx < 0])[:5]))
        raise EstimationError(
            f"column {unit!r}: {int((idx < 0).sum())} row(s) name units the scheme does not "
            f"have (e.g. {shown}). Fix: use the unit ids the trial was randomised with."
        )
    out: IntArray = idx.astype(np.int64)
    return out


def _arm_codes(
    levels: list[Hashable], scheme: Scheme, arms: Sequence[Hashable] | None
) -> dict[Hashable, int]:
    """Scheme arm index of each observed label."""
    K = scheme.n_arms
    if arms is not None:
        if len(arms) != K or any(v not in list(arms) for v in levels):
            raise EstimationError(
                f"`arms` must list the scheme's {K} arm labels in order and include every "
                f"label in the data ({levels}). Got {list(arms)!r} instead."
            )
        return {v: list(arms).index(v) for v in levels}
    if all(isinstance(v, int | np.integer) and 0 <= int(v) < K for v in levels):
        return {v: int(v) for v in levels}  # type: ignore[call-overload]
    if len(levels) == K and len(set(scheme.ratios)) == 1 and K <= 3:
        return {v: i for i, v in enumerate(levels)}
    raise EstimationError(
        f"cannot tell which of the labels {levels} is which of the scheme's {K} arms (ratios "
        f"{':'.join(map(str, scheme.ratios))}). Fix: pass `arms=` with the labels in the "
        "scheme's arm order, or code the treatment column 0 … K−1."
    )


def _check_feasible(rule: _counts.CountRule, group_arm: IntArray) -> None:
    """Refuse an observed allocation that the count rule cannot produce."""
    if (group_arm < 0).any():
        return  # units without rows: their arms are unknown
    K = len(rule.ratios)
    got = np.zeros((rule.n_strata, K), np.int64)
    np.add.at(got, (rule.strata, group_arm), 1)
    ceil = rule.floors + (np.diff(rule.cum, axis=1) > 0)
    bad = np.flatnonzero(((got < rule.floors) | (got > ceil)).any(axis=1))
    if bad.size:
        raise EstimationError(
            f"the observed allocation has arm counts {got[bad[0]].tolist()} in stratum "
            f"{int(bad[0])}, which the declared scheme cannot produce (it gives "
            f"{rule.floors[bad[0]].tolist()} or one more per arm). Fix: pass the scheme the "
            "trial was randomised with, or `arms=` in the scheme's arm order."
        )


def _groups(
    df: pd.DataFrame,
    treatment: str,
    unit: str | None,
    scheme: Scheme | None,
    codes: IntArray,
    sw: bool,
) -> tuple[IntArray, int, _counts.CountRule | None, str]:
    """Group of each row, number of groups, count rule (if any) and a description."""
    if scheme is None:
        group = (
            pd.factorize(df[unit])[0].astype(np.int64)
            if unit is not None
            else np.arange(len(df), dtype=np.int64)
        )
        n_groups = int(group.max()) + 1
        per_arm = np.bincount(_group_arm(group, codes, n_groups), minlength=int(codes.max()) + 1)
        fixed = _counts.count_rule(np.zeros(n_groups, np.int64), tuple(map(int, per_arm)), 1)
        what = "units" if unit is not None else "rows"
        return (
            group,
            n_groups,
            fixed,
            (
                f"complete randomisation of {n_groups} {what} with the observed arm sizes "
                f"{per_arm.tolist()} (no scheme given)"
            ),
        )
    idx = _unit_index(df, unit, scheme)
    rule: _counts.CountRule | None
    if isinstance(scheme, RuleScheme):
        group, n_groups, rule = scheme.layout.unit_ru[idx], scheme.layout.n_ru, scheme.rule
    else:
        group, n_groups, rule = idx, scheme.units.n_units, None
    if not sw:
        group_arm = _group_arm(group, codes, n_groups)
        if rule is not None:
            _check_feasible(rule, group_arm)
    return group, n_groups, rule, f"the declared `{scheme.name}` scheme {scheme.parameters()}"


def _group_arm(group: IntArray, codes: IntArray, n_groups: int) -> IntArray:
    """Arm of each group (``-1`` without rows); an error if a group's rows disagree."""
    arm = np.full(n_groups, -1, np.int64)
    arm[group] = codes
    if (arm[group] != codes).any():
        raise EstimationError(
            "rows of the same randomised unit are in different arms, but a unit is assigned "
            "whole. Fix: check the `unit` and treatment columns."
        )
    return arm


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
    if sw:
        step_period = df[period].to_numpy(np.float64)[:, None] >= np.arange(1, K + 1)[None, :]
        G = np.stack([_group_sums(F * step_period[:, [k]], group, n_groups) for k in range(K)], 1)
        dummy_of[:] = 0
        arm_order = g_arm = np.arange(K, dtype=np.int64)
        others = [1]
    else:
        G, g_arm = _group_sums(F, group, n_groups)[:, None, :], np.zeros(K, np.int64)
        c = mapping[control]
        arm_order = np.array([k for k in range(K) if k != c] + [c], np.int64)
    if scheme is not None and any(k not in mapping.values() for k in range(K)) and not sw:
        raise EstimationError(
            f"the scheme has {K} arms but the data have rows in "
            f"{len(levels)} of them. Fix: check the treatment column."
        )
    compact = None
    if (
        rule is not None
        and not sw
        and len(others) == 1
        and np.all(np.bincount(group, minlength=n_groups) == 1)
    ):
        treated = np.zeros(n_groups, bool)
        treated[group] = exposure > 0
        perm = np.argsort(~treated, kind="stable")
        keep = [0, *range(2, 2 + (0 if constant else Q.shape[1]))]
        compact = Compact(
            G=G[perm][:, :, keep],
            strata=rule.strata[perm],
            boundary=int(treated.sum()),
            qt=Q.T @ exposure,
        )
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


def _coefficients(sums: FloatArray, m: int, p: int, constant: float) -> FloatArray:
    """FWL coefficients ``(n, J, m)`` from sums ``(n, J, m + p + 1)`` of ``[MR, Q, 1]``."""
    b, qd, dd = sums[..., :m], sums[..., m : m + p], sums[..., m + p]
    if p == 0:
        qd = constant * dd[..., None]
    A = -np.einsum("njp,nkp->njk", qd, qd)
    J = sums.shape[1]
    A[:, np.arange(J), np.arange(J)] += dd
    with np.errstate(divide="ignore", invalid="ignore"):
        if J == 1:
            out: FloatArray = b / A
            return out
        ok = np.abs(np.linalg.det(A)) > 0
        coef = np.full(b.shape, np.nan)
        coef[ok] = np.linalg.solve(A[ok], b[ok])
        return coef


def _sums(
    s: Setup, draws: int, seed: int, need_c: bool = True
) -> tuple[FloatArray, FloatArray | None, bool]:
    """Per-assignment sums and probabilities (``None``: equally likely Monte Carlo draws).

    Without ``need_c`` (no sharp null, no interval) the lean fast path skips the sums of
    ``M·T_obs``; their column is then meaningless and must not be used.
    """
    from trialkit.estimate.frequentist import ri_kernels as rk

    total = s.count()
    if total is not None and total <= EXACT_LIMIT:
        table, prob = s.enumerate()
        return rk.table_sums(table, s.G, s.g_arm, s.dummy_of, s.n_dummies), prob, True
    if s.rule is not None:
        rule, c = s.rule, s.compact
        raw = rk.rule_sums(
            seed,
            draws,
            strata=rule.strata if c is None else c.strata,
            floors=rule.floors,
            cum=rule.cum,
            total=sum(rule.ratios),
            arm_order=s.arm_order,
            G=s.G if c is None else c.G,
            g_arm=s.g_arm,
            dummy_of=s.dummy_of,
            n_dummies=s.n_dummies,
            boundary=0 if c is None or not need_c else c.boundary,
        )
        sums = raw[..., :-2] if c is None else c.rebuild(raw, s.constant_basis)
    else:
        assert s.scheme is not None
        from trialkit._core.rng import RawStream

        parts = [
            rk.table_sums(batch, s.G, s.g_arm, s.dummy_of, s.n_dummies)
            for batch in s.scheme.draw_many(RawStream(seed), draws)
        ]
        sums = np.concatenate(parts, axis=0)
    return sums, None, False


def _tolerance(a: FloatArray, obs: float, tau: float) -> float:
    """Slack for ties between statistics that are equal up to rounding."""
    return 1e-9 * (abs(obs) + abs(tau) + float(np.nanmax(np.abs(a))) + 1e-300)


def _p_value(a: FloatArray, c: FloatArray, w: FloatArray | None, obs: float, tau: float) -> float:
    """ri2's two-sided p: probability of ``|a − τc| ≥ |obs − τ|`` (stat − τ = a − τc)."""
    hit = np.abs(a - tau * c) >= abs(obs - tau) - _tolerance(a, obs, tau)
    # Count Monte Carlo hits exactly; exact probabilities may sum to 1 plus rounding.
    return float(np.count_nonzero(hit) / len(a) if w is None else min(1.0, np.sum(w[hit])))


def _interval(
    a: FloatArray, c: FloatArray, w: FloatArray | None, obs: float, alpha: float
) -> tuple[float, float]:
    """Hull of ``{τ : p(τ) > α}``, exactly, by a sweep over each draw's breakpoints.

    ``(a − τc)² − (obs − τ)² = f₁f₂`` with ``fᵢ = pᵢ − qᵢτ``, ``p₁ = a − obs``,
    ``q₁ = c − 1``, ``p₂ = a + obs``, ``q₂ = c + 1``: each draw counts towards ``p(τ)`` on
    one interval or the complement of one, so ``p`` is a step function of ``τ``. (This is
    the bisection of test inversion carried to its end, without missing a crossing where
    ``p`` is not monotone.)
    """
    w = np.full(len(a), 1.0 / len(a)) if w is None else w
    tol = _tolerance(a, obs, 0.0)
    p1, q1, p2, q2 = a - obs, c - 1.0, a + obs, c + 1.0
    flat1, flat2 = np.abs(q1) <= 1e-9, np.abs(q2) <= 1e-9
    always = (flat1 & (np.abs(p1) <= tol)) | (flat2 & (np.abs(p2) <= tol))
    with np.errstate(divide="ignore", invalid="ignore"):
        r1, r2 = np.where(flat1, np.nan, p1 / q1), np.where(flat2, np.nan, p2 / q2)
    inf = np.full(len(a), np.inf)
    both = ~flat1 & ~flat2 & ~always
    lo, hi = np.fmin(r1, r2), np.fmax(r1, r2)
    inside = both & (q1 * q2 < 0)  # f₁f₂ ≥ 0 between the roots
    outside = both & (q1 * q2 > 0)  # ... or outside them
    # One flat factor: f₁f₂ = p·(pⱼ − qⱼτ) ≥ 0 is a half-line.
    one = (flat1 ^ flat2) & ~always
    sign = np.where(flat1, np.sign(p1) * np.sign(q2), np.sign(p2) * np.sign(q1))
    root = np.where(flat1, r2, r1)
    left, right = one & (sign > 0), one & (sign < 0)
    never_both = flat1 & flat2 & ~always & (p1 * p2 < 0)
    whole = always | (flat1 & flat2 & ~never_both & ~always)
    starts = np.concatenate(
        [-inf[whole], lo[inside], -inf[outside], hi[outside], -inf[left], root[right]]
    )
    ends = np.concatenate(
        [inf[whole], hi[inside], lo[outside], inf[outside], root[left], inf[right]]
    )
    weights = np.concatenate([w[whole], w[inside], w[outside], w[outside], w[left], w[right]])
    points = np.concatenate([starts, ends])
    order = np.argsort(points, kind="stable")
    level = np.cumsum(np.concatenate([weights, -weights])[order])
    xs = points[order]
    last = np.r_[xs[1:] != xs[:-1], True]
    xs, level = xs[last], level[last]  # p on (xs[k], xs[k + 1]) is level[k]
    ok = np.flatnonzero(level > alpha + 1e-12)
    if ok.size == 0:
        return obs, obs
    return float(xs[ok[0]]), float(xs[min(ok[-1] + 1, len(xs) - 1)])


def _null_sample(values: FloatArray, w: FloatArray | None, seed: int) -> tuple[float, ...]:
    """The first 2,000 Monte Carlo statistics, or 2,000 drawn by probability when exact."""
    if w is not None:
        keep = np.isfinite(values)
        rng = np.random.default_rng(seed)
        values = rng.choice(
            values[keep], size=min(NULL_SAMPLE_SIZE, int(keep.sum())), p=w[keep] / w[keep].sum()
        )
    return tuple(float(v) for v in values[:NULL_SAMPLE_SIZE])


def randomisation_test(
    df: pd.DataFrame,
    *,
    outcome: str,
    treatment: str,
    scheme: Scheme | None = None,
    unit: str | None = None,
    covariates: Sequence[str] = (),
    sharp_null: float = 0.0,
    draws: int = 10_000,
    seed: int = 0,
    ci_level: float | None = None,
    control: Hashable | None = None,
    period: str | None = None,
    arms: Sequence[Hashable] | None = None,
) -> RandomisationTest:
    """Randomisation (permutation) test of each arm's effect under a sharp null.

    Assignments are redrawn from ``scheme``, the declaration the trial was randomised with
    (blocks, clusters, rerandomisation restriction, stepped wedge), and the OLS statistic is
    recomputed for each. Without a scheme, complete randomisation of the observed
    treatment vector is assumed: the observed number of units in each arm, every
    arrangement equally likely (``unit`` rows sharing a unit move together).

    Parameters
    ----------
    df
        One row per observation (clients or staff nested in randomised units are fine).
    outcome, treatment
        Columns of the outcome and of the arm label (for a stepped wedge: 0/1 exposure).
    scheme
        The randomisation scheme the trial used (``trialkit.randomise.declare``).
    unit
        Column holding each row's randomised-unit id (the scheme's ``units.ids``). Without
        it, row ``i`` is the scheme's unit ``i``.
    covariates
        Numeric columns adjusted for (the statistic is then the OLS coefficient).
    sharp_null
        Constant effect ``τ₀`` under the null; non-zero only for two-arm trials.
    draws
        Monte Carlo draws when there are more than 100,000 possible assignments.
    seed
        Seed of the draws; results do not depend on the number of threads.
    ci_level
        Level of a test-inversion interval for ``τ₀`` (two-arm trials).
    control
        Control arm label; the first sorted label by default.
    period
        Stepped wedge only: the period column (0 = baseline). A unit at step ``k`` is
        exposed from period ``k`` on; period dummies are added to the covariates.
    arms
        Arm labels in the scheme's arm order; needed when the labels are not ``0 … K−1``
        and the scheme's ratios differ (or it has four or more arms).

    Returns
    -------
    RandomisationTest

    Raises
    ------
    EstimationError
        For missing columns or values, labels that do not match the scheme, an observed
        allocation the scheme cannot produce, or ``sharp_null``/``ci_level`` with 3+ arms.

    Examples
    --------
    >>> df = pd.DataFrame({"y": [5.0, 6, 7, 8, 1, 2, 3, 4], "t": [1, 1, 1, 1, 0, 0, 0, 0]})
    >>> res = randomisation_test(df, outcome="y", treatment="t")
    >>> res.exact, res.draws, round(res.p_value * 70)  # 2 of 70 splits are as extreme
    (True, 70, 2)
    """
    _check(draws, seed, sharp_null)
    level = None if ci_level is None else check_ci_level(ci_level)
    try:
        s = setup(
            df,
            outcome=outcome,
            treatment=treatment,
            scheme=scheme,
            unit=unit,
            covariates=tuple(covariates),
            control=control,
            period=period,
            arms=arms,
        )
    except RandomisationError as err:
        raise EstimationError(str(err)) from err
    if s.n_dummies > 1 and (sharp_null != 0.0 or level is not None):
        raise EstimationError(
            f"a sharp null other than 0 and its confidence interval need two arms; this trial "
            f"has {s.n_dummies + 1}. Fix: test sharp_null=0 (no effect of any arm), or "
            "analyse one arm against control on those rows."
        )
    need_c = sharp_null != 0.0 or level is not None
    sums, w, exact = _sums(s, int(draws), int(seed), need_c)
    m, p = s.n_responses, s.n_basis
    coef = _coefficients(sums, m, p, s.constant_basis)
    obs = _coefficients(s.observed_sums[None], m, p, s.constant_basis)[0, :, 0]
    tests = []
    for j, arm in enumerate(s.arm_labels):
        a = coef[:, j, 0]
        c = coef[:, j, 1] if m > 1 and need_c else np.zeros_like(a)
        pv = _p_value(a, c, w, float(obs[j]), sharp_null)
        low = high = float("nan")
        if level is not None:
            low, high = _interval(a, c, w, float(obs[j]), 1 - level)
        se = 0.0 if exact else float(np.sqrt(pv * (1 - pv) / len(a)))
        null = _null_sample(a - sharp_null * c + sharp_null, w, int(seed))
        tests.append(
            ArmTest(
                arm=str(arm),
                observed=float(obs[j]),
                p_value=pv,
                mc_se=se,
                ci_low=low,
                ci_high=high,
                null_sample=null,
            )
        )
    return RandomisationTest(
        outcome=outcome,
        control=str(s.control),
        tests=tuple(tests),
        draws=len(coef),
        exact=exact,
        sharp_null=float(sharp_null),
        ci_level=level,
        design=s.description,
    )


__all__ = ["ArmTest", "RandomisationTest", "randomisation_test"]
