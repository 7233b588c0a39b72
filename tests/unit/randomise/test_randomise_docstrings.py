"""The Examples in the randomise docstrings run."""

from __future__ import annotations

import doctest
import importlib

import pytest

MODULES = [
    "trialkit.randomise.units",
    "trialkit.randomise.schemes.simple",
    "trialkit.randomise.schemes.complete",
    "trialkit.randomise.schemes.blocked",
    "trialkit.randomise.schemes.cluster",
    "trialkit.randomise.schemes.blocked_cluster",
    "trialkit.randomise.schemes.matched_pairs",
    "trialkit.randomise.schemes.rerandomisation",
    "trialkit.randomise.schemes.stepped_wedge",
]


@pytest.mark.parametrize("name", MODULES)
def test_docstring_examples(name: str) -> None:
    result = doctest.testmod(importlib.import_module(name))
    assert result.failed == 0 and result.attempted > 0
