"""Every "Fix:" hint in the source names commands and options that exist.

The rule, checked on the command tree typer builds from :data:`trialkit.cli.app`:

- A hint is the text after "Fix:" in a string literal (implicit concatenations and f-strings
  included; a placeholder naming a module-level string constant is filled in), or a string
  given to a parameter named ``fix`` (``fix=...``, its default, or a positional argument of a
  function of the same module whose parameter is called ``fix``).
- A command is named in backticks: `` `trialkit analyse` ``, `` `trialkit ledger repair` ``.
  It must exist.
- An option (``--force``) after a named command belongs to that command (the last one
  named before it) and must exist on it.
- An option named before any command must exist on at least one command that can raise the
  message: those listed for its module in ``RAISERS``, or any command when the module is
  not listed (the callers cannot be told from the text).
"""

from __future__ import annotations

import ast
import re
from dataclasses import dataclass
from pathlib import Path

import pytest
import typer.main

from trialkit.cli import app

SOURCE = Path(__file__).resolve().parents[2] / "trialkit"

# Which commands reach a module's messages, where that is known.
_LEDGER_COMMANDS = frozenset(
    {
        "randomise",
        "register",
        "validate",
        "audit-sample",
        "analyse",
        "report",
        "verify",
        "ledger repair",
    }
)
RAISERS: dict[str, frozenset[str]] = {
    "register/ledger_file.py": _LEDGER_COMMANDS,
    "register/audit.py": frozenset({"verify", "ledger repair", *_LEDGER_COMMANDS}),
    "register/freeze.py": frozenset({"register", "analyse"}),
    "randomise/audit.py": frozenset({"audit-sample", "analyse"}),
    "randomise/_audit_strata.py": frozenset({"audit-sample"}),
    "analyse/": frozenset({"analyse", "report"}),
    "demo.py": frozenset({"demo"}),
}

_COMMAND = re.compile(r"`trialkit ([a-z][a-z-]*)(?: ([a-z][a-z-]*))?")
_OPTION = re.compile(r"(?<![\w-])--[a-z][a-z-]*")


@dataclass(frozen=True)
class Hint:
    module: str  # relative to trialkit/
    line: int
    text: str


def commands() -> dict[str, set[str]]:
    """Every command's full name ("ledger repair") and its option strings."""
    found: dict[str, set[str]] = {}

    def walk(command: object, prefix: str) -> None:
        for name, sub in getattr(command, "commands", {}).items():
            full = f"{prefix}{name}"
            if getattr(sub, "commands", None):
                walk(sub, f"{full} ")
            else:
                found[full] = {o for p in sub.params for o in (*p.opts, *p.secondary_opts)}

    walk(typer.main.get_command(app), "")
    return found


def _text(node: ast.AST, constants: dict[str, str]) -> str | None:
    if isinstance(node, ast.Constant) and isinstance(node.value, str):
        return node.value
    if isinstance(node, ast.JoinedStr):
        parts = []
        for value in node.values:
            if isinstance(value, ast.Constant):
                parts.append(str(value.value))
            elif isinstance(value, ast.FormattedValue) and isinstance(value.value, ast.Name):
                parts.append(constants.get(value.value.id, "{}"))
            else:
                parts.append("{}")
        return "".join(parts)
    return None


def _fix_positions(tree: ast.Module) -> dict[str, int]:
    """Functions of a module with a parameter named ``fix``, and its position."""
    positions = {}
    for node in ast.walk(tree):
        if isinstance(node, ast.FunctionDef):
            names = [a.arg for a in node.args.args]
            if "fix" in names:
                positions[node.name] = names.index("fix")
    return positions


def hints_of(module: str, source: str) -> list[Hint]:
    tree = ast.parse(source)
    constants = {
        t.id: n.value.value
        for n in tree.body
        if isinstance(n, ast.Assign)
        for t in n.targets
        if isinstance(t, ast.Name)
        and isinstance(n.value, ast.Constant)
        and isinstance(n.value.value, str)
    }
    positions = _fix_positions(tree)
    found: dict[tuple[int, str], Hint] = {}
    for node in ast.walk(tree):
        texts: list[tuple[ast.AST, str]] = []
        text = _text(node, constants)
        if text is not None and "Fix:" in text:
            texts.append((node, text[text.index("Fix:") + 4 :].strip()))
        if isinstance(node, ast.keyword) and node.arg == "fix":
            texts.append((node.value, _text(node.value, constants) or ""))
        if isinstance(node, ast.FunctionDef):  # a default for a parameter named fix
            arguments = [*node.args.args, *node.args.kwonlyargs]
            defaults = [*node.args.defaults, *node.args.kw_defaults]
            pairs = zip(arguments[len(arguments) - len(defaults) :], defaults, strict=True)
            texts += [
                (
                    d,
                    constants[d.id]
                    if isinstance(d, ast.Name) and d.id in constants
                    else _text(d, constants) or "",
                )
                for a, d in pairs
                if a.arg == "fix" and d is not None
            ]
        if isinstance(node, ast.Call) and isinstance(node.func, ast.Name):
            at = positions.get(node.func.id)
            if at is not None and len(node.args) > at:
                texts.append((node.args[at], _text(node.args[at], constants) or ""))
        for where, hint in texts:
            line = getattr(where, "lineno", 0)
            if hint and (_OPTION.search(hint) or _COMMAND.search(hint)):
                found[(line, hint)] = Hint(module, line, hint)
    return list(found.values())


def all_hints() -> list[Hint]:
    return [
        h
        for path in sorted(SOURCE.rglob("*.py"))
        for h in hints_of(path.relative_to(SOURCE).as_posix(), path.read_text("utf-8"))
    ]


def problems(hint: Hint, known: dict[str, set[str]]) -> list[str]:
    """What a hint names that does not exist, by the rule in the module docstring."""
    found, current = [], None
    raisers = next(
        (c for prefix, c in RAISERS.items() if hint.module.startswith(prefix)), frozenset(known)
    )
    marks = sorted(
        [(m.start(), "command", m) for m in _COMMAND.finditer(hint.text)]
        + [(m.start(), "option", m) for m in _OPTION.finditer(hint.text)],
        key=lambda t: t[0],
    )
    for _, kind, match in marks:
        if kind == "command":
            first, second = match.group(1), match.group(2)
            current = f"{first} {second}" if f"{first} {second}" in known else first
            if current not in known:
                found.append(f"no command `trialkit {current}`")
                current = None
        elif current is not None:
            if match.group(0) not in known[current]:
                found.append(f"`trialkit {current}` has no {match.group(0)}")
        elif not any(match.group(0) in known[c] for c in raisers if c in known):
            found.append(
                f"{match.group(0)}: no command that can raise this message has it "
                f"({', '.join(sorted(raisers))})"
            )
    return found


HINTS = all_hints()


def test_the_hints_are_found() -> None:
    """The collector sees the known hints (so the check below is not vacuous)."""
    texts = [h.text for h in HINTS]
    assert len(HINTS) >= 20, texts
    assert any("`trialkit ledger repair" in t for t in texts)  # filled in from a constant
    assert any(h.module == "register/ledger_file.py" and "--ledger" in h.text for h in HINTS)
    assert any(h.module == "_core/files.py" and "--force" in h.text for h in HINTS)


@pytest.mark.parametrize("hint", HINTS, ids=[f"{h.module}:{h.line}" for h in HINTS])
def test_every_hint_names_what_exists(hint: Hint) -> None:
    assert problems(hint, commands()) == [], hint.text


@pytest.mark.parametrize(
    ("module", "text", "expected"),
    [
        (
            "register/freeze.py",
            "run `trialkit register` with --force.",
            ["`trialkit register` has no --force"],
        ),
        ("cli.py", "run `trialkit registr` first.", ["no command `trialkit registr`"]),
        ("register/ledger_file.py", "point --plot at it.", ["--plot: no command that can"]),
        ("demo.py", "pass --ledger.", ["--ledger: no command that can"]),
        (
            "cli.py",
            "run `trialkit ledger repair ledger.jsonl` with --force.",
            ["`trialkit ledger repair` has no --force"],
        ),
        ("cli.py", "pass --force, or run `trialkit verify` on the workspace.", []),
    ],
)
def test_the_rule_catches_false_hints(module: str, text: str, expected: list[str]) -> None:
    found = problems(Hint(module, 1, text), commands())
    assert len(found) == len(expected)
    assert all(f.startswith(e) for f, e in zip(found, expected, strict=True)), found


def test_command_examples_name_what_exists() -> None:
    """Each command's help ends with an example whose command and options exist."""
    known = commands()
    for name in known:
        group = typer.main.get_command(app)
        for part in name.split():
            group = group.commands[part]  # type: ignore[attr-defined]
        epilog = group.epilog or ""
        assert epilog.startswith(f"Example: `trialkit {name}"), (name, epilog)
        assert problems(Hint("cli.py", 0, epilog), known) == [], epilog
