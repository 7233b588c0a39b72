"""The lazy public entry points keep their types: mypy sees real signatures, never ``Any``."""

from __future__ import annotations

import re
import textwrap
from pathlib import Path

import pytest

api = pytest.importorskip("mypy.api")

#: The README's imports (and the estimators the issue names), each revealed to mypy.
SNIPPET = textwrap.dedent(
    """
    from trialkit.estimate import (
        bayes, binary_effect, difference_in_means, iv, lin, ols, randomisation_test,
    )
    from trialkit.estimate.frequentist import fit, lee_bounds
    from trialkit.estimate.bayesian import BayesianFit, fit_protocol

    reveal_type(difference_in_means)
    reveal_type(ols)
    reveal_type(lin)
    reveal_type(iv)
    reveal_type(binary_effect)
    reveal_type(randomisation_test)
    reveal_type(bayes)
    reveal_type(fit)
    reveal_type(lee_bounds)
    reveal_type(BayesianFit)
    reveal_type(fit_protocol)
    """
)

#: The return type mypy must reveal for each name (a fragment of the revealed signature).
EXPECTED = {
    "difference_in_means": "RegressionResult",
    "ols": "RegressionResult",
    "lin": "RegressionResult",
    "iv": "IVResult",
    "binary_effect": "RegressionResult",
    "randomisation_test": "RandomisationTest",
    "bayes": "BayesianFit",
    "fit": "FrequentistResults",
    "lee_bounds": "LeeBounds",
    "BayesianFit": "BayesianFit",
    "fit_protocol": "BayesianResults",
}


def test_public_entry_points_are_typed(tmp_path: Path) -> None:
    snippet = tmp_path / "snippet.py"
    snippet.write_text(SNIPPET)
    stdout, stderr, _ = api.run(
        [
            str(snippet),
            "--cache-dir",
            str(tmp_path / "cache"),
            "--follow-imports=silent",
            "--no-error-summary",
            "--hide-error-context",
            "--show-column-numbers",
        ]
    )
    revealed = re.findall(r'Revealed type is "(.*)"', stdout)
    assert len(revealed) == len(EXPECTED), stdout + stderr
    for (name, expected), text in zip(EXPECTED.items(), revealed, strict=True):
        returns = text.rpartition("-> ")[2]
        assert text != "Any" and "Any" not in returns, f"{name} is revealed as {text}"
        assert expected in returns, f"{name} should return {expected}; mypy reveals {text}"
