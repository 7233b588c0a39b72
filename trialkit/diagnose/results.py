"""The result of a design diagnosis: diagnosands with Monte Carlo SEs, and every simulation."""

from __future__ import annotations

from dataclasses import dataclass

import pandas as pd

from trialkit._core.provenance import Provenance

#: Columns of :meth:`Diagnosis.to_frame`.
TIDY_COLUMNS = (
    "variant",
    "n_units",
    "outcome",
    "estimand",
    "diagnosand",
    "estimate",
    "mc_se",
    "n_sims",
)
#: Diagnosands shown by :meth:`Diagnosis.summary` (the CLI's table).
SUMMARY_DIAGNOSANDS = ("power", "bias", "rmse", "coverage")


@dataclass(frozen=True, slots=True)
class Diagnosis:
    """Simulated operating characteristics of the declared design.

    Attributes
    ----------
    table
        One row per variant × outcome × diagnosand (see :data:`TIDY_COLUMNS`); ``estimand``
        is the declared effect, or the mean over simulations of an inquiry computed from
        each simulation's potential outcomes.
    simulations
        One row per variant × outcome × simulation: ``n_units, outcome, sim, estimate,
        std_error, df, p_value, ci_low, ci_high, estimand`` (the declared effect, or the
        inquiry computed from that simulation's potential outcomes). A time-to-event
        outcome has two inquiries: ``<name>`` (RMST difference, days) and ``<name>:log_hr``
        (Cox log hazard ratio).
    sims
        Simulations per variant.
    alpha
        Significance level of the plan (power, type-S, exaggeration).
    seed
        The root seed: the same protocol, seed, ``sims`` and ``chunk_size`` give the same
        diagnosis on any engine and any number of workers.
    provenance
        trialkit version, protocol hash, seed and time of the run.
    declared
        Number of units of the declared design (marked ``*`` in :meth:`summary`), if known.
    design
        The declared design in words (type and scheme), printed above the table.

    Examples
    --------
    >>> from trialkit.protocol import load_protocol
    >>> from trialkit.diagnose import diagnose
    >>> p = load_protocol("protocols/council_discretionary_budget.yaml")  # doctest: +SKIP
    >>> d = diagnose(p, sims=100, variants=[16, 24], executor="serial")  # doctest: +SKIP
    >>> d.power_curve()[["n_units", "power", "mc_se"]]  # doctest: +SKIP
    """

    table: pd.DataFrame
    simulations: pd.DataFrame
    sims: int
    alpha: float
    seed: int
    provenance: Provenance
    declared: int | None = None
    design: str = ""

    def to_frame(self) -> pd.DataFrame:
        """Tidy diagnosands: variant, n_units, outcome, estimand, diagnosand, estimate,
        mc_se, n_sims (a copy)."""
        return self.table.loc[:, list(TIDY_COLUMNS)].copy()

    def wide(self, *, with_se: bool = False) -> pd.DataFrame:
        """One row per outcome and number of units, one column per diagnosand.

        Columns ``outcome, n_units``, then the diagnosands in report order (and
        ``<name>_se`` after each with ``with_se``): the shape the report's table takes.
        """
        index = ["outcome", "n_units"]
        estimate = self.table.pivot_table(
            index=index, columns="diagnosand", values="estimate", sort=False, dropna=False
        )
        se = self.table.pivot_table(
            index=index, columns="diagnosand", values="mc_se", sort=False, dropna=False
        )
        names = list(dict.fromkeys(self.table["diagnosand"]))
        parts = {}
        for name in names:
            parts[name] = estimate[name]
            if with_se:
                parts[f"{name}_se"] = se[name]
        return pd.DataFrame(parts).reset_index()

    def power_curve(self) -> pd.DataFrame:
        """Power by number of units: ``outcome, n_units, power, mc_se, ci_low, ci_high``.

        The interval is ``power ± 1.96 mc_se``, clipped to [0, 1], for plotting.
        """
        rows = self.table[self.table["diagnosand"] == "power"]
        out = rows.loc[:, ["outcome", "n_units", "estimate", "mc_se"]].rename(
            columns={"estimate": "power"}
        )
        out["ci_low"] = (out["power"] - 1.96 * out["mc_se"]).clip(0.0, 1.0)
        out["ci_high"] = (out["power"] + 1.96 * out["mc_se"]).clip(0.0, 1.0)
        return out.sort_values(["outcome", "n_units"]).reset_index(drop=True)

    def summary(self, diagnosands: tuple[str, ...] = SUMMARY_DIAGNOSANDS) -> str:
        """Fixed-width table: each diagnosand with its Monte Carlo SE in brackets."""
        header = f"{'units':>6}  {'outcome':<36}" + "".join(f"{d:>20}" for d in diagnosands)
        lines = [
            f"Design diagnosis ({self.sims} simulations per variant, alpha "
            f"{self.alpha:g}, seed {self.seed})",
            *([f"Declared design: {self.design}"] if self.design else []),
            header,
            "-" * len(header),
        ]
        for (n, outcome), group in self.table.groupby(["n_units", "outcome"], sort=False):
            values = group.set_index("diagnosand")
            estimate = values["estimate"].astype(float).to_dict()
            mc_se = values["mc_se"].astype(float).to_dict()
            cells = "".join(f"{_cell(estimate[d], mc_se[d]):>20}" for d in diagnosands)
            mark = "*" if n == self.declared else " "
            lines.append(f"{n:>5}{mark}  {str(outcome)[:36]:<36}{cells}")
        if self.declared is not None:
            lines.append(f"* the declared design ({self.declared} units).")
        lines.append(
            "Monte Carlo standard errors in brackets; bias and coverage against the "
            "estimand of each simulation's potential outcomes."
        )
        return "\n".join(lines)

    def __str__(self) -> str:
        return self.summary()

    def _repr_html_(self) -> str:
        return "<pre>" + self.summary() + "</pre>"


def _cell(estimate: float, se: float) -> str:
    return f"{estimate:.3f} ({se:.3f})"
