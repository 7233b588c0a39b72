"""Every example in trialkit's docstrings runs and prints what it shows (the README's test
command collects only ``tests/``, so the examples are run from here)."""

from __future__ import annotations

import doctest
import importlib
import pkgutil

import pytest

import trialkit

MODULES = sorted(
    name
    for _, name, _ in pkgutil.walk_packages(trialkit.__path__, "trialkit.")
    if not name.endswith("__main__")
)


@pytest.mark.parametrize("name", MODULES)
def test_docstring_examples_hold(name: str) -> None:
    module = importlib.import_module(name)
    runner = doctest.DocTestRunner(optionflags=doctest.ELLIPSIS)
    report: list[str] = []
    for example in doctest.DocTestFinder(exclude_empty=True).find(module, name):
        if example.filename and example.filename.endswith(".py"):
            runner.run(example, out=report.append)
    assert runner.failures == 0, "".join(report)
