"""The registered plan for a time-to-event outcome (``type: survival``).

The registered ITT estimate is the difference in restricted mean survival time (RMST) up
to the outcome's horizon, each arm against control, by pseudo-observations with CR2 and
Bell–McCaffrey df (:func:`~.survival_rmst.rmst_difference`), adjusted like every other
outcome. Beside it: Kaplan–Meier curves with numbers at risk, each arm's RMST, and Cox
hazard ratios with a proportional-hazards check (lifelines; CR0-like robust SEs, so
supporting, not registered, evidence). Competing events are censored (cause-specific).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd

from trialkit.estimate.frequentist.analysis_frame import AnalysisFrame
from trialkit.estimate.frequentist.result import RegressionResult
from trialkit.estimate.frequentist.survival import (
    KaplanMeierCurve,
    event_indicator,
    event_table,
    kaplan_meier,
)
from trialkit.estimate.frequentist.survival_cox import cox_hazard_ratios
from trialkit.estimate.frequentist.survival_rmst import km_rmst, rmst_difference
from trialkit.protocol import Protocol
from trialkit.protocol.outcomes import Outcome
from trialkit.protocol.vocabulary import VcovType


@dataclass(frozen=True, slots=True)
class SurvivalFit:
    """Everything the plan reports for one time-to-event outcome.

    Attributes
    ----------
    itt
        RMST difference of each treated arm against control (the registered estimate).
    curves
        Kaplan–Meier curve of each arm (control first), numbers at risk included.
    rmst
        Each arm's Kaplan–Meier RMST up to the horizon: ``outcome, arm, n, mean`` (the
        descriptives of a time-to-event outcome), plus ``events`` and ``competing``.
    hazard_ratios
        Cox hazard ratio of each treated arm (tidy rows with ``arm``, ``hazard_ratio``,
        its interval and the proportional-hazards p-value).
    """

    itt: RegressionResult
    curves: tuple[KaplanMeierCurve, ...]
    rmst: pd.DataFrame
    hazard_ratios: pd.DataFrame


def event_column(outcome: Outcome) -> str:
    """The validated event column of a time-to-event outcome (0/1/2)."""
    return f"{outcome.data_column}_event"


def fit_survival(
    protocol: Protocol,
    frame: AnalysisFrame,
    outcome: Outcome,
    *,
    covariates: tuple[str, ...],
    se_type: VcovType | None,
) -> SurvivalFit:
    """Fit the registered plan's time-to-event analyses of ``outcome``."""
    assert outcome.survival is not None  # a survival outcome always declares how it is read
    time, event = outcome.data_column, event_column(outcome)
    horizon = float(outcome.survival.horizon_days)
    control = protocol.control.id
    data = frame.complete(time, event)
    arms = [a.id for a in protocol.arms if a.id in set(data["arm"].astype(str))]
    itt = rmst_difference(
        data,
        time,
        event,
        "arm",
        horizon=horizon,
        control=control,
        cluster=frame.cluster,
        blocks=frame.blocks,
        covariates=list(covariates),
        se_type=se_type,
    )
    at = tuple(float(round(x)) for x in np.linspace(0.0, horizon, 5))
    curves = kaplan_meier(data, time, event, "arm", arms=arms, at=at)
    cox = cox_hazard_ratios(data, time, event, "arm", control=control, cluster=frame.cluster)
    hazard = cox.to_frame()
    hazard = hazard[hazard["term"].isin(cox.treatment_terms)].copy()
    return SurvivalFit(
        itt=itt,
        curves=curves,
        rmst=_rmst(data, time, event, outcome, arms, horizon, curves),
        hazard_ratios=hazard.assign(outcome=outcome.name),
    )


def survival_at(curve: KaplanMeierCurve, times: np.ndarray) -> np.ndarray:
    """The Kaplan–Meier estimate of ``curve`` at ``times`` (right-continuous steps)."""
    index = np.searchsorted(curve.times, np.asarray(times, dtype=float), side="right") - 1
    return np.asarray(curve.survival, dtype=float)[np.clip(index, 0, None)]


def _rmst(
    data: pd.DataFrame,
    time: str,
    event: str,
    outcome: Outcome,
    arms: list[str],
    horizon: float,
    curves: tuple[KaplanMeierCurve, ...],
) -> pd.DataFrame:
    rows = []
    for arm, curve in zip(arms, curves, strict=True):
        t, d = event_indicator(data[data["arm"].astype(str) == arm], time, event)
        rows.append(
            {
                "outcome": outcome.name,
                "arm": arm,
                "n": curve.n_obs,
                "mean": km_rmst(event_table(t, d), horizon),
                "sd": None,
                "events": curve.n_events,
                "competing": curve.n_competing,
            }
        )
    return pd.DataFrame(rows)
