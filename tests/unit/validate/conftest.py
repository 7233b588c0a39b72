"""Fixtures of the validate tests: the flagship protocol and a writer of its demo frames."""

from __future__ import annotations

from pathlib import Path

import pandas as pd
import pytest
from validate_frames import (
    FLAGSHIP,
    Writer,
    make_clients,
    make_spend,
    make_staff,
    make_teams,
)

from trialkit.protocol import load_protocol
from trialkit.protocol.model import Protocol


@pytest.fixture(scope="session")
def protocol() -> Protocol:
    """The bundled flagship protocol."""
    return load_protocol(FLAGSHIP)


@pytest.fixture
def write_data(tmp_path: Path) -> Writer:
    """Write the demo frames (optionally edited) as CSV files; return their paths."""

    def write(
        clients: pd.DataFrame | None = None,
        *,
        staff: pd.DataFrame | None = None,
        spend: pd.DataFrame | None = None,
        teams: pd.DataFrame | None = None,
        suffix: str = ".csv",
    ) -> list[Path]:
        frames = {
            "clients": make_clients() if clients is None else clients,
            "staff": make_staff() if staff is None else staff,
            "spend": make_spend() if spend is None else spend,
            "teams": make_teams() if teams is None else teams,
        }
        paths = []
        for name, frame in frames.items():
            path = tmp_path / f"{name}{suffix}"
            frame.to_csv(path, index=False)
            paths.append(path)
        return paths

    return write
