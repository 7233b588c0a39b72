"""Sampler diagnostics, surfaced with advice: R-hat, bulk/tail ESS, divergences, E-BFMI.

Thresholds follow Vehtari et al. (2021) and the Stan team: rank-normalised split R-hat
below 1.01, bulk and tail ESS of at least 100 per chain, no divergent transitions, and
E-BFMI of at least 0.3 in every chain.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd

RHAT_MAX = 1.01
ESS_PER_CHAIN = 100
EBFMI_MIN = 0.3


@dataclass(frozen=True, slots=True)
class Diagnostics:
    """Convergence and sampler-health diagnostics of one fit.

    Attributes
    ----------
    table
        One row per monitored parameter element: ``parameter, r_hat, ess_bulk, ess_tail``.
    r_hat_max, ess_bulk_min, ess_tail_min
        Worst values over ``table``.
    divergences
        Divergent transitions after tuning, over all chains.
    ebfmi_min
        Smallest per-chain E-BFMI (``nan`` if energy was not recorded).
    chains, draws
        Chains and post-tuning draws per chain.
    passed
        Whether every threshold (module docstring) is met.
    advice
        What is wrong and what to try, one line per failed check; empty when passed.
    """

    table: pd.DataFrame
    r_hat_max: float
    ess_bulk_min: float
    ess_tail_min: float
    divergences: int
    ebfmi_min: float
    chains: int
    draws: int
    passed: bool
    advice: tuple[str, ...]

    def summary(self) -> str:
        """One line per check, then the advice."""
        status = "passed" if self.passed else "FAILED"
        lines = [
            f"Diagnostics {status} ({self.chains} chains x {self.draws} draws)",
            f"  max R-hat      {self.r_hat_max:.4f} (< {RHAT_MAX})",
            f"  min bulk ESS   {self.ess_bulk_min:.0f} (>= {ESS_PER_CHAIN * self.chains})",
            f"  min tail ESS   {self.ess_tail_min:.0f} (>= {ESS_PER_CHAIN * self.chains})",
            f"  divergences    {self.divergences} (= 0)",
            f"  min E-BFMI     {self.ebfmi_min:.3f} (>= {EBFMI_MIN})",
        ]
        return "\n".join(lines + [f"  - {a}" for a in self.advice])

    def __str__(self) -> str:
        return self.summary()


def _monitored(idata: Any, var_names: list[str]) -> pd.DataFrame:
    import arviz

    az: Any = arviz
    names = [v for v in var_names if v in idata.posterior]
    rhat = az.rhat(idata, var_names=names)
    bulk = az.ess(idata, var_names=names, method="bulk")
    tail = az.ess(idata, var_names=names, method="tail")
    rows = []
    for name in names:
        r = np.atleast_1d(rhat[name].values).ravel()
        b = np.atleast_1d(bulk[name].values).ravel()
        t = np.atleast_1d(tail[name].values).ravel()
        label = [name] if r.size == 1 else [f"{name}[{i}]" for i in range(r.size)]
        rows += list(zip(label, r, b, t, strict=True))
    return pd.DataFrame(rows, columns=["parameter", "r_hat", "ess_bulk", "ess_tail"])


def _ebfmi(idata: Any) -> float:
    stats = idata.get("sample_stats")
    if stats is None or "energy" not in stats:
        return float("nan")
    energy = np.asarray(stats["energy"].values, dtype=float)
    num = np.mean(np.diff(energy, axis=1) ** 2, axis=1)
    den = np.var(energy, axis=1)
    return float(np.min(num / den))


def _advice(d: dict[str, Any], needed: float) -> tuple[str, ...]:
    out = []
    if d["divergences"] > 0:
        out.append(
            f"{d['divergences']} divergent transitions: raise target_accept "
            "(e.g. 0.95) or switch parametrisation ('centred' for large clusters, "
            "'non_centred' for small ones); do not trust the posterior until 0."
        )
    if np.isnan(d["r_hat_max"]):
        out.append("R-hat is undefined: run at least 2 chains (4 recommended).")
    elif not d["r_hat_max"] < RHAT_MAX:
        out.append(
            f"R-hat {d['r_hat_max']:.3f} >= {RHAT_MAX}: chains disagree; run more "
            "tuning and draws, or check for multimodality or weak identification."
        )
    if min(d["ess_bulk_min"], d["ess_tail_min"]) < needed:
        out.append(
            f"ESS below {needed:.0f}: increase draws (and tune), or reparameterise "
            "to reduce posterior correlation."
        )
    if d["ebfmi_min"] < EBFMI_MIN:
        out.append(
            f"E-BFMI {d['ebfmi_min']:.2f} < {EBFMI_MIN}: the sampler explores the "
            "energy poorly (heavy tails or funnels); reparameterise, e.g. non-centred."
        )
    return tuple(out)


def _worst(values: pd.Series, pick: Any) -> float:
    # A NaN (e.g. R-hat of one chain) is the worst value: it must fail, not vanish.
    x = values.to_numpy(dtype=float)
    if x.size == 0 or np.isnan(x).any():
        return float("nan")
    return float(pick(x))


def diagnose(idata: Any, var_names: list[str]) -> Diagnostics:
    """Compute :class:`Diagnostics` for the parameters ``var_names`` of ``idata``."""
    table = _monitored(idata, var_names)
    post = idata.posterior
    chains, draws = int(post.sizes["chain"]), int(post.sizes["draw"])
    stats = idata.get("sample_stats")
    div = int(np.asarray(stats["diverging"].values).sum()) if stats is not None else 0
    d: dict[str, Any] = {
        "r_hat_max": _worst(table["r_hat"], np.max),
        "ess_bulk_min": _worst(table["ess_bulk"], np.min),
        "ess_tail_min": _worst(table["ess_tail"], np.min),
        "divergences": div,
        "ebfmi_min": _ebfmi(idata),
    }
    advice = _advice(d, ESS_PER_CHAIN * chains)
    return Diagnostics(
        table=table, chains=chains, draws=draws, passed=not advice, advice=advice, **d
    )
