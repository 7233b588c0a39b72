"""The Examples sections of the frequentist estimators run as tests."""

from __future__ import annotations

import doctest
import importlib

import pytest

MODULES = ["dim", "ols", "lin", "iv", "binary", "wild", "ri.estimator"]


@pytest.mark.parametrize("name", MODULES)
def test_docstring_examples(name: str) -> None:
    module = importlib.import_module(f"trialkit.estimate.frequentist.{name}")
    result = doctest.testmod(module, optionflags=doctest.NORMALIZE_WHITESPACE)
    assert result.attempted > 0, f"{name} has no examples"
    assert result.failed == 0, f"{name}: {result.failed} failing example(s)"
