"""Results of Bayesian impact estimation: :class:`BayesianFit` and :class:`BayesianResults`."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, cast

import numpy as np
import pandas as pd

from trialkit._core.provenance import Provenance
from trialkit.errors import EstimationError
from trialkit.estimate.results import Estimate

from .design import Family
from .diagnostics import Diagnostics
from .priors import BetaPrior, Prior
from .summarise import CI_LEVEL, POSTERIOR_COLUMNS, Thresholds, probability_frame


@dataclass(frozen=True, slots=True)
class BayesianFit:
    """The posterior of one outcome's treatment effect(s).

    Attributes
    ----------
    outcome, family
        The outcome's name and the model family.
    terms
        One term per non-control arm (as in frequentist rows).
    arms, control
        The non-control arms' labels (in the order of ``terms``) and the control's label.
    scales
        Reporting scales (e.g. ``("log_odds_ratio", "risk_difference")``); the last is
        in natural units.
    idata
        ArviZ ``InferenceData`` (posterior, sample_stats, observed_data).
    diagnostics
        R-hat, ESS, divergences, E-BFMI, ``passed`` and advice.
    effect_prior, prior_note
        The treatment-effect prior (for the beta-binomial model, the arms' Beta prior)
        and how default priors were scaled.
    thresholds
        Direction of benefit, MID, harm margin and ROPE used for probabilities.
    sampler
        ``"nutpie"`` or ``"pymc"``.
    provenance
        Seed, versions and time.
    """

    outcome: str
    family: str
    terms: tuple[str, ...]
    arms: tuple[str, ...]
    control: str
    scales: tuple[str, ...]
    idata: Any
    diagnostics: Diagnostics
    effect_prior: Prior | BetaPrior
    prior_note: str
    thresholds: Thresholds
    sampler: str
    provenance: Provenance
    frame: pd.DataFrame

    def to_frame(self) -> pd.DataFrame:
        """One row per term × scale; columns :data:`~.summarise.POSTERIOR_COLUMNS`.

        ``estimate`` is the posterior mean; ``ci_low``/``ci_high`` bound the equal-tailed
        credible interval at ``ci_level`` (``ci_kind`` says so); ``arm`` is the term's arm.
        """
        return self.frame.loc[:, list(POSTERIOR_COLUMNS)].copy()

    def probabilities(self) -> pd.DataFrame:
        """Tidy P(effect > 0), P(effect ≥ MID), P(harm beyond margin), P(in ROPE)."""
        return probability_frame(self.to_frame())

    def draws(self, term: str | None = None, scale: str | None = None) -> np.ndarray:
        """Flattened posterior draws of one term on one scale (default: first term, natural).

        Raises
        ------
        EstimationError
            If ``term`` or ``scale`` is unknown.
        """
        from .models import scales as model_scales

        term = term or self.terms[0]
        wanted = scale or self.scales[-1]
        found = [s for s in model_scales(cast(Family, self.family)) if s.name == wanted]
        if term not in self.terms or not found:
            raise EstimationError(
                f"Unknown term {term!r} or scale {scale!r}; terms are {list(self.terms)}, "
                f"scales are {list(self.scales)}."
            )
        values = self.idata.posterior[found[0].variable].sel(term=term).values
        return np.asarray(values, dtype=float).ravel()

    def to_estimates(self) -> tuple[Estimate, ...]:
        """Natural-scale rows as shared :class:`~trialkit.estimate.results.Estimate` rows.

        ``std_error`` holds the posterior SD; ``statistic``, ``df`` and ``p_value`` are
        ``nan`` (no sampling distribution); ``se_type`` is ``"posterior_sd"``.
        """
        nat = self.frame[self.frame["scale"] == self.scales[-1]]
        nan = float("nan")
        records: list[dict[str, Any]] = [
            {str(k): v for k, v in rec.items()} for rec in nat.to_dict("records")
        ]
        return tuple(
            Estimate(
                outcome=str(r["outcome"]),
                term=str(r["term"]),
                estimate=float(r["mean"]),
                std_error=float(r["sd"]),
                statistic=nan,
                df=nan,
                p_value=nan,
                ci_low=float(r["ci_low"]),
                ci_high=float(r["ci_high"]),
                ci_level=float(r["ci_level"]),
                se_type="posterior_sd",
                n_obs=int(r["n_obs"]),
                n_clusters=None if pd.isna(r["n_clusters"]) else int(r["n_clusters"]),
                estimand=str(r["estimand"]),
                estimator=str(r["estimator"]),
                arm=str(r["arm"]),
            )
            for r in records
        )

    @property
    def estimates(self) -> tuple[Estimate, ...]:
        """The treatment effects on the natural scale, each naming its ``arm``
        (:meth:`to_estimates`)."""
        return self.to_estimates()

    def summary(self) -> str:
        """A fixed-width table of the posterior, then the diagnostics."""
        shown = [
            "term",
            "scale",
            "mean",
            "ci_low",
            "ci_high",
            "p_benefit",
            "p_mid",
            "p_harm",
            "r_hat",
            "ess_bulk",
        ]
        table = self.frame.loc[:, shown].to_string(index=False, float_format=lambda v: f"{v:.4g}")
        return (
            f"Bayesian {self.family} model for {self.outcome!r}; effect prior "
            f"{self.effect_prior.describe()}; {self._level():.0%} equal-tailed intervals\n"
            f"{table}\n"
            f"{self.diagnostics.summary()}"
        )

    def _level(self) -> float:
        levels = self.frame["ci_level"]
        return float(levels.iloc[0]) if len(levels) else CI_LEVEL

    def __str__(self) -> str:
        return self.summary()

    def _repr_html_(self) -> str:
        return str(self.to_frame().to_html(index=False, float_format=lambda v: f"{v:.4g}"))


@dataclass(frozen=True, slots=True)
class BayesianResults:
    """Posteriors of every analysed outcome, and the protocol's decision rules evaluated.

    Attributes
    ----------
    fits
        One :class:`BayesianFit` per outcome.
    decisions
        Evaluated decision rules (:class:`~.decisions.DecisionResult`).
    provenance
        Protocol hash, seed, versions and time.
    net_benefits
        One :class:`~.decisions.NetBenefit` per arm, over the outcomes with a declared
        money value (empty without one).
    notes
        Plain statements of what was done (rows dropped, priors converted, rules skipped).
    """

    fits: tuple[BayesianFit, ...]
    decisions: tuple[Any, ...]
    provenance: Provenance
    net_benefits: tuple[Any, ...] = ()
    notes: tuple[str, ...] = ()

    def to_frame(self) -> pd.DataFrame:
        """All fits' rows stacked."""
        frames = [f.to_frame() for f in self.fits]
        if not frames:
            return pd.DataFrame(columns=list(POSTERIOR_COLUMNS))
        return pd.concat(frames, ignore_index=True)

    def probabilities(self) -> pd.DataFrame:
        """All fits' probabilities stacked."""
        return probability_frame(self.to_frame())

    def decisions_frame(self) -> pd.DataFrame:
        """One row per decision-rule condition × term, with ``met`` for the whole rule."""
        frames = [d.to_frame().assign(rule_met=d.met, action=d.action) for d in self.decisions]
        return pd.concat(frames, ignore_index=True) if frames else pd.DataFrame()

    def net_benefit_frame(self) -> pd.DataFrame:
        """Net benefit summaries (per unit and aggregate) for each arm."""
        frames = [nb.to_frame() for nb in self.net_benefits]
        return pd.concat(frames, ignore_index=True) if frames else pd.DataFrame()

    def fit(self, outcome: str) -> BayesianFit:
        """The fit of ``outcome``."""
        for f in self.fits:
            if f.outcome == outcome:
                return f
        raise EstimationError(
            f"No fit for outcome {outcome!r}; have {[f.outcome for f in self.fits]}."
        )

    @property
    def passed(self) -> bool:
        """Whether every fit passed its diagnostics."""
        return all(f.diagnostics.passed for f in self.fits)
