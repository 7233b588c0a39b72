"""Lazy package attributes: names resolved on first use, so importing a package stays cheap."""

from __future__ import annotations

import importlib
from collections.abc import Callable, Mapping
from typing import Any


def lazy_getattr(package: str, names: Mapping[str, str]) -> Callable[[str], Any]:
    """A module ``__getattr__`` that imports ``names[attr]`` and returns its ``attr``.

    Examples
    --------
    >>> getter = lazy_getattr("pkg", {"sqrt": "math"})
    >>> getter("sqrt")(9.0)
    3.0
    """

    def resolve(name: str) -> Any:
        module = names.get(name)
        if module is None:
            raise AttributeError(f"module {package!r} has no attribute {name!r}")
        return getattr(importlib.import_module(module), name)

    return resolve
