"""``TrialData``: the validate stage's frozen result, ready for the estimators."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

import pandas as pd

from trialkit._core.provenance import Provenance
from trialkit.errors import Issue
from trialkit.validate.attrition import Attrition
from trialkit.validate.consort import ConsortFlow
from trialkit.validate.spending import SpendCheck


@dataclass(frozen=True, slots=True, eq=False)
class TrialData:
    """Validated, analysis-ready outcome data.

    Attributes
    ----------
    frames
        One DataFrame per level with data (the randomised unit's name and each measurement
        level's name). Outcomes are numeric: binary as 0/1, ordinal as codes 0..K−1 in
        the declared order, counts and scores as numbers; missing stays missing. A
        time-to-event outcome's column is its time in days from the start of follow-up,
        and ``<column>_event`` codes how it ended (0 censored, 1 event, 2 competing
        event; :mod:`trialkit.validate.survival`). Each frame
        carries ``arm, block, cluster`` (categoricals) and ``probability`` (+ ``step``) from
        the allocation.
        Rows keep the file's order; the index is the file's row (spreadsheet row − 2).
    ordinal_labels
        The labels of each ordinal outcome, in code order (code k ↔ label k).
    attrition
        Counts per outcome and arm, and WWC attrition verdicts.
    flows
        CONSORT flow counts per outcome, primary outcomes first.
    warnings
        Problems that do not block the analysis (e.g. more than 20 % missing).
    provenance
        Protocol hash, and the sha256 of every input file in ``inputs``.
    spending
        The spend ledger's compliance findings (results, not errors), when the protocol
        declares ``spending:`` and the ledger was given; else ``None``. The coded ledger is
        ``frames[protocol.spending.level]``, every row kept (:mod:`trialkit.validate.spending`).
    """

    frames: Mapping[str, pd.DataFrame]
    ordinal_labels: Mapping[str, tuple[str, ...]]
    attrition: Attrition
    flows: tuple[ConsortFlow, ...]
    warnings: tuple[Issue, ...]
    provenance: Provenance
    spending: SpendCheck | None = None

    def frame(self, level: str) -> pd.DataFrame:
        """The analysis-ready frame of ``level`` (a copy, so the result stays unchanged).

        Raises
        ------
        KeyError
            If no data were given for ``level``; the message lists the levels present.
        """
        if level not in self.frames:
            raise KeyError(
                f"no data for level {level!r}; levels with data: {', '.join(self.frames) or 'none'}"
            )
        return self.frames[level].copy()

    def flow(self, outcome: str | None = None) -> ConsortFlow:
        """The CONSORT flow of ``outcome`` (default: the first primary outcome)."""
        if outcome is None:
            return self.flows[0]
        for flow in self.flows:
            if flow.outcome == outcome:
                return flow
        raise KeyError(f"no flow for outcome {outcome!r}")

    def summary(self) -> str:
        """Rows per level, warnings, the spend ledger's findings by rule and the WWC
        attrition verdicts, as fixed-width text."""
        lines = ["Validated trial data"]
        for name, frame in self.frames.items():
            lines.append(f"  {name:<16} {len(frame):>10,} rows")
        lines.append(f"  warnings: {len(self.warnings)}")
        for warning in self.warnings:
            lines.append(f"    {warning}")
        if self.spending is not None:
            lines.append(self.spending.summary(shown=0))
        lines.append(self.attrition.summary())
        return "\n".join(lines)

    def __str__(self) -> str:
        return self.summary()

    def _repr_html_(self) -> str:
        import html

        return f"<pre>{html.escape(self.summary())}</pre>"
