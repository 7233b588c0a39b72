"""Treatment effects within the levels of a pre-specified subgroup, and a heterogeneity test.

One interacted regression (through :func:`~trialkit.estimate.frequentist.ols.ols`, so HC2
or CR2 by default): the outcome on the arms, the subgroup's level indicators, every
arm × level interaction, and the covariates and blocks as given (covariate slopes are
common to all levels). Each level's effect is read from the same model refitted with that
level as the reference, so its standard error and degrees of freedom (Bell–McCaffrey
with CR2) are those of a coefficient. Heterogeneity is the Wald test that all
interactions are zero, with the robust covariance: F = W / q on (q, ν) degrees of
freedom, ν the smallest df among the interaction terms (for one interaction this is the
t test of that interaction).
"""

from __future__ import annotations

from collections.abc import Hashable, Sequence
from dataclasses import asdict, dataclass, replace

import numpy as np
import pandas as pd
from scipy import stats

from trialkit.errors import EstimationError
from trialkit.estimate.frequentist._design import INTERCEPT, FloatArray, Prepared, encode_arms
from trialkit.estimate.frequentist.lstsq import LeastSquares, fit_in_span, fit_lstsq
from trialkit.estimate.frequentist.ols import fit_linear, ols_design
from trialkit.estimate.frequentist.result import RegressionResult
from trialkit.estimate.results import ESTIMATE_COLUMNS, Estimate
from trialkit.protocol.vocabulary import VcovType

__all__ = ["HeterogeneityTest", "SubgroupEffects", "subgroup_effects"]


@dataclass(frozen=True, slots=True)
class HeterogeneityTest:
    """Robust Wald test that the effect is the same in every level of the subgroup.

    Attributes
    ----------
    statistic
        F = W / q.
    wald
        W = b' V⁻¹ b over the interaction coefficients b (chi-square form).
    df_num, df_denom
        q (interaction terms) and ν (their smallest degrees of freedom).
    p_value
        Upper tail of F(q, ν).
    terms
        The interaction terms tested.
    se_type
        The covariance used.
    """

    statistic: float
    wald: float
    df_num: int
    df_denom: float
    p_value: float
    terms: tuple[str, ...]
    se_type: str


@dataclass(frozen=True, slots=True)
class SubgroupEffects:
    """Effects of each arm within each level of a subgroup, plus the heterogeneity test.

    Attributes
    ----------
    outcome, subgroup
        The outcome and subgroup columns.
    levels
        The subgroup's levels, sorted.
    rows
        One :class:`~trialkit.estimate.results.Estimate` per level × arm; ``estimand`` is
        ``"ITT[<subgroup>=<level>]"`` and ``term`` the arm's term.
    heterogeneity
        The interaction Wald test.
    n_level
        Observations in each level (all arms), in the order of ``levels``. (Each row's
        ``n_obs`` is the whole interacted model's N.)
    n_arm, n_control
        For each row: the observations of its arm, and of the control arm, in its level.
    """

    outcome: str
    subgroup: str
    levels: tuple[Hashable, ...]
    rows: tuple[Estimate, ...]
    heterogeneity: HeterogeneityTest
    n_level: tuple[int, ...] = ()
    n_arm: tuple[int, ...] = ()
    n_control: tuple[int, ...] = ()

    def to_frame(self) -> pd.DataFrame:
        """Tidy rows (the estimate columns) plus ``subgroup``, ``level`` and the level's
        ``n_level``, ``n_arm`` and ``n_control``."""
        frame = pd.DataFrame([asdict(r) for r in self.rows]).loc[:, list(ESTIMATE_COLUMNS)]
        per_arm = len(self.rows) // len(self.levels)
        frame.insert(1, "subgroup", self.subgroup)
        frame.insert(2, "level", [lev for lev in self.levels for _ in range(per_arm)])
        if self.n_level:
            frame["n_level"] = [n for n in self.n_level for _ in range(per_arm)]
            frame["n_arm"] = list(self.n_arm)
            frame["n_control"] = list(self.n_control)
        return frame


def _added_names(
    subgroup: str, reference: Hashable, levels: Sequence[Hashable],
    arm_terms: dict[str, np.ndarray], *, main_effects: bool,
) -> tuple[list[str], list[str]]:  # fmt: skip
    """The names :func:`_design` gives the level indicators and the interactions."""
    others = [level for level in levels if level != reference]
    mains = [f"{subgroup}[{level}]" for level in others] if main_effects else []
    return mains, [f"{term}:{subgroup}[{level}]" for level in others for term in arm_terms]


def _design(
    data: pd.DataFrame, treatment: str, subgroup: str, reference: Hashable,
    levels: Sequence[Hashable], arm_terms: dict[str, np.ndarray], main_effects: bool,
) -> tuple[pd.DataFrame, list[str], list[str]]:  # fmt: skip
    """Add level indicators and arm × level interactions (``reference`` left out)."""
    mains, inters = _added_names(subgroup, reference, levels, arm_terms, main_effects=main_effects)
    clash = set(mains + inters) & {str(c) for c in data.columns}
    if clash:
        raise EstimationError(f"Columns {sorted(clash)} already exist; rename them to fit.")
    others = [level for level in levels if level != reference]
    indicators = [(data[subgroup] == level).to_numpy(dtype=float) for level in others]
    added = dict(zip(mains, indicators, strict=False))  # no mains when nested in blocks
    interactions = (arm * ind for ind in indicators for arm in arm_terms.values())
    added.update(zip(inters, interactions, strict=True))
    return data.assign(**added), mains, inters


def _check(data: pd.DataFrame, treatment: str, subgroup: str) -> list[Hashable]:
    for col in (treatment, subgroup):
        if col not in data.columns:
            raise EstimationError(f'column "{col}" is not in the data. Fix: check the name.')
    if data[subgroup].isna().any():
        raise EstimationError(
            f'column "{subgroup}" (the subgroup) has missing values. trialkit does not drop '
            "rows silently. Fix: code them as their own level or drop them first."
        )
    levels = sorted(pd.unique(data[subgroup]).tolist(), key=lambda v: (str(type(v)), v))
    if len(levels) < 2:
        raise EstimationError(f'subgroup "{subgroup}" has a single level {levels}.')
    arms_per_level = data.groupby(subgroup)[treatment].nunique()
    n_arms = data[treatment].nunique()
    thin = [lev for lev in levels if arms_per_level[lev] < n_arms]
    if thin:
        raise EstimationError(
            f'levels {thin} of "{subgroup}" lack units in some arm, so their effects are not '
            "identified. Fix: merge those levels with others before the analysis."
        )
    return levels


def _wald(fit: RegressionResult, inters: Sequence[str]) -> HeterogeneityTest:
    idx = [fit.terms.index(t) for t in inters]
    b = fit.coefficients[idx]
    V = fit.vcov[np.ix_(idx, idx)]
    W = float(b @ np.linalg.solve(V, b))
    q, nu = len(idx), float(np.min(fit.df[idx]))
    F = W / q
    return HeterogeneityTest(
        statistic=F, wald=W, df_num=q, df_denom=nu, p_value=float(stats.f.sf(F, q, nu)),
        terms=tuple(inters), se_type=fit.se_type,
    )  # fmt: skip


@dataclass(frozen=True, slots=True)
class _FirstFit:
    """The interacted model with the first level as the reference, and its QR."""

    prep: Prepared
    x: FloatArray
    terms: list[str]
    fit: LeastSquares

    def refit(
        self, names: tuple[list[str], list[str]], subgroup: str, first: Hashable,
        levels: Sequence[Hashable], arm_terms: Sequence[str], se_type: VcovType | None,
        ci_level: float,
    ) -> RegressionResult:  # fmt: skip
        """The same model with another level as the reference.

        Its design spans the same columns: ``X_L = X_0 A`` (the first level's indicator is
        the intercept less the other levels'; its interaction, the arm less the arm's other
        interactions), so it is fitted in the first fit's QR (:func:`~.lstsq.fit_in_span`)
        and only its covariance is computed afresh: the same fit as building and
        factorising ``X_L``, to rounding.
        """
        mains, inters = names
        n_covariates = len(self.prep.covariate_names) - len(mains) - len(inters)
        covariate_names = [*self.prep.covariate_names[:n_covariates], *mains, *inters]
        fe_names = self.terms[1 + len(arm_terms) + len(self.prep.covariate_names) :]
        terms = [INTERCEPT, *arm_terms, *covariate_names, *fe_names]
        at = {term: i for i, term in enumerate(self.terms)}
        others = [level for level in levels if level != first]
        transform = np.zeros((len(self.terms), len(terms)))
        for column, term in enumerate(terms):
            if term in at:
                transform[at[term], column] = 1.0
            elif term == f"{subgroup}[{first}]":  # 1 - the other levels' indicators
                transform[at[INTERCEPT], column] = 1.0
                for level in others:
                    transform[at[f"{subgroup}[{level}]"], column] = -1.0
            else:  # an arm in the first level: the arm less its other interactions
                arm = term.removesuffix(f":{subgroup}[{first}]")
                transform[at[arm], column] = 1.0
                for level in others:
                    transform[at[f"{arm}:{subgroup}[{level}]"], column] = -1.0
        prep = self.prep
        fit = fit_in_span(self.fit, transform, prep.y, prep.weights, names=terms)
        reported = [*arm_terms, *([] if fe_names else [INTERCEPT]), *covariate_names]
        return fit_linear(
            replace(prep, covariate_names=tuple(covariate_names)),
            self.x @ transform if prep.weights is not None else None,
            terms,
            reported=reported,
            se_type=se_type,
            ci_level=ci_level,
            estimator="ols",
            fit=fit,
        )


def subgroup_effects(
    data: pd.DataFrame,
    outcome: str,
    treatment: str,
    subgroup: str,
    *,
    covariates: Sequence[str] = (),
    cluster: str | None = None,
    blocks: str | None = None,
    fixed_effects: Sequence[str] = (),
    weights: str | None = None,
    se_type: VcovType | None = None,
    ci_level: float = 0.95,
    control: Hashable | None = None,
) -> SubgroupEffects:
    """Effects within each level of a pre-specified subgroup, and a heterogeneity test.

    Parameters
    ----------
    data
        One row per unit.
    outcome, treatment
        As for :func:`~trialkit.estimate.frequentist.ols.ols`.
    subgroup
        A categorical column (e.g. free-school-meals eligibility) with no missing values.
    covariates, cluster, blocks, fixed_effects, weights, se_type, ci_level, control
        As for :func:`~trialkit.estimate.frequentist.ols.ols` (covariates and fixed effects
        enter additively, with slopes common to every level). Subgroup main effects are
        left out when the subgroup is constant within blocks (the blocks absorb them).

    Returns
    -------
    SubgroupEffects

    Raises
    ------
    EstimationError
        Missing columns or values, a single level, a level without every arm, or any
        error :func:`~trialkit.estimate.frequentist.ols.ols` raises.

    Examples
    --------
    >>> df = pd.DataFrame({"y": [1.0, 3, 2, 5, 1, 2, 0, 2], "t": [0, 1] * 4,
    ...                    "fsm": ["no"] * 4 + ["yes"] * 4})
    >>> res = subgroup_effects(df, "y", "t", "fsm")
    >>> [round(r.estimate, 3) for r in res.rows]
    [2.5, 1.5]
    """
    levels = _check(data, treatment, subgroup)
    arms, codes = encode_arms(data, treatment, control)
    arm_terms = {term: (codes == j + 1).astype(float) for j, term in enumerate(arms.terms)}
    nested = blocks is not None and bool((data.groupby(blocks)[subgroup].nunique() == 1).all())
    rows: list[Estimate] = []
    test: HeterogeneityTest | None = None
    n_level: list[int] = []
    n_arm: list[int] = []
    n_control: list[int] = []
    first: _FirstFit | None = None
    for level in levels:
        in_level = (data[subgroup] == level).to_numpy()
        n_level.append(int(in_level.sum()))
        n_control.extend([int((in_level & (codes == 0)).sum())] * len(arms.terms))
        n_arm.extend(int((in_level & (codes == j + 1)).sum()) for j in range(len(arms.terms)))
        if first is None:
            frame, mains, inters = _design(
                data, treatment, subgroup, level, levels, arm_terms, main_effects=not nested
            )
            prep, x, terms, reported = ols_design(
                frame, outcome, treatment, covariates=[*covariates, *mains, *inters],
                cluster=cluster, blocks=blocks, fixed_effects=fixed_effects, weights=weights,
                control=arms.control,
            )  # fmt: skip
            first = _FirstFit(prep, x, terms, fit_lstsq(x, prep.y, prep.weights, names=terms))
            fit = fit_linear(
                prep, x, terms, reported=reported, se_type=se_type, ci_level=ci_level,
                estimator="ols", fit=first.fit,
            )  # fmt: skip
            test = _wald(fit, inters)
        else:
            names = _added_names(subgroup, level, levels, arm_terms, main_effects=not nested)
            fit = first.refit(names, subgroup, levels[0], levels, arms.terms, se_type, ci_level)
        rows.extend(
            replace(fit.effect(term), estimand=f"ITT[{subgroup}={level}]", estimator="ols_subgroup")
            for term in arms.terms
        )
    assert test is not None
    return SubgroupEffects(
        outcome, subgroup, tuple(levels), tuple(rows), test,
        n_level=tuple(n_level), n_arm=tuple(n_arm), n_control=tuple(n_control),
    )  # fmt: skip
