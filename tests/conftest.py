"""Shared fixtures: real SQLite and FAISS files in tmp_path, built by the real builder."""

from __future__ import annotations

import importlib.util
import shutil
from collections.abc import AsyncIterator, Callable
from pathlib import Path
from typing import Any

import pytest
from aiohttp.test_utils import TestClient, TestServer

from bot.answer import Policy
from bot.channels.wechat.server import Conversations, PathAccessLogger, create_app
from bot.service import Service
from bot.state import StateStore
from index.builder import build_index
from index.embedders import DEFAULT_EMBEDDER, create_embedder
from index.retriever import LiveRetriever
from tests.fake_telegram import FakeTelegram
from tests.paths import CORPUS, ROOT
from tests.telegram_harness import Harness, build_tg_index, start_harness, tg_service
from tests.wechat_harness import TOKEN as WX_TOKEN
from tests.wechat_harness import CountingService, WeChat


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    """Tests marked `st` skip, saying why, where the sentence-transformers extra is absent."""
    if importlib.util.find_spec("sentence_transformers") is not None:
        return
    skip = pytest.mark.skip(reason="needs the st extra: pip install -e '.[st]' (make test-st)")
    for item in items:
        if "st" in item.keywords:
            item.add_marker(skip)


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
def default_index() -> Path:
    """The bundled corpus indexed with the real default embedder: the only real-embedder index
    of the suite, built by the real (incremental) builder into data/test-index, which is
    git-ignored, so a later run embeds only what changed since (on a fresh clone, everything).
    Tests only read it."""
    index_dir = ROOT / "data" / "test-index" / "default"
    build_index(CORPUS, index_dir, create_embedder(DEFAULT_EMBEDDER), progress=False)
    return index_dir


def make_service(index_dir: Path, state_path: Path, spec: str) -> Service:
    retriever = LiveRetriever(index_dir, create_embedder(spec))
    return Service(retriever, StateStore(state_path, ttl_seconds=3600))


@pytest.fixture
def hash_service(hash_index: Path, tmp_path: Path) -> Service:
    return make_service(hash_index, tmp_path / "state.db", "hash")


@pytest.fixture
def default_service(default_index: Path, tmp_path: Path) -> Service:
    return make_service(default_index, tmp_path / "state.db", DEFAULT_EMBEDDER)


# ---------- Telegram: the fake Bot API server and the bot polling it ----------


@pytest.fixture
async def fake() -> AsyncIterator[FakeTelegram]:
    server = await FakeTelegram().start()
    yield server
    await server.stop()


@pytest.fixture(scope="module")
def tg_index(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The bundled corpus plus an essay full of HTML special characters (built once a module)."""
    return build_tg_index(tmp_path_factory.mktemp("tg"))


@pytest.fixture
async def start_bot(fake, tg_index, tmp_path) -> AsyncIterator[Callable[..., Any]]:
    """start_bot(index_dir=..., reindex=..., rate=..., policy=...) -> a running Harness."""
    running: list[Harness] = []

    async def start(
        index_dir: Path = tg_index,
        reindex: Callable[[], Any] | None = None,
        rate: int = 100,
        policy: Policy | None = None,
    ) -> Harness:
        service = tg_service(index_dir, tmp_path / "state.db", policy)
        running.append(await start_harness(fake, service, reindex, rate))
        return running[-1]

    yield start
    for harness in running:
        await harness.stop()


@pytest.fixture
async def tg(start_bot) -> Harness:
    return await start_bot()


# ---------- WeChat: the webhook on 127.0.0.1 and WeChat's side of it ----------


@pytest.fixture
async def start_wechat() -> AsyncIterator[Callable[..., Any]]:
    """start_wechat(service, safe=None, budget=120) -> (WeChat, Conversations), the webhook
    listening on 127.0.0.1."""
    clients: list[TestClient] = []
    services: list[CountingService] = []

    async def start(service, safe=None, budget=120.0):
        conversations = Conversations(service, budget)
        server = TestServer(create_app(conversations, WX_TOKEN, safe), host="127.0.0.1")
        await server.start_server(access_log_class=PathAccessLogger)
        clients.append(TestClient(server))
        if isinstance(service, CountingService):
            services.append(service)
        return WeChat(clients[-1], safe), conversations

    yield start
    for service in services:
        service.gate.set()
    for client in clients:
        await client.close()
