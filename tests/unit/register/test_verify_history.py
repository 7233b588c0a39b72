"""`audit` reads each file's content at each step (issue 20, item 2).

Outcome data changed after the first analysis, analyses re-run with other inputs and
re-randomisation are findings of an intact ledger, naming the entry that shows them.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from trialkit import register
from trialkit.errors import RegistrationError
from trialkit.register.history import history_findings
from trialkit.register.ledger import read


class Pilot:
    """A workspace whose steps append to its ledger as the commands would."""

    def __init__(self, root: Path) -> None:
        self.root = root
        self.ledger = root / register.LEDGER_NAME
        for name, text in {
            "protocol.yaml": "title: x\n",
            "units.csv": "unit\n1\n2\n",
            "data.csv": "unit,y\n1,3\n2,4\n",
        }.items():
            (root / name).write_text(text)

    def path(self, name: str) -> Path:
        return self.root / name

    def register(self) -> None:
        (self.root / "registration").mkdir(exist_ok=True)
        self.path("registration/registration.json").write_text("{}")
        register.append(
            self.ledger,
            "register",
            inputs=[self.path("protocol.yaml")],
            outputs=[self.path("registration/registration.json")],
        )

    def randomise(self, seed: int = 1) -> None:
        self.path("allocation.csv").write_text(f"unit,arm\n1,{seed % 2}\n2,{(seed + 1) % 2}\n")
        register.append(
            self.ledger,
            "randomise",
            inputs=[self.path("protocol.yaml"), self.path("units.csv")],
            outputs=[self.path("allocation.csv")],
        )

    def inputs(self) -> list[Path]:
        return [self.path("protocol.yaml"), self.path("allocation.csv"), self.path("data.csv")]

    def validate(self) -> None:
        register.append(self.ledger, "validate", inputs=self.inputs())

    def analyse(self) -> None:
        (self.root / "results").mkdir(exist_ok=True)
        results = self.path("results/results.json")
        results.write_text(str(hash(self.path("data.csv").read_text())))
        register.append(self.ledger, "analyse", inputs=self.inputs(), outputs=[results])


@pytest.fixture()
def pilot(tmp_path: Path) -> Pilot:
    pilot = Pilot(tmp_path)
    pilot.register()
    pilot.randomise()
    pilot.validate()
    pilot.analyse()  # entry 4
    return pilot


def test_an_honest_pilot_has_no_finding(pilot: Pilot) -> None:
    pilot.analyse()  # the same inputs again (e.g. --force after a crash)
    check = register.audit(pilot.ledger)
    assert check.findings == () and check.passed


def test_outcome_data_changed_after_the_analysis_then_reanalysed(pilot: Pilot) -> None:
    pilot.path("data.csv").write_text("unit,y\n1,9\n2,4\n")
    pilot.analyse()  # analyse --force on the edited data: every file matches its latest hash
    check = register.audit(pilot.ledger)
    assert check.intact and not check.passed
    (finding,) = check.findings
    assert (finding.kind, finding.seq, finding.earlier, finding.files) == (
        "outcome_data_changed",
        5,
        4,
        ("data.csv",),
    )
    assert finding.message.startswith(
        "entry 5 (analyse): outcome data changed after the first analysis (entry 4): data.csv"
    )
    assert finding.message in register.verify(pilot.ledger)


def test_data_read_again_by_validate_after_the_analysis_is_a_finding(pilot: Pilot) -> None:
    pilot.path("data.csv").write_text("unit,y\n1,9\n2,4\n")
    pilot.validate()
    assert [(f.kind, f.seq) for f in register.audit(pilot.ledger).findings] == [
        ("outcome_data_changed", 5)
    ]


def test_data_fixed_before_the_first_analysis_is_not_a_finding(tmp_path: Path) -> None:
    pilot = Pilot(tmp_path)
    pilot.register()
    pilot.randomise()
    pilot.validate()
    pilot.path("data.csv").write_text("unit,y\n1,3\n2,5\n")  # cleaned, then validated again
    pilot.validate()
    pilot.analyse()
    assert register.audit(pilot.ledger).findings == ()


def test_rerandomised_after_the_analysis(pilot: Pilot) -> None:
    pilot.randomise(seed=2)
    pilot.randomise(seed=2)  # the same draw again: nothing more
    pilot.randomise(seed=3)
    findings = register.audit(pilot.ledger).findings
    assert [(f.kind, f.seq, f.earlier, f.files) for f in findings] == [
        ("rerandomised", 5, 2, ("allocation.csv",)),
        ("rerandomised", 7, 6, ("allocation.csv",)),
    ]
    assert findings[0].message.startswith(
        "entry 5 (randomise): re-randomised, after the analyse in entry 4: allocation.csv differ"
    )


def test_the_same_allocation_drawn_again_is_not_a_finding(pilot: Pilot) -> None:
    pilot.randomise(seed=1)
    assert register.audit(pilot.ledger).findings == ()


def test_a_redraw_before_registration_and_data_is_not_a_finding(tmp_path: Path) -> None:
    pilot = Pilot(tmp_path)
    pilot.randomise(seed=1)
    pilot.randomise(seed=2)
    assert register.audit(pilot.ledger).findings == ()
    pilot.register()
    pilot.randomise(seed=1)
    (finding,) = register.audit(pilot.ledger).findings
    assert finding.message.startswith(
        "entry 4 (randomise): re-randomised, after the register "
        "in entry 3: allocation.csv differ from the allocation "
        "entry 2 drew"
    )


def test_an_analysis_rerun_with_another_allocation(pilot: Pilot) -> None:
    pilot.randomise(seed=2)
    pilot.analyse()
    kinds = [(f.kind, f.seq, f.files) for f in register.audit(pilot.ledger).findings]
    assert kinds == [
        ("rerandomised", 5, ("allocation.csv",)),
        ("analysis_inputs_changed", 6, ("allocation.csv",)),
    ]


def test_an_analysis_rerun_with_a_file_more(pilot: Pilot) -> None:
    extra = pilot.path("more.csv")
    extra.write_text("unit,y\n3,1\n")
    register.append(pilot.ledger, "analyse", inputs=[*pilot.inputs(), extra])
    (finding,) = register.audit(pilot.ledger).findings
    assert (finding.kind, finding.files) == ("analysis_inputs_changed", ("more.csv",))


def test_data_written_by_a_data_freeze_entry_is_still_data(tmp_path: Path) -> None:
    pilot = Pilot(tmp_path)
    pilot.register()
    pilot.randomise()
    register.append(pilot.ledger, "data freeze", outputs=[pilot.path("data.csv")])
    pilot.analyse()
    pilot.path("data.csv").write_text("unit,y\n1,0\n2,0\n")
    pilot.analyse()
    assert [f.kind for f in register.audit(pilot.ledger).findings] == ["outcome_data_changed"]


def test_findings_come_in_entry_order(pilot: Pilot) -> None:
    pilot.path("data.csv").write_text("unit,y\n1,9\n2,4\n")
    pilot.analyse()
    pilot.randomise(seed=2)
    findings = history_findings(read(pilot.ledger))
    assert [f.seq for f in findings] == sorted(f.seq for f in findings)


def test_anchor_found_missing_or_malformed(pilot: Pilot) -> None:
    entries = read(pilot.ledger)
    check = register.audit(pilot.ledger, head=entries[1].hash)
    assert check.passed and check.anchor is not None and check.anchor.seq == 2
    assert "the 2 entries after it were written after the anchor" in check.anchor.describe()
    lines = pilot.ledger.read_bytes().splitlines(keepends=True)
    pilot.ledger.write_bytes(b"".join(lines[:1]))  # drop the last three entries
    cut = register.audit(pilot.ledger, head=entries[-1].hash.upper())
    assert cut.intact and not cut.passed
    assert cut.anchor is not None and cut.anchor.problem() == (
        f"the anchored head {entries[-1].hash[:16]}… is in no entry of the ledger, which ends "
        "at entry 1: entries after it were dropped, or the chain was rewritten."
    )
    with pytest.raises(
        RegistrationError,
        match=r"--head 'abc': not a head hash.*"
        r"`trialkit verify --head`",
    ):
        register.audit(pilot.ledger, head="abc")
