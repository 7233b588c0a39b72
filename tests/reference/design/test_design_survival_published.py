"""Schoenfeld's events formula against published tables, to their printed precision."""

from __future__ import annotations

import math

import pytest

from trialkit.design import SurvivalOutcome, schoenfeld_events, solve_survival


def _even(value: float) -> int:
    return 2 * math.ceil(value / 2)


@pytest.mark.parametrize(
    ("hazard_ratio", "events"),
    [(0.85, 938), (0.8, 498), (0.75, 300), (0.7, 196), (0.65, 134), (0.6, 96), (0.55, 70),
     (0.5, 52), (0.45, 40), (0.4, 30)],
)  # fmt: skip
def test_phadnis_2017_table_3(hazard_ratio: float, events: int) -> None:
    # Phadnis, Wetmore & Mayo (2017), Stat Med 36(26):4121-4140, doi:10.1002/sim.7421,
    # Table 3 (PMC6478034), "# Events N for PH assumption": 80% power, one-sided alpha 0.05
    # (two-sided 0.10), r = 1, "N is rounded up to an even number".
    got = schoenfeld_events(hazard_ratio, 0.8, alpha=0.10)
    assert _even(got) == events, f"events for HR {hazard_ratio}: {got:.2f}"


@pytest.mark.parametrize(
    ("hazard_ratio", "total"), [(1.25, 1264), (1.50, 384), (1.75, 204), (2.00, 132)]
)
def test_trials_2015_table_1_initial_n(hazard_ratio: float, total: int) -> None:
    # Trials (2015) 16:213, doi:10.1186/s13063-015-0727-9, Table 1, "initial N": Schoenfeld's
    # formula, two-sided 5%, 80% power, equal allocation and half the subjects censored, so
    # N = 2 × events (events rounded up to an even number, which reproduces every row).
    got = schoenfeld_events(hazard_ratio, 0.8)
    assert 2 * _even(got) == total, f"N for HR {hazard_ratio}: events {got:.2f}"


def test_solver_power_at_schoenfeld_events() -> None:
    # The solver inverts the same formula: at the solved (unrounded) size the expected events
    # are Schoenfeld's, by hand (1.95996 + 1.28155)² / ((2/9) · log(0.5)²) = 98.41 for HR 0.5,
    # 90% power and 2:1 allocation.
    needed = schoenfeld_events(0.5, 0.9, treated_share=2 / 3)
    result = solve_survival(0.5, power=0.9, outcome=SurvivalOutcome(0.4), treated_share=2 / 3)
    assert result.size_exact is not None
    exact_events = result.events * result.size_exact / result.n_units  # type: ignore[operator]
    # Power also counts the far rejection region, which moves the root by ~1e-6 relative.
    assert exact_events == pytest.approx(needed, rel=1e-5), "events at the solved size"
    assert needed == pytest.approx(98.41, abs=0.005), "Schoenfeld events, 2:1 allocation"
