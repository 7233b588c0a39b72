"""allocate / read_units / check_units: the protocol's design realised, bad units located."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import pytest

from trialkit.errors import DataValidationError, RandomisationError
from trialkit.protocol import Protocol, load_protocol
from trialkit.protocol.design import Rerandomisation as RerandomisationSettings
from trialkit.randomise import allocate, declare, read_units

ROOT = Path(__file__).resolve().parents[3]


def protocol(name: str, **design: Any) -> Protocol:
    p = load_protocol(ROOT / "protocols" / f"{name}.yaml")
    if design:
        p = p.model_copy(update={"design": p.design.model_copy(update=design)})
    return p


def example_units(name: str) -> pd.DataFrame:
    return read_units(ROOT / "examples" / name / "units.csv")


def caseworkers(n: int = 12) -> pd.DataFrame:
    """Units for the green-tape protocol (blocked on `team`, id `caseworker_id`)."""
    return pd.DataFrame(
        {
            "caseworker_id": [f"CW{i:02d}" for i in range(n)],
            "team": ["north", "south"] * (n // 2),
            "years_experience": np.random.default_rng(n).uniform(1, 20, n),
        }
    )


@pytest.mark.parametrize(
    "name", ["green_tape_benefits", "school_budget_autonomy", "mission_clarity_stepped_wedge"]
)
def test_bundled_examples_allocate(name: str) -> None:
    p = protocol(name)
    units = read_units(ROOT / "examples" / name / "units.csv", p)
    allocation = allocate(p, units)
    assert allocation.n_units == len(units)
    assert list(allocation.unit_id) == sorted(units[p.units.id_column])
    assert allocation.seed == p.seed
    assert allocation.provenance.protocol_hash == p.content_hash()
    assert allocation.scheme == p.design.scheme
    if name == "mission_clarity_stepped_wedge":
        assert allocation.step is not None and set(allocation.step) == {1, 2, 3, 4}
        assert set(allocation.arm) == {"mission_clarity"}
        np.testing.assert_allclose(allocation.probability, 0.25)


def test_row_order_and_id_type_do_not_matter() -> None:
    p = protocol("green_tape_benefits")
    units = example_units("green_tape_benefits")
    shuffled = units.sample(frac=1.0, random_state=4).reset_index(drop=True)
    assert allocate(p, shuffled).to_csv_text() == allocate(p, units).to_csv_text()


def test_seed_overrides_the_protocol_seed() -> None:
    p = protocol("green_tape_benefits")
    units = example_units("green_tape_benefits")
    other = allocate(p, units, seed=1)
    assert other.seed == 1
    assert other.to_csv_text() != allocate(p, units).to_csv_text()


def test_declare_matches_allocation_order_and_draw() -> None:
    p = protocol("green_tape_benefits")
    units = example_units("green_tape_benefits")
    scheme = declare(p, units)
    allocation = allocate(p, units)
    assert list(np.asarray(scheme.units.ids)) == list(allocation.unit_id)
    from trialkit._core.rng import RawStream

    arms = np.asarray([a.id for a in p.arms], dtype=object)[scheme.draw(RawStream(p.seed))]
    assert list(arms) == list(allocation.arm)


def test_rerandomisation_and_matched_pairs_from_the_protocol() -> None:
    units = caseworkers(16)
    rr = RerandomisationSettings(covariates=("years_experience",), acceptance=0.2)
    p = protocol("green_tape_benefits", scheme="rerandomisation", rerandomisation=rr)
    allocation = allocate(p, units)
    assert allocation.parameters["statistic"] == "mahalanobis"
    assert allocation.parameters["base"] == "blocked"
    pairs = allocate(
        protocol("green_tape_benefits", scheme="matched_pairs", pair_on=("years_experience",)),
        units,
    )
    assert pairs.pair is not None and "pair" in pairs.to_csv_text().splitlines()[0]


def test_rerandomisation_that_cannot_meet_its_criterion_via_allocate() -> None:
    rr = RerandomisationSettings(covariates=("years_experience",), acceptance=1e-9, max_draws=100)
    p = protocol("green_tape_benefits", scheme="rerandomisation", rerandomisation=rr)
    with pytest.raises(RandomisationError, match="within its limit of 100 draws"):
        allocate(p, caseworkers(12))


# ------------------------------------------------------------------ located errors


def _issues(excinfo: pytest.ExceptionInfo[DataValidationError]) -> list[tuple[Any, ...]]:
    return [(i.location.row, i.location.column) for i in excinfo.value.issues]


def test_all_unit_problems_are_reported_together() -> None:
    units = caseworkers(12)
    units.loc[3, "caseworker_id"] = "CW00"
    units.loc[5, "team"] = " "
    units.loc[7, "team"] = "tiny"
    with pytest.raises(
        DataValidationError,
        match=r"row 5, column \"caseworker_id\": unit id "
        r"`CW00` also appears in row 2",
    ) as excinfo:
        allocate(protocol("green_tape_benefits"), units)
    assert _issues(excinfo) == [(5, "caseworker_id"), (7, "team"), (9, "team")]
    message = str(excinfo.value)
    assert 'row 7, column "team": the block is missing' in message
    assert "block `tiny` has 1 units, but arms with ratios 1:1 need at least 2" in message
    assert "Fix:" in message


def test_cluster_spread_over_two_blocks_is_located() -> None:
    units = caseworkers(12).assign(office=[f"O{i // 2}" for i in range(12)])
    p = protocol(
        "green_tape_benefits", type="cluster", scheme="blocked_cluster", cluster_column="office"
    )
    with pytest.raises(
        DataValidationError,
        match=r"row 3, column \"team\": cluster `O0` is in block `south` here "
        r"but in block `north` elsewhere",
    ):
        allocate(p, units)


def test_missing_cluster_and_missing_column() -> None:
    p = protocol(
        "green_tape_benefits",
        type="cluster",
        scheme="cluster",
        cluster_column="office",
        block_columns=(),
    )
    units = caseworkers(6).assign(office=["a", "a", "", "b", "b", "c"])
    with pytest.raises(
        DataValidationError,
        match=r"row 4, column \"office\": the cluster is "
        "missing",
    ):
        allocate(p, units)
    with pytest.raises(
        DataValidationError,
        match=r"column `office` named by "
        r"`design.cluster_column` is not in the file",
    ):
        allocate(p, caseworkers(6))


def test_covariate_that_is_not_a_number() -> None:
    rr = RerandomisationSettings(covariates=("years_experience",))
    p = protocol("green_tape_benefits", scheme="rerandomisation", rerandomisation=rr)
    units = caseworkers(8).astype({"years_experience": object})
    units.loc[2, "years_experience"] = "ten"
    with pytest.raises(
        DataValidationError,
        match=r"row 4, column \"years_experience\": `ten` "
        "is not a number",
    ):
        allocate(p, units)


def test_read_units_locates_file_problems(tmp_path: Path) -> None:
    with pytest.raises(DataValidationError, match=r"missing\.csv: file not found"):
        read_units(tmp_path / "missing.csv")
    empty = tmp_path / "empty.csv"
    empty.write_text("caseworker_id,team\n")
    with pytest.raises(DataValidationError, match=r"empty\.csv: the file has no units"):
        read_units(empty)
    typo = tmp_path / "typo.csv"
    typo.write_text("caseworker,team\nA,x\nB,x\n")
    with pytest.raises(
        DataValidationError,
        match=r"typo.csv, row 1, column \"caseworker_id\": "
        r".*did you mean `caseworker`",
    ):
        read_units(typo, protocol("green_tape_benefits"))


def test_read_units_keeps_ids_as_text(tmp_path: Path) -> None:
    path = tmp_path / "units.csv"
    path.write_text("caseworker_id,team\n007,a\n010,a\n")
    assert read_units(path)["caseworker_id"].tolist() == ["007", "010"]


def test_read_units_handles_a_byte_order_mark_and_flags_repeated_columns(tmp_path: Path) -> None:
    path = tmp_path / "excel.csv"
    path.write_bytes("\ufeffcaseworker_id,team\nA,x\n".encode())
    assert list(read_units(path).columns) == ["caseworker_id", "team"]
    twice = tmp_path / "twice.csv"
    twice.write_text("caseworker_id,team,team\nA,x,y\n")
    with pytest.raises(
        DataValidationError,
        match=r"row 1, column \"team\": this column name "
        "appears more than once",
    ):
        read_units(twice)
