"""The ``trialkit`` command: parse arguments, call :mod:`trialkit.api`, print.

No statistics live here. A :class:`~trialkit.errors.TrialkitError` is printed without a
traceback and the command exits with status 2.
"""

from __future__ import annotations

import functools
import importlib
import os
import re
import sys
import types
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any, Literal, TypeVar

import typer
from typer.core import TyperArgument, TyperCommand, TyperGroup, TyperOption

# The command line loads no pydantic plugins: looking for them scans the entry points of
# every installed package, tens of milliseconds at each start. Setting the variable
# yourself (to "" for all plugins) wins.
os.environ.setdefault("PYDANTIC_DISABLE_PLUGINS", "__all__")

from trialkit import __version__
from trialkit.errors import TrialkitError

if TYPE_CHECKING:
    from trialkit.register.audit import LedgerCheck

# Imports here stay light (typer, pydantic through the protocol at most): each command
# imports what it needs, so `trialkit --version`, `check` and `init` start at once.

F = TypeVar("F", bound=Callable[..., Any])

_WORDS = {"int": "N", "float": "NUMBER", "str": "TEXT", "path": "PATH", "Path": "PATH", "bool": ""}


def _plain_type(shown: str | None) -> str | None:
    """A value's name in words (``N``, ``PATH``) instead of a Python type (``<list[Path]>``)."""
    if not shown:
        return None
    inner = re.sub(r"^list\[(.*)\]$", r"\1", shown.strip("<>."))
    return _WORDS.get(inner, inner) or None


class _Option(TyperOption):
    def display_type_rich(self, ctx: Any) -> str | None:
        if self.metavar is not None:
            return self.metavar or None
        return None if self.is_flag else _plain_type(super().display_type_rich(ctx))


class _Argument(TyperArgument):
    def display_type_rich(self, ctx: Any) -> str | None:
        return None  # the name column already says what it is (PROTOCOL, DIRECTORY)


def _plain(params: list[Any]) -> None:
    """Show words, not Python types, beside each parameter in --help."""
    for param in params:
        if type(param) is TyperOption:
            param.__class__ = _Option
        elif type(param) is TyperArgument:
            param.__class__ = _Argument
            param.metavar = param.metavar or param.name.upper()


class _PlainHelp:
    """Help that names values in words (FILE, N), for a command or a group of them."""

    params: list[Any]

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        _plain(self.params)

    def get_help_option(self, ctx: Any) -> Any:
        option = super().get_help_option(ctx)  # type: ignore[misc]
        _plain([option] if option is not None else [])
        return option


class _Command(_PlainHelp, TyperCommand):
    """A command whose help names values in words (FILE, N) and ends with an example."""


class _Group(_PlainHelp, TyperGroup):
    """A group of commands whose help names values in words."""


app = typer.Typer(
    name="trialkit",
    help="Randomised trials of management practices in public services.",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
    rich_markup_mode="markdown",
    cls=_Group,
)


def command(
    example: str, *, name: str | None = None, group: typer.Typer | None = None
) -> Callable[[F], F]:
    """Register a command of ``group`` (default: the app) whose help ends with ``example``."""
    return (group or app).command(name=name, cls=_Command, epilog=f"Example: `{example}`")


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
        except OSError as exc:  # a disk filled or a permission changed after the checks
            from trialkit._core.destinations import os_error

            typer.echo(f"error: {os_error(exc)}", err=True)
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


ProtocolArg = Annotated[
    str,
    typer.Argument(
        help="Protocol YAML file, or a bundled name (`trialkit protocols`).", metavar="PROTOCOL"
    ),
]
SeedOption = Annotated[
    int | None,
    typer.Option(
        "--seed",
        metavar="N",
        min=0,
        help="Seed (a whole number, 0 or more).",
        show_default="the protocol's seed",
    ),
]
LedgerOption = Annotated[
    Path | None,
    typer.Option(
        "--ledger", metavar="FILE", help="Record this step in the pilot's ledger (ledger.jsonl)."
    ),
]


@command("trialkit protocols")
def protocols() -> None:
    """List the bundled protocols, one a line: name, design, then title."""
    from trialkit.protocol.bundled import bundled_protocols, bundled_summary

    for name, path in bundled_protocols().items():
        design, title = bundled_summary(path)
        typer.echo(f"{name}\t{design}\t{title}")


@command("trialkit check protocol.yaml --standards")
@user_errors
def check(
    protocol: ProtocolArg,
    standards: Annotated[
        bool,
        typer.Option(
            "--standards",
            help="Also list the SPIRIT 2025 "
            "items the protocol leaves empty, and which "
            "protocol key would fill each (information: "
            "the exit status is unchanged).",
        ),
    ] = False,
) -> None:
    """Validate a protocol; exit 0 when valid, 2 with located messages otherwise."""
    from trialkit.protocol import load_protocol
    from trialkit.protocol.support import protocol_warnings

    path = api().resolve_protocol(protocol)
    loaded = load_protocol(path)
    typer.echo(f"{path}: valid ({loaded.identity.id}, sha256 {loaded.content_hash()[:12]})")
    for issue in protocol_warnings(path, protocol=loaded):
        typer.echo(f"warning: {issue}", err=True)
    if standards:  # imported here only: `check` alone must start at once
        from trialkit.protocol.standards import spirit_coverage

        typer.echo(spirit_coverage(loaded).summary())


@command("trialkit schema > trialkit-protocol.schema.json")
def schema(
    results: Annotated[
        bool, typer.Option("--results", help="Print the schema of results.json instead.")
    ] = False,
) -> None:
    """Print the protocol's JSON Schema (or, with --results, that of results.json)."""
    if results:
        sys.stdout.write(api().results_schema())
        return
    from trialkit.protocol.bundled import bundled_schema

    sys.stdout.write(bundled_schema())  # equal to api.protocol_schema(), by test


@command("trialkit init my-pilot --from council_discretionary_budget")
@user_errors
def init(
    directory: Annotated[Path, typer.Argument(help="New workspace directory.")],
    source: Annotated[
        str,
        typer.Option(
            "--from", metavar="NAME", help="Bundled protocol name (`trialkit protocols`)."
        ),
    ] = ("council_discretionary_budget"),
) -> None:
    """Start a new pilot workspace from a bundled protocol (refuses to overwrite)."""
    for path in api().init_workspace(directory, source=source):
        typer.echo(f"wrote {path}")


@command(
    "trialkit randomise protocol.yaml --units units.csv --out allocation.csv --ledger ledger.jsonl",
    name="randomise",
)
@user_errors
def randomise_command(
    protocol: ProtocolArg,
    units: Annotated[
        Path, typer.Option("--units", metavar="FILE", help="Units CSV, one row per unit.")
    ],
    out: Annotated[
        Path, typer.Option("--out", metavar="FILE", help="Allocation CSV to write.")
    ] = Path("allocation.csv"),
    seed: SeedOption = None,
    force: Annotated[bool, typer.Option("--force", help="Replace an existing allocation.")] = False,
    ledger: LedgerOption = None,
) -> None:
    """Randomise units with the protocol's scheme; write the allocation and its metadata.

    Register first (`trialkit register`): a registration made before the allocation shows
    that the allocation was concealed, and the ledger records the order.
    """
    warning = _unregistered(out, ledger)
    allocation = api().randomise(protocol, units, out, seed=seed, force=force, ledger=ledger)
    if warning:
        typer.echo(f"warning: {warning}", err=True)
    typer.echo(allocation.summary())
    typer.echo(f"wrote {out} and its metadata")


def _unregistered(out: Path, ledger: Path | None) -> str:
    """A warning when no registration precedes this allocation, else ``""``."""
    from trialkit.register import LEDGER_NAME
    from trialkit.register.ledger import read

    path = ledger if ledger is not None else out.resolve().parent / LEDGER_NAME
    try:
        registered = path.is_file() and any(e.action == "register" for e in read(path))
    except TrialkitError:
        return ""  # an unreadable ledger has its own error, from `trialkit verify`
    if registered or (out.resolve().parent / "registration").is_dir():
        return ""
    return (
        f"no registration found (no `register` entry in {path}): this allocation is not "
        "concealed by a registration, so nothing shows the protocol was fixed before "
        "anyone knew who got the intervention. Fix: run `trialkit register` first, then "
        "randomise with --ledger."
    )


@command("trialkit balance protocol.yaml --allocation allocation.csv --units units.csv")
@user_errors
def balance(
    protocol: ProtocolArg,
    allocation: Annotated[
        Path, typer.Option("--allocation", metavar="FILE", help="Allocation CSV.")
    ],
    units: Annotated[
        Path, typer.Option("--units", metavar="FILE", help="Units CSV with covariates.")
    ],
) -> None:
    """Print baseline balance by arm: means, standardised differences, WWC verdicts."""
    result = api().balance_table(protocol, allocation, units)
    typer.echo(result.to_frame().to_string(index=False, float_format=lambda v: f"{v:.3f}"))
    if result.test is not None:
        test = result.test
        typer.echo(
            f"Omnibus balance test by randomisation ({test.draws} draws of the "
            f"`{test.scheme}` scheme): statistic {test.statistic:.3f}, "
            f"p = {test.p_value:.3f}"
        )


@command(
    "trialkit register protocol.yaml --out registration --export aea --export osf", name="register"
)
@user_errors
def register_command(
    protocol: ProtocolArg,
    out: Annotated[
        Path, typer.Option("--out", metavar="DIR", help="New registration directory.")
    ] = Path("registration"),
    ledger: Annotated[
        Path | None,
        typer.Option(
            "--ledger",
            metavar="FILE",
            help="Ledger.",
            show_default="ledger.jsonl beside the directory",
        ),
    ] = None,
    export: Annotated[
        list[str] | None,
        typer.Option(
            "--export",
            metavar="REGISTRY",
            help="Also write the fields a registry's form asks "
            "for, filled from the protocol, to DIR/exports/ as JSON and Markdown: osf, aea or "
            "uk-registry; repeat for several. On an existing registration of the same "
            "protocol, writes only the exports.",
        ),
    ] = None,
) -> None:
    """Freeze the protocol (hash, UTC time), render the pre-analysis plan, start the ledger.

    With --export, also write each registry's fields (missing ones listed as missing).
    """
    from trialkit.register.freeze import RECORD

    if export and (out / RECORD).is_file():
        for path in api().export_registration(protocol, out, export, ledger=ledger):
            typer.echo(f"wrote {path}")
        return
    registration = api().register_protocol(protocol, out, ledger=ledger, exports=export or ())
    typer.echo(f"registered {registration.protocol_hash} at {registration.registered_utc}")
    typer.echo(f"wrote {registration.directory}")


@command("trialkit verify my-pilot --public-key evaluator.pub --head HASH")
@user_errors
def verify(
    directory: Annotated[Path, typer.Argument(help="Pilot workspace, or its ledger file.")],
    public_key: Annotated[
        Path | None,
        typer.Option(
            "--public-key",
            metavar="FILE",
            help="Check every entry's signature with this public "
            "key (`trialkit key new`); an unsigned or forged entry fails.",
        ),
    ] = None,
    head: Annotated[
        str | None,
        typer.Option(
            "--head",
            metavar="HASH",
            help="A head hash recorded elsewhere (printed by an earlier "
            "verify): fail unless the ledger still contains it.",
        ),
    ] = None,
) -> None:
    """Check the ledger's hash chain and every file it references; exit 2 if altered.

    An incomplete last entry left by an interrupted write is reported as such, with the
    command that repairs it. Findings in the history (outcome data changed after the first
    analysis, analyses re-run with other inputs, re-randomisation) also exit 2. On success,
    prints the head hash and the number of entries, and what was not checked.
    """
    check = api().audit_workspace(directory, public_key=public_key, head=head)
    for problem in check.problems:
        typer.echo(f"ALTERED {problem}", err=True)
    if check.torn is not None:
        typer.echo(f"INCOMPLETE {check.torn.describe(check.ledger)}", err=True)
    for change in check.unrecorded:
        typer.echo(f"UNRECORDED {change}", err=True)
    for problem in check.signatures:
        typer.echo(f"SIGNATURE {problem}", err=True)
    if check.anchor is not None and check.anchor.seq is None:
        typer.echo(f"ANCHOR {check.anchor.describe()}", err=True)
    for finding in check.findings:
        typer.echo(f"FINDING {finding.message}", err=True)
    _verified(check)
    for gap in check.unchecked():
        typer.echo(f"NOT CHECKED: {gap}")
    if not check.passed:
        raise typer.Exit(2)


def _verified(check: LedgerCheck) -> None:
    """Print what held: the chain, the signatures, the anchor, the head to record."""
    if check.intact:
        typer.echo(f"{check.ledger}: chain intact; every recorded file matches its sha256")
    if check.key and check.count and not check.signatures:
        typer.echo(f"all {check.count} entries signed by the key {check.key[:16]}…")
    elif not check.key and check.signed:
        typer.echo(
            f"{check.signed} of {check.count} entries carry a signature, not checked: "
            "give --public-key"
        )
    if check.anchor is not None and check.anchor.seq is not None:
        typer.echo(check.anchor.describe())
    if check.intact:
        typer.echo(
            f"head {check.head} after {check.count} entries: record both elsewhere (an "
            "email, a registry, a git commit) so a later truncated or rewritten ledger "
            "shows; check with --head"
        )


def _subcommands(name: str, description: str) -> typer.Typer:
    """A group of subcommands (``trialkit NAME ...``), shown like the main command's."""
    group = typer.Typer(
        help=description, no_args_is_help=True, rich_markup_mode="markdown", cls=_Group
    )
    app.add_typer(group, name=name)
    return group


ledger_app = _subcommands("ledger", "Look after a pilot's ledger.")


@command("trialkit ledger repair my-pilot", name="repair", group=ledger_app)
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
    typer.echo(
        f"{ledger}: removed the incomplete line {done.removed.line} "
        f"({len(done.removed.data)} bytes, sha256 {done.removed.sha256}); "
        f"recorded as entry {done.entry.seq} (repair)"
    )


key_app = _subcommands("key", "Keys that sign a pilot's ledger.")


@command("trialkit key new --out evaluator.pem", name="new", group=key_app)
@user_errors
def key_new(
    out: Annotated[
        Path, typer.Option("--out", metavar="FILE", help="Private key file to write (mode 0600).")
    ],
    public_out: Annotated[
        Path | None,
        typer.Option(
            "--public-out",
            metavar="FILE",
            help="Public key file to write.",
            show_default="the --out file with the suffix .pub",
        ),
    ] = None,
) -> None:
    """Make an Ed25519 key pair that signs ledger entries.

    Ledger-writing commands sign each entry when the environment variable
    TRIALKIT_SIGNING_KEY names the private key; `trialkit verify --public-key` checks them.
    """
    made = api().new_signing_key(out, public_out)
    typer.echo(f"wrote the private key {made.private} (readable by you only; keep it secret)")
    typer.echo(
        f"wrote the public key {made.public}: give it to whoever verifies, for "
        f"`trialkit verify --public-key {made.public}`"
    )
    typer.echo(f"fingerprint {made.fingerprint}")
    typer.echo(f"to sign ledger entries: export TRIALKIT_SIGNING_KEY={made.private}")


@command("trialkit power protocol.yaml --plot power.svg")
@user_errors
def power(
    protocol: ProtocolArg,
    plot: Annotated[
        Path | None,
        typer.Option("--plot", metavar="FILE", help="Write a power curve (SVG or PNG)."),
    ] = None,
    force: Annotated[bool, typer.Option("--force", help="Replace an existing plot.")] = False,
) -> None:
    """Power and minimum detectable effect of every outcome under the declared assumptions."""
    table = api().power(protocol)
    typer.echo(table.summary())
    if plot is not None:
        api().power_plot(protocol, plot, force=force)
        typer.echo(f"wrote {plot}")


@command("trialkit diagnose protocol.yaml --sims 200 --workers 2")
@user_errors
def diagnose(
    protocol: ProtocolArg,
    sims: Annotated[
        int, typer.Option("--sims", metavar="N", help="Simulations per design variant.")
    ] = 500,
    workers: Annotated[
        int | None,
        typer.Option(
            "--workers",
            metavar="N",
            help="Local processes (or a local Dask cluster); 1 runs in this process.",
            show_default="in this process on 2 CPUs or fewer and for under "
            "100 simulations, else one process per CPU",
        ),
    ] = None,
    scheduler: Annotated[
        str | None,
        typer.Option(
            "--scheduler", metavar="ADDRESS", help="Dask scheduler, e.g. tcp://host:8786."
        ),
    ] = None,
    seed: SeedOption = None,
    outcome: Annotated[
        list[str] | None,
        typer.Option(
            "--outcome",
            metavar="NAME",
            help="An outcome to diagnose; repeat, or 'compared' for every compared outcome.",
            show_default="the primary outcomes",
        ),
    ] = None,
) -> None:
    """Simulate the declared design: power, bias, RMSE and coverage with Monte Carlo SEs.

    Bias and coverage are measured against each simulation's estimand (from its potential
    outcomes); a protocol with non-compliance adds each outcome's CACE (`<name>:cace`), a
    multi-arm design one row per treated arm, and a time-to-event outcome two rows: its
    RMST difference and its Cox log hazard ratio. `*` marks the declared design.
    """
    result = api().diagnose(
        protocol,
        sims=sims,
        workers=workers,
        scheduler=scheduler,
        seed=seed,
        outcomes=outcome or None,
    )
    typer.echo(result.summary())


@command("trialkit simulate protocol.yaml --out sim")
@user_errors
def simulate(
    protocol: ProtocolArg,
    out: Annotated[Path, typer.Option("--out", help="Directory for the simulated files.")],
    seed: Annotated[
        int | None, typer.Option("--seed", min=0, help="Seed for the data (0 or more).")
    ] = None,
    units: Annotated[
        Path | None,
        typer.Option("--units", help="The pilot's units file; data are drawn for these units."),
    ] = None,
    allocation: Annotated[
        Path | None,
        typer.Option(
            "--allocation", help="The pilot's allocation; each unit keeps its allocated arm."
        ),
    ] = None,
    force: Annotated[
        bool, typer.Option("--force", help="Replace files a previous run wrote.")
    ] = False,
) -> None:
    """Write realistic fictional outcome data from the protocol, one CSV per level.

    With --units and --allocation (the files given to and written by `trialkit randomise`),
    writes `OUT/<level>.csv` for the pilot's own units in their allocated arms. Without
    them, writes fictional units, their allocation and `OUT/data/<level>.csv`.
    """
    for path in api().simulate(
        protocol, out, seed=seed, units=units, allocation=allocation, force=force
    ):
        typer.echo(f"wrote {path}")


DataOption = Annotated[
    list[Path],
    typer.Option(
        "--data",
        metavar="FILE",
        help="A data file (CSV, XLSX, DTA, SAV, parquet) or a folder of parquet parts; "
        "repeat for each level. Each file is matched to its level by the level's id column "
        "(e.g. a file with `client_id` holds the clients), a file with only the unit id column "
        "holds the units.",
    ),
]


@command(
    "trialkit validate protocol.yaml --allocation allocation.csv --data teams.csv "
    "--data clients.xlsx --report issues.csv",
    name="validate",
)
@user_errors
def validate_command(
    protocol: ProtocolArg,
    allocation: Annotated[
        Path, typer.Option("--allocation", metavar="FILE", help="Allocation CSV.")
    ],
    data: DataOption,
    report: Annotated[
        Path | None, typer.Option("--report", metavar="FILE", help="Write every issue to this CSV.")
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
    result = api().validate_files(
        protocol, allocation, data, report=report, force=force, ledger=ledger
    )
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


@command(
    "trialkit audit-sample protocol.yaml --data spends.csv --ledger ledger.jsonl",
    name="audit-sample",
)
@user_errors
def audit_sample(
    protocol: ProtocolArg,
    data: Annotated[
        Path,
        typer.Option(
            "--data",
            metavar="FILE",
            help="The spend ledger (CSV, XLSX, DTA, SAV, parquet), one row per spend.",
        ),
    ],
    out: Annotated[
        Path, typer.Option("--out", metavar="FILE", help="Audit sample CSV to write.")
    ] = Path("audit_sample.csv"),
    size: Annotated[
        int | None,
        typer.Option(
            "--size",
            metavar="N",
            help="Spends to review.",
            show_default="`spending.review.sample_size`",
        ),
    ] = None,
    seed: SeedOption = None,
    force: Annotated[
        bool, typer.Option("--force", help="Replace an existing sample, or draw another.")
    ] = False,
    ledger: LedgerOption = None,
) -> None:
    """Draw the spends to review: a stratified random sample with known probabilities.

    Writes the sample (spend_id, stratum, inclusion_probability) and its metadata; with
    --ledger, records the draw, and refuses a second draw that gives another sample.
    """
    sample = api().audit_sample(
        protocol, data, out, size=size, seed=seed, force=force, ledger=ledger
    )
    typer.echo(sample.summary())
    typer.echo(f"wrote {out} and its metadata")


@command(
    "trialkit analyse protocol.yaml --allocation allocation.csv --data teams.csv "
    "--data clients.xlsx --registration registration --ledger ledger.jsonl --out results"
)
@user_errors
def analyse(
    protocol: ProtocolArg,
    allocation: Annotated[
        Path, typer.Option("--allocation", metavar="FILE", help="Allocation CSV.")
    ],
    data: DataOption,
    out: Annotated[Path, typer.Option("--out", metavar="DIR", help="Results directory.")] = Path(
        "results"
    ),
    registration: Annotated[
        Path | None,
        typer.Option(
            "--registration",
            metavar="DIR",
            help="Registration directory.",
            show_default="none: results labelled 'not pre-registered'",
        ),
    ] = None,
    deviation_reason: Annotated[
        str,
        typer.Option(
            "--deviation-reason", metavar="TEXT", help="Why the protocol differs, if it does."
        ),
    ] = "",
    bayes: Annotated[
        bool, typer.Option("--bayes/--no-bayes", help="Fit the Bayesian plan.")
    ] = True,
    draws: Annotated[
        int | None,
        typer.Option(
            "--draws",
            metavar="N",
            help="Posterior draws per chain.",
            show_default="the protocol's plan",
        ),
    ] = None,
    chains: Annotated[
        int | None,
        typer.Option("--chains", metavar="N", help="Chains.", show_default="the protocol's plan"),
    ] = None,
    force: Annotated[bool, typer.Option("--force", help="Replace existing results.")] = False,
    ledger: LedgerOption = None,
    audit_sample: Annotated[
        Path | None,
        typer.Option(
            "--audit-sample",
            metavar="FILE",
            help="The audit sample the reviewers judged (`trialkit "
            "audit-sample`), when the protocol reviews a sample of spends.",
        ),
    ] = None,
    workers: Annotated[
        int | None,
        typer.Option(
            "--workers",
            metavar="N",
            help="Fit the frequentist plan's outcomes on a local Dask cluster of N "
            "processes; 1 runs in this process.",
            show_default="in this process",
        ),
    ] = None,
    scheduler: Annotated[
        str | None,
        typer.Option(
            "--scheduler", metavar="ADDRESS", help="Dask scheduler, e.g. tcp://host:8786."
        ),
    ] = None,
) -> None:
    """Run the registered plan (frequentist and Bayesian); write results as JSON and CSV.

    With --workers or --scheduler the frequentist plan fits its outcomes in parallel on
    Dask, with the same results; worth it on many cores or machines, not on a laptop.
    """
    if registration is None:
        typer.echo(
            "warning: no --registration given: results will be labelled 'not pre-registered'",
            err=True,
        )
    results = api().analyse(
        protocol,
        allocation,
        data,
        out,
        registration=registration,
        deviation_reason=deviation_reason,
        bayesian=bayes,
        draws=draws,
        chains=chains,
        force=force,
        ledger=ledger,
        audit_sample=audit_sample,
        workers=workers,
        scheduler=scheduler,
        echo=typer.echo,
    )
    for deviation in results.deviations:
        typer.echo(
            f"{deviation.kind} ({deviation.severity}): {deviation.field}: "
            f"{deviation.registered} -> {deviation.current}",
            err=True,
        )
    typer.echo(f"wrote {out}")


#: As trialkit.report.output.ReportFormat (a test keeps them equal; importing it is slow).
ReportFormat = Literal["html", "pdf", "xlsx"]


@command("trialkit report results --format pdf", name="report")
@user_errors
def report_command(
    results: Annotated[Path, typer.Argument(help="Results directory from `trialkit analyse`.")],
    format: Annotated[
        ReportFormat,
        typer.Option(
            "--format",
            help="html: one self-contained page; pdf: that page printed on A4 by "
            "headless Chromium (tagged for screen readers; set TRIALKIT_CHROMIUM to choose the "
            "browser); xlsx: every results table as a sheet, after a README sheet.",
        ),
    ] = "html",
    out: Annotated[
        Path | None,
        typer.Option(
            "--out",
            metavar="FILE",
            help="File to write [default: report.html, report.pdf or report.xlsx, after --format].",
            show_default=False,
        ),
    ] = None,
    force: Annotated[bool, typer.Option("--force", help="Replace an existing report.")] = False,
    ledger: LedgerOption = None,
    public_key: Annotated[
        Path | None,
        typer.Option(
            "--public-key",
            metavar="FILE",
            help="With --ledger: check every entry's signature with this public key, "
            "and say so in the report.",
        ),
    ] = None,
    head: Annotated[
        str | None,
        typer.Option(
            "--head",
            metavar="HASH",
            help="With --ledger: a head hash recorded elsewhere, which the ledger must "
            "still contain.",
        ),
    ] = None,
) -> None:
    """Render the results as one self-contained HTML report, a PDF or an Excel workbook.

    With --ledger, the report's provenance section shows the ledger's check (as `trialkit
    verify`): data changed after the first analysis, re-runs, re-randomisation, and what the
    check cannot see; without it, the section says the evidence trail was not checked.
    """
    path = api().report(
        results,
        out,
        format=format,
        force=force,
        ledger=ledger,
        public_key=public_key,
        head=head,
        echo=typer.echo,
    )
    typer.echo(f"wrote {path}")


@command("trialkit demo --out trialkit-demo --no-bayes")
@user_errors
def demo(
    out: Annotated[
        Path, typer.Option("--out", metavar="DIR", help="New directory for the demo.")
    ] = Path("trialkit-demo"),
    bayes: Annotated[
        bool, typer.Option("--bayes/--no-bayes", help="Fit the Bayesian plan too.")
    ] = True,
) -> None:
    """Run the whole life of the bundled Gateshead-style pilot (refuses an existing DIR)."""
    from trialkit.demo import run_demo

    run_demo(out, echo=typer.echo, bayesian=bayes)


if __name__ == "__main__":  # pragma: no cover
    app()
