"""Reading and auditing a ledger never ends in a traceback (issue 20, item 6): whatever
the bytes (torn lines, invalid UTF-8, fields of the wrong type, reordered lines),
``read``, ``audit`` and ``verify`` return or raise a ``TrialkitError``."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from fuzz_strategies import mutated
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from trialkit.errors import TrialkitError
from trialkit.register import LEDGER_NAME, append, audit, verify
from trialkit.register.ledger import read

FUZZ = settings(
    max_examples=60,
    deadline=2000,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)

_JSON = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False) | st.text(),
    lambda inner: (
        st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=8), inner, max_size=4)
    ),
    max_leaves=12,
)


@pytest.fixture(scope="module")
def ledger(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A three-entry ledger recording two files of its directory."""
    directory = tmp_path_factory.mktemp("ledger")
    path = directory / LEDGER_NAME
    (directory / "protocol.yaml").write_text("id: x\n", encoding="utf-8")
    (directory / "allocation.csv").write_text("unit_id,arm\nU1,control\n", encoding="utf-8")
    append(path, "register", outputs=[directory / "protocol.yaml"], actor="fuzz")
    append(
        path,
        "randomise",
        inputs=[directory / "protocol.yaml"],
        outputs=[directory / "allocation.csv"],
        actor="fuzz",
        protocol_hash="a" * 64,
    )
    append(path, "validate", inputs=[directory / "allocation.csv"], actor="fuzz")
    return path


@st.composite
def _reordered(draw: st.DrawFn, valid: bytes) -> bytes:
    """The ledger's lines permuted, some dropped or repeated."""
    lines = valid.splitlines(keepends=True)
    chosen = draw(st.lists(st.sampled_from(lines), max_size=len(lines) + 2))
    return b"".join(chosen)


@st.composite
def _retyped(draw: st.DrawFn, valid: bytes) -> bytes:
    """One field of one entry replaced by any JSON value (a file name, a hash, ``seq``…)."""
    lines = [json.loads(line) for line in valid.splitlines()]
    entry = draw(st.sampled_from(lines))
    key = draw(st.sampled_from(sorted(entry)))
    if key in ("inputs", "outputs") and draw(st.booleans()):
        entry[key] = {draw(st.text(max_size=300)): draw(st.text(max_size=70))}
    else:
        entry[key] = draw(_JSON)
    return b"".join(json.dumps(line).encode("utf-8") + b"\n" for line in lines)


def _check(target: Path, payload: bytes) -> None:
    target.write_bytes(payload)
    for check in (read, audit, verify):
        try:
            check(target)
        except TrialkitError as exc:
            assert str(target) in str(exc) and "Fix:" in str(exc)


def test_valid_ledger_is_intact(ledger: Path) -> None:
    assert len(read(ledger)) == 3
    assert verify(ledger) == []


@FUZZ
@given(data=st.data())
def test_fuzzed_ledger_reads_or_fails_located(
    tmp_path: Path, ledger: Path, data: st.DataObject
) -> None:
    valid = ledger.read_bytes()
    payload = data.draw(
        st.binary(max_size=300) | mutated(valid) | _reordered(valid) | _retyped(valid)
    )
    # In the ledger's directory, so the files its entries record are found.
    _check(ledger.parent / f"fuzzed-{tmp_path.name}.jsonl", payload)


_NAMES = (
    st.text(max_size=20)
    | st.text(alphabet="x/.", min_size=200, max_size=400)
    | st.sampled_from(["", ".", "..", "/", "a\x00b", "x" * 300, "../" * 200])
)


@FUZZ
@given(names=st.lists(_NAMES, min_size=1, max_size=4), digest=st.text(max_size=70))
def test_any_recorded_file_name_audits(
    tmp_path: Path, ledger: Path, names: list[str], digest: str
) -> None:
    """A file name no file can have here (too long, a NUL, a directory) is a problem the
    audit lists, not a crash."""
    entries = [json.loads(line) for line in ledger.read_bytes().splitlines()]
    entries[-1]["inputs"] = dict.fromkeys(names, digest)
    target = ledger.parent / f"names-{tmp_path.name}.jsonl"
    target.write_text("".join(json.dumps(e) + "\n" for e in entries), encoding="utf-8")
    problems = verify(target)
    assert any(problem.startswith("entry 3 (validate)") for problem in problems)
