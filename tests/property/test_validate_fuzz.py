"""Properties of validation: messy frames end in a result or a trialkit error, never a crash;
small-cell suppression leaves no suppressed cell recoverable from the totals."""

from __future__ import annotations

import sys
from pathlib import Path

import numpy as np
import pandas as pd
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from scipy.optimize import linprog

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "unit" / "validate"))
from validate_frames import (
    FLAGSHIP,
    make_allocation,
    make_clients,
    make_spend,
    make_staff,
    make_teams,
)

from trialkit import validate
from trialkit.errors import TrialkitError
from trialkit.protocol import load_protocol
from trialkit.validate.privacy import suppression_mask

PROTOCOL = load_protocol(FLAGSHIP)
MESSY = st.one_of(
    st.none(),
    st.just(""),
    st.just("  "),
    st.sampled_from(["n/a", "NA", "-", "?", "abc"]),
    st.sampled_from([" Yes ", "no", "TRUE", "y", "1.0", "Neither", "very satisfied"]),
    st.sampled_from(["1e400", "-inf", "nan", "2027-13-45", "03/02/2027", "T99", "C0000"]),
    st.integers(-(10**12), 10**12).map(str),
    st.floats(allow_nan=True).map(str),
    st.text(max_size=6),
)


@st.composite
def messy_clients(draw: st.DrawFn) -> pd.DataFrame:
    frame = make_clients(per_team=1).astype(object)
    for _ in range(draw(st.integers(0, 12))):
        row = draw(st.integers(0, len(frame) - 1))
        column = draw(st.sampled_from(list(frame.columns)))
        frame.loc[row, column] = draw(MESSY)
    drop = draw(st.lists(st.sampled_from(list(frame.columns)), max_size=2, unique=True))
    return frame.drop(columns=drop)


@settings(
    max_examples=8,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(clients=messy_clients())
def test_messy_data_never_crash(clients: pd.DataFrame, tmp_path: Path) -> None:
    paths = []
    for name, frame in {
        "clients": clients,
        "staff": make_staff(1),
        "spend": make_spend(1),
        "teams": make_teams(),
    }.items():
        paths.append(tmp_path / f"{name}.csv")
        frame.to_csv(paths[-1], index=False)
    before = [p.read_bytes() for p in paths]
    try:
        data = validate.outcomes(PROTOCOL, make_allocation(), paths)
    except TrialkitError as exc:
        assert str(exc)
    else:
        assert set(data.frames) == {"team", "client", "staff", "spend"}
    assert [p.read_bytes() for p in paths] == before


def _interval(values: np.ndarray, mask: np.ndarray, cell: int) -> tuple[float, float]:
    """Smallest and largest value a suppressed cell can take, given totals and x ≥ 0."""
    cells = np.argwhere(mask)
    n_rows, n_cols = mask.shape
    a = np.zeros((n_rows + n_cols, len(cells)))
    b = np.zeros(n_rows + n_cols)
    for k, (i, j) in enumerate(cells):
        a[i, k] = a[n_rows + j, k] = 1.0
    for i in range(n_rows):
        b[i] = values[i, mask[i]].sum()
    for j in range(n_cols):
        b[n_rows + j] = values[mask[:, j], j].sum()
    objective = np.zeros(len(cells))
    objective[cell] = 1.0
    low = linprog(objective, A_eq=a, b_eq=b, bounds=(0, None)).fun
    high = -linprog(-objective, A_eq=a, b_eq=b, bounds=(0, None)).fun
    return low, high


@settings(max_examples=25, deadline=None)
@given(
    st.integers(2, 4).flatmap(
        lambda r: st.integers(2, 4).flatmap(
            lambda c: st.lists(
                st.lists(st.integers(1, 40), min_size=c, max_size=c), min_size=r, max_size=r
            )
        )
    )
)
def test_suppressed_cells_cannot_be_recovered_from_totals(rows: list[list[int]]) -> None:
    values = np.array(rows, dtype=float)
    mask = suppression_mask(pd.DataFrame(values)).to_numpy()
    assert (mask | (values >= 10)).all(), "every small cell is suppressed"
    for k in range(int(mask.sum())):
        low, high = _interval(values, mask, k)
        assert high - low > 0.5, f"suppressed cell {k} is pinned to {low} by the totals"


def test_zero_cells_are_avoided_when_a_longer_cycle_exists() -> None:
    table = pd.DataFrame([[3, 0, 20], [0, 15, 25], [12, 30, 0]])
    mask = suppression_mask(table).to_numpy()
    assert mask[0, 0] and not (mask & (table.to_numpy() == 0)).any()
