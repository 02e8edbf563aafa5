"""The bot as a user starts it: `python -m bot ask`, timed from process start to the answer,
with its peak resident memory and whether torch was imported."""

from __future__ import annotations

import os
import statistics
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent


class ChildFailed(RuntimeError):
    pass


def run_python(args: list[str], env: dict[str, str], stdin: str = "") -> tuple[float, float, str]:
    """(seconds, peak RSS in MB, stderr) of one `python ARGS` child run from the repo root."""
    started = time.perf_counter()
    child = subprocess.Popen(
        [sys.executable, *args],
        cwd=ROOT,
        env=env,
        stdin=subprocess.PIPE,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
        text=True,
    )
    assert child.stdin is not None and child.stderr is not None
    child.stdin.write(stdin)
    child.stdin.close()
    stderr = child.stderr.read()
    _, status, usage = os.wait4(child.pid, 0)  # wait4: this child's own peak RSS
    seconds = time.perf_counter() - started
    child.returncode = os.waitstatus_to_exitcode(status)
    if child.returncode:
        raise ChildFailed(f"python {' '.join(args)} failed: {stderr.strip()[-500:]}")
    return seconds, usage.ru_maxrss / 1024, stderr


def bot_env(workdir: Path, index_dir: Path) -> dict[str, str]:
    """The environment of a bot on `index_dir` whose state and cache live in `workdir`."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("ESSAYBOT_")}
    env.update(
        ESSAYBOT_INDEX_DIR=str(index_dir),
        ESSAYBOT_STATE_PATH=str(workdir / "state.db"),
        ESSAYBOT_CACHE_DIR=str(workdir / "cache"),
    )
    return env


def cold_start(env: dict[str, str], question: str, runs: int) -> dict[str, Any]:
    """`python -m bot ask QUESTION`, start to answer: the first run (which fills the cache),
    then `runs` more; and one -X importtime run: was torch imported, how long did imports take."""
    args = ["-m", "bot", "ask", "--json", question]
    first = run_python(args, env)[0]
    seconds = [run_python(args, env)[0] for _ in range(runs)]
    _, _, imports = run_python(["-X", "importtime", *args], env)
    modules = [line.rsplit("|", 1)[-1].strip() for line in imports.splitlines() if "|" in line]
    return {
        "runs": runs,
        "first_s": first,
        "median_s": statistics.median(seconds),
        "min_s": min(seconds),
        "seconds": seconds,
        "imports_torch": any(m.split(".")[0] == "torch" for m in modules),
        "import_s": _cumulative_us(imports, "bot.cli") / 1e6,
    }


def _cumulative_us(importtime: str, module: str) -> int:
    for line in importtime.splitlines():
        parts = [p.strip() for p in line.removeprefix("import time:").split("|")]
        if len(parts) == 3 and parts[2] == module:
            return int(parts[1])
    return 0


def resident(env: dict[str, str], questions: list[str]) -> dict[str, Any]:
    """Peak RSS of `python -m bot ask --json -` answering every question, one per line."""
    _, peak_mb, _ = run_python(["-m", "bot", "ask", "--json", "-"], env, "\n".join(questions))
    return {"questions": len(questions), "peak_rss_mb": peak_mb}
