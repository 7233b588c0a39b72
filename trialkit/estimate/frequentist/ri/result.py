"""Randomisation inference: the result of one outcome's test, one row per compared arm."""

from __future__ import annotations

from dataclasses import asdict, dataclass

import pandas as pd

from trialkit.errors import EstimationError
from trialkit.estimate.results import ESTIMATE_COLUMNS, Estimate

#: Columns of :meth:`RandomisationTest.to_frame` beyond the shared
#: :data:`~trialkit.estimate.results.ESTIMATE_COLUMNS` (``arm`` first).
RANDOMISATION_COLUMNS: tuple[str, ...] = (
    "arm",
    "p_upper",
    "p_lower",
    "mc_se",
    "draws",
    "exact",
    "sharp_null",
    "ci_kind",
    "design",
)


@dataclass(frozen=True, slots=True)
class ArmTest:
    """The randomisation test of one non-control arm against control.

    Attributes
    ----------
    arm
        The arm's label in the treatment column.
    observed
        The observed statistic (OLS coefficient on the arm's dummy).
    p_value
        Two-sided randomisation p-value under the sharp null.
    mc_se
        Monte Carlo standard error of ``p_value``; 0 when exact.
    ci_low, ci_high
        Test-inversion interval (``nan`` when no ``ci_level`` was asked for).
    null_sample
        Up to 2,000 statistics under the sharp null, for a histogram.
    p_upper, p_lower
        One-sided p-values (ri2's ``upper`` and ``lower``): the probability under the
        sharp null of a statistic at least, or at most, the observed one. ``p_upper`` tests
        against an effect above ``sharp_null``, ``p_lower`` below it.
    """

    arm: str
    observed: float
    p_value: float
    mc_se: float
    ci_low: float
    ci_high: float
    null_sample: tuple[float, ...]
    p_upper: float
    p_lower: float


@dataclass(frozen=True, slots=True)
class RandomisationTest:
    """Randomisation inference for one outcome: one :class:`ArmTest` per non-control arm.

    Attributes
    ----------
    outcome
        The outcome column.
    treatment
        The treatment column (the terms' name, as in the regression estimators).
    control
        The control arm's label.
    tests
        One test per non-control arm, in the order of the arm labels.
    draws
        Assignments used (all of them when exact).
    exact
        Whether every possible assignment was enumerated, weighted by its probability.
    sharp_null
        The hypothesised constant effect ``τ₀``.
    ci_level
        Level of the test-inversion interval, or ``None``.
    design
        How assignments were redrawn, in words.
    n_obs
        Rows analysed.
    n_clusters
        Randomised clusters with rows when ``cluster=`` grouped the rows, else ``None``.
    """

    outcome: str
    treatment: str
    control: str
    tests: tuple[ArmTest, ...]
    draws: int
    exact: bool
    sharp_null: float
    ci_level: float | None
    design: str
    n_obs: int
    n_clusters: int | None

    def _only(self) -> ArmTest:
        if len(self.tests) != 1:
            raise EstimationError(
                f"this trial has {len(self.tests)} non-control arms, so there is one test per "
                "arm. Fix: read `tests[i]` or `to_frame()`."
            )
        return self.tests[0]

    @property
    def p_value(self) -> float:
        """Two-sided p-value (trials with two arms)."""
        return self._only().p_value

    @property
    def observed(self) -> float:
        """Observed statistic (trials with two arms)."""
        return self._only().observed

    @property
    def p_upper(self) -> float:
        """One-sided p-value against an effect above the sharp null (two arms)."""
        return self._only().p_upper

    @property
    def p_lower(self) -> float:
        """One-sided p-value against an effect below the sharp null (two arms)."""
        return self._only().p_lower

    @property
    def mc_se(self) -> float:
        """Monte Carlo standard error of the p-value; 0 when exact (two arms)."""
        return self._only().mc_se

    @property
    def ci_low(self) -> float:
        """Lower end of the test-inversion interval (two arms)."""
        return self._only().ci_low

    @property
    def ci_high(self) -> float:
        """Upper end of the test-inversion interval (two arms)."""
        return self._only().ci_high

    @property
    def null_sample(self) -> tuple[float, ...]:
        """Up to 2,000 statistics under the sharp null (two arms)."""
        return self._only().null_sample

    def term(self, arm: str) -> str:
        """An arm's term: the treatment column (two arms) or ``"column[arm]"`` (several)."""
        return self.treatment if len(self.tests) == 1 else f"{self.treatment}[{arm}]"

    @property
    def estimates(self) -> tuple[Estimate, ...]:
        """One shared row per compared arm, naming its ``arm``.

        ``estimate`` is the observed statistic and ``p_value`` the randomisation p-value; a
        test has no standard error, t statistic or degrees of freedom (``nan``, ``se_type``
        ``"none"``); without an interval, ``ci_low``, ``ci_high`` and ``ci_level`` are
        ``nan``.
        """
        nan = float("nan")
        return tuple(
            Estimate(
                outcome=self.outcome,
                term=self.term(t.arm),
                estimate=t.observed,
                std_error=nan,
                statistic=nan,
                df=nan,
                p_value=t.p_value,
                ci_low=t.ci_low,
                ci_high=t.ci_high,
                ci_level=nan if self.ci_level is None else self.ci_level,
                se_type="none",
                n_obs=self.n_obs,
                n_clusters=self.n_clusters,
                estimand="ITT",
                estimator="randomisation inference",
                arm=t.arm,
            )
            for t in self.tests
        )

    def to_frame(self) -> pd.DataFrame:
        """One tidy row per compared arm: :attr:`estimates` in the columns
        :data:`~trialkit.estimate.results.ESTIMATE_COLUMNS`, then
        :data:`RANDOMISATION_COLUMNS`. The null samples stay on :attr:`tests`.
        """
        shared = pd.DataFrame([asdict(e) for e in self.estimates])
        extra = pd.DataFrame(
            {
                "p_upper": [t.p_upper for t in self.tests],
                "p_lower": [t.p_lower for t in self.tests],
                "mc_se": [t.mc_se for t in self.tests],
                "draws": self.draws,
                "exact": self.exact,
                "sharp_null": self.sharp_null,
                "ci_kind": "test inversion" if self.ci_level else None,
                "design": self.design,
            },
            index=shared.index,
        )
        frame = pd.concat([shared, extra], axis=1)
        columns = list(dict.fromkeys([*ESTIMATE_COLUMNS, *RANDOMISATION_COLUMNS]))
        return frame.loc[:, columns]

    def summary(self) -> str:
        """A fixed-width text table."""
        kind = "exact" if self.exact else "Monte Carlo"
        lines = [
            f"Randomisation inference: {self.outcome} ({kind}, {self.draws:,} assignments;"
            f" sharp null effect {self.sharp_null:g}; control arm {self.control})",
            f"Design: {self.design}",
            f"{'term':<28}{'estimate':>12}{'p_value':>10}{'mc_se':>9}{'ci_low':>11}{'ci_high':>11}",
        ]
        for t in self.tests:
            lines.append(
                f"{self.term(t.arm)[:27]:<28}{t.observed:>12.4g}{t.p_value:>10.4f}"
                f"{t.mc_se:>9.4f}{t.ci_low:>11.4g}{t.ci_high:>11.4g}"
            )
        return "\n".join(lines)

    def __str__(self) -> str:
        return self.summary()
