"""Damage to the index a running bot serves: it falls back to the last good generation, says
clearly when none is left, and `essaybot health` fails (#17, defect 8)."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from bot.answer import ANSWERED
from index import layout
from index.builder import build_index
from index.embedders import create_embedder
from index.errors import IndexUnavailableError
from tests.cli_runner import run_cli
from tests.conftest import make_service
from tests.paths import CORPUS

QUESTION = "Mixue founders will stay as co-chairman though."


def truncate(index_dir: Path) -> Path:
    """Cut the serving generation's index.db to a quarter, as a full disk or a bad copy would."""
    db = layout.current_generation(index_dir) / layout.DB_FILE
    with open(db, "r+b") as handle:
        handle.truncate(os.path.getsize(db) // 4)
    return db


def build(index_dir: Path) -> None:
    build_index(CORPUS, index_dir, create_embedder("hash"), rebuild=True, progress=False)


def test_a_damaged_serving_index_falls_back_to_the_last_good_generation(tmp_path):
    """Before #17 every question failed (an IndexCorruptError in the log) until a rebuild."""
    index_dir = tmp_path / "idx"
    build(index_dir)
    build(index_dir)  # two generations: the current one and the one before it
    service = make_service(index_dir, tmp_path / "state.db", "hash")
    assert service.ask(QUESTION).status == ANSWERED
    damaged = truncate(index_dir)
    answer = service.ask(QUESTION)
    assert answer.status == ANSWERED and answer.quotes[0].essay_id == "cfo-ceo"
    assert service.retriever.get().generation != damaged.parent


def test_with_no_good_generation_left_every_question_says_the_index_is_unavailable(tmp_path):
    index_dir = tmp_path / "idx"
    build(index_dir)
    service = make_service(index_dir, tmp_path / "state.db", "hash")
    truncate(index_dir)
    for _ in range(2):
        with pytest.raises(IndexUnavailableError, match="essaybot index build --rebuild"):
            service.ask(QUESTION)
    build(index_dir)  # a good generation again: answers come back without a restart
    assert service.ask(QUESTION).status == ANSWERED


def test_health_fails_on_a_damaged_index(tmp_path):
    index_dir = tmp_path / "idx"
    build(index_dir)
    env = {"ESSAYBOT_STATE_PATH": str(tmp_path / "state.db")}
    assert run_cli("health", "--index", str(index_dir), env=env).returncode == 0
    truncate(index_dir)
    result = run_cli("health", "--index", str(index_dir), env=env)
    assert result.returncode == 1 and "Rebuild it" in result.stderr
