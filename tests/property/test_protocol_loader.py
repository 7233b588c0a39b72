"""Fuzzing the protocol loader: it returns a Protocol or raises ProtocolError, nothing else.

Inputs range from arbitrary text, through YAML-ish fragments and arbitrary YAML documents,
to structured mutations of the flagship (keys deleted, values swapped, types changed) and
line-level edits of its text, which reach the validation and cross-field rules.
"""

from __future__ import annotations

import copy
import datetime as dt
from pathlib import Path
from typing import Any

import yaml
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from trialkit.errors import ProtocolError, TrialkitError
from trialkit.protocol import Protocol, parse_protocol

FLAGSHIP = Path(__file__).resolve().parents[2] / "protocols" / "council_discretionary_budget.yaml"
FLAGSHIP_TEXT = FLAGSHIP.read_text(encoding="utf-8")
FLAGSHIP_DATA: dict[str, Any] = yaml.safe_load(FLAGSHIP_TEXT)
SOURCE = "fuzz.yaml"

FAST = settings(max_examples=100, deadline=None, suppress_health_check=[HealthCheck.too_slow])
SLOW = settings(max_examples=15, deadline=None, suppress_health_check=[HealthCheck.too_slow])


def _paths(node: Any, prefix: tuple[Any, ...] = ()) -> list[tuple[Any, ...]]:
    """Every path to a key or list item in a loaded YAML document."""
    found: list[tuple[Any, ...]] = []
    items = (
        node.items()
        if isinstance(node, dict)
        else enumerate(node)
        if isinstance(node, list)
        else ()
    )
    for key, value in items:
        found.append((*prefix, key))
        found.extend(_paths(value, (*prefix, key)))
    return found


PATHS = _paths(FLAGSHIP_DATA)
KEYS = sorted({str(p[-1]) for p in PATHS if isinstance(p[-1], str)})


def assert_parses_or_reports(text: str) -> None:
    """The loader's contract: a Protocol, or a ProtocolError whose issues are located."""
    try:
        result = parse_protocol(text, source=SOURCE)
    except ProtocolError as exc:
        assert isinstance(exc, TrialkitError)
        assert exc.issues, "a ProtocolError must carry its issues"
        for issue in exc.issues:
            assert issue.location.file == SOURCE
            assert issue.fix
            assert issue.location.line is None or issue.location.line >= 1
        assert str(exc)
    else:
        assert isinstance(result, Protocol)


# Strategies -------------------------------------------------------------------------------

scalars = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(),
    st.integers(min_value=-(10**60), max_value=10**60),
    st.floats(allow_nan=True, allow_infinity=True),
    st.text(max_size=20),
    st.sampled_from(KEYS),
    st.dates(min_value=dt.date(1900, 1, 1), max_value=dt.date(2100, 12, 31)),
)
values = st.recursive(
    scalars,
    lambda children: st.one_of(
        st.lists(children, max_size=4),
        st.dictionaries(
            st.one_of(st.sampled_from(KEYS), st.text(max_size=8)), children, max_size=4
        ),
    ),
    max_leaves=12,
)

FRAGMENTS = [
    *(f"{key}:" for key in KEYS[:40]),
    "- ",
    "  ",
    "    ",
    ": ",
    "[",
    "]",
    "{",
    "}",
    ",",
    "'",
    '"',
    "#",
    "&a ",
    "*a",
    "<<: *a",
    "!!python/object/apply:os.system ['true']",
    "!!str",
    "!!int",
    "!!float",
    "!!bool",
    "!!timestamp",
    "!!set",
    "!!binary",
    "? ",
    "---",
    "...",
    "|",
    ">-",
    "\t",
    "%YAML 1.1",
    "2027-02-30",
    "1e400",
    "0x1F",
    "~",
    ".nan",
    "\n",
    "\n",
    "\n",
]
yamlish = st.lists(st.one_of(st.sampled_from(FRAGMENTS), st.text(max_size=6)), max_size=40).map(
    "".join
)


# Tests ------------------------------------------------------------------------------------


@FAST
@given(st.text())
def test_arbitrary_text(text: str) -> None:
    assert_parses_or_reports(text)


@FAST
@given(yamlish)
def test_yamlish_fragments(text: str) -> None:
    assert_parses_or_reports(text)


@settings(FAST, max_examples=60)
@given(st.dictionaries(st.sampled_from(list(FLAGSHIP_DATA)), values, max_size=6))
def test_arbitrary_documents_with_protocol_keys(document: dict[str, Any]) -> None:
    assert_parses_or_reports(yaml.safe_dump(document, allow_unicode=True))


def _get(doc: Any, path: tuple[Any, ...]) -> Any:
    for part in path:
        doc = doc[part]
    return doc


def _mutate(doc: dict[str, Any], data: st.DataObject) -> None:
    """Apply one random structural edit to ``doc`` in place."""
    live = _paths(doc)
    if not live:
        return
    path = data.draw(st.sampled_from(live))
    parent, key = _get(doc, path[:-1]), path[-1]
    kind = data.draw(st.sampled_from(["delete", "replace", "swap", "retype", "duplicate"]))
    if kind == "delete":
        del parent[key]
    elif kind == "replace":
        parent[key] = data.draw(values)
    elif kind == "swap":
        other = data.draw(st.sampled_from(live))
        try:
            other_parent = _get(doc, other[:-1])
            parent[key], other_parent[other[-1]] = other_parent[other[-1]], parent[key]
        except (KeyError, IndexError, TypeError):
            pass  # one path ran through the other; skip this swap
    elif kind == "retype":
        value = parent[key]
        parent[key] = data.draw(
            st.sampled_from([[value], {"value": value}, str(value), None, 0, -1, 1.5, True, [], {}])
        )
    elif isinstance(parent, list):
        parent.append(copy.deepcopy(parent[key]))


@SLOW
@given(st.data())
def test_structured_mutations_of_the_flagship(data: st.DataObject) -> None:
    doc = copy.deepcopy(FLAGSHIP_DATA)
    for _ in range(data.draw(st.integers(min_value=1, max_value=4))):
        _mutate(doc, data)
    assert_parses_or_reports(yaml.safe_dump(doc, allow_unicode=True, sort_keys=False))


@SLOW
@given(st.data())
def test_line_edits_of_the_flagship_text(data: st.DataObject) -> None:
    lines = FLAGSHIP_TEXT.splitlines(keepends=True)
    for _ in range(data.draw(st.integers(min_value=1, max_value=3))):
        index = data.draw(st.integers(min_value=0, max_value=len(lines) - 1))
        kind = data.draw(st.sampled_from(["delete", "duplicate", "insert", "indent", "dedent"]))
        if kind == "delete":
            del lines[index]
        elif kind == "duplicate":
            lines.insert(index, lines[index])
        elif kind == "insert":
            lines.insert(index, data.draw(yamlish) + "\n")
        elif kind == "indent":
            lines[index] = "  " + lines[index]
        else:
            lines[index] = lines[index].removeprefix("  ")
        if not lines:
            break
    assert_parses_or_reports("".join(lines))


@SLOW
@given(st.sampled_from(PATHS), st.sampled_from(FRAGMENTS[:60]))
def test_value_replaced_by_a_fragment(path: tuple[Any, ...], fragment: str) -> None:
    doc = copy.deepcopy(FLAGSHIP_DATA)
    parent = _get(doc, path[:-1])
    parent[path[-1]] = "__HOLE__"
    text = yaml.safe_dump(doc, allow_unicode=True, sort_keys=False)
    assert_parses_or_reports(text.replace("__HOLE__", fragment, 1))
