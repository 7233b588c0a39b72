"""Diagnosis of time-to-event outcomes: leaving dates simulated and analysed as the plan does.

Each simulation draws the rows of the outcome's level (the sizes :func:`fabricate` draws),
each row's joining offset, its time to leaving and to a transfer from the fabricator's own
law (:func:`~trialkit.diagnose.survival.latent_times`: exponential, log-normal team
frailty, the declared hazard ratio in treated arms) and the plan's covariates; it then codes
time in days and the event (0/1/2) as validation derives them from the dates, and runs the
registered plan (:func:`~trialkit.estimate.frequentist.survival_plan.fit_survival`): the
RMST difference (the registered estimate) and the Cox hazard ratio beside it.

Two inquiries, each computed from the simulated data set's **potential outcomes** (every
row's time under control and under treatment, from the same draw), as DeclareDesign's
inquiries are:

* ``rmst``: the sample RMST difference, ``mean_i [min(T_i(1), tau) - min(T_i(0), tau)]``
  over every row of both arms, with ``T_i(a)`` the row's net time to the event in whole days
  (transfers removed, as the cause-specific Kaplan–Meier estimates it).
* ``log_hr``: the log hazard ratio Cox regression gives when every row is observed under
  both arms, each with its own follow-up and transfer time. The simulator's hazards are
  proportional *within a team* (the declared hazard ratio conditional on the frailty), but
  not across teams: frailty makes the marginal hazards non-proportional and the marginal
  ratio closer to 1 (non-collapsibility). With the flagship's ICC of 0.05 and 20% leaving
  the difference from the declared log hazard ratio is about 0.01; with ICC 0.2 and half
  leaving about 0.05, so the declared ratio is not the estimand of a marginal Cox model.
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass

import numpy as np
from numpy.typing import NDArray

from trialkit.diagnose.fabricate import _sizes
from trialkit.diagnose.frames import RESULT_COLUMNS, simulation_frame
from trialkit.diagnose.generate import (
    Draw,
    FloatArray,
    IntArray,
    SimulationDesign,
    _row_covariates,
    _unit_covariates,
    take_up_column,
)
from trialkit.diagnose.survival import _start_offsets, _window, latent_times, whole_days
from trialkit.errors import TrialkitError
from trialkit.estimate.frequentist.plan_outcome import adjusted_for
from trialkit.estimate.frequentist.result import t_inference
from trialkit.estimate.frequentist.survival_plan import event_column, fit_survival
from trialkit.protocol.outcomes import Outcome

#: Key suffix of the hazard-ratio inquiry of a survival outcome in a diagnosis.
LOG_HR = ":log_hr"
#: Columns of one simulation's result row here: the estimate's, then the estimand.
ROW_COLUMNS = (*RESULT_COLUMNS, "estimand")


@dataclass(frozen=True, slots=True, eq=False)
class SurvivalDraw:
    """Simulated rows of one survival outcome, laid out ``(S, n_units, m)``.

    Attributes
    ----------
    draw
        Arms, the time in days (``y``), which slots are rows (``mask``) and covariates.
    event
        Event code of each row: 0 censored, 1 the event, 2 a competing event.
    potential
        ``(2, S, n_units, m)`` time in days and ``(2, S, n_units, m)`` event code of each
        row under control (index 0) and under treatment (index 1).
    rmst
        ``(S,)`` sample RMST difference from the potential outcomes (the ``rmst`` inquiry).
    """

    draw: Draw
    event: FloatArray
    potential: tuple[FloatArray, FloatArray]
    rmst: FloatArray


def _observed(
    time: FloatArray, rival: FloatArray, follow_up: FloatArray
) -> tuple[FloatArray, FloatArray]:
    """Days at risk and event code as validation derives them from the dates."""
    days = whole_days(np.minimum(time, rival))
    ended = days <= follow_up
    code = np.where(ended, np.where(rival < time, 2.0, 1.0), 0.0)
    return np.where(ended, days, follow_up).astype(np.float64), code


def draw_survival(
    design: SimulationDesign, outcome: Outcome, arms: IntArray, rng: np.random.Generator
) -> SurvivalDraw:
    """Draw a survival outcome and the plan's covariates for each assignment in ``arms``.

    Where the protocol declares non-compliance, the potential outcomes under treatment are
    those of assignment: a unit that does not take the intervention up keeps its control
    times (the exclusion restriction), so both inquiries are ITT effects.
    """
    p, a, declared = design.protocol, outcome.assumptions, outcome.survival
    assert a is not None and declared is not None
    s, n = arms.shape
    control = next(i for i, arm in enumerate(p.arms) if arm.control)
    level = p.level(outcome.level)
    if level is None:
        sizes = np.ones((s, n), dtype=np.int64)
    else:
        sizes = _sizes(level.per_unit.mean, level.per_unit.cv, s * n, rng).reshape(s, n)
        if level.arms:
            allowed = [i for i, arm in enumerate(p.arms) if arm.id in level.arms]
            sizes = np.where(np.isin(arms, allowed), sizes, 0)
    m = max(int(sizes.max()), 1)
    shape = (s, n, m)
    mask = np.arange(m) < sizes[..., None]
    frailty = np.broadcast_to(rng.standard_normal((s, n, 1)), shape)
    treated = np.broadcast_to((arms != control)[..., None], shape)
    pilot, end = _window(p, declared)
    window = (end - pilot).days
    offset = np.zeros(shape, np.int64)
    if declared.start_column:
        offset = _start_offsets(s * n * m, window, rng).reshape(shape)
    follow_up = (window - np.maximum(offset, 0)).astype(np.float64)
    horizon = float(declared.horizon_days)
    latent = latent_times(a, declared, frailty, treated, rng, scale=1.0, horizon=horizon)
    t0, t1 = latent.potential(False), latent.potential(True)
    time0, code0 = _observed(t0, latent.rival, follow_up)
    time1, code1 = _observed(t1, latent.rival, follow_up)
    covariates = {
        name: np.broadcast_to(c[None, :, None], shape)
        for name, c in _unit_covariates(design).items()
    }
    covariates.update(_row_covariates(design, outcome, shape, None, rng))
    if take_up_column(p) is not None:  # a unit offered but not taking up keeps Y(0)
        complier = np.broadcast_to((rng.random((s, n)) < p.power.compliance)[..., None], shape)
        t1 = np.where(complier, t1, t0)
        time1, code1 = np.where(complier, time1, time0), np.where(complier, code1, code0)
    gain = np.minimum(whole_days(t1), horizon) - np.minimum(whole_days(t0), horizon)
    with np.errstate(invalid="ignore", divide="ignore"):
        rmst = np.einsum("snm,snm->s", gain, mask) / mask.sum(axis=(1, 2))
    time = np.where(treated, time1, time0)
    draw = Draw(arms, np.where(mask, time, 0.0), mask, covariates)
    return SurvivalDraw(
        draw=draw,
        event=np.where(treated, code1, code0),
        potential=(np.stack([time0, time1]), np.stack([code0, code1])),
        rmst=np.asarray(rmst, dtype=np.float64),
    )


def potential_log_hr(times: FloatArray, codes: FloatArray) -> float:
    """Cox log hazard ratio with every row observed under both arms (Efron ties).

    ``times`` and ``codes`` are ``(2, rows)``: each row under control, then under treatment.
    Competing events (code 2) are censored, as in the plan's cause-specific Cox model. With
    one binary covariate Efron's partial likelihood depends only on the numbers at risk
    ``n_a`` and with the event ``d_a`` of each arm at each event time: for ``k < d = d_0 +
    d_1``, ``log L = sum d_1 beta - sum_k log(n_0 - k d_0 / d + (n_1 - k d_1 / d) e^beta)``,
    maximised here by Newton's method (it is concave in ``beta``); statsmodels' ``PHReg``
    gives the same value (checked in the tests) at many times the cost.
    """
    arm = np.repeat([0, 1], times.shape[1])
    t, event = times.reshape(-1), codes.reshape(-1) == 1
    at = np.unique(t[event])
    n = [np.searchsorted(np.sort(t[arm == a]), at, side="left") for a in (0, 1)]
    n0, n1 = ((arm == a).sum() - n[a] for a in (0, 1))
    where = np.searchsorted(at, t[event])
    d0, d1 = (np.bincount(where[arm[event] == a], minlength=at.size) for a in (0, 1))
    if d0.sum() == 0 or d1.sum() == 0:
        return float("nan")  # no events in an arm: the ratio is 0 or infinite
    d = d0 + d1
    slot = np.repeat(np.arange(at.size), d)
    frac = (np.arange(slot.size) - np.repeat(np.cumsum(d) - d, d)) / d[slot]
    a = n0[slot] - frac * d0[slot]
    b = n1[slot] - frac * d1[slot]
    events = float(d1.sum())
    beta = 0.0
    for _ in range(100):
        share = b * np.exp(beta) / (a + b * np.exp(beta))
        score, information = events - share.sum(), float((share * (1.0 - share)).sum())
        step = float(np.clip(score / information, -1.0, 1.0))
        beta += step
        if abs(step) < 1e-12:
            break
    return beta


def estimate_survival(
    design: SimulationDesign, outcome: Outcome, drawn: SurvivalDraw, *, ci_level: float
) -> tuple[FloatArray, FloatArray]:
    """The registered plan on every simulation: ``(S, 7)`` rows for the RMST difference and
    for the log hazard ratio (:data:`ROW_COLUMNS`), NaN where the plan fails."""
    p = design.protocol
    plan = p.analysis.frequentist
    se_type = None if plan.se_type == "auto" else plan.se_type
    treated = next(arm.id for arm in p.arms if not arm.control)
    sims = drawn.draw.y.shape[0]
    rmst = np.full((sims, len(ROW_COLUMNS)), np.nan)
    hazard = np.full((sims, len(ROW_COLUMNS)), np.nan)
    rmst[:, -1] = drawn.rmst
    for sim in range(sims):
        rows = np.nonzero(drawn.draw.mask[sim])
        times, codes = (v[:, sim][:, rows[0], rows[1]] for v in drawn.potential)
        hazard[sim, -1] = potential_log_hr(times, codes)
        frame = simulation_frame(design, outcome, drawn.draw, sim)
        frame = dataclasses.replace(
            frame, data=frame.data.assign(**{event_column(outcome): drawn.event[sim][rows]})
        )
        try:
            fit = fit_survival(
                p,
                frame,
                outcome,
                covariates=adjusted_for(p, frame, outcome.data_column),
                se_type=se_type,
            )
        except TrialkitError:
            continue
        table = fit.itt.to_frame()
        row = table[table["term"].isin(["arm", f"arm[{treated}]"])].iloc[0]
        estimate, se, df = (float(row[c]) for c in ("estimate", "std_error", "df"))
        _, p_value, low, high = t_inference(estimate, se, df, ci_level)
        rmst[sim, :6] = (estimate, se, df, p_value, low, high)
        cox = fit.hazard_ratios[fit.hazard_ratios["arm"] == treated].iloc[0]
        hazard[sim, :6] = (
            float(cox["estimate"]),
            float(cox["std_error"]),
            np.inf,
            float(cox["p_value"]),
            float(cox["ci_low"]),
            float(cox["ci_high"]),
        )
    return rmst, hazard


def survival_chunk(
    design: SimulationDesign,
    outcome: Outcome,
    arms: IntArray,
    rng: np.random.Generator,
    *,
    ci_level: float,
) -> dict[str, NDArray[np.float64]]:
    """Both inquiries of one survival outcome for a chunk of assignments, keyed for
    the diagnosis: the outcome's name (RMST difference) and ``<name>:log_hr``."""
    rmst, hazard = estimate_survival(
        design, outcome, draw_survival(design, outcome, arms, rng), ci_level=ci_level
    )
    return {outcome.name: rmst, outcome.name + LOG_HR: hazard}
