"""The spending section of the results document: what the spend ledger says.

Orchestration only. The compliance findings come from ``validate``
(:class:`~trialkit.validate.spending.SpendCheck`); take-up, equity and dose from
:mod:`trialkit.estimate.spending.plan`; review, severity and green tape from
:mod:`trialkit.estimate.spending.misuse`; the hierarchical misuse model from
:mod:`trialkit.estimate.bayesian.misuse_model` (only when the Bayesian plan runs).
"""

from __future__ import annotations

import math
from collections.abc import Callable, Iterable, Sequence
from dataclasses import asdict, dataclass, fields
from typing import TYPE_CHECKING, Any

from pydantic import TypeAdapter

from trialkit.analyse.spending_rows import (
    CategoryRow,
    DoseBinRow,
    DoseRow,
    EquityGapRow,
    EquityRow,
    GreenTapeRow,
    MisuseModelRow,
    PeriodRow,
    ReviewRow,
    RuleCountRow,
    SeverityRow,
    SpendFindingRow,
    SpendingSection,
    TakeUpRow,
)
from trialkit.analyse.trial import model_rows
from trialkit.estimate.frequentist.analysis_frame import AnalysisFrame
from trialkit.estimate.spending.ledger import Ledger
from trialkit.protocol import Protocol
from trialkit.protocol.vocabulary import SpendRule
from trialkit.validate import TrialData
from trialkit.validate.spending import SpendCheck, SpendFinding

if TYPE_CHECKING:
    from trialkit.randomise.audit import AuditSample

Echo = Callable[[str], None]
#: The rule that only arms without a budget can break.
CONTROL_RULE: SpendRule = "control_arm_spend"


@dataclass(frozen=True, slots=True)
class BayesOptions:
    """Whether the Bayesian plan runs, and its sampler overrides (``None``: the plan's)."""

    run: bool = False
    draws: int | None = None
    chains: int | None = None
    tune: int | None = None


@dataclass(frozen=True, slots=True)
class _MisuseRows:
    review: ReviewRow | None = None
    severity: tuple[SeverityRow, ...] = ()
    green_tape: tuple[GreenTapeRow, ...] = ()


def spending_section(
    protocol: Protocol,
    data: TrialData,
    ledger: Ledger | None,
    *,
    audit: AuditSample | None = None,
    bayes: BayesOptions = BayesOptions(),
    echo: Echo = lambda _: None,
    frames: dict[str, AnalysisFrame] | None = None,
) -> SpendingSection | None:
    """The spending section; ``None`` when the protocol declares no ledger or none was given.

    Parameters
    ----------
    protocol, data
        The protocol and its validated data (the coded ledger is
        ``data.frames[protocol.spending.level]``, its findings ``data.spending``).
    ledger
        That ledger (:meth:`Ledger.from_data`), or ``None`` when there is none.
    audit
        The audit sample whose spends were reviewed (``review.coverage: sample``); ``None``
        for a census.
    bayes
        Whether to fit the hierarchical misuse model, and the sampler settings.
    echo
        Progress messages.
    frames
        The levels' analysis frames, shared with the other stages of the analysis.
    """
    from trialkit.estimate.spending.plan import fit

    if ledger is None:
        return None
    echo("estimating: take-up, equity and dose of the spend ledger")
    fitted = fit(protocol, data, ledger, frames=frames)
    notes = list(fitted.notes)
    equity, gaps = _equity_rows(protocol, fitted.equity, fitted.equity_gaps, notes)
    misuse = _misuse_rows(protocol, ledger, audit=audit, notes=notes)
    model = _misuse_model(protocol, ledger, bayes=bayes, echo=echo, notes=notes)
    dose = _rows(DoseRow, _finite(fitted.dose, "dose", notes))
    check = data.spending
    budget = next((b for b in ledger.budgets.values() if b is not None), None)
    return SpendingSection(
        currency=budget.currency if budget is not None else protocol.costs.currency,
        period=budget.period if budget is not None else "month",
        files=check.files if check is not None else (),
        findings=_findings(check),
        rule_counts=rule_counts(ledger, check),
        take_up=_rows(TakeUpRow, fitted.take_up),
        categories=_rows(CategoryRow, fitted.categories),
        periods=_rows(PeriodRow, fitted.periods),
        equity=equity,
        equity_gaps=gaps,
        dose=dose,
        dose_bins=_rows(DoseBinRow, fitted.dose_bins),
        review=misuse.review,
        severity=misuse.severity,
        green_tape=misuse.green_tape,
        misuse_model=model,
        notes=tuple(notes),
    )


def _rows(model: Any, results: Iterable[Any], **extra: Any) -> tuple[Any, ...]:
    """Document rows of ``model`` from frozen dataclasses (unknown fields dropped)."""
    return model_rows(model, [asdict(r) for r in results], **extra)


def _finite(results: Sequence[Any], what: str, notes: list[str]) -> list[Any]:
    """The results whose numbers are all defined; a note for each left out."""
    kept = []
    for result in results:
        values = [v for v in asdict(result).values() if isinstance(v, float)]
        values += [
            v
            for pair in asdict(result).values()
            if isinstance(pair, tuple)
            for v in pair
            if isinstance(v, float)
        ]
        if all(math.isfinite(v) for v in values):
            kept.append(result)
        else:
            arm = getattr(result, "arm", "")
            notes.append(
                f"A {what} result in arm `{arm}` is not shown: its cluster-robust "
                "interval is undefined (e.g. every client of a group is in one "
                "unit)."
            )
    return kept


def _equity_rows(
    protocol: Protocol, levels: Sequence[Any], gaps: Sequence[Any], notes: list[str]
) -> tuple[tuple[EquityRow, ...], tuple[EquityGapRow, ...]]:
    labels = {sub.name: sub.label for sub in protocol.subgroups}
    level_rows = tuple(
        row
        for result in _finite(levels, "equity", notes)
        for row in _rows(EquityRow, [result], label=labels[result.subgroup])
    )
    gap_rows = tuple(
        row
        for result in _finite(gaps, "equity gap", notes)
        for row in _rows(EquityGapRow, [result], label=labels[result.subgroup])
    )
    return level_rows, gap_rows


_FINDING_ROWS = TypeAdapter(tuple[SpendFindingRow, ...])


def _findings(check: SpendCheck | None) -> tuple[SpendFindingRow, ...]:
    if check is None:
        return ()
    # One validation call for every finding (a large ledger has thousands); the findings'
    # fields are flat, so reading their slots equals dataclasses.asdict without its copies.
    names = [f.name for f in fields(SpendFinding)]
    found = [{name: getattr(f, name) for name in names} for f in check.findings]
    return _FINDING_ROWS.validate_python(found)


def rule_counts(ledger: Ledger, check: SpendCheck | None) -> tuple[RuleCountRow, ...]:
    """Spends breaking each rule in each arm, and the money they involved.

    Every rule checked gets a row (zero included) in each arm with a budget (the
    control-arm rule in arms without one instead); other pairs appear when they have
    findings. Rows follow the rules' order, then the protocol's arm order.
    """
    if check is None:
        return ()
    broken: dict[tuple[str, str], dict[str, float]] = {}
    for finding in check.findings:
        spends = broken.setdefault((finding.rule, finding.arm), {})
        spends[finding.spend_id] = finding.amount  # a spend counts once per rule
    treated = set(ledger.treated())
    rows = []
    for rule in check.rules:
        for arm in ledger.budgets:
            expected = (arm not in treated) if rule == CONTROL_RULE else (arm in treated)
            if (rule, arm) not in broken and not expected:
                continue
            spends = broken.get((rule, arm), {})
            total = len(ledger.spends_in(arm))
            rows.append(
                RuleCountRow(
                    rule=rule,
                    arm=arm,
                    spends=len(spends),
                    amount=float(sum(spends.values())),
                    share_of_spends=len(spends) / total if total else 0.0,
                )
            )
    return tuple(rows)


def _misuse_rows(
    protocol: Protocol, ledger: Ledger, *, audit: AuditSample | None, notes: list[str]
) -> _MisuseRows:
    """Review, severity and green tape: :mod:`trialkit.estimate.spending.misuse`.

    Over the whole ledger, with the review's design (a census, or the audit sample's
    strata and inclusion probabilities); the design's own notes join the section's.
    """
    from trialkit.analyse.spending_model import months_covered
    from trialkit.estimate.spending.misuse import net_of_green_tape, severity_estimates
    from trialkit.estimate.spending.review import review_design

    spending = protocol.spending
    if spending is None:
        return _MisuseRows()
    cols = ledger.columns
    level = protocol.level(spending.level)
    design = review_design(
        ledger.spends,
        audit=audit,
        verdict_column=cols.verdict,
        id_column=level.id_column if level is not None else "spend_id",
    )
    notes.extend(design.notes)
    common: dict[str, Any] = {
        "design": design,
        "cluster": cols.worker,
        "verdict_column": cols.verdict,
        "loss_column": cols.loss,
        "amount_column": cols.amount,
    }
    severity = severity_estimates(ledger.spends, months=months_covered(protocol, ledger), **common)
    tape = protocol.costs.green_tape
    units = {arm: int((ledger.units["arm"] == arm).sum()) for arm in ledger.treated()}
    green = (
        net_of_green_tape(ledger.spends, green_tape=tape, units=units, **common)
        if tape is not None
        else ()
    )
    return _MisuseRows(
        review=ReviewRow.model_validate(asdict(design.info(spending.review.reviewer))),
        severity=_rows(SeverityRow, severity),
        green_tape=_rows(GreenTapeRow, green),
    )


def _misuse_model(
    protocol: Protocol, ledger: Ledger, *, bayes: BayesOptions, echo: Echo, notes: list[str]
) -> tuple[MisuseModelRow, ...]:
    """The beta-binomial model of misuse per worker and per unit (Bayesian plan only)."""
    if not bayes.run or not protocol.analysis.bayesian.enabled:
        return ()
    from trialkit.analyse.spending_model import misuse_model_rows

    echo("estimating: hierarchical model of misuse per worker and per unit")
    return misuse_model_rows(
        protocol, ledger, draws=bayes.draws, chains=bayes.chains, tune=bayes.tune, notes=notes
    )
