"""The ``trialkit`` command: parse arguments, call :mod:`trialkit.api`, print.

No statistics live here. A :class:`~trialkit.errors.TrialkitError` is printed without a
traceback and the command exits with status 2.
"""

from __future__ import annotations

import functools
import importlib
import sys
import types
from collections.abc import Callable
from pathlib import Path
from typing import Annotated, Any, TypeVar

import typer

from trialkit import __version__
from trialkit.errors import TrialkitError
from trialkit.protocol import bundled_protocols, load_protocol

app = typer.Typer(
    name="trialkit",
    help="Randomised trials of management practices in public services.",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
)

F = TypeVar("F", bound=Callable[..., Any])


def api() -> types.ModuleType:
    """The API module, imported on first use so `trialkit --version` stays fast."""
    return importlib.import_module("trialkit.api")


def user_errors(func: F) -> F:
    """Print a trialkit error's message to stderr and exit 2, with no traceback."""

    @functools.wraps(func)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        try:
            return func(*args, **kwargs)
        except TrialkitError as exc:
            typer.echo(f"error: {exc}", err=True)
            raise typer.Exit(2) from None

    return wrapper  # type: ignore[return-value]


def _version(value: bool) -> None:
    if value:
        typer.echo(f"trialkit {__version__}")
        raise typer.Exit()


@app.callback()
def main(
    version: Annotated[
        bool, typer.Option("--version", callback=_version, is_eager=True, help="Print the version.")
    ] = False,
) -> None:
    """Randomised trials of management practices in public services."""


ProtocolArg = Annotated[str, typer.Argument(help="Protocol YAML file, or a bundled name.")]
LedgerOption = Annotated[Path | None, typer.Option("--ledger", help="Record in this ledger.")]


@app.command()
def protocols() -> None:
    """List the bundled protocols, one a line: name, then title."""
    for name, path in bundled_protocols().items():
        protocol = load_protocol(path)
        typer.echo(f"{name}\t{protocol.design.type}\t{protocol.identity.title}")


@app.command()
@user_errors
def check(protocol: ProtocolArg) -> None:
    """Validate a protocol; exit 0 when valid, 2 with located messages otherwise."""
    from trialkit.protocol.support import protocol_warnings

    path = api().resolve_protocol(protocol)
    loaded = load_protocol(path)
    typer.echo(f"{path}: valid ({loaded.identity.id}, sha256 {loaded.content_hash()[:12]})")
    for issue in protocol_warnings(path):
        typer.echo(f"warning: {issue}", err=True)


@app.command()
def schema(
    results: Annotated[
        bool, typer.Option("--results", help="Print the schema of results.json instead.")
    ] = False,
) -> None:
    """Print the protocol's JSON Schema (or, with --results, that of results.json)."""
    sys.stdout.write(api().results_schema() if results else api().protocol_schema())


@app.command()
@user_errors
def init(
    directory: Annotated[Path, typer.Argument(help="New workspace directory.")],
    source: Annotated[str, typer.Option("--from", help="Bundled protocol name.")] = (
        "council_discretionary_budget"
    ),
) -> None:
    """Start a new pilot workspace from a bundled protocol (refuses to overwrite)."""
    for path in api().init_workspace(directory, source=source):
        typer.echo(f"wrote {path}")


@app.command(name="randomise")
@user_errors
def randomise_command(
    protocol: ProtocolArg,
    units: Annotated[Path, typer.Option("--units", help="Units CSV, one row per unit.")],
    out: Annotated[Path, typer.Option("--out", help="Allocation CSV to write.")] = Path(
        "allocation.csv"
    ),
    seed: Annotated[
        int | None, typer.Option("--seed", help="Seed; defaults to the protocol's.")
    ] = None,
    force: Annotated[bool, typer.Option("--force", help="Replace an existing allocation.")] = False,
    ledger: LedgerOption = None,
) -> None:
    """Randomise units with the protocol's scheme; write the allocation and its metadata."""
    allocation = api().randomise(protocol, units, out, seed=seed, force=force, ledger=ledger)
    typer.echo(allocation.summary())
    typer.echo(f"wrote {out} and its metadata")


@app.command()
@user_errors
def balance(
    protocol: ProtocolArg,
    allocation: Annotated[Path, typer.Option("--allocation", help="Allocation CSV.")],
    units: Annotated[Path, typer.Option("--units", help="Units CSV with covariates.")],
) -> None:
    """Print baseline balance by arm: means, standardised differences, WWC verdicts."""
    result = api().balance_table(protocol, allocation, units)
    typer.echo(result.to_frame().to_string(index=False, float_format=lambda v: f"{v:.3f}"))
    if result.test is not None:
        test = result.test
        typer.echo(f"Omnibus balance test by randomisation ({test.draws} draws of the "
                   f"`{test.scheme}` scheme): statistic {test.statistic:.3f}, "
                   f"p = {test.p_value:.3f}")


@app.command(name="register")
@user_errors
def register_command(
    protocol: ProtocolArg,
    out: Annotated[Path, typer.Option("--out", help="New registration directory.")] = Path(
        "registration"
    ),
    ledger: Annotated[
        Path | None, typer.Option("--ledger", help="Ledger; default: beside the directory.")
    ] = None,
) -> None:
    """Freeze the protocol (hash, UTC time), render the pre-analysis plan, start the ledger."""
    registration = api().register_protocol(protocol, out, ledger=ledger)
    typer.echo(f"registered {registration.protocol_hash} at {registration.registered_utc}")
    typer.echo(f"wrote {registration.directory}")


@app.command()
@user_errors
def verify(
    directory: Annotated[Path, typer.Argument(help="Pilot workspace, or its ledger file.")],
) -> None:
    """Check the ledger's hash chain and every file it references; exit 2 if altered.

    An incomplete last entry left by an interrupted write is reported as such, with the
    command that repairs it. On success, prints the head hash and the number of entries.
    """
    check = api().audit_workspace(directory)
    for problem in check.problems:
        typer.echo(f"ALTERED {problem}", err=True)
    if check.torn is not None:
        typer.echo(f"INCOMPLETE {check.torn.describe(check.ledger)}", err=True)
    if not check.intact:
        raise typer.Exit(2)
    typer.echo(f"{check.ledger}: chain intact; every recorded file matches its sha256")
    typer.echo(f"head {check.head} after {check.count} entries: record both elsewhere (an "
               "email, a registry, a git commit) so a later truncated or rewritten ledger shows")


ledger_app = typer.Typer(help="Look after a pilot's ledger.", no_args_is_help=True)
app.add_typer(ledger_app, name="ledger")


@ledger_app.command(name="repair")
@user_errors
def ledger_repair(
    path: Annotated[Path, typer.Argument(help="Pilot workspace, or its ledger file.")],
) -> None:
    """Remove an incomplete last entry left by an interrupted write, and record the repair.

    Only that line is removed; an altered entry or a broken chain is refused, never repaired.
    """
    ledger, done = api().repair_ledger(path)
    if done is None:
        typer.echo(f"{ledger}: nothing to repair; the last entry is complete")
        return
    typer.echo(f"{ledger}: removed the incomplete line {done.removed.line} "
               f"({len(done.removed.data)} bytes, sha256 {done.removed.sha256}); "
               f"recorded as entry {done.entry.seq} (repair)")


@app.command()
@user_errors
def power(
    protocol: ProtocolArg,
    plot: Annotated[
        Path | None, typer.Option("--plot", help="Write a power curve (SVG or PNG).")
    ] = None,
) -> None:
    """Power and minimum detectable effect of every outcome under the declared assumptions."""
    table = api().power(protocol)
    typer.echo(table.summary())
    if plot is not None:
        api().power_plot(protocol, plot)
        typer.echo(f"wrote {plot}")


@app.command()
@user_errors
def diagnose(
    protocol: ProtocolArg,
    sims: Annotated[int, typer.Option("--sims", help="Simulations per design variant.")] = 500,
    workers: Annotated[
        int | None, typer.Option("--workers", help="Local processes (or a local Dask cluster).")
    ] = None,
    scheduler: Annotated[
        str | None, typer.Option("--scheduler", help="Dask scheduler, e.g. tcp://host:8786.")
    ] = None,
    seed: Annotated[int | None, typer.Option("--seed", help="Seed (default: protocol's).")] = None,
    outcome: Annotated[
        list[str] | None,
        typer.Option("--outcome", help="An outcome to diagnose (default: the primary ones); "
                     "repeat, or 'compared' for every compared outcome."),
    ] = None,
) -> None:
    """Simulate the declared design: power, bias, RMSE and coverage with Monte Carlo SEs.

    A time-to-event outcome gives two rows: its RMST difference and its Cox log hazard ratio.
    """
    result = api().diagnose(protocol, sims=sims, workers=workers, scheduler=scheduler, seed=seed,
                            outcomes=outcome or None)
    typer.echo(result.summary())


@app.command()
@user_errors
def simulate(
    protocol: ProtocolArg,
    out: Annotated[Path, typer.Option("--out", help="Directory for the simulated files.")],
    seed: Annotated[int | None, typer.Option("--seed", help="Seed for the data.")] = None,
    units: Annotated[Path | None, typer.Option(
        "--units", help="The pilot's units file; data are drawn for these units.")] = None,
    allocation: Annotated[Path | None, typer.Option(
        "--allocation", help="The pilot's allocation; each unit keeps its allocated arm.")] = None,
) -> None:
    """Write realistic fictional outcome data from the protocol, one CSV per level.

    With --units and --allocation (the files given to and written by `trialkit randomise`),
    writes OUT/<level>.csv for the pilot's own units in their allocated arms. Without them,
    writes fictional units, their allocation and OUT/data/<level>.csv.
    """
    for path in api().simulate(protocol, out, seed=seed, units=units, allocation=allocation):
        typer.echo(f"wrote {path}")


DataOption = Annotated[
    list[Path], typer.Option("--data", help="A data file (CSV, XLSX, DTA, SAV, parquet); repeat.")
]


@app.command(name="validate")
@user_errors
def validate_command(
    protocol: ProtocolArg,
    allocation: Annotated[Path, typer.Option("--allocation", help="Allocation CSV.")],
    data: DataOption,
    report: Annotated[
        Path | None, typer.Option("--report", help="Write every issue to this CSV.")
    ] = None,
    force: Annotated[bool, typer.Option("--force", help="Replace an existing report.")] = False,
    ledger: LedgerOption = None,
) -> None:
    """Check outcome data against the protocol and allocation; exit 2 on blocking problems.

    Prints the spend ledger's compliance findings (results, not errors; --report lists
    them all, severity "finding") and the attrition of every outcome with the What Works
    Clearinghouse verdicts. With --ledger, records the validation (later protocol changes
    are then deviations).
    """
    result = api().validate_files(protocol, allocation, data, report=report, force=force,
                                  ledger=ledger)
    if result.warnings:
        from trialkit.validate.summary import summary_lines

        counts, lines = summary_lines(result.warnings)
        typer.echo(f"{counts}; the data are valid.", err=True)
        for line in lines:
            typer.echo(line, err=True)
    if result.spending is not None:  # results of the spend ledger, not errors
        typer.echo(result.spending.summary())
    for level, frame in result.frames.items():
        typer.echo(f"{level}: {len(frame)} rows valid")
    typer.echo(result.attrition.summary())


@app.command(name="audit-sample")
@user_errors
def audit_sample(
    protocol: ProtocolArg,
    data: Annotated[Path, typer.Option(
        "--data", help="The spend ledger (CSV, XLSX, DTA, SAV, parquet), one row per spend.")],
    out: Annotated[Path, typer.Option("--out", help="Audit sample CSV to write.")] = Path(
        "audit_sample.csv"
    ),
    size: Annotated[int | None, typer.Option(
        "--size", help="Spends to review; defaults to `spending.review.sample_size`.")] = None,
    seed: Annotated[
        int | None, typer.Option("--seed", help="Seed; defaults to the protocol's.")
    ] = None,
    force: Annotated[
        bool, typer.Option("--force", help="Replace an existing sample, or draw another.")
    ] = False,
    ledger: LedgerOption = None,
) -> None:
    """Draw the spends to review: a stratified random sample with known probabilities.

    Writes the sample (spend_id, stratum, inclusion_probability) and its metadata; with
    --ledger, records the draw, and refuses a second draw that gives another sample.
    """
    sample = api().audit_sample(protocol, data, out, size=size, seed=seed, force=force,
                                ledger=ledger)
    typer.echo(sample.summary())
    typer.echo(f"wrote {out} and its metadata")


@app.command()
@user_errors
def analyse(
    protocol: ProtocolArg,
    allocation: Annotated[Path, typer.Option("--allocation", help="Allocation CSV.")],
    data: DataOption,
    out: Annotated[Path, typer.Option("--out", help="Results directory.")] = Path("results"),
    registration: Annotated[
        Path | None, typer.Option("--registration", help="Registration directory.")
    ] = None,
    deviation_reason: Annotated[
        str, typer.Option("--deviation-reason", help="Why the protocol differs, if it does.")
    ] = "",
    bayes: Annotated[
        bool, typer.Option("--bayes/--no-bayes", help="Fit the Bayesian plan.")
    ] = True,
    draws: Annotated[int | None, typer.Option("--draws", help="Posterior draws per chain.")] = None,
    chains: Annotated[int | None, typer.Option("--chains", help="Chains.")] = None,
    force: Annotated[bool, typer.Option("--force", help="Replace existing results.")] = False,
    ledger: LedgerOption = None,
    audit_sample: Annotated[Path | None, typer.Option(
        "--audit-sample", help="The audit sample the reviewers judged (`trialkit "
        "audit-sample`), when the protocol reviews a sample of spends.")] = None,
) -> None:
    """Run the registered plan (frequentist and Bayesian); write results as JSON and CSV."""
    if registration is None:
        typer.echo("warning: no --registration given: results will be labelled "
                   "'not pre-registered'", err=True)
    results = api().analyse(protocol, allocation, data, out, registration=registration,
                            deviation_reason=deviation_reason, bayesian=bayes, draws=draws,
                            chains=chains, force=force, ledger=ledger,
                            audit_sample=audit_sample, echo=typer.echo)
    for deviation in results.deviations:
        typer.echo(f"{deviation.kind} ({deviation.severity}): {deviation.field}: "
                   f"{deviation.registered} -> {deviation.current}", err=True)
    typer.echo(f"wrote {out}")


@app.command(name="report")
@user_errors
def report_command(
    results: Annotated[Path, typer.Argument(help="Results directory from `trialkit analyse`.")],
    out: Annotated[Path, typer.Option("--out", help="HTML file to write.")] = Path(
        "report.html"
    ),
    force: Annotated[bool, typer.Option("--force", help="Replace an existing report.")] = False,
    ledger: LedgerOption = None,
) -> None:
    """Render the results as one self-contained HTML report."""
    path = api().report(results, out, force=force, ledger=ledger)
    typer.echo(f"wrote {path}")


@app.command()
@user_errors
def demo(
    out: Annotated[Path, typer.Option("--out", help="New directory for the demo.")] = Path(
        "trialkit-demo"
    ),
    bayes: Annotated[
        bool, typer.Option("--bayes/--no-bayes", help="Fit the Bayesian plan too.")
    ] = True,
) -> None:
    """Run the whole life of the bundled Gateshead-style pilot (refuses an existing DIR)."""
    from trialkit.demo import run_demo

    run_demo(out, echo=typer.echo, bayesian=bayes)


if __name__ == "__main__":  # pragma: no cover
    app()
