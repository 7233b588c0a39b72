"""R², adjusted R² and the robust F, and one-sided randomisation p-values, reach the
plan's results and results.json's rows.

Their values are checked against statsmodels in
``tests/reference/estimate/test_fit_statistics_reference.py`` and against enumeration in
``tests/reference/estimate/test_ri_one_sided_reference.py``; here the plumbing.
"""

from __future__ import annotations

import numpy as np
import pytest

from trialkit import api, validate
from trialkit.analyse.effects import frequentist_rows
from trialkit.diagnose import fabricate
from trialkit.estimate import lin
from trialkit.estimate.frequentist.analysis_frame import analysis_frame
from trialkit.estimate.frequentist.goodness import FIT_COLUMNS
from trialkit.estimate.frequentist.plan import fit
from trialkit.estimate.frequentist.plan_outcome import adjusted_for
from trialkit.protocol import Protocol, bundled_path, load_protocol
from trialkit.randomise import read_allocation, read_units
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


def test_plan_rows_carry_the_regressions_fit_statistics(
    trial: tuple[Protocol, TrialData],
) -> None:
    protocol, data = trial
    results = fit(protocol, data)
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
    assert direct.fit_statistics is not None
    row = results.estimates[
        (results.estimates.outcome == "job_satisfaction") & (results.estimates.estimand == "ITT")
    ].iloc[0]
    for name in FIT_COLUMNS:
        np.testing.assert_allclose(
            getattr(row, name), getattr(direct.fit_statistics, name), rtol=1e-12, err_msg=name
        )
    rows = frequentist_rows(results)["estimates"]
    documented = next(r for r in rows if r.outcome == "job_satisfaction" and r.estimand == "ITT")
    assert documented.r_squared == pytest.approx(direct.fit_statistics.r_squared, rel=1e-12)
    assert documented.f_df_num == direct.fit_statistics.f_df_num
    assert all(r.f_statistic is None or r.f_statistic > 0 for r in rows)


def test_randomisation_rows_carry_one_sided_p_values(
    trial: tuple[Protocol, TrialData],
) -> None:
    from trialkit.analyse.effects import randomisation_rows

    protocol, data = trial
    frequentist = protocol.analysis.frequentist.model_copy(update={"ri_draws": 500})
    analysis = protocol.analysis.model_copy(update={"frequentist": frequentist})
    rows = randomisation_rows(protocol.model_copy(update={"analysis": analysis}), data)
    assert rows
    for row in rows:
        assert row.p_upper is not None and row.p_lower is not None
        # Every redraw is at least or at most the observed statistic (ties in both).
        assert row.p_upper + row.p_lower >= 1.0 - 1e-12


def test_effect_size_rows_carry_the_iccs_interval(trial: tuple[Protocol, TrialData]) -> None:
    from trialkit.analyse.rows import EffectSizeRow
    from trialkit.estimate.frequentist.effect_sizes import icc_anova
    from trialkit.report.sections import _icc

    protocol, data = trial
    sizes = fit(protocol, data).effect_sizes
    clustered = sizes[sizes["icc"].notna()]
    assert not clustered.empty, "the green-tape claims are clustered in caseworkers"
    row = clustered.iloc[0]
    outcome = protocol.outcome(row["outcome"])
    frame = analysis_frame(protocol, data, outcome)
    complete = frame.complete(outcome.data_column)
    direct = icc_anova(
        complete[outcome.data_column].to_numpy(float),
        complete[frame.cluster].to_numpy(),
        arm=complete["arm"].astype(str).to_numpy(),
        ci_level=1 - protocol.analysis.frequentist.alpha,
    )
    assert row["icc"] == pytest.approx(direct.icc, rel=1e-12)
    assert row["icc_ci_low"] == pytest.approx(direct.ci_low, rel=1e-12)
    assert row["icc_ci_high"] == pytest.approx(direct.ci_high, rel=1e-12)
    documented = EffectSizeRow(
        outcome="o", arm="a", hedges_g=0.1, icc=0.0523, icc_ci_low=0.0111, icc_ci_high=0.1404
    )
    assert _icc(documented) == "0.052 (0.011 to 0.140)"
    assert _icc(EffectSizeRow(outcome="o", arm="a", hedges_g=0.1, icc=0.05)) == "0.050"
