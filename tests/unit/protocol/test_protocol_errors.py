"""Field constraints and YAML problems: each reported with file, line, field path and a fix."""

from __future__ import annotations

from pathlib import Path

import pytest

from trialkit.errors import ProtocolError, TrialkitError
from trialkit.protocol import load_protocol, parse_protocol


def test_protocol_error_is_a_trialkit_and_value_error() -> None:
    assert issubclass(ProtocolError, TrialkitError)
    assert issubclass(ProtocolError, ValueError)


@pytest.mark.parametrize(
    ("old", "new", "match", "field", "line"),
    [
        (
            "  planned: 24",
            "  planed: 24",
            r"unknown key `planed`. Did you mean `planned`\?",
            "units.planed",
            "  planed: 24",
        ),
        (
            "\ncosts:\n",
            "\ncost:\n",
            r"unknown key `cost`. Did you mean `costs`\?",
            "cost",
            "^cost:",
        ),
        (
            "    ratio: 1\n    control: true",
            "    ration: 1\n    control: true",
            r"unknown key `ration`. Did you mean `ratio`\?",
            "arms[0].ration",
            "    ration: 1",
        ),
    ],
    ids=["nested", "top_level", "in_list_item"],
)
def test_unknown_key_suggests_the_closest(flag, old, new, match, field, line) -> None:
    text = flag.edit((old, new))
    issue = flag.expect(text, match, field=field, line=flag.line(text, line))
    assert "rename it to" in (issue.fix or "")


def test_unknown_key_without_close_match_lists_valid_keys(flag) -> None:
    text = flag.edit(("  planned: 24\n", "  planned: 24\n  favourite_snack: crisps\n"))
    issue = flag.expect(
        text,
        r"unknown key `favourite_snack`\.",
        field="units.favourite_snack",
        line=flag.line(text, "  favourite_snack: crisps"),
    )
    assert "`eligibility`" in (issue.fix or "") and "Did you mean" not in issue.message


@pytest.mark.parametrize(
    ("old", "new", "match", "field", "line"),
    [
        (
            "  planned: 24",
            "  planned: many",
            r"`planned` should be a valid integer.*got 'many'",
            "units.planned",
            "  planned: many",
        ),
        (
            "  seed: 20261123",
            "  seed: 2.5",
            r"`seed` should be a valid integer",
            "design.seed",
            "  seed: 2.5",
        ),
        (
            "    alpha: 0.05",
            "    alpha: [0.05]",
            r"`alpha` should be a valid number",
            "analysis.frequentist.alpha",
            "    alpha: [0.05]",
        ),
        (
            "    enabled: true",
            "    enabled: maybe",
            r"`enabled` should be a valid boolean",
            "analysis.bayesian.enabled",
            "    enabled: maybe",
        ),
        (
            "  start: 2027-01-04",
            "  start: next spring",
            r"`start` should be a valid date",
            "dates.start",
            "  start: next spring",
        ),
        (
            "  block_columns: [locality]",
            "  block_columns: locality",
            r"`block_columns` should be a valid tuple",
            "design.block_columns",
            "  block_columns: locality",
        ),
        (
            "  per_unit: {mean: 30, cv: 0.35}",
            "  per_unit: 30",
            r"should be a valid dictionary",
            "levels[0].per_unit",
            "  per_unit: 30",
        ),
    ],
    ids=["int", "int_from_float", "float", "bool", "date", "list", "mapping"],
)
def test_wrong_type_is_located(flag, old, new, match, field, line) -> None:
    text = flag.edit((old, new))
    flag.expect(text, match, field=field, line=flag.line(text, line))


@pytest.mark.parametrize(
    ("old", "new", "match", "field", "line"),
    [
        (
            "    ratio: 1\n    control: true",
            "    ratio: -1\n    control: true",
            r"`ratio` should be greater than 0, got -1",
            "arms[0].ratio",
            "    ratio: -1",
        ),
        (
            "    alpha: 0.05",
            "    alpha: 1.5",
            r"`alpha` should be less than 1, got 1.5",
            "analysis.frequentist.alpha",
            "    alpha: 1.5",
        ),
        (
            "    email: evaluation@northfield.example.gov.uk",
            "    email: evaluation at northfield",
            r"should match pattern.*got 'evaluation at northfield'",
            "identity.contact.email",
            "    email: evaluation at",
        ),
        (
            "  id: council-discretionary-budget",
            "  id: Council Budget",
            r"should match pattern.*got 'Council Budget'",
            "identity.id",
            "  id: Council Budget",
        ),
        (
            "  seed: 20261123",
            "  seed: -1",
            r"`seed` should be greater than or equal to 0",
            "design.seed",
            "  seed: -1",
        ),
        (
            "  mechanisms: [autonomy, discretionary_resources, peer_accountability]",
            "  mechanisms: []",
            r"should have at least 1 item",
            "rationale.mechanisms",
            "  mechanisms: []",
        ),
        (
            "  - name: loneliness\n",
            "  - name: Loneliness Score\n",
            r"should match pattern.*got 'Loneliness Score'",
            "outcomes[0].name",
            "  - name: Loneliness Score",
        ),
    ],
    ids=["ratio", "probability", "email", "identity_id", "seed", "too_short", "name"],
)
def test_field_constraint_is_located(flag, old, new, match, field, line) -> None:
    text = flag.edit((old, new))
    flag.expect(text, match, field=field, line=flag.line(text, line))


def test_ratio_message_names_the_fix_and_field_description(flag) -> None:
    text = flag.edit(("    ratio: 1\n    control: true", "    ratio: 0\n    control: true"))
    issue = flag.expect(
        text, "greater than 0", field="arms[0].ratio", line=flag.line(text, "    ratio: 0")
    )
    assert issue.fix is not None and "greater than 0" in issue.fix and "1:1" in issue.fix


@pytest.mark.parametrize(
    ("old", "new", "match", "suggestion", "field", "line"),
    [
        (
            "  scheme: blocked_cluster",
            "  scheme: blocked_clustr",
            r"`scheme` should be",
            "blocked_cluster",
            "design.scheme",
            "  scheme: blocked_clustr",
        ),
        (
            "    role: primary",
            "    role: primry",
            r"`role` should be",
            "primary",
            "outcomes[0].role",
            "    role: primry",
        ),
        (
            "  type: cluster\n",
            "  type: clustered\n",
            r"`type` should be",
            "cluster",
            "design.type",
            "  type: clustered",
        ),
    ],
    ids=["scheme", "role", "design_type"],
)
def test_bad_literal_suggests_the_closest(flag, old, new, match, suggestion, field, line) -> None:
    text = flag.edit((old, new))
    issue = flag.expect(text, match, field=field, line=flag.line(text, line))
    assert f"Did you mean `{suggestion}`?" in issue.message


def test_bad_literal_without_close_match_lists_the_options(flag) -> None:
    text = flag.edit(("  scheme: blocked_cluster", "  scheme: coin_toss"))
    issue = flag.expect(
        text,
        r"`scheme` should be",
        field="design.scheme",
        line=flag.line(text, "  scheme: coin_toss"),
    )
    assert "Did you mean" not in issue.message
    assert "'stepped_wedge'" in (issue.fix or "")


@pytest.mark.parametrize(
    ("old", "field", "line"),
    [
        ("  id_column: team_id\n", "units.id_column", "^units:"),
        ("    label: Usual practice\n", "arms[0].label", "  - id: usual"),
        ("  seed: 20261123\n", "design.seed", "^design:"),
    ],
    ids=["units", "list_item", "design"],
)
def test_missing_required_key(flag, old, field, line) -> None:
    text = flag.edit((old, ""))
    name = field.rsplit(".", 1)[-1]
    issue = flag.expect(
        text, f"required key `{name}` is missing", field=field, line=flag.line(text, line)
    )
    assert f"add `{name}:`" in (issue.fix or "")


def test_duplicate_key_is_located(flag) -> None:
    text = flag.edit(("  planned: 24\n", "  planned: 24\n  planned: 30\n"))
    flag.expect(
        text,
        r"key `planned` appears twice",
        field="units.planned",
        line=flag.line(text, "  planned: 30"),
    )


def test_duplicate_key_in_list_item(flag) -> None:
    text = flag.edit(("    type: binary\n", "    type: binary\n    type: count\n"))
    flag.expect(
        text,
        r"key `type` appears twice",
        field="outcomes[5].type",
        line=flag.line(text, "    type: binary") + 1,
    )


@pytest.mark.parametrize(
    ("old", "new", "line", "field"),
    [
        ("  planned: 24", "  planned: 24: 25", "  planned: 24: 25", "units.planned"),
        # the line is where PyYAML noticed; the field is where the bracket was opened
        ("  planned: 24", "  planned: [24", "  eligibility:", "units.planned"),
        ("  status: draft\n", "  status: draft\n\tbad: tab\n", "\tbad: tab", "identity.status"),
    ],
    ids=["colon", "unclosed_list", "tab"],
)
def test_yaml_syntax_error_has_its_line_and_field(flag, old, new, line, field) -> None:
    text = flag.edit((old, new))
    flag.expect(text, r"YAML syntax error", field=field, line=flag.line(text, line))


@pytest.mark.parametrize(
    "tag",
    ["!!python/object/apply:os.system", "!!python/object/new:os.system", "!!python/name:os.system"],
)
def test_python_tag_is_reported_never_executed(flag, tmp_path: Path, tag: str) -> None:
    marker = tmp_path / "executed"
    value = f'["touch {marker}"]' if "apply" in tag or "new" in tag else "''"
    text = flag.edit(('  version: "1.2"', f"  version: {tag} {value}"))
    issue = flag.expect(
        text,
        r"YAML tags that build objects are not allowed",
        field="identity.version",
        line=flag.line(text, "  version: !!python"),
    )
    assert "never runs code" in (issue.fix or "")
    assert not marker.exists()
    path = tmp_path / "pilot.yaml"
    path.write_text(text, encoding="utf-8")
    with pytest.raises(ProtocolError, match=r"line 16 \(identity.version\): YAML tags"):
        load_protocol(path)
    assert not marker.exists()


@pytest.mark.parametrize(
    ("old", "new", "match", "line"),
    [
        (
            "  start: 2027-01-04",
            "  start: 2027-02-30",
            r"cannot read `2027-02-30`",
            "  start: 2027-02-30",
        ),
        (
            "  start: 2027-01-04",
            "  start: 2027-13-04",
            r"cannot read `2027-13-04`",
            "  start: 2027-13-04",
        ),
        ("  planned: 24", "  planned: " + "9" * 5000, r"cannot read `9999", "  planned: 999"),
    ],
    ids=["february_30", "month_13", "huge_integer"],
)
def test_unreadable_scalar_is_located(flag, old, new, match, line) -> None:
    text = flag.edit((old, new))
    flag.expect(text, match, field=None, line=flag.line(text, line))


@pytest.mark.parametrize(
    ("tagged", "match"),
    [
        ("!!int ''", r"cannot read `` as a YAML int"),
        ("!!float", r"cannot read `` as a YAML float"),
        ("!!bool perhaps", r"cannot read `perhaps` as a YAML bool"),
        ("!!timestamp soon", r"cannot read `soon` as a YAML timestamp"),
    ],
)
def test_explicit_tag_on_an_unreadable_scalar(flag, tagged: str, match: str) -> None:
    """PyYAML's own constructors crash on these (IndexError, KeyError, AttributeError)."""
    text = flag.edit(("  planned: 24", f"  planned: {tagged}"))
    flag.expect(text, match, field=None, line=flag.line(text, "  planned: !!"))


@pytest.mark.parametrize(
    "text",
    ["[" * 600 + "]" * 600, "a: " + "{b: " * 600 + "1" + "}" * 600, "identity: &a [*a]\n"],
    ids=["deep_list", "deep_mapping", "self_alias"],
)
def test_deep_or_cyclic_yaml_is_a_protocol_error(text: str) -> None:
    with pytest.raises(ProtocolError, match="nested too deeply"):
        parse_protocol(text)


def test_cyclic_alias_inside_the_flagship(flag) -> None:
    text = flag.edit(("  keywords: [social care", "  keywords: &k [*k, social care"))
    with pytest.raises(ProtocolError, match="refers to itself"):
        parse_protocol(text)


def test_shared_alias_is_fine(flag) -> None:
    text = flag.edit(
        ("  per_unit: {mean: 30, cv: 0.35}", "  per_unit: &size {mean: 30, cv: 0.35}"),
        ("  per_unit: {mean: 8, cv: 0.25}", "  per_unit: *size"),
    )
    assert parse_protocol(text).levels[1].per_unit.mean == 30


@pytest.mark.parametrize("text", ["", "just a sentence", "- a\n- b\n", "42", "~"])
def test_document_that_is_not_a_mapping(text: str) -> None:
    with pytest.raises(ProtocolError, match=r"line 1: the protocol must be a YAML mapping"):
        parse_protocol(text, source="pilot.yaml")


def test_non_string_key_is_reported(flag) -> None:
    text = flag.edit(("  planned: 24\n", "  planned: 24\n  7: seven\n"))
    with pytest.raises(ProtocolError, match=r"Keys should be strings"):
        parse_protocol(text)


def test_missing_file(tmp_path: Path) -> None:
    with pytest.raises(ProtocolError, match=r"missing\.yaml: file not found Fix: check the path"):
        load_protocol(tmp_path / "missing.yaml")


def test_file_that_is_not_utf8(tmp_path: Path) -> None:
    path = tmp_path / "latin1.yaml"
    path.write_bytes("title: caf\u00e9".encode("latin-1"))
    with pytest.raises(
        ProtocolError, match=r"cannot read the file.*Fix: save the protocol as UTF-8"
    ):
        load_protocol(path)


def test_load_reports_the_file_name(flag, tmp_path: Path) -> None:
    path = tmp_path / "pilot.yaml"
    path.write_text(flag.edit(("  planned: 24", "  planned: 0")), encoding="utf-8")
    with pytest.raises(ProtocolError) as info:
        load_protocol(path)
    assert str(info.value).startswith(f"{path} is not a valid trialkit protocol (1 problem):")
    assert info.value.issues[0].location.file == str(path)
