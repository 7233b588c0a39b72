"""The public-holiday calendars the installed ``holidays`` package knows, looked up cheaply.

``trialkit check`` refuses a calendar the ``holidays`` package does not have. Asking the
package costs about 0.1 s (it imports the module of every country), more than the rest of
``check``, so the list of codes is kept in the user's cache directory, one file per
installed copy of ``holidays`` (its path, and the size and time of its country registry):
upgrading the package makes a new file. A cache that cannot be read or written is simply
rebuilt or skipped; it never changes the answer.
"""

from __future__ import annotations

import contextlib
import hashlib
import importlib.util
import json
import os
from pathlib import Path


def calendar_codes() -> frozenset[str]:
    """Every calendar ``holidays`` knows: ``GB``, ``GBR`` and ``GB-ENG`` (country-subdivision).

    Examples
    --------
    >>> {"GB", "GB-ENG", "GB-SCT", "IE"} <= calendar_codes()
    True
    """
    cache = _cache_file()
    if cache is not None:
        with contextlib.suppress(OSError, ValueError, TypeError):
            return frozenset(json.loads(cache.read_text(encoding="utf-8"))["codes"])
    codes = _ask_holidays()
    if cache is not None:
        _store(cache, codes)
    return codes


def _ask_holidays() -> frozenset[str]:
    import holidays

    supported = holidays.list_supported_countries(include_aliases=True)
    return frozenset(
        {*supported, *(f"{country}-{sub}" for country, subs in supported.items() for sub in subs)}
    )


def _cache_file() -> Path | None:
    """This copy of ``holidays``' cache file, or None when the package cannot be located."""
    spec = importlib.util.find_spec("holidays")
    places = spec.submodule_search_locations if spec is not None else None
    if not places:
        return None
    registry = Path(next(iter(places))) / "registry.py"
    try:
        stat = registry.stat()
    except OSError:
        return None
    key = hashlib.sha256(f"{registry}|{stat.st_size}|{stat.st_mtime_ns}".encode()).hexdigest()
    return _cache_dir() / f"holiday-calendars-{key[:16]}.json"


def _cache_dir() -> Path:
    if explicit := os.environ.get("TRIALKIT_CACHE_DIR"):
        return Path(explicit)
    base = os.environ.get("XDG_CACHE_HOME") or Path.home() / ".cache"
    return Path(base) / "trialkit"


def _store(cache: Path, codes: frozenset[str]) -> None:
    """Write the cache atomically; a read-only or full disk only costs the next run time."""
    temporary = cache.with_suffix(f".{os.getpid()}.tmp")
    try:
        cache.parent.mkdir(parents=True, exist_ok=True)
        temporary.write_text(json.dumps({"codes": sorted(codes)}), encoding="utf-8")
        os.replace(temporary, cache)
    except OSError:
        with contextlib.suppress(OSError):
            temporary.unlink(missing_ok=True)
