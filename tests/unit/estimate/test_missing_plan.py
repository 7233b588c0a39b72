"""The registered missing-data method runs in the plan: the plan's ITT is exactly what the
missing-data estimator gives on the plan's rows, and the results say what was done."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from trialkit import api
from trialkit.estimate.frequentist.analysis_frame import analysis_frame
from trialkit.estimate.frequentist.missing import ipw, multiple_imputation
from trialkit.estimate.frequentist.missing_plan import IMPUTATIONS
from trialkit.estimate.frequentist.plan import fit
from trialkit.estimate.frequentist.plan_outcome import adjusted_for
from trialkit.protocol import bundled_path, load_protocol, parse_protocol


@pytest.fixture(scope="module", params=["multiple_imputation", "inverse_probability_weighting"])
def declared(request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory):
    text = bundled_path("council_discretionary_budget").read_text(encoding="utf-8")
    out = tmp_path_factory.mktemp(request.param)
    path = out / "protocol.yaml"
    text = text.replace("    exposure: fte_years\n", "")  # rates are analysed complete-case
    path.write_text(
        text.replace("missing_data: complete_case", f"missing_data: {request.param}"),
        encoding="utf-8",
    )
    units = api.simulate_units(path, out / "units.csv")
    api.randomise(path, units, out / "allocation.csv")
    files = api.simulate_data(path, units, out / "allocation.csv", out / "data")
    data = api.validate_files(path, out / "allocation.csv", files)
    return request.param, load_protocol(path), data


def test_plan_runs_the_declared_method(declared) -> None:
    method, protocol, data = declared
    results = fit(protocol, data)
    outcome = protocol.outcome("loneliness")
    frame = analysis_frame(protocol, data, outcome)
    covariates = list(adjusted_for(protocol, frame, "loneliness"))
    rows = frame.data.dropna(subset=["arm", *covariates, frame.blocks, frame.cluster])
    common = {
        "covariates": covariates,
        "cluster": frame.cluster,
        "blocks": frame.blocks,
        "control": "usual",
        "estimator": "lin",
    }
    if method == "multiple_imputation":
        rng = np.random.default_rng([protocol.seed, sum(map(ord, "loneliness"))])
        direct = multiple_imputation(
            rows, "loneliness", "arm", imputations=IMPUTATIONS, rng=rng, **common
        )
    else:
        direct = ipw(rows, "loneliness", "arm", **common)
    expected = direct.to_frame().set_index("term").loc["arm"]
    itt = results.estimates.query("outcome == 'loneliness' and estimand == 'ITT'").iloc[0]
    assert itt["estimate"] == pytest.approx(expected["estimate"], rel=1e-12)
    assert itt["std_error"] == pytest.approx(expected["std_error"], rel=1e-12)
    assert itt["n_obs"] > frame.complete("loneliness").shape[0] or method != "multiple_imputation"
    words = "multiple imputation" if method == "multiple_imputation" else "inverse probability"
    assert any(words in note for note in results.notes)


def test_check_refuses_the_methods_where_the_plan_cannot_run_them() -> None:
    text = Path(bundled_path("mission_clarity_stepped_wedge")).read_text(encoding="utf-8")
    from trialkit.errors import ProtocolError

    with pytest.raises(
        ProtocolError, match="not yet run by the registered plan with a stepped wedge"
    ):
        parse_protocol(
            text.replace("missing_data: complete_case", "missing_data: multiple_imputation")
        )
