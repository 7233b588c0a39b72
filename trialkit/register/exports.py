"""Registry-ready exports of a registration: the fields a registry asks for, filled.

:func:`export` fills one registry's form (:mod:`trialkit.register.registries`) from the
registered facts; :func:`write_exports` writes each as JSON (one entry per field: label,
required, value or null, the protocol path it came from) and as Markdown a researcher can
paste from. Fields the protocol cannot fill are listed as missing, never invented.
"""

from __future__ import annotations

import datetime as dt
import json
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from pydantic import BaseModel

from trialkit._core.destinations import write_failed
from trialkit._core.files import ensure_absent
from trialkit._core.staging import commit
from trialkit.errors import TrialkitError
from trialkit.protocol.vocabulary import options
from trialkit.register.export_fields import Facts, RegistryField, registration_facts
from trialkit.register.export_text import render_markdown
from trialkit.register.registries import FORMS, Registry, RegistryForm

EXPORT_DIR = "exports"
SCHEMA_VERSION = 1


def jsonable(value: Any) -> Any:
    """``value`` as JSON types: models dumped, dates as ISO text, tuples as lists."""
    if isinstance(value, BaseModel):
        return value.model_dump(mode="json")
    if isinstance(value, dt.date):
        return value.isoformat()
    if isinstance(value, dict):
        return {str(k): jsonable(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [jsonable(v) for v in value]
    return value


@dataclass(frozen=True, slots=True)
class ExportEntry:
    """One registry field with its value from the protocol (``None`` when missing)."""

    field: RegistryField
    value: Any

    @property
    def missing(self) -> bool:
        """True when the protocol gives no value for the field."""
        return self.value is None or self.value in ("", [], {})

    def to_dict(self) -> dict[str, Any]:
        """The entry as JSON: section, label, required, value, source, missing, note."""
        f = self.field
        return {
            "section": f.section,
            "label": f.label,
            "required": f.required,
            "value": None if self.missing else self.value,
            "source": f.source or None,
            "missing": self.missing,
            "note": f.note or None,
        }


@dataclass(frozen=True, slots=True)
class RegistryExport:
    """One registry's form filled from a registration."""

    form: RegistryForm
    registration: dict[str, Any]
    entries: tuple[ExportEntry, ...]

    @property
    def missing(self) -> tuple[ExportEntry, ...]:
        """The fields the protocol leaves empty."""
        return tuple(e for e in self.entries if e.missing)

    def to_json(self) -> str:
        """The export as indented JSON text."""
        return (
            json.dumps(
                {
                    "schema_version": SCHEMA_VERSION,
                    "registry": self.form.key,
                    "registry_name": self.form.name,
                    "field_list": self.form.caveat,
                    "registration": self.registration,
                    "fields": [e.to_dict() for e in self.entries],
                    "missing": [e.field.label for e in self.missing],
                },
                indent=2,
                ensure_ascii=False,
            )
            + "\n"
        )

    def to_markdown(self) -> str:
        """The export as Markdown: the registration, the caveat, then field by field."""
        return render_markdown(self)


def export(registry: Registry, facts: Facts) -> RegistryExport:
    """Fill ``registry``'s form from ``facts``.

    Examples
    --------
    >>> from trialkit.register.registries import AEA
    >>> AEA.fields[0].label, AEA.fields[0].source, AEA.fields[0].required
    ('Trial title', 'identity.title', True)
    """
    form = FORMS[registry]
    entries = tuple(
        ExportEntry(f, None if f.get is None else jsonable(f.get(facts))) for f in form.fields
    )
    return RegistryExport(form, jsonable(registration_facts(facts)), entries)


def check_registries(names: Sequence[str]) -> tuple[Registry, ...]:
    """``names`` as registries; refuse an unknown one before anything is written."""
    for name in names:
        if name not in FORMS:
            raise TrialkitError(
                f"--export {name}: no such registry. Fix: give one of "
                f"{options(Registry)} to --export (repeat it for several)."
            )
    return tuple(dict.fromkeys(names))  # type: ignore[arg-type]


def write_exports(facts: Facts, registries: Sequence[Registry]) -> list[Path]:
    """Write ``<registration>/exports/<registry>.json`` and ``.md`` for each registry.

    Raises
    ------
    OverwriteError
        If an export file already exists (a registration's files are never replaced).
    """
    folder = facts.registration.directory / EXPORT_DIR
    done = [export(registry, facts) for registry in registries]
    paths = [(folder / f"{e.form.key}.json", folder / f"{e.form.key}.md") for e in done]
    for path in (p for pair in paths for p in pair):
        ensure_absent(
            path,
            what="registry export",
            fix="a registration's files are never "
            "replaced: register the protocol into a new directory with --out, "
            "or move the old export away.",
        )
    files: dict[str, bytes] = {}
    for item, (json_path, md_path) in zip(done, paths, strict=True):
        files[json_path.name] = item.to_json().encode("utf-8")
        files[md_path.name] = item.to_markdown().encode("utf-8")
    try:  # every registry's pair in one commit: all of them or none
        commit(folder, files, last=list(files)[-1], what="registry export")
    except OSError as exc:
        raise write_failed(exc, folder, what="registry exports", option="--out") from None
    return [p for pair in paths for p in pair]
