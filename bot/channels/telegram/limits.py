"""Telegram's request limiter: python-telegram-bot's, with per-request 429 waits and retries of
requests that failed in transit."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable, Coroutine
from datetime import timedelta
from typing import Any

from telegram.error import BadRequest, NetworkError, RetryAfter
from telegram.ext import AIORateLimiter

logger = logging.getLogger(__name__)
NETWORK_RETRIES = 3


def transient(exc: BaseException) -> bool:
    """Network trouble worth retrying: not a request Telegram refused as malformed."""
    return isinstance(exc, NetworkError) and not isinstance(exc, BadRequest)


class RetryingRateLimiter(AIORateLimiter):
    """PTB's limiter (Telegram's 30 calls a second overall, one a second per chat) with two
    changes: a 429 makes only the request that got it wait its `retry_after` (PTB's own
    handling pauses every chat's requests), and transient network errors are retried with
    exponential backoff, `backoff` seconds at first. It calls the parent's `_run_request`,
    which applies the limits, as the parent's own `process_request` does."""

    def __init__(self, *, max_retries: int, backoff: float = 0.5) -> None:
        super().__init__(max_retries=max_retries)
        self.retry_after_retries = max_retries
        self.backoff = backoff

    async def process_request(
        self,
        callback: Callable[..., Coroutine[Any, Any, Any]],
        args: Any,
        kwargs: dict[str, Any],
        endpoint: str,
        data: dict[str, Any],
        rate_limit_args: int | None,
    ) -> Any:
        chat_id = data.get("chat_id")
        group = (
            chat_id
            if isinstance(chat_id, str) or (isinstance(chat_id, int) and chat_id < 0)
            else False
        )
        waits = failures = 0
        while True:
            try:
                return await self._run_request(
                    chat=chat_id is not None,
                    group=group,
                    allow_paid_broadcast=bool(data.get("allow_paid_broadcast", False)),
                    callback=callback,
                    args=args,
                    kwargs=kwargs,
                )
            except RetryAfter as exc:
                if waits == (rate_limit_args or self.retry_after_retries):
                    raise
                waits += 1
                await asyncio.sleep(_seconds(exc.retry_after) + 0.1)  # this request only
            except NetworkError as exc:
                if failures == NETWORK_RETRIES or not transient(exc):
                    raise
                failures += 1
                logger.warning(
                    "Telegram request failed (%s); retry %d", type(exc).__name__, failures
                )
                await asyncio.sleep(self.backoff * 2 ** (failures - 1))


def _seconds(value: float | timedelta) -> float:
    """A retry_after in seconds, whichever form python-telegram-bot gives it in."""
    return value.total_seconds() if isinstance(value, timedelta) else float(value)
