"""Load: many chats writing at once to one bot, with an index rebuild in the middle.

Telegram: simulated chats through the fake Bot API against one polling Application; most chats
wait for each reply before writing again, every tenth one floods (twice as many messages, all
at once) into the per-chat rate limit.
WeChat: readers posting signed requests to one webhook at once, with WeChat's retries.
Every message is answered exactly once, nothing fails, the per-chat rate limit holds, and the
new essay is answered after the rebuild. The figures (reply latency p50/p95/p99, messages per
second) are printed; the full-size runs (200 chats x 20 messages) are `make soak`."""

from __future__ import annotations

import asyncio
import json
import logging
import math
import statistics
import threading
import time
from collections.abc import Awaitable
from dataclasses import dataclass
from pathlib import Path

import pytest

from bot.channels.wechat import protocol as wx
from bot.messages import text
from index.builder import build_index
from index.embedders import create_embedder
from tests.conftest import make_service
from tests.fake_telegram import FakeTelegram
from tests.paths import DEV
from tests.telegram_harness import NEW_ESSAY, Harness, add_essay, start_harness
from tests.test_wechat_fuzz import request
from tests.wechat_harness import READER, CountingService

QUESTIONS = [json.loads(line)["question"] for line in DEV.read_text("utf-8").splitlines()]
NEW_QUESTION = "Why do narwhals polish their tusks?"
SIZES = [
    pytest.param(20, 5, id="20x5"),
    pytest.param(200, 20, id="200x20", marks=pytest.mark.slow),
]


@dataclass
class Figures:
    """Reply latencies (seconds) and the wall time of a run."""

    latencies: list[float]
    seconds: float

    def line(self, label: str) -> str:
        p = statistics.quantiles(self.latencies, n=100, method="inclusive")
        return (
            f"{label}: {len(self.latencies)} messages in {self.seconds:.1f}s = "
            f"{len(self.latencies) / self.seconds:.1f} msgs/s; reply latency "
            f"p50={p[49] * 1000:.0f}ms p95={p[94] * 1000:.0f}ms p99={p[98] * 1000:.0f}ms "
            f"max={max(self.latencies) * 1000:.0f}ms"
        )


async def timed(call: Awaitable[object]) -> float:
    started = time.perf_counter()
    await call
    return time.perf_counter() - started


class Rebuild:
    """Adds an essay and rebuilds the index in a thread once `after` messages were answered."""

    def __init__(self, corpus: Path, index_dir: Path, after: int) -> None:
        self.corpus, self.index_dir, self.after = corpus, index_dir, after
        self.answered = 0
        self.thread: threading.Thread | None = None

    def tick(self) -> None:
        self.answered += 1
        if self.answered == self.after:
            add_essay(self.corpus, "99-new.md", NEW_ESSAY)
            self.thread = threading.Thread(target=self._build)
            self.thread.start()

    def _build(self) -> None:
        build_index(self.corpus, self.index_dir, create_embedder("hash"), progress=False)

    async def done(self) -> None:
        assert self.thread is not None, "the rebuild never started"
        await asyncio.to_thread(self.thread.join)


@pytest.fixture
def own_index(corpus_copy: Path, tmp_path: Path) -> Path:
    build_index(corpus_copy, tmp_path / "index", create_embedder("hash"), progress=False)
    return tmp_path / "index"


def rate_limit_held(answered: int, limit: int, first: float, last: float) -> bool:
    """A leaky bucket of `limit` a minute lets through at most `limit` at once, plus what
    leaks out between the chat's first message and its last reply."""
    return answered <= limit + math.ceil(limit * (last - first) / 60) + 1


# ---------- Telegram ----------


async def chat_session(
    tg: Harness, chat: int, count: int, flood: bool, rebuild: Rebuild
) -> tuple[float, list[float]]:
    """One simulated chat: `count` questions one after another, or all at once; when it
    started, and each reply's latency."""

    async def one(n: int) -> float:
        question = QUESTIONS[(chat + n) % len(QUESTIONS)]
        seconds = await timed(tg.send(tg.fake.message(chat, question), timeout=900))
        rebuild.tick()
        return seconds

    started = time.monotonic()
    if flood:
        return started, list(await asyncio.gather(*(one(n) for n in range(count))))
    return started, [await one(n) for n in range(count)]


def check_chat(fake: FakeTelegram, chat: int, count: int, limit: int, started: float) -> int:
    """Every message within the limit answered, the limit held, and a chat over it told so
    once per window, not once per message; how many messages were refused."""
    sent = fake.sent(chat)
    notices = sum(c.params["text"] == text("slow_down") for c in sent)
    answered = len(sent) - notices
    refused = count - answered
    assert answered >= min(limit, count), (chat, answered)  # the first `limit` pass
    assert (notices == 0) == (refused == 0) and notices <= max(1, refused // 2), (chat, notices)
    assert rate_limit_held(answered, limit, started, sent[-1].at), (chat, refused)
    return refused


@pytest.mark.parametrize(("chats", "per_chat"), SIZES)
async def test_telegram_many_chats_at_once_with_a_rebuild(
    fake, own_index, corpus_copy, tmp_path, caplog, capsys, chats, per_chat
):
    service = make_service(own_index, tmp_path / "state.db", "hash")
    tg = await start_harness(fake, service, rate=per_chat)
    counts = {100_000 + n: per_chat * (2 if n % 10 == 0 else 1) for n in range(chats)}
    rebuild = Rebuild(corpus_copy, own_index, sum(counts.values()) // 2)
    started = time.perf_counter()
    try:
        with caplog.at_level(logging.WARNING):
            sessions = [chat_session(tg, c, n, n > per_chat, rebuild) for c, n in counts.items()]
            runs = dict(zip(counts, await asyncio.gather(*sessions), strict=True))
            seconds = time.perf_counter() - started
            await rebuild.done()
            (after,) = await tg.say(1, NEW_QUESTION)
    finally:
        await tg.stop()
    assert "quokka parade" in after
    refused = {c: check_chat(fake, c, n, per_chat, runs[c][0]) for c, n in counts.items()}
    assert not any(refused[c] for c, n in counts.items() if n == per_chat)  # within the limit
    assert all(c.status == 200 for c in fake.calls), [c for c in fake.calls if c.status != 200]
    assert not [r for r in caplog.records if r.levelno >= logging.ERROR]
    latencies = [s for _, run in runs.values() for s in run]
    with capsys.disabled():
        print("\n" + Figures(latencies, seconds).line(f"telegram {chats} chats"))
        floods = sum(n > per_chat for n in counts.values())
        print(
            f"  {floods} chats flooded {2 * per_chat} messages at once into a limit of "
            f"{per_chat}/min: {sum(refused.values())} refused politely, the rest answered"
        )


# ---------- WeChat ----------


async def reader_session(
    wechat, reader: int, count: int, rebuild: Rebuild, stream: int = 0
) -> list[tuple[float, str]]:
    """One stream of a reader's messages: `count` questions one after another; every fifth is
    retried by WeChat (the same MsgId again, at once). Each reader writes two streams at
    once, so a reader always has two messages in flight."""
    rows = []
    for n in range(count):
        msg_id = reader * 1000 + stream * 500 + n
        body = request(QUESTIONS[(reader + n) % len(QUESTIONS)], msg_id)
        body = body.replace(READER.encode(), f"o_load_{reader}".encode())
        query = wechat.query(openid=f"o_load_{reader}")
        started = time.perf_counter()
        replies = await asyncio.gather(
            *(wechat.post(body, query) for _ in range(2 if n % 5 == 0 else 1))
        )
        rows.append((time.perf_counter() - started, replies[0]))
        assert len({content(r) for r in replies}) == 1, "a retry got another reply"
        rebuild.tick()
    return rows


def content(body: str) -> str:
    """The reply's text (or `success`); CreateTime may differ between a message and its retry."""
    return body if body == wx.SUCCESS else wx.parse_xml(body.encode("utf-8"))["Content"]


def reply_content(body: str) -> str:
    fields = wx.parse_xml(body.encode("utf-8"))
    assert fields["MsgType"] == "text" and wx.utf8_len(fields["Content"]) <= 2048
    return fields["Content"]


@pytest.mark.parametrize(("readers", "per_reader"), SIZES)
async def test_wechat_many_readers_at_once_with_a_rebuild(
    start_wechat, own_index, corpus_copy, tmp_path, caplog, capsys, readers, per_reader
):
    service = CountingService(make_service(own_index, tmp_path / "state.db", "hash"))
    wechat, _ = await start_wechat(service, budget=4.0)
    rebuild = Rebuild(corpus_copy, own_index, readers * per_reader // 2)
    started = time.perf_counter()
    with caplog.at_level(logging.WARNING):
        sessions = [
            reader_session(wechat, r, per_reader // 2, rebuild, stream)
            for r in range(readers)
            for stream in (0, 1)
        ]
        rows = [row for reader in await asyncio.gather(*sessions) for row in reader]
        seconds = time.perf_counter() - started
        await rebuild.done()
    late = sum(body == wx.SUCCESS for _, body in rows)  # delivered to a retry or the next one
    for _, body in rows:
        if body != wx.SUCCESS:
            content = reply_content(body)
            kinds = ("not_found", "related", "earlier_answer")  # another in-flight one's first
            openings = ("[1] ", *(text(k, g) for k in kinds for g in ("en", "zh")))
            assert content.startswith(openings)
    assert service.asked == readers * 2 * (per_reader // 2)  # each once; retries asked nothing
    assert not [r for r in caplog.records if r.levelno >= logging.WARNING]
    after = await wechat.ask(NEW_QUESTION, 1)
    assert "quokka parade" in after
    with capsys.disabled():
        figures = Figures([s for s, _ in rows], seconds)
        retries = readers * 2 * math.ceil((per_reader // 2) / 5)
        title = f"wechat {readers} readers, 2 messages in flight each, +{retries} retries"
        print("\n" + figures.line(title))
        print(f"  {late} answers missed the 4 s budget (sent with the next message)")
