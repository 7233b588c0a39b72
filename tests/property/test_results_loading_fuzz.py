"""Loading ``results.json`` never ends in a traceback (issue 20, item 6): whatever the
bytes, ``load_results`` returns a document or raises a located ``TrialkitError``."""

from __future__ import annotations

import json
from pathlib import Path

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from trialkit.analyse import load_results
from trialkit.errors import TrialkitError

_JSON = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False) | st.text(),
    lambda inner: (
        st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=8), inner, max_size=4)
    ),
    max_leaves=20,
)


FUZZ = settings(
    max_examples=150, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)


def _check(path: Path, payload: bytes) -> None:
    path.write_bytes(payload)
    try:
        load_results(path)
    except TrialkitError as exc:
        assert str(path) in str(exc) and "Fix:" in str(exc)


@FUZZ
@given(payload=st.binary(max_size=200))
def test_any_bytes_load_or_fail_located(tmp_path: Path, payload: bytes) -> None:
    _check(tmp_path / "results.json", payload)


@FUZZ
@given(value=_JSON, version=st.sampled_from([None, 1, 2, "2"]))
def test_any_json_loads_or_fails_located(tmp_path: Path, value: object, version: object) -> None:
    if isinstance(value, dict) and version is not None:
        value = {**value, "schema_version": version}
    _check(tmp_path / "results.json", json.dumps(value).encode("utf-8"))
