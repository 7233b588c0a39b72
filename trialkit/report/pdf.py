"""The results report as a print-quality PDF: the same HTML, printed by headless Chromium.

The report's print stylesheet lays it out on A4. Chromium writes a tagged PDF (headings,
tables and figure text for screen readers) with a document outline from the headings. The
browser is found from ``$TRIALKIT_CHROMIUM``, then ``chromium``, ``chromium-browser``,
``google-chrome`` on ``PATH``; it runs in a temporary directory with its own profile and a
time limit, and any failure is a :class:`~trialkit.errors.TrialkitError`, never a traceback.
"""

from __future__ import annotations

import os
import shutil
import signal
import subprocess
import tempfile
from collections.abc import Mapping
from pathlib import Path

from trialkit.errors import TrialkitError

#: The environment variable naming the browser to print with.
CHROMIUM_ENV = "TRIALKIT_CHROMIUM"
#: Browsers looked for on PATH, in order.
BROWSERS = ("chromium", "chromium-browser", "google-chrome")
#: Seconds a browser may take to print one report.
TIMEOUT_S = 180.0

_HTML_INSTEAD = (
    "or write the report with `trialkit report --format html` and print it to PDF from a browser"
)


def find_chromium(environ: Mapping[str, str] | None = None) -> Path:
    """The browser to print with: ``$TRIALKIT_CHROMIUM``, else the first of :data:`BROWSERS`.

    Raises
    ------
    trialkit.errors.TrialkitError
        If ``$TRIALKIT_CHROMIUM`` names no executable file, or none is found on ``PATH``.
    """
    env = os.environ if environ is None else environ
    named = env.get(CHROMIUM_ENV, "").strip()
    if named:
        path = Path(named).expanduser()
        found = shutil.which(str(path))
        if found is None:
            raise TrialkitError(
                f"${CHROMIUM_ENV} is {named!r}, which is not an executable file, so the report "
                f"cannot be printed to PDF. Fix: set {CHROMIUM_ENV} to the path of Chromium "
                f"or Google Chrome (e.g. /usr/bin/chromium), {_HTML_INSTEAD}."
            )
        return Path(found)
    for name in BROWSERS:
        found = shutil.which(name, path=env.get("PATH"))
        if found is not None:
            return Path(found)
    raise TrialkitError(
        f"--format pdf prints the report with Chromium or Google Chrome, and none was found "
        f"(looked for ${CHROMIUM_ENV}, then {', '.join(BROWSERS)} on PATH). Fix: install "
        f"Chromium (e.g. `apt install chromium`), or set {CHROMIUM_ENV} to the browser's path, "
        f"{_HTML_INSTEAD}."
    )


def print_pdf(html: str, *, browser: Path | None = None, timeout: float = TIMEOUT_S) -> bytes:
    """Print a self-contained HTML document to PDF with headless Chromium.

    Parameters
    ----------
    html
        The rendered report (:func:`~trialkit.report.render_report`).
    browser
        The browser; default :func:`find_chromium`.
    timeout
        Seconds to wait for the browser.

    Returns
    -------
    bytes
        The PDF.

    Raises
    ------
    trialkit.errors.TrialkitError
        If no browser is found, it cannot start, takes longer than ``timeout`` or writes no PDF.
    """
    browser = browser or find_chromium()
    with tempfile.TemporaryDirectory(prefix="trialkit-pdf-", ignore_cleanup_errors=True) as tmp:
        page, pdf = Path(tmp) / "report.html", Path(tmp) / "report.pdf"
        page.write_text(html, encoding="utf-8")
        command = [str(browser), *_flags(Path(tmp)), f"--print-to-pdf={pdf}", page.as_uri()]
        status, stderr = _run(command, browser=browser, cwd=tmp, timeout=timeout)
        data = pdf.read_bytes() if pdf.is_file() else b""
    if status != 0 or not data.startswith(b"%PDF-"):
        raise TrialkitError(
            f"{browser}: printing the report to PDF failed (exit status {status}"
            f"{_last_words(stderr)}). Fix: check that this is Chromium or Google Chrome, "
            f"version 112 or later, {_HTML_INSTEAD}."
        )
    return data


def _run(command: list[str], *, browser: Path, cwd: str, timeout: float) -> tuple[int, str]:
    """Run the browser in its own process group, so a hung one is stopped with its children."""
    try:
        proc = subprocess.Popen(
            command,
            cwd=cwd,
            stdin=subprocess.DEVNULL,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.PIPE,
            text=True,
            errors="replace",
            start_new_session=True,
        )
    except OSError as exc:
        raise TrialkitError(
            f"{browser}: could not be started ({exc.strerror or exc}). Fix: set "
            f"{CHROMIUM_ENV} to a working Chromium, {_HTML_INSTEAD}."
        ) from None
    try:
        _, stderr = proc.communicate(timeout=timeout)
    except subprocess.TimeoutExpired:
        if hasattr(os, "killpg"):
            os.killpg(proc.pid, signal.SIGKILL)
        else:  # pragma: no cover - Windows has no process groups to kill
            proc.kill()
        proc.communicate()
        raise TrialkitError(
            f"{browser}: did not finish printing the report within {timeout:.0f} s. Fix: "
            f"close other browser windows and try again, {_HTML_INSTEAD}."
        ) from None
    return proc.returncode, stderr


def _flags(tmp: Path) -> list[str]:
    """Headless, offline and profile-free; a tagged PDF with an outline, no header or footer."""
    flags = [
        "--headless",
        "--disable-gpu",
        "--no-first-run",
        "--no-default-browser-check",
        "--disable-extensions",
        "--disable-background-networking",
        "--disable-component-update",
        "--disable-sync",
        f"--user-data-dir={tmp / 'profile'}",
        "--no-pdf-header-footer",
        "--export-tagged-pdf",
        "--generate-pdf-document-outline",
    ]
    if hasattr(os, "geteuid") and os.geteuid() == 0:
        flags.append("--no-sandbox")  # Chromium will not start as root with its sandbox
    return flags


def _last_words(stderr: str) -> str:
    """The browser's last meaningful line of complaint, if any."""
    lines = [
        line.strip() for line in stderr.splitlines() if line.strip() and "dbus" not in line.lower()
    ]
    return f": {lines[-1][:300]}" if lines else ""
