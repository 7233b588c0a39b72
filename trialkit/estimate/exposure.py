"""Exposure in a stepped wedge: a cluster is treated from its step's period onwards.

Shared by the frequentist and Bayesian plans, so both analyse the same contrast.
"""

from __future__ import annotations

import pandas as pd

from trialkit.protocol import Protocol


def exposed_arms(protocol: Protocol, frame: pd.DataFrame) -> pd.DataFrame:
    """``frame`` with ``arm`` set by exposure (period ≥ step) in a stepped wedge.

    Any other design, or a frame without period and step columns, is returned unchanged.
    """
    wedge = protocol.design.stepped_wedge
    if wedge is None or wedge.period_column not in frame or "step" not in frame:
        return frame
    exposed = pd.to_numeric(frame[wedge.period_column]) >= pd.to_numeric(frame["step"])
    treated = next(a.id for a in protocol.arms if not a.control)
    return frame.assign(arm=exposed.map({True: treated, False: protocol.control.id}))
