"""The python-telegram-bot Application around the handlers: building it, its command menu,
polling and the webhook."""

from __future__ import annotations

import logging
from collections.abc import Callable
from typing import Any
from urllib.parse import urlparse

from telegram import BotCommand, LinkPreviewOptions, Update
from telegram.constants import ParseMode
from telegram.error import InvalidToken, NetworkError
from telegram.ext import (
    Application,
    ApplicationBuilder,
    CallbackQueryHandler,
    CommandHandler,
    Defaults,
    MessageHandler,
    filters,
)

from bot import messages
from bot.channels.telegram.handlers import COMMANDS, SOURCES_PREFIX, TelegramBot
from bot.channels.telegram.limits import RetryingRateLimiter
from bot.config import TelegramConfigError, check_secret, check_token

logger = logging.getLogger(__name__)
RETRY_AFTER_RETRIES = 3


def file_url(base_url: str) -> str:
    """The file base URL matching a Bot API base URL (".../bot" -> ".../file/bot")."""
    return base_url[: -len("/bot")] + "/file/bot" if base_url.endswith("/bot") else base_url


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
    application.add_handler(CallbackQueryHandler(bot.other_pressed))
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
