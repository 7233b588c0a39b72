"""Posterior draws → tidy rows and probabilities.

Intervals are 95 % *equal-tailed* credible intervals (2.5 % and 97.5 % quantiles), not
HDIs: CausalPy and ArviZ default to 94 % HDIs; trialkit matches the 95 % of frequentist
tables so the two can be read side by side.

Probabilities are oriented by the outcome's direction of benefit. With ``d`` the effect
minus its null value (0, or 1 for ratios) and ``s = +1`` for ``higher_is_better`` and
``-1`` for ``lower_is_better``:

* ``p_benefit`` = P(s·d > 0);
* ``p_mid`` = P(s·d ≥ MID) (natural scale only);
* ``p_harm`` = P(s·d < −harm_margin) (natural scale only; margin 0 by default);
* ``p_rope`` = P(rope_low ≤ d ≤ rope_high) (natural scale only).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd

from trialkit.protocol.vocabulary import Direction

CI_LEVEL = 0.95
CI_KIND = "equal-tailed"

#: Columns of ``BayesianFit.to_frame()``, in order.
POSTERIOR_COLUMNS: tuple[str, ...] = (
    "outcome",
    "estimand",
    "estimator",
    "term",
    "arm",
    "scale",
    "estimate",
    "mean",
    "median",
    "sd",
    "ci_low",
    "ci_high",
    "ci_level",
    "ci_kind",
    "p_benefit",
    "p_mid",
    "p_harm",
    "p_rope",
    "r_hat",
    "ess_bulk",
    "ess_tail",
    "n_obs",
    "n_clusters",
    "direction",
    "mid",
    "harm_margin",
    "rope_low",
    "rope_high",
)


@dataclass(frozen=True, slots=True)
class Thresholds:
    """Decision-relevant thresholds of one outcome, in natural units.

    Attributes
    ----------
    direction
        Direction of benefit.
    mid
        Minimal important difference (positive magnitude), or ``None``.
    harm_margin
        Harm beyond this magnitude counts (default 0: any harm).
    rope
        Region of practical equivalence ``(low, high)`` around zero, or ``None``.
    """

    direction: Direction = "higher_is_better"
    mid: float | None = None
    harm_margin: float = 0.0
    rope: tuple[float, float] | None = None

    @property
    def sign(self) -> float:
        """+1 when higher is better, −1 otherwise."""
        return 1.0 if self.direction == "higher_is_better" else -1.0


def as_rope(rope: float | tuple[float, float] | None) -> tuple[float, float] | None:
    """A half-width ``r`` becomes ``(-r, r)``; a pair is kept."""
    if rope is None:
        return None
    if isinstance(rope, tuple | list):
        lo, hi = rope
        return float(lo), float(hi)
    return -abs(float(rope)), abs(float(rope))


def tail_probabilities(
    draws: np.ndarray, thresholds: Thresholds, *, null: float = 0.0, natural: bool = True
) -> dict[str, float]:
    """``p_benefit``, ``p_mid``, ``p_harm``, ``p_rope`` of a vector of draws.

    Examples
    --------
    >>> p = tail_probabilities(np.array([-1.0, 1.0, 2.0, 3.0]), Thresholds(mid=1.5))
    >>> p["p_benefit"], p["p_mid"]
    (0.75, 0.5)
    """
    d = thresholds.sign * (np.asarray(draws, dtype=float) - null)
    nan = float("nan")
    out = {"p_benefit": float(np.mean(d > 0)), "p_mid": nan, "p_harm": nan, "p_rope": nan}
    if natural:
        if thresholds.mid is not None:
            out["p_mid"] = float(np.mean(d >= abs(thresholds.mid)))
        out["p_harm"] = float(np.mean(d < -abs(thresholds.harm_margin)))
        if thresholds.rope is not None:
            lo, hi = thresholds.rope
            raw = np.asarray(draws, dtype=float) - null
            out["p_rope"] = float(np.mean((raw >= lo) & (raw <= hi)))
    return out


def describe_draws(draws: np.ndarray, ci_level: float = CI_LEVEL) -> dict[str, float]:
    """Posterior mean, median, SD and equal-tailed interval at ``ci_level`` (default 95 %)."""
    x = np.asarray(draws, dtype=float).ravel()
    lo, hi = np.quantile(x, [(1 - ci_level) / 2, (1 + ci_level) / 2])
    return {
        "mean": float(x.mean()),
        "median": float(np.median(x)),
        "sd": float(x.std(ddof=1)),
        "ci_low": float(lo),
        "ci_high": float(hi),
    }


def probability_frame(rows: pd.DataFrame) -> pd.DataFrame:
    """Long, tidy table of the probabilities in ``rows`` (a ``to_frame()`` result).

    Columns: ``outcome, term, scale, event, threshold, probability``, where ``event`` reads
    e.g. ``"P(effect > 0)"`` or ``"P(effect >= MID)"`` in the direction of benefit.
    """
    records = []
    for r in rows.to_dict("records"):
        higher = r["direction"] == "higher_is_better"
        null = 1.0 if r["scale"] == "rate_ratio" else 0.0
        mid = float(r["mid"]) if r["mid"] is not None else np.nan
        margin = float(r["harm_margin"])
        events = [
            (f"P(effect {'>' if higher else '<'} {null:g})", null, r["p_benefit"]),
            (f"P(effect {'>=' if higher else '<='} MID)", (mid if higher else -mid), r["p_mid"]),
            (f"P(harm beyond {margin:g})", (-margin if higher else margin), r["p_harm"]),
            ("P(effect in ROPE)", np.nan, r["p_rope"]),
        ]
        for event, threshold, prob in events:
            if not np.isnan(float(prob)):
                records.append((r["outcome"], r["term"], r["scale"], event, threshold, prob))
    return pd.DataFrame.from_records(
        records, columns=["outcome", "term", "scale", "event", "threshold", "probability"]
    )
