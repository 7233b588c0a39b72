"""The spend ledger as a data level: data errors stop the run, compliance findings are results.

With ``spending:`` in the protocol, the file of ``spending.level`` holds one row per
discretionary spend. Validation keeps two kinds of output apart:

* **data errors** (:mod:`trialkit.validate.spending_data`): a missing column, an amount
  that is not a number or is negative, another currency, an unknown client or worker, an
  undeclared category, a date that is not a date or lies outside the pilot, a verdict or
  loss that cannot be right. They are located issues and stop the run, like any other.
* **compliance findings** (:mod:`trialkit.validate.spending_rules`): a spend that broke
  one of the budget's rules (a cap, an excluded category, a late or missing
  justification, a spend where there is no budget, a spend not reviewed). They are
  results: counted, located and carried into the results, never fatal, and no row is
  dropped for them.

The coded ledger (``TrialData.frames[spending.level]``) keeps every row with ``amount``
and ``loss`` as floats, the two dates as ``datetime64[ns]``, canonical category and
verdict names, ``period`` (the budget period's label, e.g. ``2027-03``) and
``working_days_to_justify``.
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass
from typing import get_args

import numpy as np
import pandas as pd
from numpy.typing import NDArray

from trialkit.errors import Issue, Location
from trialkit.protocol.model import Protocol
from trialkit.protocol.vocabulary import Period, SpendRule
from trialkit.validate.issues import show

#: Findings listed one by one in :meth:`SpendCheck.summary`; the rest are counted.
SHOWN_FINDINGS = 20


@dataclass(frozen=True, slots=True)
class SpendFinding:
    """One spend that broke one declared rule: a result, never an error.

    Attributes
    ----------
    rule
        The rule broken (:data:`~trialkit.protocol.vocabulary.SpendRule`).
    spend_id
        The spend's id (a pseudonym when validation pseudonymised ids).
    file, row, column
        Where it is: the ledger file, its spreadsheet row (header = row 1) and the column
        that shows the breach (the amount for a cap, the date justified when late, …).
    unit, arm
        The randomised unit (e.g. team) the spend was made in, and its allocated arm.
    worker
        A pseudonym of the worker who spent (``W001``… in order of first appearance in the
        ledger, or the keyed pseudonym when ids were pseudonymised).
    amount
        The spend's amount, in the budget's currency.
    limit
        The cap (money) or deadline (working days) broken; ``None`` for rules without one.
    value
        What the spend reached: the cumulative total for a cap, the working days taken
        for a late justification; ``None`` for rules without a measure.
    period
        The budget period of a per-period cap (e.g. ``2027-04``), else ``None``.
    message
        What happened, in plain words with the numbers.
    """

    rule: SpendRule
    spend_id: str
    file: str
    row: int
    column: str
    unit: str
    arm: str
    worker: str | None
    amount: float
    limit: float | None
    value: float | None
    period: str | None
    message: str

    def issue(self) -> Issue:
        """This finding as an issue of severity ``finding`` (for ``issues.csv``)."""
        return Issue(
            f"{self.rule}: {self.message}",
            Location(file=self.file, row=self.row, column=self.column),
            severity="finding",
            value=None if self.value is None else show(round(self.value, 2)),
            expected=self._expected(),
        )

    def _expected(self) -> str | None:
        if self.limit is None:
            return None
        if self.rule in ("late_justification", "missing_justification"):
            return f"justified within {show(self.limit)} working days"
        return f"at most {show(self.limit)}"

    def __str__(self) -> str:
        where = Location(file=self.file, row=self.row, column=self.column)
        return f"{where}: {self.rule}: {self.message}"


@dataclass(frozen=True, slots=True)
class SpendCheck:
    """The compliance findings of a spend ledger, in file order.

    Attributes
    ----------
    findings
        One finding per broken rule per spend, ordered by row, then rule.
    files
        The ledger's file name(s).
    spends
        Spends checked (every row of the ledger).
    rules
        The rules that were checked: a rule whose limit the protocol leaves out (e.g. no
        ``justification_days``) is not.
    """

    findings: tuple[SpendFinding, ...]
    files: tuple[str, ...]
    spends: int
    rules: tuple[SpendRule, ...]

    def counts(self) -> dict[SpendRule, int]:
        """Findings per rule, for every rule checked (zeros included), in rule order."""
        found = Counter(f.rule for f in self.findings)
        return {rule: found.get(rule, 0) for rule in self.rules}

    def to_frame(self) -> pd.DataFrame:
        """One row per finding, with the columns of :class:`SpendFinding`."""
        columns = list(SpendFinding.__dataclass_fields__)
        return pd.DataFrame(
            [{c: getattr(f, c) for c in columns} for f in self.findings], columns=columns
        )

    def issues(self) -> tuple[Issue, ...]:
        """Every finding as an issue of severity ``finding``, in file order."""
        return tuple(f.issue() for f in self.findings)

    def summary(self, shown: int = SHOWN_FINDINGS) -> str:
        """The count, the counts by rule and the first ``shown`` findings, as text."""
        files = ", ".join(self.files)
        lines = [
            f"Compliance findings (results, not errors): {len(self.findings):,} "
            f"in {self.spends:,} spends ({files})"
        ]
        width = max((len(r) for r in self.rules), default=0)
        lines += [f"  {rule:<{width}}  {n:>8,}" for rule, n in self.counts().items()]
        lines += [f"  {f}" for f in self.findings[:shown]]
        rest = len(self.findings) - shown
        if shown > 0 and rest > 0:
            lines.append(
                f"  … and {rest:,} more (all are listed by `trialkit validate --report "
                "issues.csv`)."
            )
        return "\n".join(lines)

    def __str__(self) -> str:
        return self.summary()


#: Budget periods, in a fixed order (their places tell periods of different lengths apart).
PERIODS: tuple[Period, ...] = ("week", "month", "quarter", "year")

#: Every rule, in the order findings of one spend are listed.
RULE_ORDER: tuple[SpendRule, ...] = get_args(SpendRule)


@dataclass(frozen=True, slots=True, eq=False)
class Workers:
    """Each spend's worker as a code into ``labels``, the workers' pseudonyms (−1: none)."""

    codes: NDArray[np.int64]
    labels: tuple[str, ...]

    def label(self, i: int) -> str | None:
        """The pseudonym of spend ``i``'s worker."""
        code = int(self.codes[i])
        return None if code < 0 else self.labels[code]


def category_names(protocol: Protocol) -> tuple[str, ...]:
    """The category names the budgets declare, each once, in protocol order."""
    budgets = [a.intervention.discretionary_budget for a in protocol.arms]
    return tuple(dict.fromkeys(c.name for b in budgets if b is not None for c in b.categories))


@dataclass(frozen=True, slots=True, eq=False)
class LedgerKeys:
    """Codes that validating the ledger found on its way, so that its rules need not hash a
    million values again. Each is ``None`` when not known (the rules then code the values
    themselves).

    Attributes
    ----------
    clients, workers
        Each spend's position in the client and worker files (−1: unknown).
    units
        Each spend's unit's position in the allocation (−1: unknown).
    categories, verdicts
        The position of each spend's category in :func:`category_names` and of its verdict
        in ``SPEND_VERDICTS`` (−1: unknown or none).
    periods
        A code of each spend's budget period: equal codes, same period of the same length;
        negative where the date is missing.
    unwritten
        Where the spend's justification is blank.
    """

    clients: NDArray[np.int64] | None = None
    workers: NDArray[np.int64] | None = None
    units: NDArray[np.int64] | None = None
    categories: NDArray[np.int64] | None = None
    verdicts: NDArray[np.int64] | None = None
    periods: NDArray[np.int64] | None = None
    unwritten: NDArray[np.bool_] | None = None


def _first_seen(positions: NDArray[np.int64]) -> tuple[NDArray[np.int64], NDArray[np.int64]]:
    """Codes of small non-negative numbers in order of first appearance (as
    ``pd.factorize`` numbers them), and where each first appears; without hashing.

    Examples
    --------
    >>> codes, firsts = _first_seen(np.array([4, 0, 4, 2]))
    >>> codes.tolist(), firsts.tolist()
    ([0, 1, 0, 2], [0, 1, 3])
    """
    n, size = len(positions), int(positions.max()) + 1
    first = np.full(size, n, dtype=np.int64)
    np.minimum.at(first, positions, np.arange(n, dtype=np.int64))
    firsts = np.sort(first[first < n])
    rank = np.empty(size, dtype=np.int64)
    rank[positions[firsts]] = np.arange(len(firsts), dtype=np.int64)
    return np.asarray(rank[positions], dtype=np.int64), firsts


def worker_labels(
    workers: pd.Series, *, pseudonymised: bool, positions: NDArray[np.int64] | None = None
) -> Workers:
    """Pseudonyms of the workers: kept when ids are already keyed pseudonyms, else
    ``W1``, ``W2``… (zero-padded to one width) in order of first appearance in the ledger.

    ``positions``, each spend's worker's position in the worker file, tells the workers
    apart without hashing their ids again, when every worker was found there.

    Examples
    --------
    >>> found = worker_labels(pd.Series(["S9", "S2", "S9"]), pseudonymised=False)
    >>> [found.label(i) for i in range(3)]
    ['W1', 'W2', 'W1']
    >>> ids = pd.Series(["S9", "S2", "S9"])
    >>> worker_labels(ids, pseudonymised=True, positions=np.array([4, 0, 4])).labels
    ('S9', 'S2')
    """
    if positions is not None and len(positions) and int(positions.min()) >= 0:
        codes, firsts = _first_seen(positions)
        uniques: list[object] = (
            workers.iloc[firsts].tolist() if pseudonymised else [None] * len(firsts)
        )
    else:
        found, values = pd.factorize(workers, use_na_sentinel=True)
        codes, uniques = np.asarray(found, dtype=np.int64), list(values)
    width = len(str(len(uniques)))
    labels = (
        tuple(str(u) for u in uniques)
        if pseudonymised
        else tuple(f"W{k + 1:0{width}d}" for k in range(len(uniques)))
    )
    return Workers(codes, labels)


def spend_check(
    protocol: Protocol,
    frame: pd.DataFrame,
    *,
    file: str,
    pseudonymised: bool = False,
    keys: LedgerKeys | None = None,
) -> SpendCheck:
    """The compliance findings of the coded, allocated ledger ``frame``.

    Parameters
    ----------
    protocol
        The protocol; it must declare ``spending:``.
    frame
        The ledger as validation codes it, with ``arm`` from the allocation.
    file
        The ledger's file name, for locations.
    pseudonymised
        Whether ids in ``frame`` are keyed pseudonyms already.
    keys
        Client and unit codes found while validating the ledger (an optimisation).

    Returns
    -------
    SpendCheck
        Every finding, in file order.
    """
    from trialkit.validate.spending_rules import checked_rules, compliance

    assert protocol.spending is not None, "spend_check needs a protocol with `spending:`"
    keys = keys or LedgerKeys()
    workers = worker_labels(
        frame[protocol.spending.columns.worker],
        pseudonymised=pseudonymised,
        positions=keys.workers,
    )
    findings = compliance(protocol, frame, file=file, workers=workers, keys=keys)
    return SpendCheck(
        findings=tuple(findings),
        files=(file,),
        spends=len(frame),
        rules=checked_rules(protocol),
    )
