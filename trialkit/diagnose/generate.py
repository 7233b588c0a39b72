"""Simulated designs as arrays: the protocol's data-generating model, many draws at once.

The model is :func:`trialkit.diagnose.fabricate`'s (the same helpers draw cluster sizes,
covariates and outcome values): a latent normal with a unit random effect carrying the
declared ICC, a baseline explaining the declared R² of the rest, the declared effect in
treated arms, the outcome's type and range, and attrition. Instead of one DataFrame per
simulation, every simulation's rows are laid out as ``(S, G, m)``: simulation, cluster of
the analysis, slot within cluster; the design matrix the plan's estimator would build
(``ols`` or ``lin`` with the plan's covariates and block effects) is ``(S, G, m, k)``.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd
from numpy.typing import NDArray
from scipy import special

from trialkit.diagnose.fabricate import _covariate, _outcome_values, _sizes, draw_exposure
from trialkit.estimate.frequentist.plan_estimators import plan_estimator
from trialkit.protocol import Protocol
from trialkit.protocol.outcomes import Assumptions, Outcome
from trialkit.randomise import Scheme, declare

FloatArray = NDArray[np.float64]
IntArray = NDArray[np.int64]


@dataclass(frozen=True, slots=True, eq=False)
class SimulationDesign:
    """One design variant, compiled once and shipped to every worker.

    Attributes
    ----------
    protocol
        The protocol whose assumptions, scheme and estimator are simulated.
    units
        The units file (sorted by id, the scheme's order).
    scheme
        The protocol's randomisation scheme declared on ``units``.
    blocks
        Block code of each unit when block effects enter the analysis, else ``None``.
    clusters
        Cluster code of each unit (the allocation's cluster: the cluster column, or the
        unit itself).
    """

    protocol: Protocol
    units: pd.DataFrame
    scheme: Scheme
    blocks: IntArray | None
    clusters: IntArray

    @property
    def n_units(self) -> int:
        """Number of randomised units."""
        return len(self.units)


def compile_design(protocol: Protocol, units: pd.DataFrame) -> SimulationDesign:
    """Declare the protocol's scheme on ``units`` and code their blocks and clusters."""
    uid = protocol.units.id_column
    frame = units.copy()
    frame[uid] = frame[uid].astype(str).str.strip()
    frame = frame.sort_values(uid, kind="stable").reset_index(drop=True)
    scheme = declare(protocol, frame)
    d = protocol.design
    blocks = None
    if d.block_columns and d.scheme != "cluster":
        label = frame[list(d.block_columns)].astype(str).agg(" / ".join, axis=1)
        codes, uniques = pd.factorize(label, sort=True)
        blocks = codes.astype(np.int64) if len(uniques) > 1 else None
    column = d.cluster_column or uid
    clusters = pd.factorize(frame[column].astype(str), sort=True)[0].astype(np.int64)
    return SimulationDesign(protocol, frame, scheme, blocks, clusters)


def batch_problem(protocol: Protocol, outcome: Outcome) -> str | None:
    """Why ``outcome`` cannot take the batched path (``None`` when it can)."""
    plan = protocol.analysis.frequentist
    if not plan_estimator(plan.estimator).batched:
        return f"estimator `{plan.estimator}`"
    if plan.se_type not in ("auto", "HC2", "CR2"):
        return f"se_type `{plan.se_type}`"
    if len(protocol.arms) != 2 or protocol.design.stepped_wedge is not None:
        return "more than two arms or a stepped wedge"
    if outcome.assumptions is None:
        return "no assumptions"
    if outcome.exposure is not None:
        return "a rate (a count over its exposure, weighted by it)"
    return None


def is_clustered(protocol: Protocol, outcome: Outcome) -> bool:
    """Whether the plan clusters this outcome's analysis (CR2) or not (HC2)."""
    return protocol.design.type != "individual" or outcome.level != protocol.units.name


def _values(
    outcome: Outcome,
    a: Assumptions,
    latent: FloatArray,
    treated: NDArray[np.bool_],
    rng: np.random.Generator,
    exposure: FloatArray | None = None,
) -> FloatArray:
    """Outcome values as the validate stage codes them (ordinal labels become codes)."""
    shape = latent.shape
    flat, t = latent.reshape(-1), np.broadcast_to(treated, shape).reshape(-1)
    if outcome.type == "ordinal":
        probs = np.asarray(a.distribution or [1 / len(outcome.levels)] * len(outcome.levels))
        cuts = special.logit(np.clip(np.cumsum(probs)[:-1], 1e-9, 1 - 1e-9))
        shift = np.where(t, a.effect, 0.0)
        codes = np.searchsorted(cuts, flat * (np.pi / np.sqrt(3)) + shift)
        return np.asarray(codes, dtype=np.float64).reshape(shape)
    rows = None if exposure is None else np.broadcast_to(exposure, shape).reshape(-1)
    return np.asarray(
        _outcome_values(outcome, a, flat, t, rng, exposure=rows), dtype=np.float64
    ).reshape(shape)


def _row_covariates(
    design: SimulationDesign,
    outcome: Outcome,
    shape: tuple[int, ...],
    baseline: FloatArray | None,
    rng: np.random.Generator,
) -> dict[str, FloatArray]:
    """Row-level adjusted covariates (and the outcome's baseline), as fabricate draws them."""
    p = design.protocol
    columns: dict[str, FloatArray] = {}
    for cov in p.covariates:
        if not cov.adjust or cov.level != outcome.level or cov.level == p.units.name:
            continue
        other = next(
            (o for o in p.outcomes if o.level == outcome.level and o.baseline == cov.data_column),
            None,
        )
        if cov.data_column == outcome.baseline and baseline is not None:
            continue  # the baseline enters once, below
        if other is not None and other.assumptions is not None:
            latent = rng.standard_normal(shape)
            columns[cov.data_column] = _values(
                other, other.assumptions, latent, np.zeros(shape, bool), rng
            )
        else:
            values = np.asarray(_covariate(cov, int(np.prod(shape)), rng)).reshape(shape)
            columns.update(_coded(cov.data_column, values, cov.type == "categorical"))
    if baseline is not None and outcome.baseline:
        columns[outcome.baseline] = baseline
    return columns


def _unit_covariates(design: SimulationDesign) -> dict[str, FloatArray]:
    p = design.protocol
    out: dict[str, FloatArray] = {}
    for c in p.covariates:
        if c.adjust and c.level == p.units.name and c.data_column in design.units:
            column = design.units[c.data_column]
            categorical = c.type == "categorical"
            out.update(
                _coded(
                    c.data_column,
                    column.to_numpy(dtype=object if categorical else np.float64),
                    categorical,
                )
            )
    return out


def _coded(name: str, values: NDArray[np.generic], categorical: bool) -> dict[str, FloatArray]:
    """A covariate as the plan codes it: numbers, or indicators of all but the first level."""
    if not categorical:
        return {name: np.asarray(values, dtype=np.float64)}
    levels = sorted({str(v) for v in np.unique(values.astype(str))})
    text = values.astype(str)
    return {f"{name}={level}": (text == level).astype(np.float64) for level in levels[1:]}


@dataclass(frozen=True, slots=True, eq=False)
class Draw:
    """Simulated rows of one outcome, laid out ``(S, n_units, m)``.

    In a stepped wedge the ``m`` slots of a unit are its periods' rows, period-major
    (slot ``j`` is in period ``j // (m / periods)``).

    Attributes
    ----------
    arms
        ``(S, n_units)`` arm index of each unit (the protocol's arm order; the crossover
        step index in a stepped wedge).
    y, mask
        Outcome values and which slots are observed rows.
    covariates
        The plan's covariates (unit-level ones broadcast, the baseline last) by name.
    exposure
        Each row's exposure, for a count analysed as a rate; else ``None``.
    y0, y1
        Each row's potential outcomes without and with the intervention, on the observed
        scale (after rounding and clipping), for every slot that exists (observed or lost).
    exists
        Which slots are rows of the population (before attrition).
    assigned
        Whether each row's unit is assigned (or, in a stepped wedge, exposed) to a treated arm.
    complier
        ``(S, n_units)`` whether each unit takes the intervention up when offered, where the
        protocol declares non-compliance; else ``None`` (everyone complies).
    periods
        Periods per unit (1 unless a stepped wedge).
    """

    arms: IntArray
    y: FloatArray
    mask: NDArray[np.bool_]
    covariates: dict[str, FloatArray]
    exposure: FloatArray | None = None
    y0: FloatArray | None = None
    y1: FloatArray | None = None
    exists: NDArray[np.bool_] | None = None
    assigned: NDArray[np.bool_] | None = None
    complier: NDArray[np.bool_] | None = None
    periods: int = 1


def take_up_column(protocol: Protocol) -> str | None:
    """The take-up column of the first CACE estimand, where the protocol declares
    non-compliance (``power.compliance < 1``); else ``None``."""
    if protocol.power.compliance >= 1 or protocol.design.stepped_wedge is not None:
        return None
    return next(
        (e.take_up_column for e in protocol.estimands if e.type == "CACE" and e.take_up_column),
        None,
    )


def draw_outcome(
    design: SimulationDesign, outcome: Outcome, arms: IntArray, rng: np.random.Generator
) -> Draw:
    """Draw ``outcome`` and the plan's covariates for each assignment in ``arms``.

    Every row gets both potential outcomes from the same latent draw (and the same
    rounding noise); the observed value is the treated one only where the unit is assigned
    a treated arm and takes it up (the exclusion restriction: a unit offered the
    intervention that does not take it up keeps its control outcome).
    """
    p, a = design.protocol, outcome.assumptions
    assert a is not None
    s, n = arms.shape
    control = next(i for i, arm in enumerate(p.arms) if arm.control)
    level = p.level(outcome.level)
    wedge = p.design.stepped_wedge
    periods = wedge.periods if wedge is not None else 1
    if level is None:  # measured on the randomised units themselves
        sizes = np.ones((s, n), dtype=np.int64)
    else:
        sizes = _sizes(level.per_unit.mean, level.per_unit.cv, s * n, rng).reshape(s, n)
        if level.arms:
            allowed = [i for i, arm in enumerate(p.arms) if arm.id in level.arms]
            sizes = np.where(np.isin(arms, allowed), sizes, 0)
    m = max(int(sizes.max()), 1)
    slots = m * periods
    exists = np.arange(slots) % m < sizes[..., None]
    mask = exists & ~(rng.random((s, n, slots)) < p.power.attrition)
    effect = rng.standard_normal((s, n, 1)) * np.sqrt(a.icc)
    individual, base_part = rng.standard_normal((2, s, n, slots))
    within = base_part * np.sqrt(a.r2)  # sqrt(1 - icc) (sqrt(r2) b + sqrt(1 - r2) e), in place
    within += individual * np.sqrt(1 - a.r2)
    within *= np.sqrt(1 - a.icc)
    if wedge is not None:  # exposed from the unit's step (arm index + 1) onwards
        t = (np.arange(slots) // m)[None, None, :] >= (arms + 1)[..., None]
    else:
        t = np.broadcast_to((arms != control)[..., None], (s, n, slots))
    exposure = None
    if outcome.exposure is not None:
        exposure = draw_exposure(p, s * n * slots, rng).reshape(s, n, slots)
    latent = effect + within
    treated, untreated = np.full((s, n, slots), True), np.full((s, n, slots), False)
    state = rng.bit_generator.state  # both potential outcomes from the same noise
    y1 = _values(outcome, a, latent, treated, rng, exposure)
    rng.bit_generator.state = state
    y0 = _values(outcome, a, latent, untreated, rng, exposure)
    baseline = None
    if outcome.baseline:
        base_latent = effect + np.sqrt(1 - a.icc) * base_part
        baseline = _values(outcome, a, base_latent, untreated, rng, exposure)
    covariates = {
        name: np.broadcast_to(c[None, :, None], (s, n, slots))
        for name, c in _unit_covariates(design).items()
    }
    covariates.update(_row_covariates(design, outcome, (s, n, slots), baseline, rng))
    complier = None
    if take_up_column(p) is not None:
        complier = rng.random((s, n)) < p.power.compliance
    received = t if complier is None else t & complier[..., None]
    y = np.where(received, y1, y0)
    return Draw(
        arms,
        np.where(mask, y, 0.0),
        mask,
        covariates,
        exposure,
        y0=y0,
        y1=y1,
        exists=exists,
        assigned=np.asarray(t),
        complier=complier,
        periods=periods,
    )
