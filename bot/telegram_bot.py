"""The Telegram adapter (python-telegram-bot v22): Telegram updates in, Service calls, replies out.

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
import secrets
from collections import OrderedDict
from collections.abc import Callable, Sequence
from typing import Any
from urllib.parse import urlparse

from aiolimiter import AsyncLimiter
from telegram import (
    BotCommand,
    InlineKeyboardButton,
    InlineKeyboardMarkup,
    LinkPreviewOptions,
    Message,
    MessageEntity,
    Update,
)
from telegram.constants import ChatType, ParseMode
from telegram.error import BadRequest, InvalidToken, NetworkError, TelegramError
from telegram.ext import (
    AIORateLimiter,
    Application,
    ApplicationBuilder,
    CallbackQueryHandler,
    CommandHandler,
    ContextTypes,
    Defaults,
    MessageHandler,
    filters,
)

from bot import messages
from bot.answer import Answer
from bot.html_split import split_messages
from bot.render import html_blocks, html_source
from bot.service import Service, SourceReply
from index.builder import BuildReport
from index.errors import EssayBotError, QuestionError

logger = logging.getLogger(__name__)

TOKEN_FORMAT = re.compile(r"\d{3,}:[A-Za-z0-9_-]{20,}")
SECRET_FORMAT = re.compile(r"[A-Za-z0-9_-]{1,256}")
SOURCES_PREFIX = "src:"
COMMANDS = ("start", "help", "essays", "source", "ask", "forget")
NETWORK_RETRIES = 3
RETRY_AFTER_RETRIES = 3
KNOWN_CHATS = 10_000

Reindex = Callable[[], BuildReport]


class TelegramConfigError(EssayBotError):
    """The Telegram token or webhook settings cannot be used."""


# ---------- configuration checks ----------


def check_token(token: str | None) -> str:
    """The token, or an error naming the fix (the token itself is never echoed)."""
    if not token:
        raise TelegramConfigError(
            "ESSAYBOT_TELEGRAM_TOKEN is not set. Create a bot with @BotFather and run: "
            "export ESSAYBOT_TELEGRAM_TOKEN=<the token it gives you>"
        )
    if not TOKEN_FORMAT.fullmatch(token.strip()):
        raise TelegramConfigError(
            "ESSAYBOT_TELEGRAM_TOKEN does not look like a bot token (digits, a colon, then "
            "letters, e.g. 123456:ABC-DEF...). Copy it again from @BotFather."
        )
    return token.strip()


def check_secret(secret: str | None) -> str:
    """The webhook secret token, or a fresh random one when none is configured."""
    if secret is None:
        return secrets.token_urlsafe(32)
    if not SECRET_FORMAT.fullmatch(secret):
        raise TelegramConfigError(
            "ESSAYBOT_TELEGRAM_WEBHOOK_SECRET may hold only A-Z, a-z, 0-9, _ and - "
            "(1-256 characters)."
        )
    return secret


def file_url(base_url: str) -> str:
    """The file base URL matching a Bot API base URL (".../bot" -> ".../file/bot")."""
    return base_url[: -len("/bot")] + "/file/bot" if base_url.endswith("/bot") else base_url


class _DropInvalidToken(logging.Filter):
    """python-telegram-bot logs a rejected token with a traceback; we report it in one line."""

    def filter(self, record: logging.LogRecord) -> bool:
        return not (record.exc_info and isinstance(record.exc_info[1], InvalidToken))


def quiet_logs() -> None:
    """httpx logs every request URL at INFO, and the URL holds the token: keep them out.
    python-telegram-bot logs the token and every update's text at DEBUG: never below INFO."""
    for name in ("httpx", "httpcore"):
        logging.getLogger(name).setLevel(logging.WARNING)
    logging.getLogger("telegram").setLevel(logging.INFO)
    ptb = logging.getLogger("telegram.ext")
    if not any(isinstance(f, _DropInvalidToken) for f in ptb.filters):
        ptb.addFilter(_DropInvalidToken())


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


# ---------- rate limits and retries ----------


class ChatLimiter:
    """At most `per_minute` questions per chat (a leaky bucket per chat, kept in memory for
    the most recent chats only)."""

    def __init__(self, per_minute: int) -> None:
        self.per_minute = per_minute
        self._buckets: OrderedDict[str, AsyncLimiter] = OrderedDict()

    async def allow(self, chat: str) -> bool:
        if self.per_minute <= 0:
            return True
        bucket = self._buckets.pop(chat, None) or AsyncLimiter(self.per_minute, 60)
        self._buckets[chat] = bucket
        while len(self._buckets) > KNOWN_CHATS:
            self._buckets.popitem(last=False)
        if not bucket.has_capacity():
            return False
        await bucket.acquire()  # has capacity, so this returns at once
        return True

    def forget(self, chat: str) -> None:
        self._buckets.pop(chat, None)


def transient(exc: BaseException) -> bool:
    """Network trouble worth retrying: not a request Telegram refused as malformed."""
    return isinstance(exc, NetworkError) and not isinstance(exc, BadRequest)


class RetryingRateLimiter(AIORateLimiter):
    """PTB's limiter (which honours 429 retry_after) plus retries of transient network errors
    with exponential backoff, `backoff` seconds at first."""

    def __init__(self, *, max_retries: int, backoff: float = 0.5) -> None:
        super().__init__(max_retries=max_retries)
        self.backoff = backoff

    async def process_request(self, *args: Any, **kwargs: Any) -> Any:
        for attempt in range(NETWORK_RETRIES + 1):
            try:
                return await super().process_request(*args, **kwargs)
            except NetworkError as exc:
                if attempt == NETWORK_RETRIES or not transient(exc):
                    raise
                logger.warning(
                    "Telegram request failed (%s); retry %d", type(exc).__name__, attempt + 1
                )
                await asyncio.sleep(self.backoff * 2**attempt)
        raise AssertionError("unreachable")


# ---------- the handlers ----------


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
        found = await asyncio.to_thread(self.service.sources, chat_of(update), None)
        keys = [s.quote.key for s in found.sources]
        if found.sources and answer_id(keys) != query.data.removeprefix(SOURCES_PREFIX):
            await query.answer(messages.text("sources_expired", found.lang), show_alert=True)
            return
        await query.answer()
        await self._send_sources(update, found)

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
        if not await self.limiter.allow(chat):
            await self._reply(update, [messages.text("slow_down", lang)])
            return
        await update.effective_chat.send_chat_action("typing")  # type: ignore[union-attr]
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


async def register_commands(application: Application) -> None:
    """The command menu, in English (the default) and Chinese."""
    for lang, code in (("en", None), ("zh", "zh")):
        commands = [BotCommand(c, messages.text(f"command_{c}", lang)) for c in COMMANDS]
        await application.bot.set_my_commands(commands, language_code=code)
    logger.info("Telegram bot @%s is ready", application.bot.username)


def build_application(
    bot: TelegramBot,
    token: str,
    base_url: str,
    timeout: float | None = None,
    backoff: float = 0.5,
) -> Application:
    """The python-telegram-bot Application with every handler of `bot` registered; `timeout`
    (seconds) replaces python-telegram-bot's network timeouts (5 s) when given, and `backoff`
    is the first wait before a failed request is retried."""
    quiet_logs()
    builder = ApplicationBuilder()
    if timeout is not None:
        builder = builder.read_timeout(timeout).write_timeout(timeout).connect_timeout(timeout)
        builder = builder.get_updates_read_timeout(timeout + 1)
    application = (
        builder.token(check_token(token))
        .base_url(base_url)
        .base_file_url(file_url(base_url))
        .defaults(
            Defaults(
                parse_mode=ParseMode.HTML, link_preview_options=LinkPreviewOptions(is_disabled=True)
            )
        )
        .rate_limiter(RetryingRateLimiter(max_retries=RETRY_AFTER_RETRIES, backoff=backoff))
        .concurrent_updates(True)
        .post_init(register_commands)
        .build()
    )
    add_handlers(application, bot)
    return application


def add_handlers(application: Application, bot: TelegramBot) -> None:
    new = filters.UpdateType.MESSAGE
    commands: dict[str, Any] = {
        "start": bot.start,
        "help": bot.help,
        "essays": bot.essays,
        "source": bot.source,
        "forget": bot.forget,
        "ask": bot.ask,
        "reindex": bot.reindex_command,
    }
    for name, callback in commands.items():
        application.add_handler(CommandHandler(name, callback, filters=new))
    application.add_handler(MessageHandler(new & filters.TEXT & ~filters.COMMAND, bot.text))
    application.add_handler(
        MessageHandler(new & filters.COMMAND & filters.ChatType.PRIVATE, bot.help)
    )
    application.add_handler(CallbackQueryHandler(bot.sources_pressed, pattern=f"^{SOURCES_PREFIX}"))
    application.add_error_handler(bot.on_error)


ALLOWED_UPDATES = [Update.MESSAGE, Update.CALLBACK_QUERY]


def _translate_startup_errors(run: Callable[[], None], base_url: str) -> None:
    try:
        run()
    except InvalidToken as exc:
        raise TelegramConfigError(
            "Telegram rejected ESSAYBOT_TELEGRAM_TOKEN. Copy the token again from @BotFather."
        ) from exc
    except NetworkError as exc:
        raise TelegramConfigError(
            f"Cannot reach the Telegram Bot API at {base_url} ({type(exc).__name__}). "
            "Check the network, or ESSAYBOT_TELEGRAM_BASE_URL."
        ) from exc


def run_polling(application: Application, base_url: str) -> None:
    _translate_startup_errors(
        lambda: application.run_polling(allowed_updates=ALLOWED_UPDATES), base_url
    )


def run_webhook(
    application: Application, base_url: str, url: str, listen: str, port: int, secret: str | None
) -> None:
    """Serve Telegram's webhook calls on listen:port at URL's path; requests without the
    secret token header are refused (by python-telegram-bot)."""
    parsed = urlparse(url)
    if parsed.scheme != "https" or not parsed.netloc:
        raise TelegramConfigError(f"--webhook must be an https:// URL, got {url!r}")
    _translate_startup_errors(
        lambda: application.run_webhook(
            listen=listen,
            port=port,
            url_path=parsed.path.lstrip("/"),
            webhook_url=url,
            secret_token=check_secret(secret),
            allowed_updates=ALLOWED_UPDATES,
        ),
        base_url,
    )
