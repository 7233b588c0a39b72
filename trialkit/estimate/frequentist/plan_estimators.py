"""The estimators the registered plan may name, in a registry keyed by :data:`EstimatorName`.

Each entry says how the plan fits the estimator, which plan settings it takes, how the
report words it, which regression re-fits it where the plan cannot call it directly
(weighting or imputing missing outcomes, few-cluster checks) and whether diagnose's batched
simulation can run it. Adding an estimator to the plan is one :func:`register` call (and its
name in :data:`~trialkit.protocol.vocabulary.EstimatorName`, so protocols may declare it);
the plan, the report and diagnose read every entry from here.
"""

from __future__ import annotations

from collections.abc import Callable, MutableMapping
from dataclasses import dataclass
from typing import Literal, get_args

from trialkit.errors import EstimationError
from trialkit.estimate.frequentist._design import RegressionModel as RegressionModel
from trialkit.estimate.frequentist.dim import difference_in_means
from trialkit.estimate.frequentist.lin import lin
from trialkit.estimate.frequentist.ols import ols
from trialkit.estimate.frequentist.result import RegressionResult
from trialkit.protocol.vocabulary import EstimatorName

#: Settings of the plan an estimator may take besides the data, clusters, blocks, control
#: and weights (which every plan estimator takes).
PlanSetting = Literal["covariates", "se_type", "df"]


@dataclass(frozen=True, slots=True)
class PlanEstimator:
    """One estimator of the registered plan.

    Attributes
    ----------
    name
        The name a protocol gives as ``analysis.frequentist.estimator``.
    fit
        Called as ``fit(data, outcome, treatment, *, cluster, blocks, control, weights,
        **settings)`` with the plan's values of :attr:`settings`; returns a
        :class:`~trialkit.estimate.frequentist.result.RegressionResult`.
    wording
        How the pre-analysis plan and the report describe the estimator.
    settings
        The plan settings ``fit`` takes (``covariates``, ``se_type``, ``df``). Without
        ``covariates`` the estimator adjusts for nothing.
    refit
        The regression that re-fits it under weighting or imputation of missing outcomes
        and in few-cluster checks.
    batched
        Whether diagnose's batched simulation reproduces it (its design matrix is
        :attr:`refit`'s).
    """

    name: str
    fit: Callable[..., RegressionResult]
    wording: str
    settings: frozenset[PlanSetting]
    refit: RegressionModel
    batched: bool

    @property
    def adjusts(self) -> bool:
        """Whether the estimator adjusts for covariates."""
        return "covariates" in self.settings


#: Every plan estimator, keyed by its name in the protocol.
PLAN_ESTIMATORS: dict[str, PlanEstimator] = {}


def register(
    entry: PlanEstimator, *, registry: MutableMapping[str, PlanEstimator] | None = None
) -> PlanEstimator:
    """Add ``entry`` to the plan's estimators (or to ``registry``) and return it."""
    target = PLAN_ESTIMATORS if registry is None else registry
    target[entry.name] = entry
    return entry


def plan_estimator(name: str) -> PlanEstimator:
    """The registered plan estimator called ``name``.

    Raises
    ------
    EstimationError
        If no estimator of that name is registered.
    """
    entry = PLAN_ESTIMATORS.get(name)
    if entry is None:
        known = ", ".join(f"`{n}`" for n in PLAN_ESTIMATORS)
        raise EstimationError(
            f"The plan names estimator `{name}`, which is not registered; the registered "
            f"estimators are {known}. Fix: set `analysis.frequentist.estimator` to one of them."
        )
    return entry


_ALL_SETTINGS: frozenset[PlanSetting] = frozenset(get_args(PlanSetting))

register(
    PlanEstimator(
        "difference_in_means",
        difference_in_means,
        "Difference in means between arms",
        settings=frozenset(),
        refit="ols",
        batched=False,
    )
)
register(
    PlanEstimator(
        "ols",
        ols,
        "Least squares regression on arm indicators and baseline covariates",
        settings=_ALL_SETTINGS,
        refit="ols",
        batched=True,
    )
)
register(
    PlanEstimator(
        "lin",
        lin,
        "Lin (2013) regression: arm indicators interacted with centred baseline covariates",
        settings=_ALL_SETTINGS,
        refit="lin",
        batched=True,
    )
)

assert set(PLAN_ESTIMATORS) == set(get_args(EstimatorName)), "every EstimatorName needs an entry"
