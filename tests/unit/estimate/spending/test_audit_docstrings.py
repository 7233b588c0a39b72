"""The Examples in the audit sampling and misuse docstrings run."""

from __future__ import annotations

import doctest
import importlib

import pytest

MODULES = [
    "trialkit.randomise._audit_strata",
    "trialkit.estimate.spending.intervals",
    "trialkit.estimate.spending.misuse",
]


@pytest.mark.parametrize("name", MODULES)
def test_docstring_examples(name: str) -> None:
    result = doctest.testmod(importlib.import_module(name))
    assert result.failed == 0 and result.attempted > 0
