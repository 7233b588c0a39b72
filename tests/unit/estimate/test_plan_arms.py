"""The registered frequentist plan on a three-arm protocol: right for every arm, adjusted
like the ITT, and saying what each row was adjusted for.

Data are fabricated from the bundled three-arm protocol (36 teams, 1:1:1, blocked by
locality); ``effect_scale`` gives positive, null and harmful truths. Every estimator check is
against an independent implementation: linearmodels' IV2SLS, statsmodels' multipletests, or
the closed form of Hedges' g.
"""

from __future__ import annotations

import dataclasses
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
import statsmodels.api as sm
from linearmodels.iv import IV2SLS
from statsmodels.stats.multitest import multipletests

from tests.unit.estimate.test_family_ri import min_p_step_down
from trialkit import api, validate
from trialkit._core.rng import RawStream
from trialkit.diagnose import fabricate
from trialkit.errors import EstimationError
from trialkit.estimate.frequentist.analysis_frame import analysis_frame
from trialkit.estimate.frequentist.indices import anderson_index, baseline_index, klk_index
from trialkit.estimate.frequentist.plan import EFFECT_SIZE_COLUMNS, FrequentistResults, fit
from trialkit.estimate.frequentist.plan_families import family_baseline
from trialkit.estimate.frequentist.ri.trial_scheme import trial_scheme
from trialkit.protocol import Protocol, bundled_path, load_protocol
from trialkit.protocol.outcomes import Outcome
from trialkit.protocol.vocabulary import COMPARED_ROLES
from trialkit.randomise import read_allocation, read_units
from trialkit.report.plan import _index_words
from trialkit.validate import TrialData

TREATED = ("budget", "budget_peer")


def _trial(
    protocol_name: str, out: Path, *, effect_scale: float = 1.0, seed: int = 5
) -> tuple[Protocol, TrialData]:
    protocol_file = bundled_path(protocol_name)
    protocol = load_protocol(protocol_file)
    units_file = api.simulate_units(protocol_file, out / "units.csv")
    api.randomise(protocol_file, units_file, out / "allocation.csv")
    arms = read_allocation(out / "allocation.csv").to_frame().set_index("unit_id")["arm"]
    frames = fabricate(
        protocol,
        read_units(units_file, protocol),
        arms,
        rng=np.random.default_rng(seed),
        effect_scale=effect_scale,
    )
    (out / "data").mkdir()
    files = []
    for level, frame in frames.items():
        files.append(out / "data" / f"{level}.csv")
        frame.to_csv(files[-1], index=False)
    return protocol, validate.outcomes(protocol, out / "allocation.csv", files)


@pytest.fixture(scope="module")
def three_arm(tmp_path_factory: pytest.TempPathFactory) -> tuple[Protocol, TrialData]:
    return _trial("council_budget_peer_review", tmp_path_factory.mktemp("three"))


@pytest.fixture(scope="module")
def results(three_arm: tuple[Protocol, TrialData]) -> FrequentistResults:
    """The plan's results, each arm against control (pairwise contrasts have their own tests)."""
    from dataclasses import replace

    full = fit(*three_arm)
    return replace(full, estimates=full.estimates[full.estimates["versus"] == "usual"])


def test_one_itt_row_per_outcome_and_treated_arm(three_arm, results) -> None:
    protocol, _ = three_arm
    itt = results.estimates[results.estimates["estimand"] == "ITT"]
    compared = [o.name for o in protocol.outcomes if o.role != "monitoring"]
    assert sorted(itt.groupby("outcome")["arm"].apply(tuple).items()) == sorted(
        (name, TREATED) for name in compared
    )
    assert set(itt["term"]) == {"arm[budget]", "arm[budget_peer]"}
    assert not itt["term"].str.contains(":").any(), "Lin interaction reported as an effect"
    assert set(results.estimates["estimand"]) == {"ITT", "CACE"}


def test_lin_interactions_are_not_effects_with_two_arms(tmp_path: Path) -> None:
    protocol, data = _trial("council_discretionary_budget", tmp_path)
    estimates = fit(protocol, data).estimates
    itt = estimates[estimates["estimand"] == "ITT"]
    assert (itt["term"] == "arm").all() and (itt["arm"] == "budget").all()
    assert itt["outcome"].is_unique


def test_multiplicity_covers_every_treated_arm_of_the_family(three_arm, results) -> None:
    protocol, _ = three_arm
    est = results.estimates
    for family in (f for f in protocol.families if f.multiplicity != "none"):
        rows = est[(est["family"] == family.name) & (est["estimand"] == "ITT")]
        assert set(rows["arm"]) == set(TREATED)
        method = {"holm": "holm", "bh": "fdr_bh"}[family.multiplicity]
        expected = multipletests(rows["p_value"].to_numpy(), method=method)[1]
        np.testing.assert_allclose(
            rows["p_adjusted"], expected, rtol=1e-12, err_msg=f"p_adjusted in family {family.name}"
        )
        assert (rows["adjustment"] == family.multiplicity).all()
    cace = est[est["estimand"] == "CACE"]
    assert (cace["adjustment"] == "none").all()
    assert (cace["p_adjusted"] == cace["p_value"]).all()


def test_westfall_young_rerandomises_the_family_jointly(three_arm) -> None:
    """A Westfall–Young family's adjusted p-values equal step-down minP over the scheme's
    own redraws, each member's statistic refitted by least squares (numpy's lstsq on the
    arms' dummies and the ITT's covariates) on every redrawn allocation."""
    protocol, data = three_arm
    frequentist = protocol.analysis.frequentist.model_copy(update={"ri_draws": 200})
    families = tuple(
        f.model_copy(update={"multiplicity": "westfall_young"})
        if f.name == "client_wellbeing"
        else f
        for f in protocol.families
    )
    protocol = protocol.model_copy(
        update={
            "families": families,
            "analysis": protocol.analysis.model_copy(update={"frequentist": frequentist}),
        }
    )
    results = fit(protocol, data)
    rows = results.estimates.query(
        "family == 'client_wellbeing' and estimand == 'ITT' and versus == 'usual'"
    )
    assert (rows["adjustment"] == "westfall_young").all()
    assert any(
        n.startswith("Family `client_wellbeing`: Westfall–Young p-values over 200 assignments")
        for n in results.notes
    )
    scheme = trial_scheme(protocol, data)
    redrawn = np.concatenate(list(scheme.draw_many(RawStream(protocol.seed), 200)))
    arm_ids = np.array([a.id for a in protocol.arms])
    position = pd.Series(np.arange(len(scheme.units.ids)), index=scheme.units.ids.astype(str))
    observed, null = [], []
    for name in dict.fromkeys(rows["outcome"]):
        outcome = protocol.outcome(name)
        frame = analysis_frame(protocol, data, outcome)
        d = frame.complete(outcome.data_column)
        x = d[frame.usable_covariates(outcome.data_column)].to_numpy(float)
        y = d[outcome.data_column].to_numpy(float)
        at = position.reindex(d["team_id"].astype(str)).to_numpy()

        def coefficients(arms: np.ndarray, x=x, y=y) -> np.ndarray:
            design = np.column_stack(
                [np.ones(len(y)), *((arms == a).astype(float) for a in TREATED), x]
            )
            return np.linalg.lstsq(design, y, rcond=None)[0][1:3]

        observed.append(coefficients(d["arm"].astype(str).to_numpy()))
        null.append(np.array([coefficients(arm_ids[draw[at]]) for draw in redrawn]))
    expected = min_p_step_down(np.concatenate(observed), np.concatenate(null, axis=1))
    found = rows.set_index(["outcome", "arm"])["p_adjusted"]
    names = list(dict.fromkeys(rows["outcome"]))
    keys = [(name, arm) for name in names for arm in TREATED]
    np.testing.assert_allclose(found.loc[keys].to_numpy(), expected, rtol=1e-12)


def test_every_frame_names_its_arm_and_covariates(results) -> None:
    for name in ("estimates", "subgroups", "indices", "effect_sizes", "descriptives"):
        frame = getattr(results, name)
        assert not frame.empty, name
        assert frame["arm"].notna().all(), f"{name} lacks arm"
    for name in ("estimates", "subgroups", "indices"):
        frame = getattr(results, name)
        assert all(isinstance(v, tuple) for v in frame["adjusted_for"]), name
    itt = results.estimates.query("estimand == 'ITT' and outcome == 'loneliness'")
    assert "loneliness_baseline" in itt["adjusted_for"].iloc[0]
    assert {"caseload", "imd_score", "team_size"} <= set(itt["adjusted_for"].iloc[0])


def test_cace_per_arm_uses_the_itt_covariates_and_blocks(three_arm, results) -> None:
    """Each CACE row equals linearmodels' IV2SLS with the ITT's covariates and block dummies."""
    protocol, data = three_arm
    est = results.estimates
    cace = est[est["estimand"] == "CACE"].set_index("arm")
    itt = est.query("estimand == 'ITT' and outcome == 'loneliness'")
    assert sorted(cace.index) == sorted(TREATED)
    assert (cace["adjusted_for"] == itt["adjusted_for"].iloc[0]).all()
    frame = analysis_frame(protocol, data, protocol.outcome("loneliness"))
    d = frame.complete("loneliness", "budget_used")
    covariates = list(cace["adjusted_for"].iloc[0])
    blocks = pd.get_dummies(d["block"], drop_first=True, dtype=float)
    exog = pd.concat([pd.Series(1.0, index=d.index, name="const"), d[covariates], blocks], axis=1)
    z = pd.DataFrame({a: (d["arm"] == a).astype(float) for a in TREATED})
    endog = pd.DataFrame({f"budget_used[{a}]": z[a] * d["budget_used"] for a in TREATED})
    ref = IV2SLS(d["loneliness"], exog, endog, z).fit(
        cov_type="clustered", clusters=d[frame.cluster].astype("category").cat.codes
    )
    for arm in TREATED:
        np.testing.assert_allclose(
            cace.loc[arm, "estimate"],
            ref.params[f"budget_used[{arm}]"],
            rtol=1e-8,
            err_msg=f"CACE estimate {arm}",
        )
    assert (cace["se_type"] == "CR2").all()


def _members(protocol: Protocol, family: str) -> list[Outcome]:
    return [
        o for o in protocol.outcomes_in(family) if o.role in COMPARED_ROLES and o.type != "survival"
    ]


@pytest.mark.parametrize(
    ("family", "method"), [("client_wellbeing", "anderson"), ("workforce", "kling")]
)
def test_a_family_index_is_adjusted_for_its_baselines(three_arm, results, family, method) -> None:
    """Each index row equals statsmodels' OLS of the index on the arms, the ITT's covariates,
    block dummies and the family's baseline: the same index of its members' baselines where
    two or more have one (client wellbeing: loneliness and wellbeing), the one baseline
    where one has (workforce: job satisfaction)."""
    protocol, data = three_arm
    members = _members(protocol, family)
    baselines = {o.baseline: o.direction for o in members if o.baseline}
    rows = results.indices[results.indices["family"] == family].set_index("arm")
    frame = analysis_frame(protocol, data, members[0]).data
    control = protocol.control.id
    directions = {o.data_column: o.direction for o in members}
    build = anderson_index if method == "anderson" else klk_index
    frame["index"] = build(
        frame, list(directions), directions=directions, treatment="arm", control=control
    )
    if len(baselines) > 1:
        frame["base"] = baseline_index(
            frame, baselines, method=method, treatment="arm", control=control
        )
        expected = f"index_{family}_baseline"
    else:
        (frame["base"],) = (frame[b] for b in baselines)
        expected = next(iter(baselines))
    adjusted = rows["adjusted_for"].iloc[0]
    assert expected in adjusted
    assert (rows["adjusted_for"] == adjusted).all()
    covariates = [c for c in adjusted if c != expected]
    d = frame.dropna(subset=["index", "base", *covariates])
    arms = pd.DataFrame({a: (d["arm"] == a).astype(float) for a in TREATED})
    blocks = pd.get_dummies(d["block"], drop_first=True, dtype=float)
    exog = pd.concat([arms, d[[*covariates, "base"]].astype(float), blocks], axis=1)
    ref = sm.OLS(d["index"].astype(float), sm.add_constant(exog)).fit()
    for arm in TREATED:
        np.testing.assert_allclose(
            rows.loc[arm, "estimate"], ref.params[arm], rtol=1e-9, err_msg=f"{family} {arm}"
        )


def test_the_registered_plan_names_the_baselines_each_index_is_adjusted_for(
    three_arm, results
) -> None:
    """The pre-analysis plan's words for each family index say what the analysis adjusts
    it for: the members with a baseline, by label, and the kind of baseline used."""
    protocol, _ = three_arm
    for family in protocol.families:
        words = _index_words(protocol, family)
        rows = results.indices[results.indices["family"] == family.name]
        with_baseline = [o for o in _members(protocol, family.name) if o.baseline]
        assert rows.empty == (family.index == "none"), family.name
        if len(with_baseline) > 1:
            assert "same index of the baselines of" in words, family.name
            assert f"index_{family.name}_baseline" in rows["adjusted_for"].iloc[0]
        elif with_baseline:
            assert f"adjusted for the baseline of {with_baseline[0].label}" in words
            assert with_baseline[0].baseline in rows["adjusted_for"].iloc[0]
        else:
            assert "baseline" not in words, family.name
        for outcome in with_baseline:
            assert outcome.label in words, (family.name, outcome.name)


def test_a_family_without_varying_baselines_is_adjusted_for_none(three_arm) -> None:
    """A baseline constant in the control group cannot be standardised: it is left out of
    the family's baseline, which is then the other member's baseline alone."""
    protocol, data = three_arm
    members = _members(protocol, "client_wellbeing")
    frame = analysis_frame(protocol, data, members[0])
    flat = frame.data.assign(wellbeing_baseline=7.0)
    family = next(f for f in protocol.families if f.name == "client_wellbeing")
    found = family_baseline(dataclasses.replace(frame, data=flat), family, members, "usual")
    assert found.baseline == "loneliness_baseline"
    both_flat = flat.assign(loneliness_baseline=3.0)
    none = family_baseline(dataclasses.replace(frame, data=both_flat), family, members, "usual")
    assert none.baseline is None


def test_an_unadjusted_plan_says_its_indices_are_not_baseline_adjusted(three_arm) -> None:
    """With the difference in means nothing is adjusted for, the indices included: the
    plan's words must not claim a baseline."""
    protocol, _ = three_arm
    frequentist = protocol.analysis.frequentist.model_copy(
        update={"estimator": "difference_in_means"}
    )
    plain = protocol.model_copy(
        update={"analysis": protocol.analysis.model_copy(update={"frequentist": frequentist})}
    )
    for family in plain.families:
        assert "baseline" not in _index_words(plain, family), family.name


def test_collinear_baselines_are_a_located_error(three_arm) -> None:
    """Baselines that are copies of each other cannot make an Anderson index: the error
    names the family and its baselines."""
    protocol, data = three_arm
    members = _members(protocol, "client_wellbeing")
    frame = analysis_frame(protocol, data, members[0])
    copied = frame.data.assign(wellbeing_baseline=2 * frame.data["loneliness_baseline"] + 1)
    family = next(f for f in protocol.families if f.name == "client_wellbeing")
    with pytest.raises(EstimationError, match=r"family `client_wellbeing`.*loneliness_baseline"):
        family_baseline(dataclasses.replace(frame, data=copied), family, members, "usual")


def test_subgroups_use_the_itt_covariates(results) -> None:
    sub = results.subgroups
    itt = results.estimates.query("estimand == 'ITT' and outcome == 'loneliness'")
    assert set(sub["arm"]) == set(TREATED)
    assert (sub["adjusted_for"] == itt["adjusted_for"].iloc[0]).all()
    assert len(sub) == 2 * 2 * 2  # two subgroups x two levels x two treated arms


def test_effect_sizes_per_arm_match_the_closed_form(three_arm, results) -> None:
    protocol, data = three_arm
    sizes = results.effect_sizes
    assert tuple(sizes.columns) == EFFECT_SIZE_COLUMNS
    itt = results.estimates[results.estimates["estimand"] == "ITT"]
    timed = {o.name for o in protocol.outcomes if o.type == "survival"}  # no Hedges' g
    assert len(sizes) == len(itt[~itt["outcome"].isin(timed)])
    frame = analysis_frame(protocol, data, protocol.outcome("wellbeing")).complete("wellbeing")
    y_c = frame.loc[frame["arm"] == "usual", "wellbeing"].to_numpy(float)
    for arm in TREATED:
        y_t = frame.loc[frame["arm"] == arm, "wellbeing"].to_numpy(float)
        n_t, n_c = y_t.size, y_c.size
        sd = np.sqrt(((n_t - 1) * y_t.var(ddof=1) + (n_c - 1) * y_c.var(ddof=1)) / (n_t + n_c - 2))
        omega = 1 - 3 / (4 * (n_t + n_c) - 9)
        row = sizes.query("outcome == 'wellbeing' and arm == @arm").iloc[0]
        est = itt.query("outcome == 'wellbeing' and arm == @arm").iloc[0]
        np.testing.assert_allclose(row["sd_pooled"], sd, rtol=1e-12, err_msg=f"SD {arm}")
        for col, value in (
            ("hedges_g", est["estimate"]),
            ("g_ci_low", est["ci_low"]),
            ("g_ci_high", est["ci_high"]),
        ):
            np.testing.assert_allclose(
                row[col], omega * value / sd, rtol=1e-12, err_msg=f"{col} {arm}"
            )


@pytest.mark.parametrize(("scale", "sign"), [(4.0, -1.0), (-4.0, 1.0)])
def test_simulated_truth_is_recovered_in_both_arms(
    tmp_path: Path, scale: float, sign: float
) -> None:
    """Four times the declared loneliness effect (−0.6), helpful or harmful, is detected."""
    protocol, data = _trial("council_budget_peer_review", tmp_path, effect_scale=scale)
    est = fit(protocol, data).estimates.query("outcome == 'loneliness' and versus == 'usual'")
    for estimand in ("ITT", "CACE"):
        rows = est[est["estimand"] == estimand]
        assert len(rows) == 2
        assert (np.sign(rows["estimate"]) == sign).all(), f"{estimand} sign, scale {scale}"
        assert (rows["ci_high"] < 0).all() if sign < 0 else (rows["ci_low"] > 0).all()


def test_unidentified_cace_is_a_note_not_a_crash(three_arm) -> None:
    protocol, data = three_arm
    team = data.frames["team"]
    frames = {
        **data.frames,
        "team": team.assign(budget_used=team["budget_used"].where(team["arm"] != "budget_peer", 0)),
    }
    out = fit(protocol, dataclasses.replace(data, frames=frames))
    assert not (out.estimates["estimand"] == "CACE").any()
    assert any("CACE for `loneliness` not estimated" in n and "budget_peer" in n for n in out.notes)
