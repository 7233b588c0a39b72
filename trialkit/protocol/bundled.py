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
