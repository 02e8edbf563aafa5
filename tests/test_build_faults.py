"""A build killed with SIGKILL at any point leaves the previous index whole and usable."""

from __future__ import annotations

import os
import random
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from bot.answer import ANSWERED
from index.corpus import load_corpus
from tests.conftest import make_service
from tests.paths import ROOT

EXTRA = "---\nid: extra\ntitle: Extra essay\nlang: en\n---\nA sentence about zebras. Another one.\n"


def build_command(corpus: Path, index_dir: Path) -> list[str]:
    return [
        sys.executable,
        "-m",
        "bot",
        "index",
        "build",
        "--corpus",
        str(corpus),
        "--index",
        str(index_dir),
        "--embedder",
        "hash",
    ]


def timed_build(corpus: Path, index_dir: Path) -> float:
    start = time.monotonic()
    done = subprocess.run(
        build_command(corpus, index_dir), cwd=ROOT, capture_output=True, text=True
    )
    assert done.returncode == 0, done.stderr
    return time.monotonic() - start


def killed_build(corpus: Path, index_dir: Path, after: float) -> bool:
    """Start a build and SIGKILL it after `after` seconds; True if it was still running."""
    process = subprocess.Popen(
        build_command(corpus, index_dir),
        cwd=ROOT,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    time.sleep(after)
    running = process.poll() is None
    if running:
        os.kill(process.pid, signal.SIGKILL)
    process.wait()
    return running


@pytest.mark.parametrize(
    "runs", [pytest.param(4, id="4"), pytest.param(20, id="20", marks=pytest.mark.slow)]
)
def test_sigkill_during_build_never_breaks_the_index(corpus_copy, tmp_path, capsys, runs):
    """Four kills in `make test`, twenty in `make soak`."""
    index_dir = tmp_path / "idx"
    duration = timed_build(corpus_copy, index_dir)
    rng = random.Random(20261128)
    kills = 0
    for run in range(runs):
        extra = corpus_copy / "99-extra.md"
        extra.unlink() if extra.exists() else extra.write_text(EXTRA, encoding="utf-8")
        kills += killed_build(corpus_copy, index_dir, rng.uniform(0, duration))
        service = make_service(index_dir, tmp_path / f"state{run}.db", "hash")
        answer = service.ask("Mixue founders will stay as co-chairman though.")
        assert answer.status == ANSWERED, f"run {run}: the index no longer answers"
        assert answer.quotes[0].essay_id == "cfo-ceo"
    assert kills >= runs // 2, "too few builds were killed mid-way for the test to mean much"
    with capsys.disabled():
        print(f"\n{kills} of {runs} builds SIGKILLed mid-way; the index answered after every run")
    timed_build(corpus_copy, index_dir)
    final = make_service(index_dir, tmp_path / "final.db", "hash")
    assert {e.id for e in final.essays()} == {e.id for e in load_corpus(corpus_copy)}
