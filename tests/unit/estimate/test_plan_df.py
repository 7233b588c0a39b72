"""The registered plan's HC2 intervals use Bell-McCaffrey df by default; `df: residual` gives
estimatr's N - k, and the pre-analysis plan says which.

Data are fabricated from the bundled green-tape protocol (caseworkers randomised one by one:
its caseworker-level outcomes are analysed with HC2, its claim-level ones with CR2).
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from trialkit import api, validate
from trialkit.diagnose import fabricate
from trialkit.estimate import lin
from trialkit.estimate.frequentist.analysis_frame import analysis_frame
from trialkit.estimate.frequentist.plan import fit
from trialkit.estimate.frequentist.plan_outcome import adjusted_for
from trialkit.protocol import Protocol, bundled_path, load_protocol
from trialkit.randomise import read_allocation, read_units
from trialkit.report.plan import _se_text
from trialkit.validate import TrialData


@pytest.fixture(scope="module")
def trial(tmp_path_factory: pytest.TempPathFactory) -> tuple[Protocol, TrialData]:
    out = tmp_path_factory.mktemp("green")
    protocol_file = bundled_path("green_tape_benefits")
    protocol = load_protocol(protocol_file)
    units_file = api.simulate_units(protocol_file, out / "units.csv")
    api.randomise(protocol_file, units_file, out / "allocation.csv")
    arms = read_allocation(out / "allocation.csv").to_frame().set_index("unit_id")["arm"]
    frames = fabricate(
        protocol, read_units(units_file, protocol), arms, rng=np.random.default_rng(3)
    )
    files = []
    for level, frame in frames.items():
        files.append(out / f"{level}.csv")
        frame.to_csv(files[-1], index=False)
    return protocol, validate.outcomes(protocol, out / "allocation.csv", files)


def _with_df(protocol: Protocol, df: str) -> Protocol:
    frequentist = protocol.analysis.frequentist.model_copy(update={"df": df})
    analysis = protocol.analysis.model_copy(update={"frequentist": frequentist})
    return protocol.model_copy(update={"analysis": analysis})


def _hc2_rows(estimates: pd.DataFrame) -> pd.DataFrame:
    rows = estimates[estimates.se_type.str.startswith("HC2") & (estimates.estimand == "ITT")]
    assert not rows.empty, "the green-tape plan has caseworker-level outcomes analysed by HC2"
    return rows


def test_default_plan_uses_bell_mccaffrey_df(trial: tuple[Protocol, TrialData]) -> None:
    protocol, data = trial
    assert protocol.analysis.frequentist.df == "bell_mccaffrey"
    rows = _hc2_rows(fit(protocol, data).estimates)
    assert set(rows.se_type) == {"HC2 (Bell–McCaffrey df)"}
    outcome = protocol.outcome("job_satisfaction")
    frame = analysis_frame(protocol, data, outcome)
    column = outcome.data_column
    direct = lin(
        frame.complete(column),
        column,
        "arm",
        control=protocol.control.id,
        blocks=frame.blocks,
        covariates=list(adjusted_for(protocol, frame, column)),
        df="bell_mccaffrey",
    )
    row = rows[rows.outcome == "job_satisfaction"].iloc[0]
    np.testing.assert_allclose(row.df, direct.effect().df, rtol=1e-12, err_msg="df")
    assert row.df < direct.n_obs - len(direct.rows), "BM df are below N - k"


def test_residual_df_by_name(trial: tuple[Protocol, TrialData]) -> None:
    protocol, data = trial
    default = _hc2_rows(fit(protocol, data).estimates).set_index("outcome")
    residual = _hc2_rows(fit(_with_df(protocol, "residual"), data).estimates).set_index("outcome")
    assert set(residual.se_type) == {"HC2"}
    np.testing.assert_allclose(
        residual.std_error, default.std_error, rtol=1e-12, err_msg="std_error"
    )
    assert (residual.df > default.df).all()
    assert (residual.df == np.round(residual.df)).all(), "N - k is a whole number"


def test_plan_says_which_df(trial: tuple[Protocol, TrialData]) -> None:
    protocol, _ = trial
    assert "Bell–McCaffrey degrees of freedom" in _se_text(protocol)
    assert "N − k degrees of freedom" in _se_text(_with_df(protocol, "residual"))


def test_protocol_rejects_unknown_df(tmp_path: Path) -> None:
    text = bundled_path("green_tape_benefits").read_text()
    bad = tmp_path / "p.yaml"
    bad.write_text(text.replace("    se_type: auto\n", "    se_type: auto\n    df: welch\n"))
    with pytest.raises(Exception, match="bell_mccaffrey"):
        load_protocol(bad)


def test_multiple_imputation_uses_the_declared_df(trial: tuple[Protocol, TrialData]) -> None:
    """Barnard–Rubin df start from the complete-data df (IPW passes ``df`` the same way;
    its response model has no finite fit on these data)."""
    protocol, data = trial
    frequentist = protocol.analysis.frequentist.model_copy(
        update={"missing_data": "multiple_imputation"}
    )
    analysis = protocol.analysis.model_copy(update={"frequentist": frequentist})
    declared = protocol.model_copy(update={"analysis": analysis})
    bm = _hc2_rows(fit(declared, data).estimates).set_index("outcome")
    residual = _hc2_rows(fit(_with_df(declared, "residual"), data).estimates).set_index("outcome")
    assert set(bm.se_type) == {"HC2 (Bell–McCaffrey df)"} and set(residual.se_type) == {"HC2"}
    assert (bm.df < residual.df).all()
