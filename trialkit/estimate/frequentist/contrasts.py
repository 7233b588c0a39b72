"""Pre-registered pairwise contrasts between treated arms (``analysis.contrasts``).

Each contrast refits the plan's model with the ``versus`` arm as the reference level. The
model spans the same columns, so the fit is the same; the coefficient of ``arm`` is then
its difference from ``versus``, and its standard error and (Bell–McCaffrey) degrees of
freedom are those of that contrast, computed exactly as for an arm against control.
Pairwise contrasts are reported unadjusted: family adjustment covers each arm against
control, the registered treatment effects.
"""

from __future__ import annotations

from collections.abc import Callable

import pandas as pd

from trialkit.estimate.frequentist.result import RegressionResult
from trialkit.protocol import Protocol

#: Fits the plan's model of one outcome with the given reference arm.
FitWithReference = Callable[[str], RegressionResult]


def pairwise(
    protocol: Protocol, arms_present: set[str], fit_with_reference: FitWithReference
) -> pd.DataFrame:
    """One row per declared contrast whose two arms have data, tidy columns plus ``arm``
    and ``versus``; an empty frame when there is none."""
    rows = []
    for contrast in protocol.analysis.contrasts:
        if not {contrast.arm, contrast.versus} <= arms_present:
            continue
        table = fit_with_reference(contrast.versus).to_frame()
        row = table[table["term"] == f"arm[{contrast.arm}]"]
        rows.append(row.assign(arm=contrast.arm, versus=contrast.versus))
    return pd.concat(rows, ignore_index=True) if rows else pd.DataFrame()
