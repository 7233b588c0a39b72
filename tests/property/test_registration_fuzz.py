"""Loading a registration never ends in a traceback (issue 20, item 6): whatever the bytes
of ``registration.json`` or ``protocol.frozen.json``, ``load_registration`` returns the
registration or raises a ``RegistrationError`` naming the file."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest
from fuzz_strategies import mutated
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from trialkit.errors import RegistrationError
from trialkit.protocol import Protocol
from trialkit.register import commit, freeze, load_registration

FUZZ = settings(
    max_examples=60,
    deadline=2000,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)

RECORD = "registration.json"
FROZEN = "protocol.frozen.json"

_JSON = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False) | st.text(),
    lambda inner: (
        st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=8), inner, max_size=4)
    ),
    max_leaves=12,
)


@pytest.fixture(scope="module")
def registered(tmp_path_factory: pytest.TempPathFactory, flagship: Protocol) -> Path:
    directory = tmp_path_factory.mktemp("registration")
    commit(freeze(flagship, directory))
    return directory


def _replaced_field(draw: st.DrawFn, valid: bytes) -> bytes:
    """``valid`` (a JSON object) with one top-level field replaced by any JSON value, or
    removed."""
    document = json.loads(valid)
    key = draw(st.sampled_from(sorted(document)))
    if draw(st.booleans()):
        del document[key]
    else:
        document[key] = draw(_JSON)
    return json.dumps(document).encode("utf-8")


def _check(source: Path, target: Path, name: str, payload: bytes) -> None:
    if target.exists():
        shutil.rmtree(target)
    shutil.copytree(source, target)
    (target / name).write_bytes(payload)
    try:
        registration = load_registration(target)
    except RegistrationError as exc:
        assert str(target) in str(exc) and "Fix:" in str(exc)
    else:
        assert registration.protocol.content_hash() == registration.protocol_hash


def test_valid_registration_loads(registered: Path, flagship: Protocol) -> None:
    assert load_registration(registered).protocol_hash == flagship.content_hash()


@pytest.mark.parametrize("name", [RECORD, FROZEN])
@FUZZ
@given(data=st.data())
def test_fuzzed_registration_loads_or_fails_located(
    tmp_path: Path, registered: Path, name: str, data: st.DataObject
) -> None:
    valid = (registered / name).read_bytes()
    payload = data.draw(
        st.binary(max_size=300) | mutated(valid) | st.builds(lambda: b"") | st.just(b"null"),
        label="bytes",
    )
    if data.draw(st.booleans(), label="replace a field instead"):
        payload = _replaced_field(data.draw, valid)
    _check(registered, tmp_path / "reg", name, payload)


@FUZZ
@given(data=st.data())
def test_fuzzed_protocol_section_loads_or_fails_located(
    tmp_path: Path, registered: Path, data: st.DataObject
) -> None:
    """One nested field of the frozen protocol replaced by any JSON value: the protocol
    validator, not a traceback, answers."""
    document = json.loads((registered / FROZEN).read_bytes())
    node = document
    while isinstance(node, dict) and node and data.draw(st.booleans(), label="descend"):
        key = data.draw(st.sampled_from(sorted(node)), label="key")
        if not isinstance(node[key], dict) or not node[key]:
            break
        node = node[key]
    key = data.draw(st.sampled_from(sorted(node)), label="field")
    node[key] = data.draw(_JSON, label="value")
    _check(registered, tmp_path / "reg", FROZEN, json.dumps(document).encode("utf-8"))
