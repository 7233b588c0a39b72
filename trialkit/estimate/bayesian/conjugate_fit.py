"""The beta-binomial model as a :class:`~.results.BayesianFit`, for the registered plan.

The posterior is exact (:func:`.conjugate_binary.beta_binomial`); the fit carries
independent draws from it (``chains × draws``, seeded) so that decision rules, net benefit
and the report use it like any other fit. On the natural scale (the risk difference) the
mean, median, SD, interval and probabilities are the exact values, computed by
quadrature; the draws serve the link scale (log-odds ratio) and the decision rules.
"""

from __future__ import annotations

from collections.abc import Hashable
from typing import Any

import numpy as np
import pandas as pd

from trialkit._core.provenance import Provenance
from trialkit.protocol.vocabulary import Direction

from .conjugate_binary import BetaBinomialResult, DifferencePosterior, beta_binomial
from .diagnostics import diagnose
from .priors import BetaPrior
from .results import BayesianFit
from .summarise import (
    CI_KIND,
    CI_LEVEL,
    Thresholds,
    as_rope,
    describe_draws,
    tail_probabilities,
)

#: Reporting scales: (name, posterior variable, natural units).
_SCALES = (("log_odds_ratio", "beta", False), ("risk_difference", "risk_difference", True))


def _exact(d: DifferencePosterior, thresholds: Thresholds) -> dict[str, float]:
    """Natural-scale summaries from the exact distribution of the risk difference."""
    import scipy.optimize as opt

    sign, nan = thresholds.sign, float("nan")
    above_zero = d.p_greater
    out = {
        "mean": d.mean, "sd": d.sd, "ci_low": d.ci_low, "ci_high": d.ci_high,
        "median": float(opt.brentq(lambda x: d.cdf(x) - 0.5, -1.0, 1.0, xtol=1e-12)),
        "p_benefit": above_zero if sign > 0 else 1.0 - above_zero,
        "p_mid": nan, "p_rope": nan,
        "p_harm": d.cdf(-abs(thresholds.harm_margin)) if sign > 0
        else d.probability_above(abs(thresholds.harm_margin)),
    }  # fmt: skip
    if thresholds.mid is not None:
        mid = abs(thresholds.mid)
        out["p_mid"] = d.probability_above(mid) if sign > 0 else d.cdf(-mid)
    if thresholds.rope is not None:
        out["p_rope"] = d.cdf(thresholds.rope[1]) - d.cdf(thresholds.rope[0])
    return out


def _draws(res: BetaBinomialResult, chains: int, draws: int, seed: int) -> dict[str, np.ndarray]:
    rng = np.random.default_rng(seed)
    p = np.stack([rng.beta(a.alpha, a.beta, size=(chains, draws)) for a in res.arms], axis=-1)
    logit = np.log(p) - np.log1p(-p)
    return {
        "beta": logit[..., 1:] - logit[..., :1],
        "risk_difference": p[..., 1:] - p[..., :1],
    }


def beta_binomial_fit(
    df: pd.DataFrame,
    outcome: str,
    treatment: str,
    *,
    control: Hashable | None = None,
    prior: tuple[float, float] = (1.0, 1.0),
    draws: int = 1000,
    chains: int = 4,
    seed: int = 1,
    direction: Direction = "higher_is_better",
    mid: float | None = None,
    harm_margin: float | None = None,
    rope: float | tuple[float, float] | None = None,
    source: str = "protocol",
) -> BayesianFit:
    """The exact beta-binomial posterior of a binary outcome, as a :class:`BayesianFit`.

    Parameters
    ----------
    df, outcome, treatment, control, prior
        As for :func:`~.conjugate_binary.beta_binomial`.
    draws, chains, seed
        Independent posterior draws kept for decision rules (no sampler, no tuning).
    direction, mid, harm_margin, rope
        As for :func:`~.fit.bayes` (natural units: the risk difference).
    source
        Where the Beta prior comes from, for reports.

    Returns
    -------
    BayesianFit
        Family ``"beta_binomial"``, scales ``("log_odds_ratio", "risk_difference")``.
    """
    import arviz as az

    res = beta_binomial(df, outcome, treatment, control=control, prior=prior, ci_level=CI_LEVEL)
    labels = [a.arm for a in res.arms[1:]]
    terms = [treatment] if len(labels) == 1 else [f"{treatment}[{a}]" for a in labels]
    posterior = _draws(res, chains, draws, seed)
    idata = az.from_dict(
        posterior=posterior, coords={"term": terms}, dims={name: ["term"] for name in posterior}
    )
    diagnostics = diagnose(idata, list(posterior))
    thresholds = Thresholds(
        direction=direction, mid=mid, harm_margin=harm_margin or 0.0, rope=as_rope(rope)
    )
    frame = _frame(res, posterior, terms, thresholds, diagnostics.table, len(df))
    return BayesianFit(
        outcome=outcome, family="beta_binomial", terms=tuple(terms), arms=tuple(labels),
        control=res.control, scales=tuple(s[0] for s in _SCALES), idata=idata,
        diagnostics=diagnostics, effect_prior=BetaPrior(res.prior_alpha, res.prior_beta, source),
        prior_note="exact conjugate posterior; no sampler", thresholds=thresholds,
        sampler="exact", provenance=Provenance(seed=seed), frame=frame,
    )  # fmt: skip


def _frame(
    res: BetaBinomialResult,
    posterior: dict[str, np.ndarray],
    terms: list[str],
    thresholds: Thresholds,
    diag: pd.DataFrame,
    n_obs: int,
) -> pd.DataFrame:
    stats = diag.set_index("parameter")
    records: list[dict[str, Any]] = []
    for name, variable, natural in _SCALES:
        for i, term in enumerate(terms):
            x = posterior[variable][..., i].ravel()
            key = variable if len(terms) == 1 else f"{variable}[{i}]"
            d = stats.loc[key] if key in stats.index else pd.Series(dtype=float)
            summary = (
                _exact(res.differences[i], thresholds)
                if natural
                else {**describe_draws(x), **tail_probabilities(x, thresholds, natural=False)}
            )
            records.append({
                "outcome": res.outcome, "estimand": "ITT", "estimator": "bayes_beta_binomial",
                "term": term, "arm": str(res.arms[1 + i].arm), "scale": name, **summary,
                "ci_level": CI_LEVEL,
                "ci_kind": CI_KIND, "r_hat": d.get("r_hat", np.nan),
                "ess_bulk": d.get("ess_bulk", np.nan), "ess_tail": d.get("ess_tail", np.nan),
                "n_obs": n_obs, "n_clusters": None, "direction": thresholds.direction,
                "mid": thresholds.mid, "harm_margin": thresholds.harm_margin,
                "rope_low": thresholds.rope[0] if thresholds.rope else np.nan,
                "rope_high": thresholds.rope[1] if thresholds.rope else np.nan,
            })  # fmt: skip
    frame = pd.DataFrame.from_records(records)
    frame["estimate"] = frame["mean"]
    return frame
