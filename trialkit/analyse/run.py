"""Run the registered plan on validated data and gather one :class:`ResultsDocument`.

This is orchestration, not statistics: it calls the validate, register, design and
estimate stages and lays their results out as the typed document that ``trialkit report``
renders (``results.json`` is its JSON). Every number keeps its provenance.
"""

from __future__ import annotations

from collections.abc import Callable
from concurrent.futures import Executor
from dataclasses import asdict
from pathlib import Path
from typing import TYPE_CHECKING, Any

from trialkit._core.blas import one_blas_thread
from trialkit._core.memory import return_freed_memory, reusing_freed_pages
from trialkit.analyse import effects, trial
from trialkit.analyse.document import BayesianSection, ResultsDocument
from trialkit.analyse.rows import EstimateRow, VerdictRow
from trialkit.analyse.spending import BayesOptions, spending_section
from trialkit.analyse.trial_rows import DeviationRow, DocumentProvenance, RegistrationInfo
from trialkit.estimate.frequentist.analysis_frame import AnalysisFrame
from trialkit.estimate.frequentist.kept_factors import reusing_factorisations
from trialkit.estimate.frequentist.plan import fit as fit_frequentist
from trialkit.estimate.spending.ledger import Ledger
from trialkit.protocol import Protocol
from trialkit.register import Registration, compare
from trialkit.validate import TrialData

if TYPE_CHECKING:
    from trialkit.randomise.audit import AuditSample

Echo = Callable[[str], None]


def analyse(
    protocol: Protocol,
    data: TrialData,
    *,
    registration: Registration | None = None,
    deviation_reason: str = "",
    bayesian: bool = True,
    draws: int | None = None,
    chains: int | None = None,
    tune: int | None = None,
    ledger: Path | None = None,
    audit: AuditSample | None = None,
    engine: Executor | Any | None = None,
    echo: Echo = lambda _: None,
) -> ResultsDocument:
    """Run the frequentist (and Bayesian) plan; return the results document.

    Parameters
    ----------
    protocol
        The protocol as it stands now (compared with the registered one for deviations).
    data
        Validated data (:func:`trialkit.validate.outcomes`).
    registration
        The registration, or ``None`` for an analysis that was not pre-registered (the
        report then says so on every page).
    deviation_reason
        The reason given for any difference from the registered protocol.
    bayesian
        Fit the Bayesian plan too (when the protocol enables it).
    draws, chains, tune
        Override the Bayesian plan's draws, chains and tuning steps (e.g. for a quick
        demo or a test); the plan's own settings otherwise.
    ledger
        The pilot's ledger, which tells amendments (changes before outcome data were first
        validated) from deviations.
    audit
        The audit sample of spends that were reviewed (``trialkit audit-sample``), when the
        protocol's spend review covers a sample; misuse rates and losses then carry its
        inclusion weights. ``None``: every spend was reviewed.
    engine
        Where the frequentist plan fits its outcomes: ``None`` in this process; an open
        ``distributed.Client`` one outcome per task on its workers (the same results).
        Everything else (randomisation inference, the Bayesian plan, the spending section)
        runs in this process.
    echo
        Progress messages.
    """
    with one_blas_thread(), reusing_freed_pages():
        return _analyse(
            protocol,
            data,
            registration=registration,
            deviation_reason=deviation_reason,
            bayesian=bayesian,
            draws=draws,
            chains=chains,
            tune=tune,
            ledger=ledger,
            audit=audit,
            engine=engine,
            echo=echo,
        )


def _analyse(
    protocol: Protocol,
    data: TrialData,
    *,
    registration: Registration | None,
    deviation_reason: str,
    bayesian: bool,
    draws: int | None,
    chains: int | None,
    tune: int | None,
    ledger: Path | None,
    audit: AuditSample | None,
    engine: Executor | Any | None,
    echo: Echo,
) -> ResultsDocument:
    return_freed_memory()  # what validation freed
    echo("estimating: frequentist plan")
    frames: dict[str, AnalysisFrame] = {}  # each level's rows converted once for every stage
    # Each stage keeps the design it factorised last for the outcomes after it, and lets
    # it go at its end (so the next stage's peak memory does not hold it too).
    with reusing_factorisations():
        fitted = fit_frequentist(protocol, data, frames=frames, engine=engine)
    return_freed_memory()
    freq = effects.frequentist_rows(fitted)
    echo("estimating: randomisation inference for the primary outcomes")
    randomisation = effects.randomisation_rows(protocol, data, frames=frames)
    section = _bayesian(
        protocol, data, bayesian=bayesian, draws=draws, chains=chains, tune=tune, echo=echo
    )
    attrition, checks = trial.attrition(data)
    spends = Ledger.from_data(protocol, data)  # one ledger for both sections that read it
    with reusing_factorisations():
        spending = spending_section(
            protocol,
            data,
            spends,
            audit=audit,
            echo=echo,
            bayes=BayesOptions(run=bayesian, draws=draws, chains=chains, tune=tune),
            frames=frames,
        )
    del frames
    prov = data.provenance
    return ResultsDocument.model_validate(
        {
            "provenance": DocumentProvenance(
                trialkit_version=prov.trialkit_version,
                protocol_hash=protocol.content_hash(),
                seed=protocol.seed,
                created_utc=prov.created_utc,
                inputs=dict(prov.inputs),
                versions=dict(prov.versions),
            ),
            "protocol": protocol,
            "registration": _registration(registration),
            "deviations": _deviations(registration, protocol, deviation_reason, ledger),
            "flow": trial.flow(data),
            "attrition": attrition,
            "attrition_checks": checks,
            "balance": trial.balance(protocol, data),
            "schematic": trial.schematic(protocol, data),
            "power": trial.power(protocol),
            "warnings": tuple(str(w) for w in data.warnings),
            "notes": fitted.notes + _notes(protocol),
            "misuse": trial.misuse(protocol, data, spends),
            **freq,
            "randomisation": randomisation,
            **_verdicts(protocol, freq["estimates"], section),  # type: ignore[arg-type]
            "bayesian": section,
            "spending": spending,
        },
        context={"defer_rules": True},
    )


def _verdicts(
    protocol: Protocol, estimates: tuple[EstimateRow, ...], section: BayesianSection
) -> dict[str, tuple[VerdictRow, ...]]:
    """The registered criterion applied to primary, mechanism and shirking outcomes."""
    shirking = {f.name for f in protocol.families if f.kind == "shirking"}
    groups = {
        "verdicts": {o.name for o in protocol.outcomes if o.role == "primary"},
        "mechanisms": {o.name for o in protocol.outcomes if o.role == "mechanism"},
        "shirking": {o.name for o in protocol.outcomes if o.family in shirking},
        "retention": {o.name for o in protocol.outcomes if o.type == "survival"},
    }
    return {
        key: effects.verdicts(protocol, estimates, section.posteriors, outcomes=names)
        for key, names in groups.items()
    }


def _bayesian(
    protocol: Protocol,
    data: TrialData,
    *,
    bayesian: bool,
    draws: int | None,
    chains: int | None,
    tune: int | None,
    echo: Echo,
) -> BayesianSection:
    if not protocol.analysis.bayesian.enabled:
        return BayesianSection(status="disabled_in_protocol")
    if not bayesian:
        return BayesianSection(status="not_requested")
    from trialkit.analyse.bayes import bayesian_section

    return bayesian_section(protocol, data, draws=draws, chains=chains, tune=tune, echo=echo)


def _notes(protocol: Protocol) -> tuple[str, ...]:
    sensitivity = protocol.analysis.sensitivity
    if not sensitivity:
        return ()
    return tuple(
        f"Registered sensitivity analysis not run by trialkit (run it separately "
        f"and report it beside these results): {text}"
        for text in sensitivity
    )


def _registration(registration: Registration | None) -> RegistrationInfo:
    if registration is None:
        return RegistrationInfo(registered=False)
    return RegistrationInfo(
        registered=True,
        protocol_hash=registration.protocol_hash,
        registered_utc=registration.registered_utc,
        trialkit_version=registration.trialkit_version,
    )


def _deviations(
    registration: Registration | None, protocol: Protocol, reason: str, ledger: Path | None
) -> tuple[DeviationRow, ...]:
    if registration is None:
        return ()
    found = compare(registration.protocol, protocol, reason=reason, ledger=ledger)
    return tuple(DeviationRow.model_validate(asdict(d)) for d in found)
