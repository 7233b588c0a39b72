"""A hierarchical (beta-binomial) model of each worker's or unit's misuse rate.

Each group ``j`` (a worker, or a unit) has its own misuse rate per spend ``θ_j``; the
rates are drawn from one population Beta, and a group's reviewed spends ``n_j`` show
``y_j`` misuse cases (review verdict ``misuse`` or ``fraud``)::

    μ ~ Beta(1, 19)                       population mean rate per spend
    log κ ~ Normal(log 10, 1.5)           concentration ("spends' worth" of the population)
    θ_j ~ Beta(μ κ, (1 − μ) κ)
    y_j ~ Binomial(n_j, θ_j)

The ``θ_j`` are integrated out (``y_j ~ BetaBinomial(n_j, μκ, (1 − μ)κ)``, summed stably:
see :func:`build_model`), so the sampler sees two parameters whatever the number of
groups; each group's posterior rate is then ``E[(μκ + y_j) / (κ + n_j)]`` over the draws
(the Beta posterior of ``θ_j`` given ``μ, κ``), which shrinks a group's raw rate
``y_j / n_j`` towards ``μ`` the fewer spends it has.

Priors (weakly informative, proper so the model can be checked by simulation-based
calibration; BDA3 §5.3's rat-tumour prior ``p(α, β) ∝ (α + β)^(-5/2)`` is improper):

* ``μ ~ Beta(1, 19)``: prior mean 5 %, 95 % of its mass between 0.13 % and 17.6 % of
  spends; a population misusing a fifth of its spends is possible but not expected.
* ``log κ ~ Normal(log 10, 1.5)``: κ between about 0.5 (misuse concentrated in a few
  groups, most never misuse) and about 190 (every group misuses at nearly the same rate).

The review is taken as a census of the spends it covers: with a sampled review the model
uses the reviewed spends only (``n_j`` reviewed, ``y_j`` misuse among them), which is
unbiased for the rates when the sample's inclusion probabilities do not depend on misuse
within a group; Horvitz–Thompson weights are not used here. How often groups spend
(``spends_per_year``) can still come from the whole ledger (``total_spends``).

Population answers, per posterior draw of ``(μ, κ)`` (closed forms, no simulation):

* ``per_100 = 100 · E[1 − (1 − θ_new)^m] = 100 · (1 − B(μκ, (1 − μ)κ + m) / B(μκ, (1 − μ)κ))``:
  out of 100 new groups like these, how many would misuse the budget at least once in a
  year of ``m`` spends;
* ``per_100_above = 100 · P(θ_new > tolerance)`` (the Beta's survival function);
* ``cost_per_year = treated groups × m × μ × loss per case``, the loss per case drawn
  from a gamma with the observed mean loss per case as mean and its standard error as SD
  (a point mass when the SE is 0), independently of ``(μ, κ)``.

Each is reported as its posterior mean and 95 % equal-tailed credible interval.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, Literal, get_args

import numpy as np
from scipy import special, stats

from trialkit.errors import EstimationError

from .diagnostics import Diagnostics, diagnose
from .fit import Sampler, sample
from .summarise import CI_LEVEL

if TYPE_CHECKING:
    import pymc as pm

Level = Literal["worker", "unit"]
Interval = tuple[float, float]
#: The sampled parameters, monitored for convergence.
PARAMETERS = ("mu", "log_kappa")


@dataclass(frozen=True, slots=True)
class MisusePrior:
    """Priors of the misuse model: ``μ ~ Beta(mu_alpha, mu_beta)`` and
    ``log κ ~ Normal(log_kappa_mean, log_kappa_sd)`` (see the module docstring)."""

    mu_alpha: float = 1.0
    mu_beta: float = 19.0
    log_kappa_mean: float = float(np.log(10.0))
    log_kappa_sd: float = 1.5


@dataclass(frozen=True, slots=True)
class MisuseModel:
    """The misuse model's answers: the fields of the results document's ``MisuseModelRow``
    (same names and meanings; intervals are 95 % equal-tailed credible intervals), plus
    each group's posterior rate, the inputs that scale the answers, and the fit.

    Attributes
    ----------
    level, groups, spends, cases
        Level of the groups, how many there are, their reviewed spends and misuse cases.
    spends_per_year
        ``m``: spends per group per year (the spends' rate over the months covered).
    mean_rate, mean_rate_ci
        Population mean misuse rate per spend ``μ``.
    per_100, per_100_ci
        Out of 100 groups like these, how many misuse at least once in a year.
    per_100_above, per_100_above_ci
        Out of 100 groups like these, how many have a misuse rate above ``tolerance``.
    tolerance, p_mean_above_tolerance
        The protocol's tolerated rate and ``P(μ > tolerance)``.
    cost_per_year, cost_per_year_ci
        Money misuse costs a year across ``treated_groups`` groups.
    rhat_max, ess_bulk_min
        Worst R-hat and bulk ESS of ``mu`` and ``log_kappa``.
    treated_groups, loss_per_case, loss_per_case_se
        The groups the cost covers and the mean loss per case with its standard error.
    group_rates
        Each group's posterior mean misuse rate, in input order (shrunk towards ``μ``).
    labels
        The groups' labels (pseudonyms), in input order; empty when none were given.
    prior, diagnostics, sampler, idata
        The priors, sampler diagnostics, sampler used and the ArviZ ``InferenceData``.
    """

    level: Level
    groups: int
    spends: int
    cases: int
    spends_per_year: float
    mean_rate: float
    mean_rate_ci: Interval
    per_100: float
    per_100_ci: Interval
    per_100_above: float
    per_100_above_ci: Interval
    tolerance: float
    p_mean_above_tolerance: float
    cost_per_year: float
    cost_per_year_ci: Interval
    rhat_max: float
    ess_bulk_min: float
    treated_groups: int
    loss_per_case: float
    loss_per_case_se: float
    group_rates: tuple[float, ...]
    labels: tuple[str, ...]
    prior: MisusePrior
    diagnostics: Diagnostics
    sampler: str
    idata: Any


def p_any_misuse(m: float, mu: np.ndarray, kappa: np.ndarray) -> np.ndarray:
    """``E[1 − (1 − θ)^m]`` for ``θ ~ Beta(μκ, (1 − μ)κ)``: the chance that a group misuses
    at least once in ``m`` spends (``m`` need not be whole).

    Examples
    --------
    >>> round(float(p_any_misuse(1.0, np.array(0.1), np.array(5.0))), 12)  # the mean rate
    0.1
    """
    a, b = np.asarray(mu) * np.asarray(kappa), (1 - np.asarray(mu)) * np.asarray(kappa)
    return np.asarray(-np.expm1(special.betaln(a, b + m) - special.betaln(a, b)))


def p_rate_above(tolerance: float, mu: np.ndarray, kappa: np.ndarray) -> np.ndarray:
    """``P(θ > tolerance)`` for ``θ ~ Beta(μκ, (1 − μ)κ)``."""
    a, b = np.asarray(mu) * np.asarray(kappa), (1 - np.asarray(mu)) * np.asarray(kappa)
    return np.asarray(stats.beta.sf(tolerance, a, b))


def tallies(spends: np.ndarray, cases: np.ndarray) -> dict[str, np.ndarray]:
    """The data of :func:`build_model`: for ``k = 0 … max n_j − 1``, how many groups have
    more than ``k`` cases (``cases_tally``), non-misuse spends (``clean_tally``) and
    spends (``spends_tally``).

    Examples
    --------
    >>> t = tallies(np.array([3, 1]), np.array([1, 0]))
    >>> t["spends_tally"].tolist(), t["cases_tally"].tolist(), t["clean_tally"].tolist()
    ([2, 1, 1], [1, 0, 0], [2, 1, 0])
    """
    size = int(spends.max())

    def more_than(x: np.ndarray) -> np.ndarray:
        return np.asarray(x.size - np.cumsum(np.bincount(x, minlength=size + 1))[:size])

    return {
        "spends_tally": more_than(spends),
        "cases_tally": more_than(cases),
        "clean_tally": more_than(spends - cases),
    }


def build_model(
    spends: np.ndarray, cases: np.ndarray, prior: MisusePrior = MisusePrior()
) -> pm.Model:
    """The PyMC model; its data are the :func:`tallies` (``pm.Data``, so a compiled model
    can be refitted to other counts of groups with the same largest ``n_j``).

    The beta-binomial log likelihood is summed as exact products, ``Σ_j [Σ_{k<y_j} log(a +
    k) + Σ_{k<n_j−y_j} log(b + k) − Σ_{k<n_j} log(a + b + k)]`` with ``a = μκ, b = (1 −
    μ)κ``, grouped by ``k`` (the binomial coefficients, constant, are left out).
    ``pm.BetaBinomial`` differences log-gamma functions instead, which lose every digit
    once κ is large (``gammaln(b + n) − gammaln(b)`` at ``b ≈ 1e17``): in a calibration
    run, 2 of 100 fits had a warm-up chain wander there and stick (step size 1e-12).
    """
    import pymc as pm
    import pytensor.tensor

    pt: Any = pytensor.tensor
    with pm.Model() as model:
        data = {k: pm.Data(k, v) for k, v in tallies(spends, cases).items()}
        mu = pm.Beta("mu", alpha=prior.mu_alpha, beta=prior.mu_beta)
        log_kappa = pm.Normal("log_kappa", mu=prior.log_kappa_mean, sigma=prior.log_kappa_sd)
        kappa = pm.Deterministic("kappa", pt.exp(log_kappa))
        k = pt.arange(data["spends_tally"].shape[0])
        pm.Potential(
            "cases",
            pt.sum(data["cases_tally"] * pt.log(mu * kappa + k))
            + pt.sum(data["clean_tally"] * pt.log((1 - mu) * kappa + k))
            - pt.sum(data["spends_tally"] * pt.log(kappa + k)),
        )
    return model


def _counts(values: Sequence[int] | np.ndarray, name: str) -> np.ndarray:
    x = np.asarray(values, dtype=float).ravel()
    if not np.all(np.isfinite(x)) or np.any(x < 0) or np.any(x != np.round(x)):
        raise EstimationError(
            f"The misuse model's {name!r} must be whole numbers >= 0, one per group; got "
            f"{x[~(np.isfinite(x) & (x >= 0) & (x == np.round(x)))][:3].tolist()}. "
            "Fix: count reviewed spends and misuse cases per worker or unit."
        )
    return x.astype("int64")


def _check(
    spends: np.ndarray, cases: np.ndarray, *, level: str, total: int, labels: int,
    **scalars: float,
) -> None:  # fmt: skip
    if level not in get_args(Level):
        raise EstimationError(
            f"The 'level' parameter must be one of {get_args(Level)}. Got {level!r} instead."
        )
    if spends.size == 0 or spends.shape != cases.shape:
        raise EstimationError(
            f"The misuse model needs one count of spends and of cases per group; got "
            f"{spends.size} and {cases.size}."
        )
    bad = np.flatnonzero(cases > spends)
    if bad.size:
        raise EstimationError(
            f"Group {int(bad[0])} has {int(cases[bad[0]])} misuse cases in "
            f"{int(spends[bad[0]])} reviewed spends. Fix: count cases among reviewed spends."
        )
    if spends.sum() == 0:
        raise EstimationError(
            "No spend was reviewed, so the misuse model has no data. Fix: record each "
            "reviewed spend's verdict in the ledger's review_verdict column."
        )
    rules = {
        "months": lambda v: v > 0,
        "tolerance": lambda v: 0 < v < 1,
        "loss_per_case": lambda v: v >= 0,
        "loss_per_case_se": lambda v: v >= 0,
        "treated_groups": lambda v: v >= 1,
    }
    for name, value in scalars.items():
        if not (np.isfinite(value) and rules[name](value)):
            raise EstimationError(f"The misuse model's {name!r} is out of range. Got {value}.")
    if total < spends.sum():
        raise EstimationError(
            f"total_spends ({total}) is below the reviewed spends ({int(spends.sum())}). "
            "Fix: count every spend of these groups in the ledger, reviewed or not."
        )
    if labels not in (0, spends.size):
        raise EstimationError(f"Got {labels} labels for {spends.size} groups; give one each.")


def _interval(draws: np.ndarray) -> Interval:
    lo, hi = np.quantile(draws, [(1 - CI_LEVEL) / 2, (1 + CI_LEVEL) / 2])
    return float(lo), float(hi)


def _loss_draws(mean: float, se: float, size: int, seed: int) -> np.ndarray:
    """Gamma draws with mean ``mean`` and SD ``se`` (the constant ``mean`` when ``se`` or
    ``mean`` is 0): a positive stand-in for the mean loss's sampling distribution."""
    if se == 0 or mean == 0:
        return np.full(size, mean)
    shape = (mean / se) ** 2
    return np.random.default_rng(seed).gamma(shape, mean / shape, size=size)


def _posterior(idata: Any, name: str) -> np.ndarray:
    return np.asarray(idata.posterior[name].values, dtype=float).ravel()


def misuse_model(
    spends: Sequence[int] | np.ndarray,
    cases: Sequence[int] | np.ndarray,
    *,
    level: Level,
    months: float,
    tolerance: float,
    loss_per_case: float,
    loss_per_case_se: float = 0.0,
    treated_groups: int | None = None,
    total_spends: int | None = None,
    labels: Sequence[str] = (),
    prior: MisusePrior = MisusePrior(),
    draws: int = 1000,
    tune: int = 1000,
    chains: int = 4,
    seed: int = 1,
    sampler: Sampler = "auto",
    target_accept: float = 0.9,
) -> MisuseModel:
    """Fit the beta-binomial misuse model to reviewed spends and misuse cases per group.

    Parameters
    ----------
    spends, cases
        Per group (worker or unit, in any order): reviewed spends ``n_j`` and misuse cases
        ``y_j`` among them (verdict in ``MISUSE_VERDICTS``). Groups with no reviewed spend
        add nothing to the likelihood but count in ``groups``.
    level
        ``"worker"`` or ``"unit"``: what a group is (carried to the result).
    months
        Months the spends cover, to annualise: ``m = total_spends / groups × 12 / months``.
    tolerance
        The tolerated misuse rate per spend (``protocol.costs.misuse.tolerance``).
    loss_per_case, loss_per_case_se
        Mean money lost per misuse case and its standard error (e.g. the SD of the
        cases' losses over the square root of their number; 0 treats it as known).
    treated_groups
        Groups the yearly cost covers (default: ``len(spends)``), each spending ``m``.
    total_spends
        All spends of these groups in the ledger, reviewed or not (default: the reviewed
        ones); with a sampled review it sets ``m`` from how often groups really spend.
    labels
        Pseudonyms of the groups, in the order of ``spends`` (optional).
    prior
        The priors (module docstring).
    draws, tune, chains, seed, sampler, target_accept
        Sampler settings as in :func:`~trialkit.estimate.bayesian.fit.bayes`; the same
        ``seed`` gives the same result.

    Returns
    -------
    MisuseModel
        The ``MisuseModelRow`` fields, each group's posterior rate and the fit.

    Raises
    ------
    EstimationError
        If counts are not whole numbers >= 0, cases exceed spends, nothing was reviewed,
        or a scale argument is out of range.

    Examples
    --------
    >>> fit = misuse_model([40, 35, 52], [0, 1, 3], level="worker", months=6,
    ...                    tolerance=0.05, loss_per_case=250.0)  # doctest: +SKIP
    >>> fit.per_100, fit.per_100_ci  # doctest: +SKIP
    """
    n, y = _counts(spends, "spends"), _counts(cases, "cases")
    groups = int(n.size)
    treated = groups if treated_groups is None else int(treated_groups)
    total = int(n.sum()) if total_spends is None else int(total_spends)
    _check(n, y, level=level, total=total, labels=len(labels), months=months,
           tolerance=tolerance, loss_per_case=loss_per_case,
           loss_per_case_se=loss_per_case_se, treated_groups=treated)  # fmt: skip
    idata, used = sample(
        build_model(n, y, prior),
        draws=draws,
        tune=tune,
        chains=chains,
        seed=seed,
        sampler=sampler,
        target_accept=target_accept,
    )
    mu, kappa = _posterior(idata, "mu"), np.exp(_posterior(idata, "log_kappa"))
    m = total / groups * 12.0 / months
    per_100 = 100 * p_any_misuse(m, mu, kappa)
    above = 100 * p_rate_above(tolerance, mu, kappa)
    cost = treated * m * mu * _loss_draws(loss_per_case, loss_per_case_se, mu.size, seed)
    rates = (mu[:, None] * kappa[:, None] + y) / (kappa[:, None] + n)
    diagnostics = diagnose(idata, list(PARAMETERS))
    return MisuseModel(
        level=level,
        groups=groups,
        spends=int(n.sum()),
        cases=int(y.sum()),
        spends_per_year=float(m),
        mean_rate=float(mu.mean()),
        mean_rate_ci=_interval(mu),
        per_100=float(per_100.mean()),
        per_100_ci=_interval(per_100),
        per_100_above=float(above.mean()),
        per_100_above_ci=_interval(above),
        tolerance=float(tolerance),
        p_mean_above_tolerance=float(np.mean(mu > tolerance)),
        cost_per_year=float(cost.mean()),
        cost_per_year_ci=_interval(cost),
        rhat_max=diagnostics.r_hat_max,
        ess_bulk_min=diagnostics.ess_bulk_min,
        treated_groups=treated,
        loss_per_case=float(loss_per_case),
        loss_per_case_se=float(loss_per_case_se),
        group_rates=tuple(float(r) for r in rates.mean(axis=0)),
        labels=tuple(str(s) for s in labels),
        prior=prior,
        diagnostics=diagnostics,
        sampler=used,
        idata=idata,
    )
