"""The scheme a pilot was randomised with, declared again on its validated units, so that
randomisation inference redraws exactly as the allocation drew."""

from __future__ import annotations

import pandas as pd

from trialkit.protocol import Protocol
from trialkit.randomise import Scheme, declare
from trialkit.validate import TrialData


def scheme_units(protocol: Protocol, data: TrialData) -> pd.DataFrame:
    """The units as the scheme was declared on them, rebuilt from the validated unit frame.

    The allocation's ``block`` and ``cluster`` labels stand in for the protocol's block and
    cluster columns (same partition), so the scheme redraws exactly as it drew.
    """
    units = data.frame(protocol.units.name)
    frame = units.copy()
    design = protocol.design
    for i, column in enumerate(design.block_columns):
        frame[column] = units["block"] if i == 0 else "all"
    if design.cluster_column and design.cluster_column != protocol.units.id_column:
        frame[design.cluster_column] = units["cluster"]
    return frame


def trial_scheme(protocol: Protocol, data: TrialData) -> Scheme:
    """The protocol's scheme declared on the validated units (:func:`scheme_units`)."""
    return declare(protocol, scheme_units(protocol, data))
