"""Telegram's handlers (python-telegram-bot v22): Telegram updates in, Service calls, replies out.

Nothing here decides what to answer: questions go to Service.ask off the event loop, and
replies are the shared renderers' HTML, split under Telegram's limit. Nothing here stores
or logs message text; the only per-chat state is what Service keeps for /source.
"""

from __future__ import annotations

import asyncio
import hashlib
import html
import logging
import re
from collections.abc import Awaitable, Callable, Sequence

from telegram import (
    InlineKeyboardButton,
    InlineKeyboardMarkup,
    Message,
    MessageEntity,
    Update,
)
from telegram.constants import ChatType
from telegram.error import TelegramError
from telegram.ext import ContextTypes

from bot import messages
from bot.answer import Answer
from bot.html_split import split_messages
from bot.limits import ALLOW, NOTICE, ChatLimiter
from bot.render import html_blocks, html_source
from bot.service import Service, SourceReply
from index.builder import BuildReport
from index.errors import EssayBotError, QuestionError

logger = logging.getLogger(__name__)

SOURCES_PREFIX = "src:"
COMMANDS = ("start", "help", "essays", "source", "ask", "forget")

Reindex = Callable[[], BuildReport]


# ---------- small pure helpers ----------


def chat_of(update: Update) -> str:
    """The channel-qualified chat id Service keys its state by."""
    assert update.effective_chat is not None
    return f"telegram:{update.effective_chat.id}"


def lang_of(update: Update) -> str:
    user = update.effective_user
    code = (user.language_code or "") if user else ""
    return "zh" if code.lower().startswith("zh") else "en"


def answer_id(keys: Sequence[int]) -> str:
    """A short id for an answer's quotes, to fit Telegram's 64-byte callback data."""
    return hashlib.sha256(",".join(map(str, keys)).encode()).hexdigest()[:12]


def sources_button(answer: Answer) -> InlineKeyboardMarkup:
    data = SOURCES_PREFIX + answer_id([q.key for q in answer.quotes])
    return InlineKeyboardMarkup(
        [[InlineKeyboardButton(messages.text("sources_button"), callback_data=data)]]
    )


def source_arg(args: Sequence[str]) -> int | str | None:
    """/source's argument: None (all), a quote number, or "bad"."""
    if not args:
        return None
    return int(args[0]) if args[0].isdigit() else "bad"


def report_text(report: BuildReport, lang: str) -> str:
    return messages.text(
        "reindexed",
        lang,
        essays=report.essays,
        chunks=report.chunks,
        embedded=report.embedded,
        reused=report.reused,
        removed=report.removed,
    )


def addressed_text(message: Message, bot_id: int, username: str) -> str | None:
    """The question in a message meant for the bot: every private message; in groups only
    a reply to the bot or a message mentioning it (the mention removed)."""
    text = message.text or ""
    if message.chat.type == ChatType.PRIVATE:
        return text
    replied = message.reply_to_message
    if replied and replied.from_user and replied.from_user.id == bot_id:
        return text
    mention = f"@{username}".lower()
    mentions = message.parse_entities([MessageEntity.MENTION]).values()
    if any(m.lower() == mention for m in mentions):
        return re.sub(re.escape(mention), " ", text, flags=re.IGNORECASE).strip()
    return None


# ---------- the handlers ----------


async def side_call(call: Awaitable[object]) -> None:
    """A call the reply does not depend on (the typing indicator, acknowledging a button):
    when it fails, log it and go on, so it never costs the reader the answer."""
    try:
        await call
    except TelegramError as exc:
        logger.warning("telegram: a side call failed (%s); answering anyway", type(exc).__name__)


class TelegramBot:
    """The handlers, over one Service; `reindex` rebuilds the index (run in a thread)."""

    def __init__(
        self,
        service: Service,
        reindex: Reindex,
        admin_ids: frozenset[int] = frozenset(),
        rate_limit_per_minute: int = 20,
    ) -> None:
        self.service = service
        self.reindex = reindex
        self.admin_ids = admin_ids
        self.limiter = ChatLimiter(rate_limit_per_minute)
        self._rebuilding = False

    async def start(self, update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
        await self._reply(update, [messages.text("welcome")])

    async def help(self, update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
        lang = lang_of(update)
        await self._reply(
            update, [messages.text("help", lang), messages.text("help_telegram", lang)]
        )

    async def essays(self, update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
        essays = await asyncio.to_thread(self.service.essays)
        lines = [messages.text("essays_header", lang_of(update))] + [f"• {e.title}" for e in essays]
        await self._reply(update, ["\n".join(lines)])

    async def source(self, update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
        n = source_arg(context.args or [])
        if n == "bad":
            await self._reply(update, [messages.text("source_usage", lang_of(update))])
            return
        found = await asyncio.to_thread(self.service.sources, chat_of(update), n)  # type: ignore[arg-type]
        await self._send_sources(update, found)

    async def forget(self, update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
        chat = chat_of(update)
        await asyncio.to_thread(self.service.forget, chat)
        self.limiter.forget(chat)
        await self._reply(update, [messages.text("forgotten", lang_of(update))])

    async def ask(self, update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
        """/ask QUESTION: the way to ask in a group without mentioning the bot."""
        text = update.effective_message.text if update.effective_message else ""
        await self._answer(update, (text or "").partition(" ")[2])

    async def text(self, update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
        """A plain text message: answered in private chats; in groups only when addressed."""
        message = update.effective_message
        assert message is not None
        question = addressed_text(message, context.bot.id, context.bot.username)
        if question is not None:
            await self._answer(update, question)

    async def sources_pressed(self, update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
        query = update.callback_query
        assert query is not None and query.data is not None
        if update.effective_chat is None:  # a button of an inline-mode message: no chat to answer
            await side_call(query.answer())
            return
        found = await asyncio.to_thread(self.service.sources, chat_of(update), None)
        keys = [s.quote.key for s in found.sources]
        if found.sources and answer_id(keys) != query.data.removeprefix(SOURCES_PREFIX):
            await side_call(
                query.answer(messages.text("sources_expired", found.lang), show_alert=True)
            )
            return
        await side_call(query.answer())  # Telegram refuses it for an old button: sources anyway
        await self._send_sources(update, found)

    async def other_pressed(self, update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
        """Any other button (one this bot never made): acknowledged, so no spinner stays."""
        if update.callback_query is not None:
            await side_call(update.callback_query.answer())

    async def reindex_command(self, update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
        lang = lang_of(update)
        user = update.effective_user
        if user is None or user.id not in self.admin_ids:
            await self._reply(update, [messages.text("admins_only", lang)])
            return
        if self._rebuilding:
            await self._reply(update, [messages.text("reindex_running", lang)])
            return
        self._rebuilding = True
        sent = await self._reply(update, [messages.text("reindex_started", lang)])
        context.application.create_task(self._rebuild(sent[-1], lang), update=update)

    async def _rebuild(self, status: Message, lang: str) -> None:
        try:
            report = await asyncio.to_thread(self.reindex)
            await status.edit_text(html.escape(report_text(report, lang)))
        except EssayBotError as exc:
            await status.edit_text(html.escape(messages.text("reindex_failed", lang, error=exc)))
        finally:
            self._rebuilding = False

    async def on_error(self, update: object, context: ContextTypes.DEFAULT_TYPE) -> None:
        """Log the failure (no message text) and apologise once in the chat it came from."""
        update_id = update.update_id if isinstance(update, Update) else None
        logger.error(
            "update %s failed: %s", update_id, type(context.error).__name__, exc_info=context.error
        )
        if isinstance(update, Update) and update.effective_chat:
            try:
                await context.bot.send_message(
                    update.effective_chat.id, html.escape(messages.text("sorry"))
                )
            except TelegramError as exc:
                logger.error("could not send the apology: %s", type(exc).__name__)

    # -- replies --

    async def _answer(self, update: Update, question: str) -> None:
        chat, lang = chat_of(update), lang_of(update)
        allowed = await self.limiter.allow(chat)
        if allowed == NOTICE:
            await self._reply(update, [messages.text("slow_down", lang)])
        if allowed != ALLOW:
            return
        await side_call(update.effective_chat.send_chat_action("typing"))  # type: ignore[union-attr]
        try:
            answer = await asyncio.to_thread(self.service.ask, question, chat)
        except QuestionError as exc:
            await self._reply(update, [str(exc)])
            return
        markup = sources_button(answer) if answer.quotes else None
        await self._send(update, split_messages(html_blocks(answer)), markup)

    async def _send_sources(self, update: Update, found: SourceReply) -> None:
        if found.message:
            await self._reply(update, [found.message])
            return
        blocks = [html_source(s, found.lang) for s in found.sources]
        await self._send(update, split_messages(blocks))

    async def _reply(self, update: Update, texts: Sequence[str]) -> list[Message]:
        """Fixed strings (escaped), joined into as few messages as fit."""
        return await self._send(
            update, split_messages([html.escape(t, quote=False) for t in texts])
        )

    async def _send(
        self, update: Update, pieces: Sequence[str], markup: InlineKeyboardMarkup | None = None
    ) -> list[Message]:
        """Send HTML pieces in order; the button (if any) goes under the last one."""
        chat = update.effective_chat
        assert chat is not None
        reply_to = update.effective_message if update.message else None
        sent = []
        for i, piece in enumerate(pieces):
            markup_here = markup if i == len(pieces) - 1 else None
            if reply_to is not None and i == 0:
                sent.append(await reply_to.reply_text(piece, reply_markup=markup_here))
            else:
                sent.append(await chat.send_message(piece, reply_markup=markup_here))
        return sent


# ---------- the application ----------
