"""The rows of the results document's spending section: the intervention itself.

What the budget was spent on and by whom (take-up, dose, categories, months, cap
headroom), whether it kept its rules (compliance findings), whether it reached the
clients it should (equity), what a pound of it did (dose), and how much was wasted or
misused (by severity, with intervals; a hierarchical model of workers' misuse), net of
the green tape it replaced. Money is in ``SpendingSection.currency``. Workers and units
appear only as pseudonyms.
"""

from __future__ import annotations

from typing import Literal

from trialkit.analyse.rows import Number, Row
from trialkit.protocol.vocabulary import SpendRule, SpendVerdict

Interval = tuple[float, float]


class SpendFindingRow(Row):
    """One compliance finding: a spend that broke a declared rule (a result, not an error).

    ``row`` is the spreadsheet row of the spend in ``file`` (header = row 1); ``worker``
    is a pseudonym. ``limit`` is the cap or deadline broken (money, or working days);
    ``value`` what the spend reached (the cumulative total for a period cap, working days
    taken for a late justification).
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
    limit: Number
    value: Number
    period: str | None
    message: str


class RuleCountRow(Row):
    """How many spends broke one rule, and the money they involved, in one arm."""

    rule: SpendRule
    arm: str
    spends: int
    amount: float
    share_of_spends: float


class TakeUpRow(Row):
    """Fidelity and take-up in one arm: who used the budget, how much, how soon.

    Spend per client is over clients who received any spend; quantiles are the 10th,
    25th, 50th, 75th and 90th percentiles. ``days_to_first_spend`` is the median, over
    workers who spent, of days from the intervention start to their first spend.
    ``cap_used_median`` is the median share of the per-client cap used by a client who
    received any spend; ``clients_at_cap`` how many reached the cap.
    """

    arm: str
    units: int
    units_spending: int
    workers: int | None
    workers_spending: int | None
    clients: int | None
    clients_receiving: int | None
    spends: int
    total: float
    mean_spend: float | None
    per_client_mean: Number
    per_client_quantiles: tuple[float, float, float, float, float] | None
    days_to_first_spend: Number
    cap_used_median: Number
    clients_at_cap: int | None


class CategoryRow(Row):
    """Spending in one category and arm."""

    arm: str
    category: str
    label: str
    allowed: bool
    spends: int
    total: float
    share_of_total: float


class PeriodRow(Row):
    """Spending in one period (the budget's ``period``, e.g. ``2027-03``) and arm."""

    arm: str
    period: str
    spends: int
    total: float
    workers_spending: int


class EquityRow(Row):
    """Who the budget reached: clients of one equity subgroup level in one treated arm.

    ``share_receiving`` is the share of these clients who received any spend and
    ``per_client`` the mean spend per client (receiving or not), each with a
    cluster-robust interval over units.
    """

    subgroup: str
    label: str
    level: str
    arm: str
    clients: int
    share_receiving: float
    share_ci: Interval
    per_client: float
    per_client_ci: Interval


class EquityGapRow(Row):
    """The difference between two levels of an equity subgroup (``level`` − ``reference``)
    in one treated arm, in the share receiving (``statistic = "share_receiving"``) or the
    spend per client (``"per_client"``), with a cluster-robust interval and p-value."""

    subgroup: str
    label: str
    arm: str
    statistic: Literal["share_receiving", "per_client"]
    level: str
    reference: str
    estimate: float
    std_error: float
    ci_low: float
    ci_high: float
    ci_level: float
    p_value: float


class DoseRow(Row):
    """The effect of each ``per`` (e.g. £100) spent on a client outcome: an IV estimate
    (client spend instrumented by the arm, the ITT's covariates adjusted for).

    It assumes the budget affects outcomes only through the money spent on a client.
    ``first_stage_f`` is the first stage's F statistic for the instrument;
    ``mean_dose`` is the mean spend per client in ``arm``, in units of ``per``.
    """

    outcome: str
    arm: str
    per: float
    estimate: float
    std_error: float
    ci_low: float
    ci_high: float
    ci_level: float
    p_value: float
    first_stage_f: Number
    mean_dose: float
    n_obs: int
    n_clusters: int | None
    adjusted_for: tuple[str, ...] = ()


class DoseBinRow(Row):
    """Exploratory, not causal: the mean of ``outcome`` among treated-arm clients whose
    spend fell in ``[spend_low, spend_high)`` (``spend_low = spend_high = 0``: none)."""

    outcome: str
    arm: str
    spend_low: float
    spend_high: float
    clients: int
    outcome_mean: Number


class ReviewRow(Row):
    """How spends were reviewed: every one (``census``) or a stratified audit sample."""

    design: Literal["census", "stratified_sample"]
    spends: int
    reviewed: int
    strata: int
    sample_seed: int | None
    reviewer: str


class SeverityRow(Row):
    """The share of spends with a review ``verdict`` and the money lost to them.

    Rates and losses are Horvitz–Thompson estimates over the whole ledger (weights 1 for a
    census) with design-based intervals clustered on workers. ``loss_per_year`` scales
    the pilot's loss to twelve months of the same spending.
    """

    verdict: SpendVerdict
    spends: int
    rate: float
    rate_ci: Interval
    loss: float
    loss_ci: Interval
    loss_per_year: float
    ci_level: float


class MisuseModelRow(Row):
    """A beta-binomial model of each worker's (or unit's) misuse rate, with shrinkage.

    Each group's rate per spend is drawn from a Beta with mean ``mean_rate``;
    ``per_100`` answers "out of 100 workers like these, how many would misuse the budget
    at least once in a year?" (at ``spends_per_year`` spends each), ``per_100_above``
    how many would have a misuse rate above the tolerance, and ``cost_per_year`` what
    misuse would cost a year across the pilot's treated groups. Intervals are 95%
    credible intervals.
    """

    level: Literal["worker", "unit"]
    groups: int
    spends: int
    cases: int
    spends_per_year: float
    mean_rate: float
    mean_rate_ci: Interval
    per_100: float
    per_100_ci: Interval
    per_100_above: float
    per_100_above_ci: Interval
    tolerance: float
    p_mean_above_tolerance: float
    cost_per_year: float
    cost_per_year_ci: Interval
    rhat_max: float
    ess_bulk_min: float


class GreenTapeRow(Row):
    """Loss from misuse in one treated arm set against the approval cost it saved.

    ``saved`` is the green tape's cost per unit times the arm's units; ``net`` is
    ``saved - misuse_loss`` (positive: the rules cost more than misuse did).
    """

    arm: str
    units: int
    cost_per_unit: float
    saved: float
    misuse_loss: float
    misuse_loss_ci: Interval
    net: float
    net_ci: Interval


class SpendingSection(Row):
    """Everything the spend ledger says about the intervention, for the report."""

    currency: str
    period: str
    files: tuple[str, ...]
    findings: tuple[SpendFindingRow, ...] = ()
    rule_counts: tuple[RuleCountRow, ...] = ()
    take_up: tuple[TakeUpRow, ...] = ()
    categories: tuple[CategoryRow, ...] = ()
    periods: tuple[PeriodRow, ...] = ()
    equity: tuple[EquityRow, ...] = ()
    equity_gaps: tuple[EquityGapRow, ...] = ()
    dose: tuple[DoseRow, ...] = ()
    dose_bins: tuple[DoseBinRow, ...] = ()
    review: ReviewRow | None = None
    severity: tuple[SeverityRow, ...] = ()
    misuse_model: tuple[MisuseModelRow, ...] = ()
    green_tape: tuple[GreenTapeRow, ...] = ()
    notes: tuple[str, ...] = ()
