"""Shared fixtures: real SQLite and FAISS files in tmp_path, built by the real builder."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from bot.service import Service
from bot.state import StateStore
from index.builder import build_index
from index.embedders import create_embedder
from index.retriever import LiveRetriever

ROOT = Path(__file__).resolve().parent.parent
CORPUS = ROOT / "corpus"
DEV = ROOT / "tests" / "data" / "dev.jsonl"


@pytest.fixture
def corpus_copy(tmp_path: Path) -> Path:
    """A private copy of the bundled corpus that a test may change."""
    target = tmp_path / "corpus"
    shutil.copytree(CORPUS, target)
    return target


@pytest.fixture(scope="session")
def hash_index(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The bundled corpus indexed with the deterministic test embedder (built once)."""
    index_dir = tmp_path_factory.mktemp("hash-index")
    build_index(CORPUS, index_dir, create_embedder("hash"), progress=False)
    return index_dir


@pytest.fixture(scope="session")
def use_index(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The bundled corpus indexed with the real default embedder (built once)."""
    index_dir = tmp_path_factory.mktemp("use-index")
    build_index(CORPUS, index_dir, create_embedder("use"), progress=False)
    return index_dir


def make_service(index_dir: Path, state_path: Path, spec: str) -> Service:
    retriever = LiveRetriever(index_dir, create_embedder(spec))
    return Service(retriever, StateStore(state_path, ttl_seconds=3600))


@pytest.fixture
def hash_service(hash_index: Path, tmp_path: Path) -> Service:
    return make_service(hash_index, tmp_path / "state.db", "hash")


@pytest.fixture
def use_service(use_index: Path, tmp_path: Path) -> Service:
    return make_service(use_index, tmp_path / "state.db", "use")
