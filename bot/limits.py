"""A limit every channel shares: questions per chat, with one notice when a chat is over it."""

from __future__ import annotations

from collections import OrderedDict

from aiolimiter import AsyncLimiter

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
