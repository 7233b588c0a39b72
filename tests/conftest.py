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


@pytest.fixture(scope="session")
def council_run(tmp_path_factory: pytest.TempPathFactory):  # type: ignore[no-untyped-def]
    """The flagship through the real pipeline (simulate → register → randomise → analyse →
    report), Bayesian plan with few draws: the results document and its report."""
    from scenarios.pipeline import run

    out = tmp_path_factory.mktemp("council-run") / "pilot"
    return run(
        "council_discretionary_budget",
        out,
        effect_scale=1.0,
        bayes=True,
        draws=100,
        chains=1,
        tune=100,
    )
