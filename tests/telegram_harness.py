"""Helpers for driving the real Telegram Application against the fake Bot API server:
the test corpus, a Harness that waits for each update to be handled, and checks on what
the bot sent. The pytest fixtures over them (fake, tg_index, start_bot, tg) are in conftest."""

from __future__ import annotations

import asyncio
import shutil
from pathlib import Path
from typing import Any

from telegram import Update
from telegram.ext import Application, TypeHandler

from bot import logs
from bot.answer import Policy
from bot.channels.telegram.app import build_application
from bot.channels.telegram.handlers import TelegramBot
from bot.html_split import units
from bot.service import Service
from bot.state import StateStore
from index.builder import build_index
from index.embedders import create_embedder
from index.retriever import LiveRetriever
from tests.fake_telegram import BOT_ID, TOKEN, FakeTelegram, parse_html
from tests.paths import CORPUS

ADMIN = 7001
USER = 700_242_424_242  # long enough that no stored key or offset can hold its digits
GROUP = -100123
SPECIAL = 'Zebra quotes say x < y && y > z, and "<b>bold</b>" is not markup here'
LONG_WORDS = " ".join(f"okapi{i % 50} walks & talks <near> the river" for i in range(400))
TEST_ESSAY = f"""---
id: tg-test
title: 'Tags & <i>markup</i> "test"'
lang: en
---
{SPECIAL}; the zebra & the okapi agree.

{LONG_WORDS}
"""
NEW_ESSAY = """---
id: tg-new
title: "Narwhal notes"
lang: en
---
Narwhals keep their tusks polished for the annual quokka parade.
"""


def add_essay(corpus: Path, name: str, text: str) -> None:
    (corpus / name).write_text(text, encoding="utf-8")


def build_tg_index(root: Path) -> Path:
    """The bundled corpus plus an essay full of HTML special characters and one very long
    sentence, copied to root/corpus and indexed with the deterministic test embedder."""
    shutil.copytree(CORPUS, root / "corpus")
    add_essay(root / "corpus", "99-tg-test.md", TEST_ESSAY)
    build_index(root / "corpus", root / "index", create_embedder("hash"), progress=False)
    return root / "index"


class Harness:
    """A running Application polling the fake server, and a way to wait for each update to
    be fully handled (a last handler group records it, through the public handler API)."""

    def __init__(self, fake: FakeTelegram, bot: TelegramBot, app: Application) -> None:
        self.fake, self.bot, self.app = fake, bot, app
        self._done: dict[int, asyncio.Event] = {}
        app.add_handler(TypeHandler(Update, self._record), group=99)

    async def _record(self, update: Update, context: Any) -> None:
        self._event(update.update_id).set()

    def _event(self, update_id: int) -> asyncio.Event:
        return self._done.setdefault(update_id, asyncio.Event())

    async def start(self) -> None:
        await self.app.initialize()
        assert self.app.post_init is not None
        await self.app.post_init(self.app)
        assert self.app.updater is not None
        await self.app.updater.start_polling(timeout=1)
        await self.app.start()

    async def stop(self) -> None:
        assert self.app.updater is not None
        await self.app.updater.stop()
        await self.app.stop()
        await self.app.shutdown()

    async def send(self, update: dict[str, Any], timeout: float = 60) -> None:
        """Deliver an update and wait until every handler has finished with it."""
        update_id = await self.fake.push(update)
        await asyncio.wait_for(self._event(update_id).wait(), timeout)

    async def say(self, chat_id: int, text: str, **extra: Any) -> list[str]:
        """Send a message; the texts the bot sent to that chat in response."""
        before = len(self.fake.sent(chat_id))
        await self.send(self.fake.message(chat_id, text, **extra))
        return [c.params["text"] for c in self.fake.sent(chat_id)[before:]]


def tg_service(index_dir: Path, state_path: Path, policy: Policy | None = None) -> Service:
    """The real Service over `index_dir` (built with the hash embedder)."""
    retriever = LiveRetriever(index_dir, create_embedder("hash"))
    return Service(retriever, StateStore(state_path, ttl_seconds=3600), policy)


async def start_harness(
    fake: FakeTelegram, service: Service, reindex: Any = None, rate: int = 100
) -> Harness:
    """A TelegramBot over `service` with ADMIN as its admin, polling `fake`, started; the
    libraries' loggers quieted as the CLI quiets them (bot.logs)."""
    logs.quiet_libraries()
    bot = TelegramBot(service, reindex or (lambda: None), frozenset({ADMIN}), rate)
    # short waits: a stalled call fails in 1 s instead of python-telegram-bot's 5 s, and a
    # failed one is retried after 0.05 s instead of 0.5 s (the retries themselves are the same)
    application = build_application(bot, TOKEN, fake.base_url, timeout=1.0, backoff=0.05)
    harness = Harness(fake, bot, application)
    await harness.start()
    return harness


def assert_all_valid(fake: FakeTelegram) -> None:
    """Every message the bot sent or edited is Telegram-valid HTML under 4096 characters
    (the fake refuses anything else with a 400, which would show up here)."""
    for call in fake.calls:
        assert call.status in (200, 429) or call.method == "sendChatAction", call
        if call.method in ("sendMessage", "editMessageText"):
            assert len(parse_html(call.params["text"])) <= 4096
            assert units(call.params["text"]) <= 4096


def bot_message(chat: dict[str, Any], message_id: int, text: str) -> dict[str, Any]:
    """A message the bot sent earlier into `chat`, as Telegram describes it in an update."""
    return {
        "message_id": message_id,
        "date": 0,
        "chat": chat,
        "from": {"id": BOT_ID, "is_bot": True, "first_name": "Essay Bot"},
        "text": text,
    }


def button_press(fake: FakeTelegram, chat_id: int, data: str) -> dict[str, Any]:
    """A press of the inline button with `data` under one of the bot's messages."""
    chat = {"id": chat_id, "type": "private", "first_name": "Reader"}
    return fake.callback(chat_id, data, bot_message(chat, 99, "answer"))
