"""`trialkit randomise` on every bundled protocol with its example units (issue 3's bar)."""

from __future__ import annotations

import math
from pathlib import Path

import pandas as pd
import pytest
from typer.testing import CliRunner

from trialkit.cli import app
from trialkit.protocol import bundled_protocols, load_protocol

ROOT = Path(__file__).resolve().parents[2]
runner = CliRunner()


def _randomise(protocol: Path, units: Path, out: Path, *extra: str):
    return runner.invoke(
        app, ["randomise", str(protocol), "--units", str(units), "--out", str(out), *extra]
    )


@pytest.mark.parametrize("name", sorted(bundled_protocols()))
def test_randomise_is_reproducible_whole_and_exact(name: str, tmp_path: Path) -> None:
    protocol_path = bundled_protocols()[name]
    protocol = load_protocol(protocol_path)
    units_path = ROOT / "examples" / name / "units.csv"
    shuffled = tmp_path / "shuffled.csv"
    pd.read_csv(units_path, dtype=str).sample(frac=1.0, random_state=3).to_csv(
        shuffled, index=False
    )
    outputs = []
    for i, units in enumerate((units_path, units_path, shuffled)):
        out = tmp_path / f"allocation{i}.csv"
        result = _randomise(protocol_path, units, out)
        assert result.exit_code == 0, result.output
        outputs.append(out.read_bytes())
    assert outputs[0] == outputs[1] == outputs[2], "allocation differs across runs or row order"

    allocation = pd.read_csv(tmp_path / "allocation0.csv", dtype=str, keep_default_na=False)
    # clusters are never split across arms (or steps)
    group = "step" if "step" in allocation and allocation["step"].ne("").all() else "arm"
    clustered = allocation[allocation["cluster"] != ""]
    assert (clustered.groupby("cluster")[group].nunique() <= 1).all()
    # every block gets the floor or ceiling of each arm's planned share of its clusters
    if protocol.design.type != "stepped_wedge":
        ratios = {arm.id: arm.ratio for arm in protocol.arms}
        total = sum(ratios.values())
        clusters = (
            allocation.drop_duplicates("cluster")
            if len(clustered) == len(allocation)
            else allocation
        )
        for _, block in clusters.groupby("block"):
            counts = block["arm"].value_counts()
            for arm, ratio in ratios.items():
                planned = len(block) * ratio / total
                assert math.floor(planned) <= counts.get(arm, 0) <= math.ceil(planned)

    refused = _randomise(protocol_path, units_path, tmp_path / "allocation0.csv")
    assert refused.exit_code == 2 and "refusing to overwrite" in refused.output
    assert (tmp_path / "allocation0.csv").read_bytes() == outputs[0]
    forced = _randomise(protocol_path, units_path, tmp_path / "allocation0.csv", "--force")
    assert forced.exit_code == 0
