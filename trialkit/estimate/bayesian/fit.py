"""Fit Bayesian impact models: :func:`bayes` and :func:`prior_predictive`.

nutpie samples when it is installed (a core dependency); otherwise PyMC's NUTS. Both are
deterministic for a given ``seed``. With nutpie, the log density is by default evaluated by
trialkit's compiled kernels (:mod:`.kernels`, the PyMC model's density, tested against it),
which compile once per process instead of once per model; ``backend="pytensor"`` has nutpie
compile the PyMC model's graph instead. PyMC is imported inside functions, and a fit on the
kernels does not import it at all.
"""

from __future__ import annotations

import importlib.util
import warnings
from collections.abc import Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, Literal, get_args

import numpy as np
import pandas as pd

from trialkit._core.provenance import Provenance
from trialkit.errors import EstimationError
from trialkit.estimate.results import check_ci_level
from trialkit.protocol.vocabulary import Direction, PriorDefault

from . import density
from .compile import compile_for_nutpie, compile_kernels, kernels_available
from .design import DesignData, Family, prepare
from .diagnostics import diagnose
from .models import Parametrisation, build_model, scales
from .natural import natural_effects
from .priors import ModelPriors, Prior, effect_prior, model_priors, outcome_scale
from .results import BayesianFit
from .summarise import (
    CI_KIND,
    CI_LEVEL,
    Thresholds,
    as_rope,
    describe_draws,
    tail_probabilities,
)

if TYPE_CHECKING:
    import pymc as pm

Sampler = Literal["auto", "nutpie", "pymc"]
Backend = Literal["kernels", "pytensor"]


def _design(
    df: pd.DataFrame,
    outcome: str,
    treatment: str,
    *,
    covariates: Sequence[str],
    cluster: str | None,
    blocks: str | None,
    period: str | None,
    control: str | None,
    family: Family,
    prior: Prior | PriorDefault | None,
    outcome_range: tuple[float, float] | None,
    mid: float | None,
) -> tuple[DesignData, ModelPriors]:
    """The model's arrays and resolved priors (no PyMC)."""
    data = prepare(
        df,
        outcome,
        treatment,
        covariates=covariates,
        cluster=cluster,
        blocks=blocks,
        period=period,
        control=control,
        family=family,
    )
    scale, note = outcome_scale(data, family, outcome_range)
    eff = effect_prior(prior, data, family, scale=scale, mid=mid)
    centre = None if outcome_range is None else (outcome_range[0] + outcome_range[1]) / 2
    return data, model_priors(data, family, eff, scale=scale, scale_note=note, centre=centre)


def _setup(
    df: pd.DataFrame,
    outcome: str,
    treatment: str,
    *,
    parametrisation: Parametrisation,
    family: Family,
    **kwargs: Any,
) -> tuple[DesignData, ModelPriors, pm.Model]:
    """:func:`_design` and the PyMC model built from it."""
    data, priors = _design(df, outcome, treatment, family=family, **kwargs)
    return data, priors, build_model(data, family, priors, parametrisation=parametrisation)


def _use_nutpie(sampler: Sampler) -> bool:
    if sampler not in get_args(Sampler):
        raise EstimationError(
            f"The 'sampler' parameter must be one of {get_args(Sampler)}. Got {sampler!r} instead."
        )
    has_nutpie = importlib.util.find_spec("nutpie") is not None
    if sampler == "nutpie" and not has_nutpie:
        raise EstimationError("sampler='nutpie' needs nutpie. Fix: pip install nutpie.")
    return sampler == "nutpie" or (sampler == "auto" and has_nutpie)


@dataclass(frozen=True, slots=True)
class _Settings:
    draws: int
    tune: int
    chains: int
    seed: int
    target_accept: float
    progressbar: bool


def _nutpie(compiled: Any, settings: _Settings) -> Any:
    import nutpie

    return nutpie.sample(
        compiled,
        draws=settings.draws,
        tune=settings.tune,
        chains=settings.chains,
        seed=settings.seed,
        progress_bar=settings.progressbar,
        save_warmup=False,
        target_accept=settings.target_accept,
    )


def _fit(
    data: DesignData,
    family: Family,
    priors: ModelPriors,
    how: Parametrisation,
    *,
    sampler: Sampler,
    backend: Backend,
    settings: _Settings,
) -> tuple[Any, str, list[str]]:
    """Sample the model; returns ``(InferenceData, sampler name, free variable names)``."""
    if backend not in get_args(Backend):
        raise EstimationError(
            f"The 'backend' parameter must be one of {get_args(Backend)}. Got {backend!r} instead."
        )
    if _use_nutpie(sampler) and backend == "kernels" and kernels_available():
        compiled = compile_kernels(data, family, priors, how)
        free = [v.name for v in density.variables(data, family, how) if not v.deterministic]
        return _nutpie(compiled, settings), "nutpie", free
    model = build_model(data, family, priors, parametrisation=how)
    idata, used = _sample_model(model, sampler, settings)
    return idata, used, [v.name for v in model.free_RVs]


def sample(
    model: pm.Model,
    *,
    draws: int,
    tune: int,
    chains: int,
    seed: int,
    sampler: Sampler = "auto",
    target_accept: float = 0.8,
    progressbar: bool = False,
) -> tuple[Any, str]:
    """Draw from ``model``'s posterior; returns ``(InferenceData, sampler name)``."""
    settings = _Settings(draws, tune, chains, seed, target_accept, progressbar)
    with warnings.catch_warnings():
        # pip-installed PyTensor warns about BLAS on every compile; the models here are small.
        warnings.filterwarnings("ignore", message="PyTensor could not link to a BLAS")
        return _sample_model(model, sampler, settings)


def _sample_model(model: pm.Model, sampler: Sampler, settings: _Settings) -> tuple[Any, str]:
    if _use_nutpie(sampler):
        return _nutpie(compile_for_nutpie(model), settings), "nutpie"
    import pymc as pm

    with model:
        idata = pm.sample(
            draws=settings.draws,
            tune=settings.tune,
            chains=settings.chains,
            random_seed=settings.seed,
            progressbar=settings.progressbar,
            target_accept=settings.target_accept,
            compute_convergence_checks=False,
        )
    return idata, "pymc"


def _rows(
    data: DesignData,
    family: Family,
    idata: Any,
    thresholds: Thresholds,
    diag_table: pd.DataFrame,
    ci_level: float,
) -> pd.DataFrame:
    records = []
    for sc in scales(family):
        values = idata.posterior[sc.variable]
        stats = diag_table.set_index("parameter")
        for i, term in enumerate(data.terms):
            x = np.asarray(values.sel(term=term).values, dtype=float).ravel()
            key = sc.variable if len(data.terms) == 1 else f"{sc.variable}[{i}]"
            d = stats.loc[key] if key in stats.index else pd.Series(dtype=float)
            records.append(
                {
                    "outcome": data.outcome,
                    "estimand": "ITT",
                    "estimator": f"bayes_{family}",
                    "term": term,
                    "arm": data.arms[i],
                    "scale": sc.name,
                    **describe_draws(x, ci_level),
                    "ci_level": ci_level,
                    "ci_kind": CI_KIND,
                    **tail_probabilities(x, thresholds, null=sc.null, natural=sc.natural),
                    "r_hat": d.get("r_hat", np.nan),
                    "ess_bulk": d.get("ess_bulk", np.nan),
                    "ess_tail": d.get("ess_tail", np.nan),
                    "n_obs": data.n_obs,
                    "n_clusters": data.n_clusters,
                    "direction": thresholds.direction,
                    "mid": thresholds.mid,
                    "harm_margin": thresholds.harm_margin,
                    "rope_low": thresholds.rope[0] if thresholds.rope else np.nan,
                    "rope_high": thresholds.rope[1] if thresholds.rope else np.nan,
                }
            )
    frame = pd.DataFrame.from_records(records)
    frame["estimate"] = frame["mean"]
    return frame


def bayes(
    data: pd.DataFrame,
    outcome: str,
    treatment: str,
    *,
    covariates: Sequence[str] = (),
    cluster: str | None = None,
    blocks: str | None = None,
    period: str | None = None,
    control: str | None = None,
    family: Family = "normal",
    prior: Prior | PriorDefault | None = None,
    outcome_range: tuple[float, float] | None = None,
    draws: int = 1000,
    tune: int = 1000,
    chains: int = 4,
    seed: int = 1,
    direction: Direction = "higher_is_better",
    mid: float | None = None,
    harm_margin: float | None = None,
    rope: float | tuple[float, float] | None = None,
    parametrisation: Parametrisation = "non_centred",
    sampler: Sampler = "auto",
    target_accept: float = 0.8,
    progressbar: bool = False,
    backend: Backend = "kernels",
    ci_level: float = CI_LEVEL,
) -> BayesianFit:
    """Estimate treatment effects on one outcome with a Bayesian regression.

    Parameters
    ----------
    data
        One row per unit (and period, for stepped-wedge designs).
    outcome, treatment
        Column names. The control arm is ``control``, or ``0``/``False``/``"control"``
        when present, else the first level in sorted order.
    covariates
        Baseline covariates (centred before fitting).
    cluster, blocks, period
        Columns for cluster random intercepts, block fixed effects and period fixed
        effects (stepped-wedge).
    family
        ``normal``, ``student_t``, ``logistic`` (0/1), ``ordered_logistic`` (Likert),
        ``poisson`` or ``negative_binomial`` (counts).
    prior
        Treatment-effect prior: ``None``/``"weakly_informative"`` (default), ``"sceptical"``
        or a :class:`~trialkit.estimate.bayesian.priors.Prior` (effect scale; see there).
    outcome_range
        Declared range, used to scale default priors instead of the sample SD.
    draws, tune, chains, seed
        Sampler settings; a fixed ``seed`` gives identical draws.
    direction, mid, harm_margin, rope
        Direction of benefit, minimal important difference, harm margin (default 0) and
        region of practical equivalence (half-width or ``(low, high)``), natural units.
    parametrisation, sampler, target_accept, progressbar
        Cluster-effect parametrisation, sampler choice and NUTS settings.
    backend
        With nutpie: ``"kernels"`` (default) evaluates the log density with trialkit's
        compiled kernels, ``"pytensor"`` compiles the PyMC model's graph (the same density;
        several times slower to compile). PyMC's NUTS always uses the PyMC model.
    ci_level
        Level of the equal-tailed credible intervals (default 0.95).

    Returns
    -------
    BayesianFit
        Rows with posterior mean, median, SD, equal-tailed interval at ``ci_level``, probabilities
        and per-term R-hat/ESS; ``idata``; ``diagnostics`` (check ``passed``).

    Raises
    ------
    EstimationError
        On unknown columns, missing values, a single arm or an outcome unsuited to
        ``family``.

    Examples
    --------
    >>> fit = bayes(df, "y", "arm", cluster="team", mid=0.2)  # doctest: +SKIP
    >>> fit.to_frame()[["term", "mean", "ci_low", "ci_high", "p_benefit"]]  # doctest: +SKIP
    """
    ci_level = check_ci_level(ci_level)
    if direction not in get_args(Direction):
        raise EstimationError(
            f"The 'direction' parameter must be one of {get_args(Direction)}. "
            f"Got {direction!r} instead."
        )
    design, priors = _design(
        data,
        outcome,
        treatment,
        covariates=covariates,
        cluster=cluster,
        blocks=blocks,
        period=period,
        control=control,
        family=family,
        prior=prior,
        outcome_range=outcome_range,
        mid=mid,
    )
    idata, used, free = _fit(
        design,
        family,
        priors,
        parametrisation,
        sampler=sampler,
        backend=backend,
        settings=_Settings(draws, tune, chains, seed, target_accept, progressbar),
    )
    extra = natural_effects(idata.posterior, design, family)
    if extra:
        idata.posterior = idata.posterior.assign(
            {k: (("chain", "draw", "term"), v) for k, v in extra.items()}
        )
    monitored = free + [s.variable for s in scales(family)]
    diagnostics = diagnose(idata, list(dict.fromkeys(monitored)))
    thresholds = Thresholds(
        direction=direction, mid=mid, harm_margin=harm_margin or 0.0, rope=as_rope(rope)
    )
    return BayesianFit(
        outcome=outcome,
        family=family,
        terms=design.terms,
        arms=design.arms,
        control=design.control,
        scales=tuple(s.name for s in scales(family)),
        idata=idata,
        diagnostics=diagnostics,
        effect_prior=priors.effect,
        prior_note=f"outcome scale s = {priors.scale:.4g} ({priors.scale_note})",
        thresholds=thresholds,
        sampler=used,
        provenance=Provenance(seed=seed),
        frame=_rows(design, family, idata, thresholds, diagnostics.table, ci_level),
    )


def prior_predictive(
    df: pd.DataFrame,
    outcome: str,
    treatment: str,
    *,
    covariates: Sequence[str] = (),
    cluster: str | None = None,
    blocks: str | None = None,
    period: str | None = None,
    control: str | None = None,
    family: Family = "normal",
    prior: Prior | PriorDefault | None = None,
    outcome_range: tuple[float, float] | None = None,
    mid: float | None = None,
    draws: int = 500,
    seed: int = 1,
) -> Any:
    """Simulate outcomes from the priors alone, to check they allow plausible data.

    Arguments are as :func:`bayes`. Returns ArviZ ``InferenceData`` with ``prior``,
    ``prior_predictive`` and ``observed_data`` groups; compare e.g. the spread of
    ``prior_predictive["y"]`` with the outcome's plausible range.
    """
    import pymc as pm

    _, _, model = _setup(
        df,
        outcome,
        treatment,
        covariates=covariates,
        cluster=cluster,
        blocks=blocks,
        period=period,
        control=control,
        family=family,
        prior=prior,
        outcome_range=outcome_range,
        mid=mid,
        parametrisation="non_centred",
    )
    with model:
        return pm.sample_prior_predictive(draws=draws, random_seed=seed)
