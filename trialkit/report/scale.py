"""How one outcome's effects are written, in tables and sentences alike: the report's one
rule for units and decimals (binary outcomes in percentage points)."""

from __future__ import annotations

from dataclasses import dataclass

from trialkit.analyse.rows import EstimateRow
from trialkit.protocol.outcomes import Outcome
from trialkit.report.tables import digits_for
from trialkit.report.words import amount


@dataclass(frozen=True, slots=True)
class Scale:
    """How one outcome's effects are written: its unit, scale factor and decimals."""

    unit: str
    factor: float
    digits: int

    @classmethod
    def of(cls, outcome: Outcome, est: EstimateRow) -> Scale:
        """The scale of ``outcome`` with decimals chosen from its estimate and interval."""
        factor = 100.0 if outcome.type == "binary" else 1.0
        unit = "percentage points" if outcome.type == "binary" else outcome.unit
        return cls(
            unit, factor, digits_for([factor * v for v in (est.estimate, est.ci_low, est.ci_high)])
        )

    def amount(self, value: float) -> str:
        """A magnitude in the outcome's unit ("0.61 points")."""
        return amount(value * self.factor, self.unit, self.digits)

    def signed(self, value: float) -> str:
        """A signed difference ("−0.33 points", "+£127")."""
        sign = "−" if value < 0 else "+" if value > 0 else ""
        return f"{sign}{self.amount(value)}"

    def end(self, value: float) -> str:
        """One end of an interval in words ("0.7 points lower")."""
        if value == 0:
            return "no difference"
        return f"{self.amount(value)} {'lower' if value < 0 else 'higher'}"
