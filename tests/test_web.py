"""The web channel's HTTP API and page over real HTTP against a real index (#14, first part:
the browser tests come with the rest of the issue)."""

from __future__ import annotations

import asyncio
import logging
import os
from functools import partial

import pytest
from aiohttp.test_utils import TestClient, TestServer

from bot.channels.web.server import MAX_BODY_BYTES, create_app
from bot.service import Service
from index import layout
from index.builder import build_index
from index.embedders import create_embedder
from tests.conftest import make_service
from tests.paths import CORPUS

QUESTION = "Good CFOs are very good at numbers"
SESSION = "abcdef0123456789"


@pytest.fixture
async def client(hash_service: Service):
    async with TestClient(TestServer(create_app(hash_service, per_minute=100))) as client:
        yield client


async def test_the_page_and_its_files_are_served_with_a_strict_policy(client):
    page = await client.get("/")
    assert page.status == 200 and "text/html" in page.headers["Content-Type"]
    policy = page.headers["Content-Security-Policy"]
    assert "default-src 'none'" in policy and "script-src 'self'" in policy
    html = await page.text()
    assert 'src="/app.js"' in html and "http" not in html  # nothing from another origin
    script = await (await client.get("/app.js")).text()
    assert "textContent" in script and "innerHTML" not in script


async def test_ask_returns_what_essaybot_ask_json_prints(client, hash_service):
    response = await client.post("/api/ask", json={"question": QUESTION})
    assert response.status == 200
    assert await response.json() == hash_service.ask(QUESTION).to_json()


@pytest.mark.parametrize(
    ("body", "status", "message"),
    [
        ({"question": "   "}, 400, "Please ask a question"),
        ({"question": "x" * 5000}, 400, "too long"),
        ({"nothing": 1}, 400, "as JSON"),
        ([1, 2], 400, "as JSON"),
    ],
)
async def test_bad_questions_get_their_status_and_a_message(client, body, status, message):
    response = await client.post("/api/ask", json=body)
    assert response.status == status and message in (await response.json())["error"]


async def test_a_body_over_the_cap_is_413_and_not_json_is_400(client):
    big = await client.post("/api/ask", data=b"{" + b" " * (MAX_BODY_BYTES + 10) + b"}")
    assert big.status == 413 and "larger than" in (await big.json())["error"]
    broken = await client.post("/api/ask", data=b"not json <script>")
    assert broken.status == 400


async def test_questions_are_rate_limited_per_client(hash_service):
    async with TestClient(TestServer(create_app(hash_service, per_minute=2))) as client:
        statuses = [
            (await client.post("/api/ask", json={"question": QUESTION})).status for _ in range(4)
        ]
    assert statuses[:2] == [200, 200] and statuses[2:] == [429, 429]


async def test_essays_sources_and_health(client, hash_service):
    essays = (await (await client.get("/api/essays")).json())["essays"]
    assert {e["id"] for e in essays} == {e.id for e in hash_service.essays()}
    await client.post("/api/ask", json={"question": QUESTION, "session": SESSION})
    found = await (await client.get(f"/api/source?session={SESSION}")).json()
    first = found["sources"][0]
    assert first["n"] == 1 and "Good CFOs are very good at numbers" in first["paragraphs"]
    assert (await client.get("/api/source")).status == 400
    assert (await (await client.get("/healthz")).json()) == {"ok": True}


async def test_an_unavailable_index_is_503(tmp_path):
    index_dir = tmp_path / "idx"
    build_index(CORPUS, index_dir, create_embedder("hash"), progress=False)
    service = make_service(index_dir, tmp_path / "state.db", "hash")
    db = layout.current_generation(index_dir) / layout.DB_FILE
    with open(db, "r+b") as handle:
        handle.truncate(os.path.getsize(db) // 4)
    async with TestClient(TestServer(create_app(service))) as client:
        response = await client.post("/api/ask", json={"question": QUESTION})
        assert response.status == 503
        assert "essaybot index build" in (await response.json())["error"]


async def test_no_question_text_is_logged(client, caplog):
    caplog.set_level(logging.DEBUG)
    await client.post("/api/ask", json={"question": "platypus-secret-77 <script>"})
    assert "platypus-secret-77" not in caplog.text


async def test_a_rebuild_in_the_middle_loses_no_request(tmp_path):
    index_dir = tmp_path / "idx"
    build_index(CORPUS, index_dir, create_embedder("hash"), progress=False)
    service = make_service(index_dir, tmp_path / "state.db", "hash")
    rebuild = partial(
        build_index, CORPUS, index_dir, create_embedder("hash"), rebuild=True, progress=False
    )
    async with TestClient(TestServer(create_app(service, per_minute=1000))) as client:
        asks = [client.post("/api/ask", json={"question": f"{QUESTION} {n}"}) for n in range(30)]
        built, *responses = await asyncio.gather(asyncio.to_thread(rebuild), *asks)
        assert built.essays == 10
        assert [r.status for r in responses] == [200] * 30
        for response in responses:
            assert (await response.json())["status"] in ("answered", "related", "not_found")
