"""Printing to PDF without a real browser: how the browser is found, what it is asked to do,
and every way it can fail becoming a user error with a Fix."""

from __future__ import annotations

import os
import stat
from pathlib import Path

import pytest

from trialkit.errors import TrialkitError
from trialkit.report.pdf import BROWSERS, CHROMIUM_ENV, find_chromium, print_pdf

# A stand-in browser: records its arguments, then writes a PDF where --print-to-pdf says.
FAKE = """#!/bin/sh
printf '%s\\n' "$@" > "{log}"
for arg in "$@"; do
  case "$arg" in --print-to-pdf=*) printf '%%PDF-1.7 fake' > "${{arg#--print-to-pdf=}}";; esac
done
"""


def _script(path: Path, text: str) -> Path:
    path.write_text(text, encoding="utf-8")
    path.chmod(path.stat().st_mode | stat.S_IXUSR)
    return path


def test_env_var_first_then_path_in_order(tmp_path: Path) -> None:
    bin_dir = tmp_path / "bin"
    bin_dir.mkdir()
    chrome = _script(bin_dir / "google-chrome", "#!/bin/sh\n")
    chromium = _script(bin_dir / "chromium-browser", "#!/bin/sh\n")
    assert find_chromium({"PATH": str(bin_dir)}) == chromium
    chromium.unlink()
    assert find_chromium({"PATH": str(bin_dir)}) == chrome
    named = _script(tmp_path / "my-chrome", "#!/bin/sh\n")
    assert find_chromium({"PATH": str(bin_dir), CHROMIUM_ENV: str(named)}) == named


def test_no_browser_names_what_to_install_or_set(tmp_path: Path) -> None:
    with pytest.raises(TrialkitError) as caught:
        find_chromium({"PATH": str(tmp_path)})
    text = str(caught.value)
    assert all(name in text for name in BROWSERS)
    assert "Fix: install Chromium" in text and CHROMIUM_ENV in text
    assert "`trialkit report --format html`" in text


def test_env_var_naming_no_program_is_an_error(tmp_path: Path) -> None:
    with pytest.raises(TrialkitError, match=rf"\${CHROMIUM_ENV} is '.*nope'.*Fix: set"):
        find_chromium({"PATH": "", CHROMIUM_ENV: str(tmp_path / "nope")})


def test_prints_headless_tagged_with_outline_in_a_temp_dir(tmp_path: Path) -> None:
    log = tmp_path / "args.txt"
    browser = _script(tmp_path / "chromium", FAKE.format(log=log))
    data = print_pdf("<!DOCTYPE html><title>t</title><p>hello", browser=browser)
    assert data == b"%PDF-1.7 fake"
    args = log.read_text(encoding="utf-8").splitlines()
    for flag in (
        "--headless",
        "--no-pdf-header-footer",
        "--export-tagged-pdf",
        "--generate-pdf-document-outline",
    ):
        assert flag in args, flag
    page = Path(args[-1].removeprefix("file://"))
    profile = next(a for a in args if a.startswith("--user-data-dir=")).split("=", 1)[1]
    assert page.name == "report.html" and Path(profile).parent == page.parent
    assert not page.parent.exists(), "the temporary directory is left behind"
    assert ("--no-sandbox" in args) == (os.geteuid() == 0)


@pytest.mark.parametrize(
    ("script", "expected"),
    [
        (
            "#!/bin/sh\necho 'GPU process crashed' >&2\nexit 3\n",
            r"exit status 3: GPU process crashed\)\. Fix: check that this is Chromium",
        ),
        ("#!/bin/sh\nexit 0\n", r"exit status 0\)\. Fix:"),
        ("#!/bin/sh\nsleep 30\n", r"did not finish printing the report within 1 s\. Fix:"),
    ],
    ids=["crashes", "writes-nothing", "hangs"],
)
def test_a_failing_browser_is_a_user_error(tmp_path: Path, script: str, expected: str) -> None:
    browser = _script(tmp_path / "chromium", script)
    with pytest.raises(TrialkitError, match=expected) as caught:
        print_pdf("<p>x", browser=browser, timeout=1)
    assert "`trialkit report --format html`" in str(caught.value)


def test_a_browser_that_cannot_start_is_a_user_error(tmp_path: Path) -> None:
    not_a_program = tmp_path / "chromium"
    not_a_program.write_text("no shebang", encoding="utf-8")
    not_a_program.chmod(0o755)
    with pytest.raises(TrialkitError, match=r"could not be started .*Fix: set"):
        print_pdf("<p>x", browser=not_a_program)
