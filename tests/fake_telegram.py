"""A fake Telegram Bot API server on 127.0.0.1 that answers as Telegram does, for tests.

The real python-telegram-bot Application talks to it over HTTP through its `base_url`.
It serves queued updates through long-polling getUpdates (honouring `offset`), records every
call, checks what Telegram checks (the token, HTML entities, the 4096-character limit, the
64-byte callback data), and can be told to fail the next calls of a method with a 429
(`retry_after`), a 5xx, a dropped connection (DROP) or no answer until the client gives up
(STALL). A failed call is recorded with its status and has no effect.
"""

from __future__ import annotations

import asyncio
import contextlib
import itertools
import json
import re
import time
from collections import defaultdict
from dataclasses import dataclass, field
from html.parser import HTMLParser
from typing import Any

from aiohttp import web

BOT_ID = 424242
BOT_USERNAME = "essay_test_bot"
TOKEN = f"{BOT_ID}:AAF-fake-token-for-tests-0123456789ab"
TELEGRAM_TAGS = frozenset(
    {"b", "strong", "i", "em", "u", "ins", "s", "strike", "del", "a", "code", "pre"}
    | {"blockquote", "tg-spoiler", "span", "tg-emoji"}
)
NAMED_ENTITIES = frozenset({"lt", "gt", "amp", "quot"})
JSON_FIELDS = frozenset(
    {"reply_markup", "commands", "scope", "allowed_updates", "reply_parameters"}
    | {"link_preview_options", "entities"}
)
DROP = 0  # close the connection without an answer
STALL = -1  # answer nothing until the client times out and hangs up
STALL_LIMIT = 60.0  # seconds a stalled call waits for the client at most
_COMMAND = re.compile(r"^/[A-Za-z0-9_]+(?:@\w+)?")
_MENTION = re.compile(r"@\w{5,}")


class TelegramHTMLError(ValueError):
    """Text that Telegram would refuse with "can't parse entities"."""


class _TelegramHTML(HTMLParser):
    """Telegram's HTML parse mode: only its tags, properly nested; only its entities."""

    def __init__(self) -> None:
        super().__init__(convert_charrefs=False)
        self.stack: list[str] = []
        self.text: list[str] = []

    def handle_starttag(self, tag: str, attrs: Any) -> None:
        if tag not in TELEGRAM_TAGS:
            raise TelegramHTMLError(f"unsupported start tag {tag!r}")
        self.stack.append(tag)

    def handle_endtag(self, tag: str) -> None:
        if not self.stack or self.stack.pop() != tag:
            raise TelegramHTMLError(f"unexpected end tag {tag!r}")

    def handle_data(self, data: str) -> None:
        if set(data) & set("<>&"):
            raise TelegramHTMLError(f"unescaped character in {data[:40]!r}")
        self.text.append(data)

    def handle_entityref(self, name: str) -> None:
        if name not in NAMED_ENTITIES:
            raise TelegramHTMLError(f"unsupported entity &{name};")
        self.text.append({"lt": "<", "gt": ">", "amp": "&", "quot": '"'}[name])

    def handle_charref(self, name: str) -> None:
        self.text.append(chr(int(name[1:], 16) if name[:1] in "xX" else int(name)))

    def unknown_decl(self, data: str) -> None:
        raise TelegramHTMLError("unexpected declaration")


def parse_html(text: str) -> str:
    """The plain text Telegram would show for HTML `text`, or TelegramHTMLError."""
    parser = _TelegramHTML()
    parser.feed(text)
    parser.close()
    if parser.rawdata:
        raise TelegramHTMLError(f"unparsed rest {parser.rawdata[:40]!r}")
    if parser.stack:
        raise TelegramHTMLError(f"unclosed tags {parser.stack}")
    return "".join(parser.text)


def utf16_len(text: str) -> int:
    return len(text.encode("utf-16-le")) // 2


def command_entities(text: str) -> list[dict[str, Any]]:
    """The entities Telegram attaches: a bot_command at the start, @mentions anywhere."""
    entities = []
    if match := _COMMAND.match(text):
        entities.append({"type": "bot_command", "offset": 0, "length": utf16_len(match[0])})
    for match in _MENTION.finditer(text):
        offset = utf16_len(text[: match.start()])
        entities.append({"type": "mention", "offset": offset, "length": utf16_len(match[0])})
    return entities


@dataclass
class Call:
    method: str
    params: dict[str, Any]
    status: int = 200
    at: float = field(default_factory=time.monotonic)  # when the server answered


@dataclass
class FakeTelegram:
    """Start with `await fake.start()`; `fake.base_url` is what the Application needs."""

    token: str = TOKEN
    calls: list[Call] = field(default_factory=list)
    updates: list[dict[str, Any]] = field(default_factory=list)
    commands: dict[tuple[str, str], list[dict[str, Any]]] = field(default_factory=dict)
    faults: dict[str, list[tuple[int, int | None]]] = field(default_factory=dict)
    port: int = 0

    def __post_init__(self) -> None:
        self._changed = asyncio.Condition()
        self._ids = itertools.count(1)
        self._message_ids: dict[int, itertools.count[int]] = defaultdict(lambda: itertools.count(1))
        self._closing = False
        self._confirmed = 0
        self._runner: web.AppRunner | None = None

    # -- lifecycle ---------------------------------------------------------------------------

    async def start(self) -> FakeTelegram:
        app = web.Application()
        app.router.add_route("*", "/bot{token}/{method}", self._handle)
        self._runner = web.AppRunner(app, handle_signals=False, access_log=None)
        await self._runner.setup()
        site = web.TCPSite(self._runner, "127.0.0.1", 0)
        await site.start()
        self.port = site._server.sockets[0].getsockname()[1]  # type: ignore[union-attr]
        return self

    async def stop(self) -> None:
        self._closing = True
        await self._notify()
        if self._runner:
            await self._runner.cleanup()

    @property
    def base_url(self) -> str:
        return f"http://127.0.0.1:{self.port}/bot"

    # -- what a test does --------------------------------------------------------------------

    def fail_next(self, method: str, status: int, retry_after: int | None = None) -> None:
        """The next call of `method` fails with `status` (429: with `retry_after` seconds;
        DROP: the connection closed; STALL: no answer until the client gives up)."""
        self.faults.setdefault(method, []).append((status, retry_after))

    async def push(self, update: dict[str, Any]) -> int:
        """Queue an update for getUpdates; returns its update_id."""
        update = {"update_id": next(self._ids), **update}
        self.updates.append(update)
        await self._notify()
        return update["update_id"]

    def message(
        self,
        chat_id: int,
        text: str,
        user_id: int | None = None,
        language_code: str | None = None,
        reply_to: dict[str, Any] | None = None,
    ) -> dict[str, Any]:
        """A text message update as Telegram sends it, with its command/mention entities.
        A negative chat_id is a supergroup; reply_to is a message (e.g. one the bot sent)."""
        user: dict[str, Any] = {"id": user_id or chat_id, "is_bot": False, "first_name": "Reader"}
        if language_code:
            user["language_code"] = language_code
        message: dict[str, Any] = {
            "message_id": next(self._message_ids[chat_id]),
            "date": int(time.time()),
            "chat": _chat(chat_id),
            "from": user,
            "text": text,
        }
        if entities := command_entities(text):
            message["entities"] = entities
        if reply_to:
            message["reply_to_message"] = reply_to
        return {"message": message}

    def callback(self, chat_id: int, data: str, message: dict[str, Any]) -> dict[str, Any]:
        """A press of an inline button with `data` under the bot's `message`."""
        return {
            "callback_query": {
                "id": str(next(self._ids) + 10_000),
                "from": {"id": chat_id, "is_bot": False, "first_name": "Reader"},
                "chat_instance": "ci",
                "data": data,
                "message": message,
            }
        }

    def sent(self, chat_id: int | None = None, method: str = "sendMessage") -> list[Call]:
        """Successful calls of `method` (to `chat_id` when given), in order."""
        return [
            c
            for c in self.calls
            if c.method == method
            and c.status == 200
            and (chat_id is None or c.params.get("chat_id") == chat_id)
        ]

    def texts(self, chat_id: int) -> list[str]:
        return [c.params["text"] for c in self.sent(chat_id)]

    async def wait_for(self, predicate: Any, timeout: float = 30) -> None:
        """Wait until predicate() is true (a failing test times out instead of hanging)."""
        async with self._changed:
            await asyncio.wait_for(self._changed.wait_for(predicate), timeout)

    async def wait_sent(self, chat_id: int, count: int, method: str = "sendMessage") -> list[Call]:
        await self.wait_for(lambda: len(self.sent(chat_id, method)) >= count)
        return self.sent(chat_id, method)

    # -- the Bot API -------------------------------------------------------------------------

    async def _notify(self) -> None:
        async with self._changed:
            self._changed.notify_all()

    async def _handle(self, request: web.Request) -> web.Response:
        if request.match_info["token"] != self.token:
            return _error(401, "Unauthorized")
        method = request.match_info["method"]
        params = _decode(dict(await request.post()))
        fault = self.faults[method].pop(0) if self.faults.get(method) else None
        if fault and fault[0] in (DROP, STALL):
            await self._record(Call(method, params, fault[0]))
            await _hang_up(request, fault[0])
            return web.Response(status=504)  # never reaches the client
        status, body = await self._answer(method, params, fault)
        await self._record(Call(method, params, status))
        return web.json_response(body, status=status)

    async def _record(self, call: Call) -> None:
        self.calls.append(call)
        await self._notify()

    async def _answer(
        self, method: str, params: dict[str, Any], fault: tuple[int, int | None] | None
    ) -> tuple[int, dict[str, Any]]:
        if fault:
            return fault[0], _failure(*fault)
        handler = getattr(self, f"_api_{method.lower()}", None)
        if handler is None:
            return 404, {"ok": False, "error_code": 404, "description": "Not Found"}
        try:
            return 200, {"ok": True, "result": await handler(params)}
        except BadRequest as exc:
            return 400, {"ok": False, "error_code": 400, "description": f"Bad Request: {exc}"}

    async def _api_getme(self, params: dict[str, Any]) -> dict[str, Any]:
        return {
            "id": BOT_ID,
            "is_bot": True,
            "first_name": "Essay Bot",
            "username": BOT_USERNAME,
            "can_join_groups": True,
            "can_read_all_group_messages": False,
            "supports_inline_queries": False,
        }

    async def _api_getupdates(self, params: dict[str, Any]) -> list[dict[str, Any]]:
        # As Telegram: an offset confirms every update before it, and those are gone for good.
        self._confirmed = offset = max(self._confirmed, int(params.get("offset") or 0))
        timeout = float(params.get("timeout") or 0)
        pending = lambda: [u for u in self.updates if u["update_id"] >= offset]  # noqa: E731
        if not pending() and timeout and not self._closing:
            async with self._changed:
                with contextlib.suppress(TimeoutError):
                    await asyncio.wait_for(
                        self._changed.wait_for(lambda: bool(pending()) or self._closing),
                        min(timeout, 5),
                    )
        return pending()

    async def _api_sendmessage(self, params: dict[str, Any]) -> dict[str, Any]:
        self._check_text(params)
        self._check_markup(params.get("reply_markup"))
        chat_id = params["chat_id"]
        return self._bot_message(chat_id, next(self._message_ids[chat_id]), params)

    async def _api_editmessagetext(self, params: dict[str, Any]) -> dict[str, Any]:
        self._check_text(params)
        self._check_markup(params.get("reply_markup"))
        return self._bot_message(params["chat_id"], int(params["message_id"]), params)

    async def _api_answercallbackquery(self, params: dict[str, Any]) -> bool:
        if len(params.get("text", "")) > 200:
            raise BadRequest("MESSAGE_TOO_LONG")
        return True

    async def _api_sendchataction(self, params: dict[str, Any]) -> bool:
        return True

    async def _api_setmycommands(self, params: dict[str, Any]) -> bool:
        for command in params["commands"]:
            if not re.fullmatch(r"[a-z0-9_]{1,32}", command["command"]):
                raise BadRequest("BOT_COMMAND_INVALID")
            if not 1 <= len(command["description"]) <= 256:
                raise BadRequest("BOT_COMMAND_DESCRIPTION_INVALID")
        scope = json.dumps(params.get("scope") or {"type": "default"}, sort_keys=True)
        self.commands[(scope, params.get("language_code", ""))] = params["commands"]
        return True

    async def _api_getmycommands(self, params: dict[str, Any]) -> list[dict[str, Any]]:
        scope = json.dumps(params.get("scope") or {"type": "default"}, sort_keys=True)
        return self.commands.get((scope, params.get("language_code", "")), [])

    async def _api_deletewebhook(self, params: dict[str, Any]) -> bool:
        return True

    async def _api_setwebhook(self, params: dict[str, Any]) -> bool:
        return True

    async def _api_close(self, params: dict[str, Any]) -> bool:
        return True

    def _check_text(self, params: dict[str, Any]) -> None:
        text = params.get("text", "")
        if params.get("parse_mode") == "HTML":
            try:
                text = parse_html(text)
            except TelegramHTMLError as exc:
                raise BadRequest(f"can't parse entities: {exc}") from exc
        if not text.strip():
            raise BadRequest("message text is empty")
        if utf16_len(text) > 4096:
            raise BadRequest("message is too long")

    def _check_markup(self, markup: dict[str, Any] | None) -> None:
        for row in (markup or {}).get("inline_keyboard", []):
            for button in row:
                if len(button.get("callback_data", "").encode("utf-8")) > 64:
                    raise BadRequest("BUTTON_DATA_INVALID")

    def _bot_message(self, chat_id: int, message_id: int, params: dict[str, Any]) -> dict:
        message = {
            "message_id": message_id,
            "date": int(time.time()),
            "chat": _chat(chat_id),
            "from": {"id": BOT_ID, "is_bot": True, "first_name": "Essay Bot"},
            "text": params.get("text", ""),
        }
        if params.get("reply_markup"):
            message["reply_markup"] = params["reply_markup"]
        return message


class BadRequest(Exception):
    """Raised inside an API method: Telegram answers 400 with this description."""


def _decode(form: dict[str, Any]) -> dict[str, Any]:
    """python-telegram-bot posts a form: JSON for objects, plain strings otherwise."""
    params: dict[str, Any] = {}
    for key, value in form.items():
        if key in JSON_FIELDS:
            params[key] = json.loads(value)
        elif key in ("chat_id", "message_id") and re.fullmatch(r"-?\d+", value):
            params[key] = int(value)
        else:
            params[key] = value
    return params


async def _hang_up(request: web.Request, how: int) -> None:
    """DROP: close the connection at once; STALL: wait until the client closes it."""
    if how == DROP and request.transport is not None:
        request.transport.close()
    deadline = time.monotonic() + STALL_LIMIT
    while request.transport is not None and time.monotonic() < deadline:
        await asyncio.sleep(0.05)


def _error(status: int, description: str) -> web.Response:
    body = {"ok": False, "error_code": status, "description": description}
    return web.json_response(body, status=status)


def _chat(chat_id: int) -> dict[str, Any]:
    if chat_id > 0:
        return {"id": chat_id, "type": "private", "first_name": "Reader"}
    return {"id": chat_id, "type": "supergroup", "title": "Readers"}


def _failure(status: int, retry_after: int | None) -> dict[str, Any]:
    """Telegram's error bodies for the faults a test can inject."""
    body = {"ok": False, "error_code": status, "description": f"Error {status}"}
    if status == 429:
        body["description"] = f"Too Many Requests: retry after {retry_after}"
        return {**body, "parameters": {"retry_after": retry_after}}
    if status == 400:
        body["description"] = "Bad Request: chat not found"
    if status >= 500:
        body["description"] = "Bad Gateway" if status == 502 else "Internal Server Error"
    return body
