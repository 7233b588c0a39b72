"""``trialkit demo``: the whole life of the bundled Gateshead-style pilot in one directory.

It runs every stage that exists, on the bundled protocol and its example units, and refuses
an existing directory so a previous demo is never overwritten.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

from trialkit import api
from trialkit.errors import OverwriteError, TrialkitError
from trialkit.protocol import load_protocol

DEMO_PROTOCOL = "council_discretionary_budget"


def run_demo(out: Path, *, echo: Callable[[str], None] = print) -> Path:
    """Run the demo into the new directory ``out``; return the directory."""
    if out.exists():
        raise OverwriteError(
            f"{out}: already exists; the demo never overwrites a previous run. "
            "Fix: pass a new directory with --out, or remove the old one."
        )
    source = api.resolve_protocol(DEMO_PROTOCOL)
    units = api.example_units(source)
    if units is None:
        raise TrialkitError(f"{source}: the bundled example units are missing; reinstall.")
    protocol = load_protocol(source)
    out.mkdir(parents=True)
    api.copy_new(source, out / "protocol.yaml")
    api.copy_new(units, out / "units.csv")
    echo(f"protocol   {protocol.identity.title}")
    echo(f"           sha256 {protocol.content_hash()}")
    echo(f"units      {out / 'units.csv'}")
    echo(f"done: {out}")
    return out
