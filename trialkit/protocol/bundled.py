"""Find the protocols and templates shipped with trialkit.

In a wheel they live in ``trialkit/_bundled/``; in a source checkout, at the repository's
top level (``protocols/``, ``templates/``).
"""

from __future__ import annotations

from pathlib import Path

_PACKAGE = Path(__file__).resolve().parent.parent


def resource_dir(name: str) -> Path:
    """The directory of bundled ``protocols`` or ``templates``."""
    installed = _PACKAGE / "_bundled" / name
    if installed.is_dir():
        return installed
    return _PACKAGE.parent / name


def bundled_protocols() -> dict[str, Path]:
    """Bundled protocol names (file names without ``.yaml``) mapped to their paths."""
    return {p.stem: p for p in sorted(resource_dir("protocols").glob("*.yaml"))}


def bundled_path(name: str) -> Path:
    """The path of a bundled protocol, by name; ``KeyError`` lists the names."""
    protocols = bundled_protocols()
    if name not in protocols:
        raise KeyError(f"no bundled protocol `{name}`; bundled: {', '.join(protocols)}")
    return protocols[name]


#: The protocol JSON Schema shipped beside the bundled protocols (a test keeps it equal to
#: the models' own schema, ``trialkit.api.protocol_schema()``).
SCHEMA_FILE = "trialkit-protocol.schema.json"


def bundled_schema() -> str:
    """The shipped protocol JSON Schema, as text (without building the models)."""
    return (resource_dir("protocols") / SCHEMA_FILE).read_text(encoding="utf-8")


def bundled_summary(path: Path) -> tuple[str, str]:
    """The design type and title of a bundled protocol, read from its YAML alone (bundled
    protocols are validated by the test suite, so listing them needs no models)."""
    import yaml

    loader = getattr(yaml, "CSafeLoader", yaml.SafeLoader)
    data = yaml.load(path.read_text(encoding="utf-8"), Loader=loader)
    return str(data["design"]["type"]), " ".join(str(data["identity"]["title"]).split())
