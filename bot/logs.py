"""Logging as the CLI sets it up: the root level, and the libraries' loggers that would
otherwise log secrets or message text. The only module that changes logging settings."""

from __future__ import annotations

import logging

from telegram.error import InvalidToken


def configure(verbose: bool) -> None:
    logging.basicConfig(
        level=logging.INFO if verbose else logging.WARNING,
        format="%(asctime)s %(levelname)s %(name)s: %(message)s",
    )
    quiet_libraries()


class _DropInvalidToken(logging.Filter):
    """python-telegram-bot logs a rejected token with a traceback; we report it in one line."""

    def filter(self, record: logging.LogRecord) -> bool:
        return not (record.exc_info and isinstance(record.exc_info[1], InvalidToken))


def quiet_libraries() -> None:
    """httpx logs every request URL at INFO, and the URL holds the token: keep them out.
    python-telegram-bot logs the token and every update's text at DEBUG: never below INFO."""
    for name in ("httpx", "httpcore"):
        logging.getLogger(name).setLevel(logging.WARNING)
    logging.getLogger("telegram").setLevel(logging.INFO)
    ptb = logging.getLogger("telegram.ext")
    if not any(isinstance(f, _DropInvalidToken) for f in ptb.filters):
        ptb.addFilter(_DropInvalidToken())
