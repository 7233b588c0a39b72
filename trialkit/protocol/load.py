"""Load a protocol from YAML, reporting every problem with its file, line and field.

Only PyYAML's safe loader is used: a ``!!python/object`` tag is reported, never executed.
Positions come from composing the YAML node tree (no construction), so Pydantic's error
locations can be mapped back to lines; unknown keys get the closest valid key suggested.
"""

from __future__ import annotations

import difflib
import re
import types
import typing
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import yaml
from pydantic import BaseModel, ValidationError
from pydantic_core import ErrorDetails

from trialkit._core.inputs import NOT_FOUND, PROTOCOL_MB, PROTOCOL_VALUES, file_mb, not_regular
from trialkit.errors import Issue, Location, ProtocolError
from trialkit.protocol.base import hidden_character
from trialkit.protocol.model import Protocol
from trialkit.protocol.rules import Loc, check_rules

Positions = dict[Loc, int]


def load_protocol(path: str | Path) -> Protocol:
    """Read, parse and validate a protocol file.

    Parameters
    ----------
    path
        A YAML protocol file.

    Returns
    -------
    Protocol
        The validated, immutable protocol.

    Raises
    ------
    ProtocolError
        With every problem found, each naming the file, line and field, and a fix.
    """
    source = str(path)
    _check_file(path, source)
    try:
        text = Path(path).read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        raise ProtocolError(
            [
                Issue(
                    f"cannot read the file: {exc}",
                    Location(file=source),
                    fix="save the protocol as UTF-8 text.",
                )
            ]
        ) from None
    return parse_protocol(text, source=source)


def _check_file(path: str | Path, source: str) -> None:
    """Refuse a path that is not a regular file, or a file over the size limit, unread."""
    problem = not_regular(path)
    if problem is not None:
        message, fix = problem
        if message == NOT_FOUND:
            fix = "check the path, or list bundled protocols with `trialkit protocols`."
        raise ProtocolError([Issue(message, Location(file=source), fix=fix)])
    too_large = PROTOCOL_MB.exceeded(file_mb(path))
    if too_large is not None:
        raise ProtocolError(
            [
                Issue(
                    too_large,
                    Location(file=source),
                    fix=f"check this is the protocol file, {PROTOCOL_MB.fix()}",
                )
            ]
        )


def parse_protocol(text: str, *, source: str = "<protocol>") -> Protocol:
    """Parse and validate protocol YAML given as text; see :func:`load_protocol`."""
    data, positions = _parse_yaml(text, source)
    if not isinstance(data, dict):
        raise ProtocolError(
            [
                Issue(
                    "the protocol must be a YAML mapping of keys to values",
                    Location(file=source, line=1),
                    fix="start from a bundled protocol: `trialkit init DIR --from NAME`.",
                )
            ]
        )
    hidden = list(_hidden_texts(data, (), positions, source))
    if hidden:
        raise ProtocolError(hidden, header=_header(source, len(hidden)))
    try:
        protocol = Protocol.model_validate(data, context={"defer_rules": True})
    except ValidationError as exc:
        errors = _without_cascades(exc.errors())
        issues = [_issue(err, positions, source) for err in errors]
        raise ProtocolError(issues, header=_header(source, len(issues))) from None
    problems = check_rules(protocol)
    if problems:
        issues = [
            Issue(p.message, _location(p.loc, positions, source), fix=p.fix) for p in problems
        ]
        raise ProtocolError(issues, header=_header(source, len(issues)))
    return protocol


def _hidden_texts(value: Any, loc: Loc, positions: Positions, source: str) -> Iterator[Issue]:
    """Every text (key or value) holding an invisible or direction-changing character."""
    texts: list[tuple[Loc, Any]] = []
    if isinstance(value, dict):
        texts = [((*loc, str(k)), k) for k in value]
        for key, item in value.items():
            yield from _hidden_texts(item, (*loc, str(key)), positions, source)
    elif isinstance(value, list):
        for index, item in enumerate(value):
            yield from _hidden_texts(item, (*loc, index), positions, source)
    else:
        texts = [(loc, value)]
    for where, text in texts:
        why = hidden_character(text) if isinstance(text, str) else None
        if why is not None:
            yield Issue(why, _location(where, positions, source), fix=_FIXES["hidden_character"])


def _header(source: str, count: int) -> str:
    noun = "problem" if count == 1 else "problems"
    return f"{source} is not a valid trialkit protocol ({count} {noun}):"


# YAML -------------------------------------------------------------------------------------


#: libyaml's safe loader when PyYAML was built with it (same nodes and marks, ~6x faster).
_LOADER: Any = getattr(yaml, "CSafeLoader", yaml.SafeLoader)


def _reader_issue(exc: yaml.reader.ReaderError, source: str, text: str) -> Issue:
    """A character YAML refuses (NUL, other controls), located by line and column."""
    # libyaml counts bytes of UTF-8, the Python reader characters: count from the text
    offset = (
        exc.position
        if _LOADER is yaml.SafeLoader
        else len(text.encode("utf-8")[: exc.position].decode("utf-8", errors="ignore"))
    )
    before = text[:offset]
    line, column = before.count("\n") + 1, offset - before.rfind("\n")
    char = exc.character
    code = ord(char) if isinstance(char, str) else int(char)
    return Issue(
        f"column {column} holds U+{code:04X}, a control character YAML does not allow",
        Location(file=source, line=line),
        fix="delete the character (retype the text around it).",
    )


def _parse_yaml(text: str, source: str) -> tuple[Any, Positions]:
    try:
        loader = _LOADER(text)
        try:  # compose once, then construct from the same nodes (as yaml.load does)
            node = loader.get_single_node()
            if node is not None:
                _check_expansion(node, source)
            data = None if node is None else loader.construct_document(node)
        finally:
            loader.dispose()
    except ProtocolError:  # an expansion over the limit (a ValueError, as construction's are)
        raise
    except yaml.MarkedYAMLError as exc:
        raise ProtocolError([_yaml_issue(exc, source, text)]) from None
    except yaml.reader.ReaderError as exc:  # a character YAML never allows, e.g. NUL
        raise ProtocolError([_reader_issue(exc, source, text)]) from None
    except yaml.YAMLError as exc:
        raise ProtocolError(
            [
                Issue(
                    f"YAML error: {exc}",
                    Location(file=source),
                    fix="check the file's indentation and quoting.",
                )
            ]
        ) from None
    except _CONSTRUCTION_ERRORS:
        # PyYAML raises plain errors for scalars it cannot build (2027-02-30, `!!int ''`)
        raise ProtocolError([_scalar_issue(text, source)]) from None
    except RecursionError:
        raise ProtocolError([_too_deep(source)]) from None
    positions: Positions = {}
    duplicates: list[Issue] = []
    if node is not None:
        try:
            _walk(node, (), positions, duplicates, source, set())
        except RecursionError:
            raise ProtocolError([_too_deep(source)]) from None
    if duplicates:
        raise ProtocolError(duplicates, header=_header(source, len(duplicates)))
    return data, positions


def _yaml_issue(exc: yaml.MarkedYAMLError, source: str, text: str) -> Issue:
    mark = exc.problem_mark or exc.context_mark
    line = mark.line + 1 if mark is not None else None
    # The field is where the broken construct began (e.g. an unclosed bracket), which
    # PyYAML reports as the context; the line is where it noticed the problem.
    start = exc.context_mark or mark
    where = Location(
        file=source,
        line=line,
        field=field_near(text, start.line + 1) if start is not None else None,
    )
    problem = exc.problem or "invalid YAML"
    if isinstance(exc, yaml.constructor.ConstructorError) and "tag" in problem:
        return Issue(
            f"YAML tags that build objects are not allowed ({problem})",
            where,
            fix="remove the `!!` tag and write plain values; trialkit never runs "
            "code from a protocol.",
        )
    return Issue(
        f"YAML syntax error: {problem}",
        where,
        fix="check indentation, colons and quotes on this line and the one above.",
    )


_KEY_LINE = re.compile(r"^(?P<indent> *)(?P<dash>- +)?(?P<key>[A-Za-z_][\w-]*) *:(?:\s|$)")


def field_near(text: str, line: int) -> str | None:
    r"""The field path of ``line`` read from indentation alone (for YAML that does not parse).

    Walks up from the line: each key less indented than the last becomes a parent, and a
    list item contributes its index among its siblings, e.g. ``outcomes[2].range``.

    Examples
    --------
    >>> field_near("units:\n  planned: [24\n", 2)
    'units.planned'
    >>> field_near("arms:\n  - id: a\n  - id: b\n    ratio: x\n", 4)
    'arms[1].ratio'
    """
    parts: list[str] = []
    indent: int | None = None
    item_dash: int | None = None  # indent of the dash of the list item we are inside
    index = 0
    for raw in reversed(text.splitlines()[:line]):
        m = _KEY_LINE.match(raw)
        if m is None:
            continue
        dash = len(m["indent"]) if m["dash"] else None
        own = len(m["indent"]) + len(m["dash"] or "")
        if item_dash is not None and dash == item_dash:
            index += 1  # an earlier sibling item
        elif indent is None:  # the line itself
            parts.append(m["key"])
            item_dash, indent = (dash, dash) if dash is not None else (None, own)
        elif dash is not None and dash < indent:  # the list item that holds us
            item_dash, index, indent = dash, 0, dash
        elif own < indent:  # a parent key
            if item_dash is not None:
                parts.append(f"[{index}]")
                item_dash = None
            parts.append(m["key"])
            indent = own
            if indent == 0:
                break
    if item_dash is not None:
        parts.append(f"[{index}]")
    path = ""
    for part in reversed(parts):
        path += part if part.startswith("[") or not path else f".{part}"
    return path or None


#: Deepest nesting a protocol may use; real ones need about 6, so deeper is a mistake or an
#: attack, reported the same way whatever the interpreter's recursion limit.
MAX_DEPTH = 64

#: What PyYAML's safe constructors raise, besides YAMLError, on scalars they cannot build.
_CONSTRUCTION_ERRORS = (ValueError, OverflowError, IndexError, KeyError, TypeError, AttributeError)


def _too_deep(source: str) -> Issue:
    return Issue(
        "the YAML is nested too deeply, or an alias (`*name`) refers to itself",
        Location(file=source),
        fix="write the protocol as plain nested keys and lists, without recursive aliases.",
    )


def _scalar_issue(text: str, source: str) -> Issue:
    """Locate the first scalar that PyYAML's safe constructor cannot build."""
    fix = "write real YYYY-MM-DD dates and numbers of sensible size, without `!!` tags."
    constructor = yaml.SafeLoader("")
    stack = [yaml.compose(text, Loader=yaml.SafeLoader)]
    seen: set[int] = set()
    while stack:
        node = stack.pop()
        if node is None or id(node) in seen:
            continue
        seen.add(id(node))
        if isinstance(node, yaml.ScalarNode):
            try:
                constructor.construct_object(node)
            except (*_CONSTRUCTION_ERRORS, yaml.YAMLError) as exc:
                value = node.value if len(node.value) <= 40 else node.value[:40] + "…"
                detail = f": {exc}" if isinstance(exc, ValueError | OverflowError) else ""
                return Issue(
                    f"cannot read `{value}` as a YAML {node.tag.rsplit(':', 1)[-1]}{detail}",
                    Location(file=source, line=node.start_mark.line + 1),
                    fix=fix,
                )
        elif isinstance(node, yaml.MappingNode):
            stack.extend(part for pair in reversed(node.value) for part in reversed(pair))
        elif isinstance(node, yaml.SequenceNode):
            stack.extend(reversed(node.value))
    return Issue("a value cannot be read", Location(file=source), fix=fix)


def _check_expansion(root: yaml.Node, source: str) -> None:
    """Refuse YAML whose aliases expand past the limit (a "billion laughs") before building it.

    Values are counted as if every alias were written out, once per node with memory, so the
    count costs one pass over the nodes however large the expansion.
    """
    sizes: dict[int, int] = {}

    def size(node: yaml.Node, depth: int) -> int:
        key = id(node)
        if key in sizes:
            if sizes[key] < 0 or depth > MAX_DEPTH:  # an alias inside its own anchor
                raise RecursionError
            return sizes[key]
        if depth > MAX_DEPTH:
            raise RecursionError
        sizes[key] = -1
        children: list[yaml.Node] = []
        if isinstance(node, yaml.MappingNode):
            children = [part for pair in node.value for part in pair]
        elif isinstance(node, yaml.SequenceNode):
            children = list(node.value)
        total = 1 + sum(size(child, depth + 1) for child in children)
        sizes[key] = total
        return total

    too_large = PROTOCOL_VALUES.exceeded(size(root, 0))
    if too_large is not None:
        raise ProtocolError(
            [
                Issue(
                    too_large,
                    Location(file=source, line=1),
                    fix=f"write repeated parts out once instead of through aliases (`*name`), "
                    f"{PROTOCOL_VALUES.fix()}",
                )
            ]
        )


def _walk(
    node: yaml.Node,
    loc: Loc,
    positions: Positions,
    duplicates: list[Issue],
    source: str,
    open_nodes: set[int],
) -> None:
    positions.setdefault(loc, node.start_mark.line + 1)
    if id(node) in open_nodes or len(loc) > MAX_DEPTH:  # cyclic alias, or absurdly deep
        raise RecursionError
    open_nodes = open_nodes | {id(node)}
    if isinstance(node, yaml.MappingNode):
        seen: set[str] = set()
        for key_node, value_node in node.value:
            key = str(key_node.value)
            if key in seen:
                duplicates.append(
                    Issue(
                        f"key `{key}` appears twice",
                        Location(
                            file=source, line=key_node.start_mark.line + 1, field=_path((*loc, key))
                        ),
                        fix="keep one of the two entries.",
                    )
                )
            seen.add(key)
            positions[(*loc, key)] = key_node.start_mark.line + 1
            _walk(value_node, (*loc, key), positions, duplicates, source, open_nodes)
    elif isinstance(node, yaml.SequenceNode):
        for index, item in enumerate(node.value):
            _walk(item, (*loc, index), positions, duplicates, source, open_nodes)


# Pydantic errors → located issues -----------------------------------------------------------


def _path(loc: Loc) -> str:
    text = ""
    for part in loc:
        text += f"[{part}]" if isinstance(part, int) else (f".{part}" if text else str(part))
    return text


def _location(loc: Loc, positions: Positions, source: str) -> Location:
    for end in range(len(loc), -1, -1):
        if loc[:end] in positions:
            return Location(file=source, line=positions[loc[:end]], field=_path(loc) or None)
    return Location(file=source, field=_path(loc) or None)


def _issue(err: ErrorDetails, positions: Positions, source: str) -> Issue:
    loc: Loc = tuple(part for part in err["loc"] if isinstance(part, str | int))
    where = _location(loc, positions, source)
    kind, name = err["type"], str(loc[-1]) if loc else "protocol"
    if kind == "extra_forbidden":
        valid = _fields_at(loc[:-1])
        match = difflib.get_close_matches(name, valid, n=1, cutoff=0.5)
        hint = f" Did you mean `{match[0]}`?" if match else ""
        fix = (
            f"rename it to `{match[0]}`."
            if match
            else f"remove it; valid keys here are {', '.join(f'`{v}`' for v in valid)}."
        )
        return Issue(f"unknown key `{name}`.{hint}", where, fix=fix)
    if kind == "missing":
        parent = _path(loc[:-1]) or "the top level"
        return Issue(
            f"required key `{name}` is missing",
            where,
            fix=f"add `{name}:` under {parent}; see `trialkit schema` for its form.",
        )
    got = err.get("input")
    shown = repr(got) if not isinstance(got, dict | list) else f"a {type(got).__name__}"
    message = re.sub(r"^(Input|String|Value) should", f"`{name}` should", err["msg"], count=1)
    fix = _FIXES.get(kind, "see `trialkit schema` for the expected form.")
    fix = fix.format(**(err.get("ctx") or {}))
    if kind == "literal_error" and isinstance(got, str):
        allowed = re.findall(r"'([^']*)'", str((err.get("ctx") or {}).get("expected", "")))
        match = difflib.get_close_matches(got, allowed, n=1, cutoff=0.5)
        if match:
            message += f". Did you mean `{match[0]}`?"
    description = _description_at(loc)
    if description:
        fix += f" (`{name}`: {description[0].lower()}{description[1:].rstrip('.')}.)"
    return Issue(f"{message}, got {shown}", where, fix=fix)


_FIXES = {
    "hidden_character": "delete the character (retype the text around it).",
    "int_parsing": "write a whole number such as `1`.",
    "int_type": "write a whole number such as `1`.",
    "int_from_float": "write a whole number such as `1`.",
    "float_parsing": "write a number such as `0.5`.",
    "float_type": "write a number such as `0.5`.",
    "bool_parsing": "write `true` or `false`.",
    "string_type": "write text; quote it if it looks like a number or a date.",
    "greater_than": "use a value greater than {gt}.",
    "greater_than_equal": "use a value of at least {ge}.",
    "less_than": "use a value less than {lt}.",
    "less_than_equal": "use a value of at most {le}.",
    "literal_error": "use one of {expected}.",
    "string_pattern_mismatch": "write a value matching {pattern}.",
    "too_short": "give at least {min_length} entries.",
    "finite_number": "write an ordinary finite number.",
    "date_from_datetime_parsing": "write a date as YYYY-MM-DD.",
    "date_parsing": "write a date as YYYY-MM-DD.",
    "model_type": "write a mapping of keys to values here.",
    "tuple_type": "write a list here, e.g. `[a, b]`.",
}


def _without_cascades(errors: list[ErrorDetails]) -> list[ErrorDetails]:
    """Drop a list's length error when the length fell only because an item failed."""
    failed = [tuple(e["loc"]) for e in errors if e["type"] != "too_short"]
    return [
        e
        for e in errors
        if not (
            e["type"] == "too_short"
            and any(
                len(f) > len(e["loc"]) and f[: len(e["loc"])] == tuple(e["loc"]) for f in failed
            )
        )
    ]


def _model_at(loc: Loc) -> type[BaseModel] | None:
    model: type[BaseModel] | None = Protocol
    for part in loc:
        if model is None:
            return None
        if isinstance(part, int):
            continue
        field = model.model_fields.get(part)
        if field is None:
            return None
        model = next(_models_in(field.annotation), None)
    return model


def _models_in(annotation: Any) -> Iterator[type[BaseModel]]:
    if isinstance(annotation, type) and issubclass(annotation, BaseModel):
        yield annotation
        return
    origin = typing.get_origin(annotation)
    if origin in (typing.Union, types.UnionType, tuple, typing.Annotated):
        for arg in typing.get_args(annotation):
            yield from _models_in(arg)


def _fields_at(loc: Loc) -> list[str]:
    model = _model_at(loc)
    return list(model.model_fields) if model is not None else []


def _description_at(loc: Loc) -> str | None:
    names = [part for part in loc if isinstance(part, str)]
    if not names:
        return None
    model = _model_at(loc[: max(i for i, p in enumerate(loc) if isinstance(p, str))])
    field = model.model_fields.get(names[-1]) if model is not None else None
    return field.description if field is not None else None
