"""Randomisation inference: the treatment column coded as the arms that redraws assign."""

from __future__ import annotations

from collections.abc import Hashable, Sequence
from dataclasses import dataclass

import numpy as np
import pandas as pd

from trialkit.errors import EstimationError
from trialkit.estimate.frequentist._design import FloatArray, IntArray, positions
from trialkit.estimate.frequentist.ri.checks import numeric_columns
from trialkit.randomise.schemes import Scheme, SteppedWedge


@dataclass(frozen=True, slots=True, eq=False)
class ArmCoding:
    """Each row's arm as an index of the scheme's arms, and the dummies compared.

    Attributes
    ----------
    n_arms
        Arms a redraw assigns: the scheme's (a stepped wedge's steps), else the labels'.
    control
        The control arm's label.
    compared
        The labels with a dummy, in order: the non-control arms (``(1,)``, exposure, for a
        stepped wedge).
    row_arm
        Each row's arm index (0/1 exposure for a stepped wedge).
    control_arm
        The control arm's index (0, unexposed, for a stepped wedge).
    compared_arms
        The arm index of each compared label.
    dummy_of
        Dummy index of each arm, ``-1`` for control (0 for every step of a stepped wedge:
        each step's exposure is the one dummy).
    """

    n_arms: int
    control: Hashable
    compared: tuple[Hashable, ...]
    row_arm: IntArray
    control_arm: int
    compared_arms: IntArray
    dummy_of: IntArray

    def exposure(self) -> FloatArray:
        """1.0 for rows in a non-control arm (exposed rows of a stepped wedge), else 0.0."""
        out: FloatArray = (self.row_arm != self.control_arm).astype(np.float64)
        return out

    def dummies(self) -> FloatArray:
        """Rows × compared labels: 1.0 where the row is in that arm."""
        out: FloatArray = (self.row_arm[:, None] == self.compared_arms[None, :]).astype(np.float64)
        return out


def _sorted_labels(column: pd.Series) -> list[Hashable]:
    return sorted(pd.unique(column).tolist(), key=lambda v: (str(type(v)), v))


def _control_label(labels: list[Hashable], control: Hashable | None, treatment: str) -> Hashable:
    """The control label: as given, else 0 when present, else the first sorted label."""
    if control is None:  # as the regression estimators (``_design.encode_arms``)
        control = next((v for v in labels if not isinstance(v, str) and v == 0), labels[0])
    if control not in labels:
        raise EstimationError(
            f"control arm {control!r} is not among the labels {labels} "
            f"of column {treatment!r}. Fix: pass one of them."
        )
    if len(labels) < 2:
        raise EstimationError(
            f"column {treatment!r} has one arm only ({labels}); "
            "randomisation inference compares arms."
        )
    return control


def _index_from_arms(
    labels: list[Hashable], arms: Sequence[Hashable], n_arms: int
) -> dict[Hashable, int]:
    order = list(arms)
    if len(order) != n_arms or any(v not in order for v in labels):
        raise EstimationError(
            f"`arms` must list the scheme's {n_arms} arm labels in order and include every "
            f"label in the data ({labels}). Got {order!r} instead."
        )
    return {v: order.index(v) for v in labels}


def _scheme_arm_index(
    labels: list[Hashable], scheme: Scheme, arms: Sequence[Hashable] | None
) -> dict[Hashable, int]:
    """The scheme's arm index of each observed label."""
    n_arms = scheme.n_arms
    if arms is not None:
        return _index_from_arms(labels, arms, n_arms)
    if all(isinstance(v, int | np.integer) and 0 <= int(v) < n_arms for v in labels):
        return {v: int(v) for v in labels}  # type: ignore[call-overload]
    if len(labels) == n_arms and len(set(scheme.ratios)) == 1 and n_arms <= 3:
        return {v: i for i, v in enumerate(labels)}
    raise EstimationError(
        f"cannot tell which of the labels {labels} is which of the scheme's {n_arms} arms "
        f"(ratios {':'.join(map(str, scheme.ratios))}). Fix: pass `arms=` with the labels in "
        "the scheme's arm order, or code the treatment column 0 … K−1."
    )


def _exposure_coding(data: pd.DataFrame, treatment: str, n_steps: int) -> ArmCoding:
    """A stepped wedge: the treatment column is 0/1 exposure, each step one arm."""
    exposed = (numeric_columns(data, [treatment])[:, 0] != 0).astype(np.int64)
    return ArmCoding(
        n_arms=n_steps,
        control=0,
        compared=(1,),
        row_arm=exposed,
        control_arm=0,
        compared_arms=np.array([1], np.int64),
        dummy_of=np.zeros(n_steps, np.int64),
    )


def code_arms(
    data: pd.DataFrame,
    treatment: str,
    control: Hashable | None,
    *,
    scheme: Scheme | None,
    arms: Sequence[Hashable] | None,
) -> ArmCoding:
    """Code the treatment column as the arms of ``scheme`` (or of the labels, without one)."""
    if isinstance(scheme, SteppedWedge):
        return _exposure_coding(data, treatment, scheme.n_arms)
    labels = _sorted_labels(data[treatment])
    control = _control_label(labels, control, treatment)
    if scheme is None:
        index, n_arms = {v: i for i, v in enumerate(labels)}, len(labels)
    else:
        index, n_arms = _scheme_arm_index(labels, scheme, arms), scheme.n_arms
    if len(set(index.values())) < n_arms:
        raise EstimationError(
            f"the scheme has {n_arms} arms but the data have rows in "
            f"{len(labels)} of them. Fix: check the treatment column."
        )
    label_code = positions(data[treatment], pd.Index(labels))
    compared = tuple(v for v in labels if v != control)
    compared_arms = np.array([index[v] for v in compared], np.int64)
    dummy_of = np.full(n_arms, -1, np.int64)
    dummy_of[compared_arms] = np.arange(len(compared))
    return ArmCoding(
        n_arms=n_arms,
        control=control,
        compared=compared,
        row_arm=np.array([index[v] for v in labels], np.int64)[label_code],
        control_arm=index[control],
        compared_arms=compared_arms,
        dummy_of=dummy_of,
    )
