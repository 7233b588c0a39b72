"""The public Python API: thin orchestration of the pipeline's stages.

Each function takes paths or objects, calls one stage, and returns its result. No
statistics live here; the CLI is a thin layer over these functions.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Literal

from trialkit._core.destinations import check_destination, check_destinations, write_failed
from trialkit._core.files import atomic_write, ensure_absent
from trialkit._core.memory import reusing_freed_pages
from trialkit.errors import OverwriteError, TrialkitError
from trialkit.protocol import bundled_path, bundled_protocols
from trialkit.protocol.bundled import bundled_schema, resource_dir

# The statistics (numpy, pandas, scipy) are imported inside the functions that use them,
# so `trialkit check`, `init`, `schema` and `protocols` start in a fraction of a second.

SCHEMA_FILE = "trialkit-protocol.schema.json"


def load_protocol(path: str | Path) -> Protocol:
    """:func:`trialkit.protocol.load_protocol`, imported on first use (the models take
    about 0.2 s to build, which ``trialkit protocols``, ``schema`` and ``init`` never need)."""
    from trialkit.protocol import load_protocol as load

    return load(path)


PLAN_FILE = "pre_analysis_plan.html"

if TYPE_CHECKING:
    from trialkit import register
    from trialkit.analyse import ResultsDocument
    from trialkit.design import PowerTable
    from trialkit.diagnose import Diagnosis
    from trialkit.protocol import Protocol
    from trialkit.protocol.standards import SpiritCoverage
    from trialkit.randomise import Allocation, Balance
    from trialkit.randomise.audit import AuditSample
    from trialkit.register.signing import NewKey
    from trialkit.report.output import ReportFormat
    from trialkit.validate import TrialData


def protocol_schema() -> str:
    """The JSON Schema of a protocol, as indented JSON text."""
    from trialkit.protocol import Protocol

    schema = Protocol.model_json_schema()
    schema["$schema"] = "https://json-schema.org/draft/2020-12/schema"
    schema["title"] = "trialkit pilot protocol"
    return json.dumps(schema, indent=2, sort_keys=True) + "\n"


def results_schema() -> str:
    """The JSON Schema of ``results.json``, as indented JSON text."""
    from trialkit.analyse import results_schema as schema

    document = schema()
    document["$schema"] = "https://json-schema.org/draft/2020-12/schema"
    document["title"] = "trialkit results document"
    return json.dumps(document, indent=2, sort_keys=True) + "\n"


def resolve_protocol(name_or_path: str | Path) -> Path:
    """A protocol path from a file path or the name of a bundled protocol."""
    path = Path(name_or_path)
    if path.exists() or path.suffix in (".yaml", ".yml"):
        return path
    try:
        return bundled_path(str(name_or_path))
    except KeyError as exc:
        raise TrialkitError(
            f"{name_or_path}: no such file, and no bundled protocol of that name. "
            f"Fix: give a path, or one of: {', '.join(bundled_protocols())}."
        ) from exc


def example_units(protocol_path: Path) -> Path | None:
    """The bundled example units file that goes with a bundled protocol, if any."""
    candidates = [
        resource_dir("examples") / protocol_path.stem / "units.csv",
        protocol_path.parent.parent / "examples" / protocol_path.stem / "units.csv",
    ]
    return next((c for c in candidates if c.is_file()), None)


def init_workspace(directory: str | Path, *, source: str) -> list[Path]:
    """Create a new pilot workspace from a bundled protocol; refuse an existing directory.

    Writes ``protocol.yaml``, the JSON Schema beside it (so editors check the YAML), and the
    example ``units.csv`` when the protocol ships one.
    """
    target = Path(directory)
    if target.exists() and any(target.iterdir()):
        raise OverwriteError(
            f"{target}: directory exists and is not empty; refusing to overwrite. "
            "Fix: choose a new directory name."
        )
    protocol_path = resolve_protocol(source)
    if protocol_path not in bundled_protocols().values():  # bundled ones are tested valid
        load_protocol(protocol_path)  # a workspace starts from a valid protocol
    files = {"protocol.yaml": protocol_path.read_bytes(), SCHEMA_FILE: bundled_schema().encode()}
    units = example_units(protocol_path)
    if units is not None:
        files["units.csv"] = units.read_bytes()
    # one commit: a workspace is complete or absent (a half-made one refuses the next init)
    return commit_outputs(target, files, last="protocol.yaml", force=False, what="workspace")


def copy_new(source: Path, destination: Path) -> Path:
    """Copy a file to a path that must not exist yet."""
    if destination.exists():
        raise OverwriteError(f"{destination}: exists; refusing to overwrite.")
    return atomic_write(destination, source.read_bytes(), what="copy")


# Randomise ----------------------------------------------------------------------------------


def randomise(
    protocol_path: str | Path,
    units_path: str | Path,
    out: str | Path,
    *,
    seed: int | None = None,
    force: bool = False,
    ledger: Path | None = None,
) -> Allocation:
    """Allocate the units with the protocol's scheme; write the allocation and its metadata.

    The seed defaults to the protocol's registered seed. With a ledger, the action is
    recorded with the sha256 of the protocol, the units and the allocation files.
    """
    from trialkit import register
    from trialkit.randomise import allocate, metadata_path, read_units, write_allocation

    if ledger is not None:
        register.ensure_appendable(ledger)  # before anything is written
    from trialkit.randomise.storage import check_allocation_paths

    protocol_file = resolve_protocol(protocol_path)
    check_allocation_paths(
        out,
        force=force,
        inputs=[protocol_file, Path(units_path), *([ledger] if ledger is not None else [])],
    )
    protocol = load_protocol(protocol_file)
    units = read_units(units_path, protocol)
    allocation = allocate(protocol, units, seed=seed)

    def record(outputs: list[Path]) -> None:  # a failed entry puts the previous files back
        if ledger is not None:
            register.append(
                ledger,
                "randomise",
                inputs=[protocol_file, Path(units_path)],
                outputs=[Path(out), metadata_path(out)],
                protocol_hash=protocol.content_hash(),
                reason=f"seed {allocation.seed}",
            )

    write_allocation(allocation, out, force=force, then=record)
    return allocation


def balance_table(
    protocol_path: str | Path, allocation_path: str | Path, units_path: str | Path
) -> Balance:
    """Baseline balance of the unit-level covariates across the allocation's arms."""
    from trialkit.randomise import balance, declare, read_allocation, read_units

    protocol = load_protocol(resolve_protocol(protocol_path))
    units = read_units(units_path, protocol)
    allocation = read_allocation(allocation_path)
    covariates = [c for c in protocol.covariates if c.level == protocol.units.name]
    kinds = {c.data_column: ("binary" if c.type == "binary" else "continuous") for c in covariates}
    return balance(
        allocation,
        units,
        covariates=list(kinds),
        id_column=protocol.units.id_column,
        kinds=kinds,  # type: ignore[arg-type]
        control=protocol.control.id,
        scheme=declare(protocol, units),
        seed=protocol.seed,
    )


# Design -------------------------------------------------------------------------------------


def power(protocol_path: str | Path) -> PowerTable:
    """Power and MDE of every outcome at the planned size (``trialkit power``)."""
    from trialkit.design import power_table

    return power_table(load_protocol(resolve_protocol(protocol_path)))


def power_plot(protocol_path: str | Path, out: str | Path, *, force: bool = False) -> Path:
    """Write the power curve (power by number of units) of the primary outcomes."""
    from trialkit.design import power_by_units
    from trialkit.report.figures import power_curve_figure

    protocol = load_protocol(resolve_protocol(protocol_path))
    curve = power_by_units(protocol)
    target = Path(out)
    data = power_curve_figure(curve.to_frame(), fmt=target.suffix.lstrip(".") or "svg")
    return atomic_write(target, data, force=force, what="plot")


def diagnose(
    protocol_path: str | Path,
    *,
    sims: int = 500,
    workers: int | None = None,
    scheduler: str | None = None,
    seed: int | None = None,
    outcomes: Sequence[str] | None = None,
) -> Diagnosis:
    """Simulated diagnosis of the declared design and its variants (``trialkit diagnose``).

    ``outcomes``: outcome names, or ``["compared"]`` (every compared outcome) or
    ``["primary"]`` (the default).
    """
    from trialkit.diagnose import diagnose as run

    protocol = load_protocol(resolve_protocol(protocol_path))
    chosen: Sequence[str] | Literal["primary", "compared"] = "primary"
    if outcomes and list(outcomes) == ["compared"]:
        chosen = "compared"
    elif outcomes and list(outcomes) != ["primary"]:
        chosen = list(outcomes)
    return run(
        protocol, sims=sims, workers=workers, scheduler=scheduler, seed=seed, outcomes=chosen
    )


# Register -----------------------------------------------------------------------------------


def register_protocol(
    protocol_path: str | Path,
    out: str | Path,
    *,
    ledger: Path | None = None,
    reason: str = "",
    exports: Sequence[str] = (),
) -> register.Registration:
    """Freeze the protocol, render the pre-analysis plan, and start (or extend) the ledger.

    The ledger defaults to ``ledger.jsonl`` in the parent of ``out`` (the pilot workspace).
    ``exports``: registries (``osf``, ``aea``, ``uk-registry``) whose fields are written to
    ``out/exports/`` (:func:`export_registration`).
    """
    from trialkit import register
    from trialkit.register.exports import check_registries

    registries = check_registries(exports)
    register.ensure_appendable(ledger or Path(out).resolve().parent / register.LEDGER_NAME)
    protocol_file = resolve_protocol(protocol_path)
    protocol = load_protocol(protocol_file)
    registration = register.freeze(protocol, out, source_text=protocol_file.read_text("utf-8"))
    plan = _render_plan(protocol, registration)
    ledger = ledger or Path(out).resolve().parent / register.LEDGER_NAME

    def record(written: list[Path]) -> None:  # a failure here undoes the registration
        exports = _write_exports(protocol, registration, registries)
        try:
            register.append(
                ledger,
                "register",
                inputs=[protocol_file],
                outputs=[*registration.files, registration.directory / PLAN_FILE, *exports],
                protocol_hash=protocol.content_hash(),
                reason=reason or "protocol registered before any outcome data",
            )
        except BaseException:
            for path in exports:
                path.unlink(missing_ok=True)
            raise

    # One commit, the record last: until it exists an interrupted run left no registration.
    return register.commit(registration, extra={PLAN_FILE: plan.encode("utf-8")}, then=record)


def export_registration(
    protocol_path: str | Path,
    registration_dir: str | Path,
    registries: Sequence[str],
    *,
    ledger: Path | None = None,
) -> list[Path]:
    """Write the registry exports of an existing registration (``register --export``).

    Each registry's fields are filled from ``protocol_path`` (which must be the registered
    protocol: same content hash), the registration record and the power table at the
    planned size, and written to ``registration_dir/exports/<registry>.json`` and ``.md``;
    the ledger (default: beside the directory) records them. Existing exports are refused.
    """
    from trialkit import register
    from trialkit.errors import RegistrationError
    from trialkit.register.exports import check_registries

    chosen = check_registries(registries)
    protocol_file = resolve_protocol(protocol_path)
    protocol = load_protocol(protocol_file)
    registration = register.load_registration(registration_dir)
    if protocol.content_hash() != registration.protocol_hash:
        raise RegistrationError(
            f"{protocol_file}: differs from the protocol registered in {registration_dir} "
            f"(sha256 {protocol.content_hash()[:12]}, registered "
            f"{registration.protocol_hash[:12]}), so its exports would not describe the "
            "registration. Fix: export the registered protocol (the registration's "
            "protocol.yaml), or register this version into a new directory with --out."
        )
    ledger = ledger or Path(registration_dir).resolve().parent / register.LEDGER_NAME
    register.ensure_appendable(ledger)
    paths = _write_exports(protocol, registration, chosen)
    register.append(
        ledger,
        "export",
        inputs=list(registration.files),
        outputs=paths,
        protocol_hash=registration.protocol_hash,
        reason="registry exports of the registered protocol",
    )
    return paths


def _write_exports(
    protocol: Protocol, registration: register.Registration, registries: Sequence[str]
) -> list[Path]:
    """Fill and write each registry's export from the protocol as parsed from its YAML."""
    if not registries:
        return []
    from trialkit.design import power_table
    from trialkit.register.export_fields import Facts
    from trialkit.register.exports import check_registries, write_exports

    documents = tuple(
        path.name
        for path in (*registration.files, registration.directory / PLAN_FILE)
        if path.is_file()
    )
    facts = Facts(protocol, registration, power_table(protocol), documents)
    return write_exports(facts, check_registries(registries))


def standards(protocol_path: str | Path) -> SpiritCoverage:
    """The SPIRIT 2025 checklist entries the protocol fills, and those it leaves empty
    (``trialkit check --standards``)."""
    from trialkit.protocol.standards import spirit_coverage

    return spirit_coverage(load_protocol(resolve_protocol(protocol_path)))


def _render_plan(protocol: Protocol, registration: register.Registration) -> str:
    """The pre-analysis plan, with the power table at the planned size and its variants."""
    from trialkit.design import power_by_units, subgroup_power
    from trialkit.report import render_plan

    return render_plan(
        protocol,
        registration=registration,
        power=power_by_units(protocol).to_frame(),
        subgroup_power=subgroup_power(protocol),
    )


def verify_workspace(directory: str | Path) -> tuple[Path, list[str]]:
    """Check a workspace's ledger chain and every file it references."""
    from trialkit import register

    root = Path(directory)
    ledger = root if root.is_file() else root / register.LEDGER_NAME
    return ledger, register.verify(ledger)


def audit_workspace(
    directory: str | Path, *, public_key: Path | None = None, head: str | None = None
) -> register.LedgerCheck:
    """Audit a workspace's ledger: alterations, an interrupted write, head hash and count,
    the history's findings; every signature when given a public key, and the anchored
    ``head`` when given one."""
    from trialkit import register

    root = Path(directory)
    return register.audit(
        root if root.is_file() else root / register.LEDGER_NAME, public_key=public_key, head=head
    )


def new_signing_key(out: Path, public_out: Path | None = None) -> NewKey:
    """Make an Ed25519 key pair for signing ledger entries (``trialkit key new``)."""
    from trialkit.register.signing import new_key

    return new_key(out, public_out)


def repair_ledger(directory: str | Path) -> tuple[Path, register.Repair | None]:
    """Remove a ledger's incomplete last line (an interrupted write) and record the repair."""
    from trialkit import register

    root = Path(directory)
    ledger = root if root.is_file() else root / register.LEDGER_NAME
    return ledger, register.repair(ledger)


# Simulate -----------------------------------------------------------------------------------


def simulate_units(
    protocol_path: str | Path, out: str | Path, *, seed: int | None = None, force: bool = False
) -> Path:
    """Write the units file: a bundled protocol's example units, or fabricated ones.

    The file is escaped for spreadsheets and listed in ``simulated.json`` beside it (see
    :func:`simulate_data`); :func:`trialkit.randomise.read_units` reads it back as drawn.

    A protocol started from a bundled one (``trialkit init``: same identity id) gets that
    protocol's example units while they still fit it, so covariates keep their real scale.
    """
    import numpy as np

    from trialkit._core.spreadsheet import frame_csv
    from trialkit.diagnose import fabricate_units
    from trialkit.errors import DataValidationError
    from trialkit.randomise import read_units

    target = Path(out)
    check_destination(target, what="units")  # before any work
    if not force:
        ensure_absent(target, what="units")
    protocol_file = resolve_protocol(protocol_path)
    protocol = load_protocol(protocol_file)
    bundled = example_units(protocol_file)
    started_from = resource_dir("examples") / protocol.identity.id.replace("-", "_") / "units.csv"
    units = None
    if bundled is not None:
        units = read_units(bundled, protocol)
    elif started_from.is_file():
        try:
            units = read_units(started_from, protocol)
        except DataValidationError:  # the units were redefined since `init`: fabricate them
            units = None
    drawn = None
    if units is None:
        drawn = protocol.seed if seed is None else seed
        units = fabricate_units(protocol, rng=np.random.default_rng(drawn))
    files = {target.name: frame_csv(units).encode("utf-8")}
    _commit_simulated(target.parent, protocol, files, drawn, what="units")
    return target


def simulate_data(
    protocol_path: str | Path,
    units_path: str | Path,
    allocation_path: str | Path,
    out: str | Path,
    *,
    seed: int | None = None,
    effect_scale: float = 1.0,
    force: bool = False,
) -> list[Path]:
    """Write fabricated outcome data, one CSV per level, for an existing allocation.

    Returns the CSVs' paths. Beside them ``simulated.json`` records the trialkit version,
    protocol hash, seed and each file's sha256, and that their cells are escaped for
    spreadsheets (a cell such as ``=1+2`` is written ``'=1+2``; ``validate`` reads it back
    as ``=1+2``).

    ``effect_scale`` multiplies every declared treatment effect (0: no effect, -1: the
    declared effect reversed), for checking what a report says when the truth is known.
    """
    import numpy as np

    from trialkit._core.spreadsheet import SIMULATED_RECORD, frame_csv
    from trialkit.diagnose import fabricate
    from trialkit.randomise import read_allocation, read_units

    protocol = load_protocol(resolve_protocol(protocol_path))
    target, inputs = Path(out), [Path(units_path), Path(allocation_path)]
    names = [f"{level}.csv" for level in protocol.level_names]
    check_destination(target, directory=True, what="simulated data")  # before any work
    check_destinations({target / n: "simulated data" for n in names}, inputs=inputs)
    for name in names if not force else ():
        ensure_absent(target / name, what="simulated data")
    units = read_units(units_path, protocol)
    frame = read_allocation(allocation_path).to_frame().set_index("unit_id")
    _check_same_units(
        units[protocol.units.id_column].tolist(), frame.index.tolist(), units_path, allocation_path
    )
    seed = protocol.seed + 1 if seed is None else seed
    frames = fabricate(
        protocol,
        units,
        frame["arm"],
        rng=np.random.default_rng(seed),
        steps=frame.get("step"),
        effect_scale=effect_scale,
    )
    files = {f"{level}.csv": frame_csv(data).encode("utf-8") for level, data in frames.items()}
    written = _commit_simulated(
        target,
        protocol,
        files,
        seed,
        effect_scale,
        what="simulated data",
        inputs=inputs,
    )
    return [path for path in written if path.name != SIMULATED_RECORD]


def _commit_simulated(
    directory: Path,
    protocol: Protocol,
    files: dict[str, bytes],
    seed: int | None,
    effect_scale: float | None = None,
    *,
    what: str,
    inputs: Sequence[Path] = (),
) -> list[Path]:
    """Commit simulated ``files`` with the record beside them (``simulated.json``, last):
    each file's sha256 and provenance, and that their cells are escaped for spreadsheets
    (``validate`` and ``read_units`` read the original values back). What an earlier
    record in ``directory`` says of other files is kept, so units and data simulated into
    one folder are all listed. The callers refuse existing files (unless forced) before
    any work; the record is always rewritten."""
    from trialkit._core.hashing import sha256_bytes
    from trialkit._core.provenance import Provenance
    from trialkit._core.spreadsheet import ESCAPING, SIMULATED_RECORD, recorded_files

    made = Provenance(protocol_hash=protocol.content_hash(), seed=seed).to_dict()
    entries = {
        **recorded_files(directory / SIMULATED_RECORD),
        **{
            name: {"sha256": sha256_bytes(data), "effect_scale": effect_scale, **made}
            for name, data in files.items()
        },
    }
    record = {
        "what": "simulated data (not real data)",
        "escaping": ESCAPING,
        "files": dict(sorted(entries.items())),
    }
    payload = (json.dumps(record, indent=2) + "\n").encode("utf-8")
    return commit_outputs(
        directory,
        {**files, SIMULATED_RECORD: payload},
        last=SIMULATED_RECORD,
        force=True,  # the callers refused existing files unless forced; the record is rewritten
        what=what,
        inputs=inputs,
    )


def _check_same_units(
    unit_ids: Sequence[str],
    allocated: Sequence[str],
    units_path: str | Path,
    allocation_path: str | Path,
) -> None:
    """Refuse a units file and an allocation that do not name the same units."""
    from trialkit.errors import DataValidationError, Issue, Location

    fix = (
        "pass the units file the allocation was drawn from (`trialkit randomise --units`), "
        "or randomise these units again."
    )
    issues = []
    for ids, others, path, where in (
        (allocated, unit_ids, allocation_path, "units file"),
        (unit_ids, allocated, units_path, "allocation"),
    ):
        missing = sorted(set(map(str, ids)) - set(map(str, others)))
        if missing:
            shown = ", ".join(missing[:5]) + (
                f" and {len(missing) - 5} more" if len(missing) > 5 else ""
            )
            issues.append(
                Issue(
                    f"{len(missing)} unit(s) not in the {where}: {shown}",
                    Location(file=str(path)),
                    fix=fix,
                )
            )
    if issues:
        raise DataValidationError(issues)


def simulate(
    protocol_path: str | Path,
    out: str | Path,
    *,
    seed: int | None = None,
    units: str | Path | None = None,
    allocation: str | Path | None = None,
    force: bool = False,
) -> list[Path]:
    """Write fictional outcome data for every level (``trialkit simulate``); ``force``
    replaces files a previous run wrote.

    With ``units`` and ``allocation`` (the pilot's own units file and its registered
    allocation), only the outcome data are written, as ``<out>/<level>.csv``: the pilot's
    unit ids, their covariates as recorded, each unit in its allocated arm. Without them,
    fictional units (a bundled protocol's example units, or fabricated ones), their
    allocation and ``<out>/data/<level>.csv``. Outcome data follow the protocol's power
    assumptions. Returns the files written but ``simulated.json``, the record beside the
    data (see :func:`simulate_data`).
    """
    if (units is None) != (allocation is None):
        given, missing = ("--units", "--allocation") if units else ("--allocation", "--units")
        raise TrialkitError(
            f"{given} needs {missing}: the data are drawn for the units of an "
            f"allocation. Fix: pass both --units and --allocation (the "
            f"files given to `trialkit randomise`), or neither."
        )
    if units is not None and allocation is not None:
        return simulate_data(protocol_path, units, allocation, out, seed=seed, force=force)
    import tempfile

    from trialkit._core.spreadsheet import SIMULATED_RECORD

    target = Path(out)
    fixed = ["units.csv", "allocation.csv", "allocation.json"]
    check_destination(target, directory=True, what="simulated data")
    check_destinations({target / n: n for n in fixed}, inputs=[resolve_protocol(protocol_path)])
    for name in fixed if not force else ():
        ensure_absent(target / name, what="simulated data")
    with tempfile.TemporaryDirectory(prefix="trialkit-simulate-") as scratch:
        # the steps write as they always did, into scratch; the outputs then move in at once
        work = Path(scratch)
        units = simulate_units(protocol_path, work / "units.csv", seed=seed)
        randomise(protocol_path, units, work / "allocation.csv", seed=seed)
        simulate_data(protocol_path, units, work / "allocation.csv", work / "data", seed=seed)
        files = {p.relative_to(work).as_posix(): p.read_bytes() for p in _files_in(work)}
    written = commit_outputs(
        target, files, last="allocation.json", force=force, what="simulated data"
    )
    return [path for path in written if path.name != SIMULATED_RECORD]


def _files_in(directory: Path) -> list[Path]:
    return sorted(p for p in directory.rglob("*") if p.is_file() and not p.name.startswith("."))


def commit_outputs(
    out: str | Path,
    files: dict[str, bytes],
    *,
    last: str,
    force: bool,
    what: str,
    inputs: Sequence[Path] = (),
) -> list[Path]:
    """Write ``files`` into ``out`` as one commit (:func:`trialkit._core.staging.commit`):
    the paths refused first as every output's, a full disk or permission an exit-2 error."""
    from trialkit._core.staging import commit

    target = Path(out)
    check_destination(target, directory=True, what=what)
    check_destinations({target / n: what for n in files}, inputs=inputs)
    try:
        return commit(target, files, last=last, force=force, what=what)
    except OSError as exc:
        raise write_failed(exc, target, what=what, state=f"the {what} are as they were") from None


# Audit sample -------------------------------------------------------------------------------


def audit_sample(
    protocol_path: str | Path,
    spends_path: str | Path,
    out: str | Path,
    *,
    size: int | None = None,
    seed: int | None = None,
    force: bool = False,
    ledger: Path | None = None,
) -> AuditSample:
    """Draw the spends to review (``trialkit audit-sample``); write the sample and metadata.

    The seed defaults to the protocol's and the size to ``spending.review.sample_size``.
    With a ledger the draw is recorded, and a second draw that would give another sample
    is refused unless ``force`` (the ledger then records it as a redraw).
    """
    from trialkit import register
    from trialkit._core.files import sha256_file
    from trialkit.randomise.audit import draw_audit_sample, review_of
    from trialkit.randomise.audit_file import (
        audit_metadata_path,
        check_audit_paths,
        write_audit_sample,
    )
    from trialkit.validate.readers import read_table

    if ledger is not None:
        register.ensure_appendable(ledger)
    protocol_file = resolve_protocol(protocol_path)
    sources = [protocol_file, Path(spends_path), *([ledger] if ledger is not None else [])]
    check_audit_paths(out, inputs=sources, force=force)
    protocol = load_protocol(protocol_file)
    review_of(protocol)
    assert protocol.spending is not None
    level, cols = protocol.level(protocol.spending.level), protocol.spending.columns
    ids = {cols.worker, cols.client, *((level.id_column, level.unit_column) if level else ())}
    table = read_table(spends_path, id_columns=ids)
    sample = draw_audit_sample(
        protocol,
        table.frame,
        seed=seed,
        size=size,
        source=str(spends_path),
        ledger_sha256=sha256_file(spends_path),
    )
    redraw = _earlier_draw(ledger, sample, force=force) if ledger is not None else ""

    def record(outputs: list[Path]) -> None:  # a failed entry puts the previous files back
        if ledger is not None:
            register.append(
                ledger,
                "audit-sample",
                inputs=[protocol_file, Path(spends_path)],
                outputs=[Path(out), audit_metadata_path(out)],
                protocol_hash=protocol.content_hash(),
                reason=f"seed {sample.seed}: {sample.size} of {sample.population} "
                f"spends in {len(sample.strata)} strata{redraw}",
            )

    write_audit_sample(sample, out, force=force, then=record)
    return sample


def _earlier_draw(ledger: Path, sample: AuditSample, *, force: bool) -> str:
    """Refuse, unless ``force``, a draw that differs from one the ledger already records."""
    from trialkit._core.hashing import sha256_text
    from trialkit.errors import RegistrationError
    from trialkit.randomise.audit_file import audit_csv_text
    from trialkit.register.ledger import read

    entries = [e for e in (read(ledger) if ledger.exists() else ()) if e.action == "audit-sample"]
    if not entries or sha256_text(audit_csv_text(sample)) in entries[-1].outputs.values():
        return ""
    last = entries[-1]
    if not force:
        raise RegistrationError(
            f"{ledger}, entry {last.seq}: an audit sample was already drawn ({last.reason}, "
            f"{last.time_utc}); this draw gives another sample, which would change the spends "
            "under review. Fix: review the spends of the recorded sample, or pass --force to "
            "draw again (the ledger records the redraw)."
        )
    return f"; redrawn with --force, replacing the sample of entry {last.seq}"


def _audit_for(protocol: Protocol, data: TrialData, path: str | Path | None) -> AuditSample | None:
    """The audit sample for the analysis, checked against the protocol and the ledger."""
    from trialkit.randomise.audit import check_spends
    from trialkit.randomise.audit_file import read_audit_sample

    spending = protocol.spending
    coverage = spending.review.coverage if spending is not None else None
    if path is None and coverage == "sample":
        raise TrialkitError(
            "the protocol reviews a sample of spends (`spending.review.coverage: sample`), so "
            "the estimates need the sample's inclusion probabilities. Fix: pass "
            "--audit-sample with the file `trialkit audit-sample` wrote."
        )
    if path is None:
        return None
    if spending is None or coverage != "sample":
        raise TrialkitError(
            f"{path}: the protocol says every spend is reviewed, so an audit sample has no "
            "place in the analysis. Fix: leave out --audit-sample, or set "
            "`spending.review.coverage: sample` and register the change."
        )
    sample = read_audit_sample(path)
    spends = data.frames.get(spending.level)
    if spends is None:
        raise TrialkitError(
            f"{path}: no spend ledger among the data files to apply the audit sample to. "
            f"Fix: pass the `{spending.level}` file with --data."
        )
    files = ", ".join(data.spending.files) if data.spending is not None else spending.level
    check_spends(sample, protocol, spends, source=files, sample_source=str(path))
    return sample


# Validate, analyse, report ------------------------------------------------------------------

RESULTS_FILE = "results.json"


def validate_files(
    protocol_path: str | Path,
    allocation: str | Path,
    data: Sequence[str | Path],
    *,
    report: str | Path | None = None,
    force: bool = False,
    ledger: Path | None = None,
) -> TrialData:
    """Validate data files against the protocol and allocation (``trialkit validate``).

    With a ledger, a ``validate`` entry records the protocol (and its content hash), the
    allocation and the data files, whether validation passes or fails: outcome data were
    seen either way, so a later protocol change is a deviation, not an amendment.
    """
    from trialkit import register
    from trialkit.errors import DataValidationError
    from trialkit.validate import validate_files as run

    if ledger is not None:
        register.ensure_appendable(ledger)
    protocol_file = resolve_protocol(protocol_path)
    inputs = [p for p in (protocol_file, Path(allocation), *map(Path, data)) if p.is_file()]
    if report is not None:
        from trialkit.validate.issues import check_report_path

        check_report_path(report, inputs=[*inputs, *([ledger] if ledger else [])], force=force)
    try:
        result = run(protocol_file, allocation, list(data), report, force=force)
    except DataValidationError as exc:
        if ledger is not None:
            register.append(
                ledger,
                "validate",
                inputs=inputs,
                protocol_hash=load_protocol(protocol_file).content_hash(),
                reason=f"validation failed: {len(exc.issues)} issue(s)",
            )
        raise
    if ledger is not None:
        register.append(
            ledger,
            "validate",
            inputs=inputs,
            protocol_hash=result.provenance.protocol_hash or "",
            reason="outcome data validated",
        )
    return result


def analyse(
    protocol_path: str | Path,
    allocation: str | Path,
    data: Sequence[str | Path],
    out: str | Path,
    *,
    registration: str | Path | None = None,
    deviation_reason: str = "",
    bayesian: bool = True,
    draws: int | None = None,
    chains: int | None = None,
    tune: int | None = None,
    force: bool = False,
    ledger: Path | None = None,
    audit_sample: str | Path | None = None,
    workers: int | None = None,
    scheduler: str | None = None,
    echo: Callable[[str], None] = lambda _: None,
) -> ResultsDocument:
    """Validate, run the registered plan, and write ``results.json`` and tidy CSVs.

    Without a registration the results are marked "not pre-registered". When the
    protocol reviews a sample of spends, ``audit_sample`` is the sample the reviewers
    judged (``trialkit audit-sample``); it must come from the spend ledger in ``data``.
    ``workers`` (a local Dask cluster of that many processes; 1: this process) or
    ``scheduler`` (a running Dask scheduler's address) fit the frequentist plan's outcomes
    in parallel, with the same results; by default everything runs in this process.
    """
    from trialkit import register
    from trialkit._core.executors import engine
    from trialkit.analyse import analyse as run_analysis
    from trialkit.analyse.outputs import check_results_dir, commit_results, results_files

    if workers is not None and workers < 1:
        raise TrialkitError(
            f"The 'workers' parameter of analyse must be a whole number of 1 or more. Got "
            f"{workers} instead. Fix: give --workers 2 or more for a local Dask cluster, "
            "or leave it out to analyse in this process."
        )
    protocol_file = resolve_protocol(protocol_path)
    protocol = load_protocol(protocol_file)
    target = Path(out)
    inputs = [protocol_file, Path(allocation), *_data_files(data)]
    if audit_sample is not None:
        inputs.append(Path(audit_sample))
    check_results_dir(target, inputs=[*inputs, *([ledger] if ledger else [])], force=force)
    if ledger is not None:
        register.ensure_appendable(ledger)
    echo("validating data")
    with reusing_freed_pages():  # validation's freed pages serve the analysis (see _core.memory)
        trial_data = validate_files(protocol_file, allocation, data)
        audit = _audit_for(protocol, trial_data, audit_sample)
        frozen = register.load_registration(registration) if registration is not None else None
        place = "serial" if scheduler is None and (workers or 1) == 1 else "dask"
        if place == "dask":
            echo(f"starting Dask: {scheduler or f'{workers} local workers'}")
        with engine(executor=place, workers=workers, scheduler=scheduler) as run:
            results = run_analysis(
                protocol,
                trial_data,
                registration=frozen,
                deviation_reason=deviation_reason,
                bayesian=bayesian,
                draws=draws,
                chains=chains,
                tune=tune,
                ledger=ledger,
                audit=audit,
                engine=run,
                echo=echo,
            )

    # results.json moves in last; the ledger entry follows it (a failed entry puts the
    # previous results back), and `report --ledger` refuses a results.json no entry records
    # (a run killed between the two).
    def record(outputs: list[Path]) -> None:
        if ledger is not None:
            register.append(
                ledger,
                "analyse",
                inputs=inputs,
                outputs=outputs,
                protocol_hash=protocol.content_hash(),
                reason=deviation_reason or "registered plan",
            )

    commit_results(target, results_files(results), force=force, then=record)
    return results


def _data_files(data: Sequence[str | Path]) -> list[Path]:
    """The files of ``data``: a folder of Parquet parts stands for its parts (as read)."""
    from trialkit.validate.readers import parquet_parts

    return [part for p in map(Path, data) for part in (parquet_parts(p) if p.is_dir() else [p])]


def _check_recorded(source: Path, ledger: Path) -> int:
    """Refuse a ``results.json`` that no ``analyse`` entry of the ledger records as written;
    return the last entry that does.

    ``analyse`` moves ``results.json`` into place before it appends its entry, so a run
    killed between the two (or a file changed since) leaves results the ledger does not
    vouch for; reporting them would present unrecorded numbers as the pilot's.
    """
    from trialkit._core.files import sha256_file
    from trialkit.register.ledger import read

    digest = sha256_file(source)
    for entry in reversed(read(ledger)):
        if entry.action == "analyse" and any(
            Path(name).name == RESULTS_FILE and value == digest
            for name, value in entry.outputs.items()
        ):
            return entry.seq
    raise TrialkitError(
        f"{source}: no `analyse` entry of the ledger {ledger} records these results (sha256 "
        f"{digest[:12]}…): the run that wrote them was interrupted before recording them, or "
        "the file changed since. Fix: run `trialkit analyse` again with --force and "
        f"--ledger {ledger}, then report."
    )


def report(
    results_dir: str | Path,
    out: str | Path | None = None,
    *,
    format: ReportFormat = "html",
    force: bool = False,
    ledger: Path | None = None,
    public_key: Path | None = None,
    head: str | None = None,
    echo: Callable[[str], None] = lambda _: None,
) -> Path:
    """Render ``results.json`` as a report (``trialkit report``): one self-contained HTML
    file, a PDF printed from it by headless Chromium, or an Excel workbook with one sheet
    per results table. ``out`` defaults to ``report.html``, ``.pdf`` or ``.xlsx``.

    With a ledger, the report's provenance section shows its check (as ``trialkit
    verify``: alterations, the history's findings, head hash and length; signatures with
    ``public_key``, an anchored ``head``) and what that check cannot see; ``echo`` gets
    its one-line summary."""
    from trialkit import register
    from trialkit._core.destinations import check_destination, write_failed
    from trialkit.analyse import load_results
    from trialkit.analyse.outputs import recover_results
    from trialkit.report.output import check_report_name, default_report_name, render_output

    if ledger is None and (public_key is not None or head is not None):
        raise TrialkitError(
            "--public-key and --head check the pilot's ledger, and no ledger was given. "
            "Fix: add --ledger ledger.jsonl (the ledger in the pilot's folder)."
        )
    if ledger is not None:
        register.ensure_appendable(ledger)
    target = Path(out) if out is not None else Path(default_report_name(format))
    source = Path(results_dir) / RESULTS_FILE
    recover_results(Path(results_dir))  # after an interrupted analyse: the previous results
    check_destination(target, inputs=[source, *([ledger] if ledger else [])], what="report")
    check_report_name(target, format)
    ensure_absent(target, force=force, what="report")  # before a slow print to PDF
    results = load_results(source)
    evidence = None
    if ledger is not None:
        from trialkit.report.trail import LedgerEvidence, evidence_trail

        seq = _check_recorded(source, ledger)
        check = register.audit(ledger, public_key=public_key, head=head)
        evidence = LedgerEvidence(check, results_entry=seq)
        status = evidence_trail(evidence).status
        echo(f"evidence trail: {status} (see the report's provenance section)")
    payload = render_output(results, format, source=str(source), ledger=evidence)

    def record(outputs: list[Path]) -> None:  # a failed entry puts the previous report back
        if ledger is not None:
            register.append(ledger, "report", inputs=[source], outputs=outputs)

    try:
        return atomic_write(target, payload, force=force, what="report", then=record)
    except OSError as exc:
        raise write_failed(exc, target, what="report") from None
