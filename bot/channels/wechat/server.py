"""The WeChat Official Account webhook (aiohttp.web): translate WeChat <-> Service, nothing else.

An Official Account answers only in the HTTP response to WeChat's call, and WeChat gives up after
5 seconds and retries the message up to three times. So a question is answered within a time
budget; when the budget runs out the reply is `success` (WeChat shows nothing), the answer is
finished in the background and kept for the reader's next message. A retry (same MsgId) gets the
same reply and never starts a second computation.

Kept per reader through StateStore, with its expiry: the rendered answer not yet delivered, the
pages left for "更多", and the last reply with its MsgId. All of it is corpus text and fixed
strings, never the reader's message; nothing of a message reaches the logs either.
"""

from __future__ import annotations

import asyncio
import hashlib
import logging
import time
import traceback
from collections import OrderedDict
from collections.abc import Awaitable, Callable, Mapping
from dataclasses import dataclass
from typing import Any, TypeVar

from aiohttp import web
from aiohttp.abc import AbstractAccessLogger

from bot.channels.wechat.protocol import (
    EVENT,
    REPLAY_WINDOW,
    SUCCESS,
    TEXT,
    Message,
    SafeMode,
    WeChatReplayError,
    WeChatRequestError,
    WeChatSignatureError,
    check_fresh,
    check_signature,
    decrypt_request,
    encrypted_reply,
    paginate,
    parse_message,
    parse_xml,
    text_reply,
    utf8_len,
)
from bot.messages import text
from bot.render import plain_blocks, plain_source
from bot.service import Service
from index.errors import QuestionError

logger = logging.getLogger(__name__)
# Room for a 100 000-character message (CJK, base64-encrypted in safe mode), so that an overlong
# question gets the polite "too long" reply; parsing this much XML takes milliseconds.
MAX_BODY_BYTES = 1024 * 1024
MORE = {"更多": "zh", "继续": "zh", "more": "en", "/more": "en"}
SOURCE = {"来源": "zh", "出处": "zh", "source": "en", "/source": "en"}
HELP = {"帮助": "zh", "help": "en", "/help": "en"}
PENDING, PAGES, LAST_REPLY = "wechat_pending", "wechat_pages", "wechat_last_reply"
KNOWN_READERS = 10_000  # per-reader locks kept, for the most recent readers
REMEMBERED = 10  # replies kept per reader for WeChat's retries
T = TypeVar("T")


def where(exc: BaseException) -> str:
    """file:line where `exc` was raised: enough to find a bug, without its (maybe private) text."""
    frames = traceback.extract_tb(exc.__traceback__)
    return f"{frames[-1].filename}:{frames[-1].lineno}" if frames else "?"


def _kept(value: Any) -> list[dict[str, Any]]:
    """The answers kept for a reader (a single one, as kept before #17, reads as a list)."""
    if isinstance(value, dict):
        return [value]
    return list(value or [])


def _replies(value: Any) -> dict[str, str]:
    """MsgId -> the reply it got (a single {msg_id, reply}, as kept before #17, reads too)."""
    if isinstance(value, dict) and set(value) == {"msg_id", "reply"}:
        return {str(value["msg_id"]): str(value["reply"])}
    return dict(value or {})


def is_keyword(word: str) -> bool:
    return word in MORE or word in SOURCE or word in HELP


async def finished(task: asyncio.Task[None], budget: float) -> bool:
    """Whether `task` is done within `budget` seconds; it goes on running either way."""
    done, _ = await asyncio.wait({task}, timeout=budget)
    return bool(done)


@dataclass(frozen=True)
class Running:
    """An answer being computed for a reader, and the message that asked for it."""

    msg_id: str
    task: asyncio.Task[None]


class Conversations:
    """What each reader gets back: answers within the time budget, late ones on the next message."""

    def __init__(self, service: Service, budget: float) -> None:
        self.service = service
        self.state = service.state
        self.budget = budget
        self.running: dict[tuple[str, str], Running] = {}  # (reader, MsgId) -> its answer
        self._locks: OrderedDict[str, asyncio.Lock] = OrderedDict()

    async def _off_loop(self, chat: str, work: Callable[..., T], *args: Any) -> T:
        """Run `work` (SQLite reads and writes of one reader's state) in a worker thread, one
        at a time per reader, so the event loop never waits on the database and a reader's
        compound updates (take the pending answer, keep its pages) stay whole."""
        async with self._lock(chat):
            return await asyncio.to_thread(work, *args)

    def _lock(self, chat: str) -> asyncio.Lock:
        lock = self._locks.pop(chat, None) or asyncio.Lock()
        self._locks[chat] = lock
        while len(self._locks) > KNOWN_READERS and not next(iter(self._locks.values())).locked():
            self._locks.popitem(last=False)
        return lock

    async def reply(self, message: Message) -> str:
        """The text to send back for `message`, or SUCCESS to send nothing."""
        chat = f"wechat:{message.from_user}"
        if message.msg_type == EVENT:
            return await self.event(chat, message.event)
        if message.msg_type != TEXT:
            return text("text_only")
        return await self.text_message(chat, message.msg_id, message.content)

    async def event(self, chat: str, event: str) -> str:
        if event == "subscribe":
            return text("wechat_welcome")
        if event == "unsubscribe":
            await asyncio.to_thread(self.service.forget, chat)
        return SUCCESS

    async def text_message(self, chat: str, msg_id: str, content: str) -> str:
        """What a reader gets for a text message. Every question gets its own answer, however
        many the reader sends at once. What to do is decided in one step per reader (a retry,
        another page, a kept answer, or this question started), so a message and its retry
        racing each other never start two answers; the waiting happens after."""
        word = content.strip().casefold()
        async with self._lock(chat):
            decided = await asyncio.to_thread(self._from_state, chat, msg_id, word)
            running = self.running.get((chat, msg_id))
            if decided is None and running is None and not is_keyword(word):
                running = self._start(chat, msg_id, content)
        if decided is not None:
            reply = decided
        elif running is not None:
            reply = await self._join(chat, running, msg_id)
        elif word in SOURCE:
            reply = await self._sources(chat)
        else:
            reply = text("wechat_help", HELP.get(word, "en"))
        if reply != SUCCESS:
            await self._off_loop(chat, self._remember, chat, [msg_id], reply)
        return reply

    def _from_state(self, chat: str, msg_id: str, word: str) -> str | None:
        """The reply the reader's kept state gives (in a worker thread, under the reader's
        lock), or None: the same reply to a retry, the answers kept for a reader who sends a
        keyword, or the next page of a long reply."""
        last = _replies(self.state.get(chat, LAST_REPLY)).get(msg_id)
        if last is not None:
            logger.info("wechat: a retry of an answered message gets the same reply")
            return last
        if (chat, msg_id) in self.running:
            return None
        kept = _kept(self.state.get(chat, PENDING))
        if kept and (is_keyword(word) or any(k["msg_id"] == msg_id for k in kept)):
            return self._deliver(chat, msg_id, word)  # a keyword, or a retry of a kept answer
        if not is_keyword(word):
            return None
        if word in MORE:
            return self._next_page(chat, MORE[word])
        return None

    def _start(self, chat: str, msg_id: str, question: str) -> Running:
        running = Running(msg_id, asyncio.create_task(self._answer(chat, msg_id, question)))
        self.running[(chat, msg_id)] = running
        running.task.add_done_callback(lambda _: self._done(chat, running))
        return running

    def _done(self, chat: str, running: Running) -> None:
        if self.running.get((chat, running.msg_id)) is running:
            del self.running[(chat, running.msg_id)]

    async def _join(self, chat: str, running: Running, msg_id: str) -> str:
        """Wait for this message's answer within the budget, then deliver what is kept: the
        answer, after any earlier one that missed its own budget. When nothing is ready the
        reply is `success`: WeChat retries the message, and the retry waits again."""
        if not await finished(running.task, self.budget):
            logger.info("wechat: answer not ready within %.3gs; kept for later", self.budget)
        reply = await self._off_loop(chat, self._deliver, chat, msg_id, "")
        return SUCCESS if reply is None else reply

    async def _answer(self, chat: str, msg_id: str, question: str) -> None:
        """Answer in a worker thread and keep the rendered reply (corpus text, not the question)."""
        try:
            answer = await asyncio.to_thread(self.service.ask, question, chat)
        except QuestionError as exc:
            await self._off_loop(chat, self._keep, chat, msg_id, "en", [str(exc)])
        except Exception as exc:
            logger.error("wechat: answering failed: %s at %s", type(exc).__name__, where(exc))
            await self._off_loop(chat, self._keep, chat, msg_id, "en", [text("sorry")])
        else:
            hint = [text("wechat_source_hint", answer.lang)] if answer.quotes else []
            blocks = plain_blocks(answer) + hint
            await self._off_loop(chat, self._keep, chat, msg_id, answer.lang, blocks)

    def _keep(self, chat: str, msg_id: str, lang: str, blocks: list[str]) -> None:
        kept = _kept(self.state.get(chat, PENDING))
        kept.append({"msg_id": msg_id, "lang": lang, "blocks": blocks})
        self.state.put(chat, PENDING, kept)

    def _deliver(self, chat: str, msg_id: str, word: str) -> str | None:
        """Every kept answer, earlier ones first (each marked as answering an earlier
        question), this message's own last; None when nothing is kept. Each answer is
        delivered once, and remembered as the reply to the message that asked it, so a
        retry of that message gets the reply that held it."""
        kept = _kept(self.state.get(chat, PENDING))
        if not kept:  # a retry racing this message took it a moment ago, or nothing is ready
            return _replies(self.state.get(chat, LAST_REPLY)).get(msg_id)
        self.state.put(chat, PENDING, [])
        ordered = [k for k in kept if k["msg_id"] != msg_id] + [
            k for k in kept if k["msg_id"] == msg_id
        ]
        blocks: list[str] = []
        for answer in ordered:
            if answer["msg_id"] != msg_id and not is_keyword(word):
                blocks.append(text("earlier_answer", answer["lang"]))
            blocks += answer["blocks"]
        reply = self._show(chat, ordered[-1]["lang"], blocks)
        self._remember(chat, [k["msg_id"] for k in ordered] + [msg_id], reply)
        return reply

    def _remember(self, chat: str, msg_ids: list[str], reply: str) -> None:
        """The reply to each of these messages, for WeChat's retries (the last few only)."""
        replies = _replies(self.state.get(chat, LAST_REPLY))
        for msg_id in msg_ids:
            replies.pop(msg_id, None)
            replies[msg_id] = reply
        self.state.put(chat, LAST_REPLY, dict(list(replies.items())[-REMEMBERED:]))

    def _show(self, chat: str, lang: str, blocks: list[str]) -> str:
        pages = paginate(blocks, lambda n, total: text("more_hint", lang, n=n, total=total))
        self.state.put(chat, PAGES, {"lang": lang, "pages": pages[1:]})
        return pages[0]

    def _next_page(self, chat: str, lang: str) -> str:
        left = self.state.get(chat, PAGES)
        if not left or not left["pages"]:
            return text("no_more", lang)
        self.state.put(chat, PAGES, {**left, "pages": left["pages"][1:]})
        return str(left["pages"][0])

    async def _sources(self, chat: str) -> str:
        found = await asyncio.to_thread(self.service.sources, chat)
        if found.message:
            return found.message
        blocks = [plain_source(s, found.lang) for s in found.sources]
        return await self._off_loop(chat, self._show, chat, found.lang, blocks)


class Nonces:
    """The nonces of the signed requests seen within the replay window, each with its body's
    digest: a signed query string is good for one message. The same request again (WeChat's
    retry of a message) passes, to be answered from the MsgId; another body under a nonce
    already used is a replay. Kept in memory, bounded, for one server process."""

    def __init__(self, window: float = REPLAY_WINDOW, limit: int = 100_000) -> None:
        self.window = window
        self.limit = limit
        self._seen: OrderedDict[str, tuple[float, bytes]] = OrderedDict()

    def check(self, nonce: str, body: bytes, now: float) -> None:
        while self._seen and (
            next(iter(self._seen.values()))[0] < now or len(self._seen) > self.limit
        ):
            self._seen.popitem(last=False)
        digest = hashlib.sha256(body).digest()
        seen = self._seen.get(nonce)
        if seen is not None and seen[1] != digest:
            raise WeChatReplayError("a nonce already used for another message (a replay)")
        self._seen[nonce] = (now + 2 * self.window, digest)


class Webhook:
    """The HTTP side: signatures, freshness, XML and safe mode around Conversations."""

    def __init__(
        self,
        conversations: Conversations,
        token: str,
        safe: SafeMode | None,
        plaintext_too: bool = False,
    ) -> None:
        self.conversations = conversations
        self.token = token
        self.safe = safe
        self.plaintext_too = plaintext_too  # compatible mode: safe mode that accepts plaintext
        self.nonces = Nonces()

    def check(self, query: Mapping[str, str]) -> None:
        """The signature over token, timestamp and nonce, and a timestamp within the window."""
        given = query.get("signature", "")
        check_signature(given, self.token, query.get("timestamp", ""), query.get("nonce", ""))
        check_fresh(query.get("timestamp", ""), time.time())

    async def verify(self, request: web.Request) -> web.Response:
        """URL verification from the console: echo `echostr` when the request is signed."""
        self.check(request.query)
        return web.Response(text=request.query.get("echostr", ""))

    async def receive(self, request: web.Request) -> web.Response:
        self.check(request.query)
        body = await request.read()
        self.nonces.check(request.query.get("nonce", ""), body, time.time())
        encrypted = request.query.get("encrypt_type") == "aes"
        message = parse_message(self.fields(request.query, body, encrypted))
        reply = await self.conversations.reply(message)
        size = "success" if reply == SUCCESS else f"{utf8_len(reply)} bytes"
        logger.info("wechat: %s message, reply %s", message.msg_type, size)
        return self.response(message, reply, request.query, encrypted)

    def fields(self, query: Mapping[str, str], body: bytes, encrypted: bool) -> dict[str, str]:
        fields = parse_xml(body)
        if not encrypted and self.safe is not None and not self.plaintext_too:
            raise WeChatRequestError(
                "a plaintext message arrived but safe mode is on (WeChat encrypts every message "
                "in safe mode; set ESSAYBOT_WECHAT_COMPATIBLE=1 for compatible mode)"
            )
        if not encrypted:
            return fields
        if self.safe is None:
            raise WeChatRequestError(
                "an encrypted message arrived but safe mode is off: "
                "set ESSAYBOT_WECHAT_AES_KEY and ESSAYBOT_WECHAT_APPID"
            )
        stamp, nonce = query.get("timestamp", ""), query.get("nonce", "")
        return decrypt_request(
            fields, self.safe, self.token, query.get("msg_signature", ""), stamp, nonce
        )

    def response(
        self, message: Message, reply: str, query: Mapping[str, str], encrypted: bool
    ) -> web.Response:
        if reply == SUCCESS:
            return web.Response(text=SUCCESS)
        now = int(time.time())
        xml = text_reply(message, reply, now)
        if encrypted and self.safe:
            xml = encrypted_reply(self.safe, self.token, xml, str(now), query.get("nonce", ""))
        return web.Response(text=xml, content_type="application/xml")


Handler = Callable[[web.Request], Awaitable[web.StreamResponse]]


@web.middleware
async def wechat_errors(request: web.Request, handler: Handler) -> web.StreamResponse:
    """The one error handler: a bad signature gets 403; any other bad request or failure gets
    a log line and `success`: never a 500 or JSON, which WeChat shows the reader as an error."""
    try:
        return await handler(request)
    except WeChatSignatureError:
        logger.warning("wechat: %s refused: bad signature", request.method)
        return web.Response(status=403, text="forbidden")
    except WeChatRequestError as exc:
        logger.warning("wechat: request refused: %s", exc)
    except web.HTTPRequestEntityTooLarge:
        logger.warning("wechat: request refused: body over %d bytes", MAX_BODY_BYTES)
    except web.HTTPException:
        raise
    except Exception as exc:
        logger.error("wechat: request failed: %s at %s", type(exc).__name__, where(exc))
    return web.Response(text=SUCCESS)


def create_app(
    conversations: Conversations,
    token: str,
    safe: SafeMode | None = None,
    path: str = "/wechat",
    plaintext_too: bool = False,
) -> web.Application:
    app = web.Application(client_max_size=MAX_BODY_BYTES, middlewares=[wechat_errors])
    webhook = Webhook(conversations, token, safe, plaintext_too)
    path = "/" + path.lstrip("/")
    app.router.add_get(path, webhook.verify)
    app.router.add_post(path, webhook.receive)
    return app


class PathAccessLogger(AbstractAccessLogger):
    """Access lines without the query string, which carries the reader's OpenID."""

    def log(self, request: web.BaseRequest, response: web.StreamResponse, time: float) -> None:
        self.logger.info("%s %s %s %.3fs", request.method, request.path, response.status, time)


def warm_up(service: Service) -> None:
    """Load the embedder now, so that the first reader's question is not spent loading it."""
    started = time.perf_counter()
    service.ask("warm up")
    logger.info("wechat: warmed up in %.1fs", time.perf_counter() - started)


def serve(
    service: Service,
    token: str,
    safe: SafeMode | None,
    *,
    host: str,
    port: int,
    path: str,
    budget: float,
    plaintext_too: bool = False,
) -> None:
    warm_up(service)
    app = create_app(Conversations(service, budget), token, safe, path, plaintext_too)
    web.run_app(app, host=host, port=port, access_log_class=PathAccessLogger)
