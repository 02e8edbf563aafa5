"""Telegram's limits: questions per chat, and retries of requests that failed in transit."""

from __future__ import annotations

import asyncio
import logging
from collections import OrderedDict
from typing import Any

from aiolimiter import AsyncLimiter
from telegram.error import BadRequest, NetworkError
from telegram.ext import AIORateLimiter

logger = logging.getLogger(__name__)
NETWORK_RETRIES = 3
KNOWN_CHATS = 10_000


ALLOW, NOTICE, QUIET = "allow", "notice", "quiet"


class ChatLimiter:
    """At most `per_minute` questions per chat (a leaky bucket per chat, kept in memory for
    the most recent chats only). A chat over its limit is told so once (NOTICE); further
    messages until it may ask again get no reply at all (QUIET), so a flood from one chat
    never turns into a flood of replies that slows every other chat's answers."""

    def __init__(self, per_minute: int) -> None:
        self.per_minute = per_minute
        self._buckets: OrderedDict[str, AsyncLimiter] = OrderedDict()
        self._told: set[str] = set()

    async def allow(self, chat: str) -> str:
        if self.per_minute <= 0:
            return ALLOW
        bucket = self._buckets.pop(chat, None) or AsyncLimiter(self.per_minute, 60)
        self._buckets[chat] = bucket
        while len(self._buckets) > KNOWN_CHATS:
            self._told.discard(self._buckets.popitem(last=False)[0])
        if not bucket.has_capacity():
            if chat in self._told:
                return QUIET
            self._told.add(chat)
            return NOTICE
        self._told.discard(chat)
        await bucket.acquire()  # has capacity, so this returns at once
        return ALLOW

    def forget(self, chat: str) -> None:
        self._buckets.pop(chat, None)
        self._told.discard(chat)


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
