"""Shared fixtures: the repository's bundled protocols and example units."""

from __future__ import annotations

from pathlib import Path

import pandas as pd
import pytest

from trialkit.protocol import Protocol, load_protocol

ROOT = Path(__file__).resolve().parent.parent
FLAGSHIP = ROOT / "protocols" / "council_discretionary_budget.yaml"


@pytest.fixture(scope="session")
def flagship_path() -> Path:
    """Path of the bundled Gateshead-style protocol."""
    return FLAGSHIP


@pytest.fixture(scope="session")
def flagship() -> Protocol:
    """The bundled Gateshead-style protocol."""
    return load_protocol(FLAGSHIP)


@pytest.fixture(scope="session")
def flagship_units() -> pd.DataFrame:
    """The flagship's example units."""
    return pd.read_csv(ROOT / "examples" / "council_discretionary_budget" / "units.csv")
