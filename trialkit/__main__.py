"""``python -m trialkit``: the same command as ``trialkit``."""

from trialkit.cli import app

app(prog_name="trialkit")
