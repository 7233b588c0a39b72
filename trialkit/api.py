"""The public Python API: thin orchestration of the pipeline's stages.

Each function takes paths or objects, calls one stage, and returns its result. No
statistics live here; the CLI is a thin layer over these functions.
"""

from __future__ import annotations

import json
import shutil
from pathlib import Path

from trialkit._core.files import atomic_write
from trialkit.errors import OverwriteError, TrialkitError
from trialkit.protocol import Protocol, bundled_path, bundled_protocols, load_protocol
from trialkit.protocol.bundled import resource_dir

SCHEMA_FILE = "trialkit-protocol.schema.json"


def protocol_schema() -> str:
    """The JSON Schema of a protocol, as indented JSON text."""
    schema = Protocol.model_json_schema()
    schema["$schema"] = "https://json-schema.org/draft/2020-12/schema"
    schema["title"] = "trialkit pilot protocol"
    return json.dumps(schema, indent=2, sort_keys=True) + "\n"


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
    load_protocol(protocol_path)  # a workspace starts from a valid protocol
    target.mkdir(parents=True, exist_ok=True)
    written = [
        atomic_write(target / "protocol.yaml", protocol_path.read_bytes(), what="protocol"),
        atomic_write(target / SCHEMA_FILE, protocol_schema(), what="schema"),
    ]
    units = example_units(protocol_path)
    if units is not None:
        written.append(atomic_write(target / "units.csv", units.read_bytes(), what="units"))
    return written


def copy_new(source: Path, destination: Path) -> Path:
    """Copy a file to a path that must not exist yet."""
    if destination.exists():
        raise OverwriteError(f"{destination}: exists; refusing to overwrite.")
    destination.parent.mkdir(parents=True, exist_ok=True)
    shutil.copyfile(source, destination)
    return destination
