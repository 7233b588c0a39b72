"""A registry export as Markdown: one heading per field, the value ready to paste.

Values are shown as the export holds them (numbers to four significant figures); nothing
is computed here.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from trialkit.register.exports import ExportEntry, RegistryExport


def _scalar(value: Any) -> str:
    if value is None:
        return "—"
    if isinstance(value, bool):
        return "yes" if value else "no"
    if isinstance(value, float):
        return f"{value:,.0f}" if value.is_integer() and abs(value) >= 1e4 else f"{value:.4g}"
    return str(value)


def _inline(value: Any) -> str:
    """A value on one line: mappings as ``key: value; ...``, lists comma-separated."""
    if isinstance(value, dict):
        return "; ".join(f"{key}: {_inline(item)}" for key, item in value.items())
    if isinstance(value, list):
        return "[" + ", ".join(_inline(item) for item in value) + "]"
    return _scalar(value)


def _lines(value: Any, indent: str = "") -> list[str]:
    """A value as Markdown lines: text as is, lists and mappings as nested bullets."""
    if isinstance(value, dict):
        out = []
        for key, item in value.items():
            if isinstance(item, dict | list) and item:
                out += [f"{indent}- {key}:", *_lines(item, indent + "  ")]
            else:
                out.append(f"{indent}- {key}: {_scalar(item)}")
        return out
    if isinstance(value, list):
        return [f"{indent}- {_inline(item)}" for item in value]
    return [f"{indent}{_scalar(value)}"]


def _required(entry: ExportEntry) -> str:
    return {True: " (required)", False: "", None: ""}[entry.field.required]


def _entry(entry: ExportEntry) -> list[str]:
    f = entry.field
    lines = [f"### {f.label}{_required(entry)}", ""]
    if entry.missing:
        where = f"protocol key `{f.source}`" if f.source else "not in the protocol schema"
        lines.append(f"**Missing** ({where}).")
    else:
        lines += [*_lines(entry.value), "", f"_From `{f.source}`._"]
    if f.note:
        lines += ["", f"_Note: {f.note}_"]
    return [*lines, ""]


def render_markdown(export: RegistryExport) -> str:
    """The export as Markdown text."""
    reg = export.registration
    missing = export.missing
    required = [e.field.label for e in missing if e.field.required]
    lines = [
        f"# {export.form.name}: fields from the registered protocol",
        "",
        f"Protocol `{reg['protocol_id']}` version {reg['protocol_version']}, sha256 "
        f"`{reg['protocol_hash']}`, registered {reg['registered_utc']} "
        f"(trialkit {reg['trialkit_version']}).",
        "",
        f"> Field list: {export.form.caveat}",
        "",
        f"{len(export.entries) - len(missing)} of {len(export.entries)} fields filled from "
        f"the protocol. Missing ({len(missing)}): "
        + (", ".join(e.field.label for e in missing) or "none")
        + "."
        + (f" Required and missing: {', '.join(required)}." if required else ""),
        "",
    ]
    section = None
    for entry in export.entries:
        if entry.field.section != section:
            section = entry.field.section
            lines += [f"## {section}", ""]
        lines += _entry(entry)
    return "\n".join(lines).rstrip() + "\n"
