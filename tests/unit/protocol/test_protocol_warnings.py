"""Warnings from ``trialkit.protocol.support``: valid declarations that probably mislead.

Each case edits the flagship minimally, writes it to a file and checks that the warning is
located by file, line and field, explains itself and offers a fix, and that the protocol
still loads (a warning never stops a stage).
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from trialkit.protocol import bundled_protocols, load_protocol, parse_protocol
from trialkit.protocol.support import check_warnings, protocol_warnings


def _warnings_of(tmp_path: Path, text: str) -> list[str]:
    path = tmp_path / "pilot.yaml"
    path.write_text(text, encoding="utf-8")
    load_protocol(path)  # still valid: warnings are not errors
    issues = protocol_warnings(path)
    assert all(i.severity == "warning" and i.fix for i in issues)
    return [str(i) for i in issues]


def test_flagship_power_below_mid_is_located(flag: Any, tmp_path: Path) -> None:
    text = flag.edit(("      effect: -0.6\n", "      effect: -0.4\n"))
    found = [w for w in _warnings_of(tmp_path, text) if "`loneliness` is powered" in w]
    line = flag.line(text, "      effect: -0.4")
    assert found == [
        f"{tmp_path / 'pilot.yaml'}, line {line} (outcomes[0].assumptions.effect): outcome "
        "`loneliness` is powered for an effect of 0.4, smaller than its minimum important "
        "difference (0.5): the pilot is sized to detect a change its own protocol says is too "
        "small to matter. Fix: power for the MID (`effect: 0.5` in the direction of benefit), "
        "or lower `mid:` if smaller changes matter."
    ]


def test_power_at_or_above_mid_gives_no_warning(flag: Any) -> None:
    for effect in ("-0.5", "-1.4", "1.0"):
        text = flag.edit(("      effect: -0.6\n", f"      effect: {effect}\n"))
        names = [w.message for w in check_warnings(parse_protocol(text))]
        assert not any("`loneliness` is powered" in m for m in names), effect


def test_rope_wider_than_mid_is_located(flag: Any, tmp_path: Path) -> None:
    text = flag.edit(("    mid: 1\n", "    mid: 1.5\n    rope: 2\n"))
    found = [w for w in _warnings_of(tmp_path, text) if "rope ±2" in w]
    line = flag.line(text, "    rope: 2")
    assert len(found) == 1
    assert found[0].startswith(f"{tmp_path / 'pilot.yaml'}, line {line} (outcomes[1].rope): ")
    assert "an effect large enough to matter would also count as practically zero" in found[0]
    assert found[0].endswith("Fix: set `rope:` below `mid:` (for example `rope: 0.75`).")


def test_rope_within_mid_gives_no_warning(flag: Any) -> None:
    for rope in ("0.5", "1.5"):
        text = flag.edit(("    mid: 1\n", f"    mid: 1.5\n    rope: {rope}\n"))
        assert not any("rope" in w.message for w in check_warnings(parse_protocol(text)))


def test_rule_on_a_monitoring_outcome_is_fitted_not_warned(flag: Any) -> None:
    text = flag.edit(("    role: harm\n", "    role: monitoring\n"))  # safeguarding_concern
    protocol = parse_protocol(text)
    assert protocol.outcome("safeguarding_concern").role == "monitoring"
    assert not [w for w in check_warnings(protocol) if "decision rule" in w.message]
    assert "safeguarding_concern" in {o.name for o in protocol.bayesian_outcomes()}


#: Bundled protocols are declared consistently: no warning at all.
EXPECTED_BUNDLED: dict[str, list[str]] = {name: [] for name in bundled_protocols()}


@pytest.mark.parametrize("name", sorted(EXPECTED_BUNDLED))
def test_bundled_protocols_check_with_known_warnings_only(name: str) -> None:
    issues = protocol_warnings(bundled_protocols()[name])
    named = [i.message.split("`")[1] for i in issues]
    assert named == EXPECTED_BUNDLED[name], [str(i) for i in issues]
    assert all(i.location.line is not None and i.location.field for i in issues)
