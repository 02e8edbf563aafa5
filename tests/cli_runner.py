"""Run the `essaybot` command line as a user runs it: a real process in the repository."""

from __future__ import annotations

import os
import subprocess
import sys

from tests.paths import ROOT


def run_cli(
    *args: str, stdin: str = "", env: dict[str, str] | None = None
) -> subprocess.CompletedProcess:
    """`python -m bot ARGS` with `stdin`, offline for Hugging Face; output captured as text."""
    full_env = {**os.environ, "HF_HUB_OFFLINE": "1", **(env or {})}
    return subprocess.run(
        [sys.executable, "-m", "bot", *args],
        input=stdin,
        capture_output=True,
        text=True,
        cwd=ROOT,
        env=full_env,
        timeout=300,
    )
