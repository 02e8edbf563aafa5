"""The web chat and its HTTP API (aiohttp.web): translate HTTP <-> Service, nothing else.

- `GET /` the chat page (static files shipped in the package: no build step, no CDN);
- `POST /api/ask` {"question", "session"?} -> the same JSON as `essaybot ask --json`;
- `GET /api/essays`; `GET /api/source?session=S[&n=N]` -> the full citations of that
  session's last answer; `GET /healthz`.
Errors are JSON {"error": message} with their status: 400 (empty, too long, malformed), 413
(body over the cap), 429 (rate limited per client address), 503 (the index is unavailable).
No question text is stored or logged; the only state is what Service keeps for /source, under
the page's random session id (no cookies). Every response forbids anything but this origin
(Content-Security-Policy), and the page inserts every quote as text, never as HTML.
"""

from __future__ import annotations

import asyncio
import json
import logging
from collections.abc import Awaitable, Callable
from importlib.resources import files
from typing import Any

from aiohttp import web

from bot import messages
from bot.answer import Answer
from bot.limits import ALLOW, ChatLimiter
from bot.render import Source, citation
from bot.service import Service
from index.errors import IndexUnavailableError, QuestionError

logger = logging.getLogger(__name__)
MAX_BODY_BYTES = 16 * 1024
STATIC = files("bot.channels.web") / "static"
PAGES = {"/": ("index.html", "text/html"), "/app.js": ("app.js", "text/javascript"),
         "/style.css": ("style.css", "text/css")}  # fmt: skip
SECURITY_HEADERS = {
    "Content-Security-Policy": (
        "default-src 'none'; script-src 'self'; style-src 'self'; connect-src 'self'; "
        "img-src 'self'; base-uri 'none'; form-action 'none'; frame-ancestors 'none'"
    ),
    "X-Content-Type-Options": "nosniff",
    "Referrer-Policy": "no-referrer",
    "Cache-Control": "no-store",
}
Handler = Callable[[web.Request], Awaitable[web.StreamResponse]]


def failure(status: int, message: str) -> web.Response:
    return web.json_response({"error": message}, status=status)


@web.middleware
async def errors(request: web.Request, handler: Handler) -> web.StreamResponse:
    """One error handler: JSON with the right status, a log line without the request's text."""
    try:
        response = await handler(request)
    except web.HTTPRequestEntityTooLarge:
        response = failure(413, f"The request is larger than {MAX_BODY_BYTES} bytes.")
    except IndexUnavailableError as exc:
        response = failure(503, str(exc))
    except QuestionError as exc:
        response = failure(400, str(exc))
    except web.HTTPException as exc:
        response = failure(exc.status, exc.reason)
    except Exception as exc:
        logger.error("web: request failed: %s", type(exc).__name__)
        response = failure(500, "Something went wrong on our side; please try again.")
    response.headers.update(SECURITY_HEADERS)
    return response


class Api:
    """The JSON endpoints over one Service, rate limited per client address."""

    def __init__(self, service: Service, per_minute: int) -> None:
        self.service = service
        self.limiter = ChatLimiter(per_minute)

    async def ask(self, request: web.Request) -> web.Response:
        body = await _json(request)
        question, session = body.get("question"), body.get("session")
        if not isinstance(question, str):
            return failure(400, 'Send {"question": "..."} as JSON.')
        if await self.limiter.allow(request.remote or "?") != ALLOW:
            return failure(429, "Too many questions; please wait a minute and ask again.")
        chat = _chat(session)
        answer: Answer = await asyncio.to_thread(self.service.ask, question, chat)
        return web.json_response(answer.to_json(), dumps=_dumps)

    async def essays(self, request: web.Request) -> web.Response:
        found = await asyncio.to_thread(self.service.essays)
        rows = [{"id": e.id, "title": e.title, "lang": e.lang} for e in found]
        return web.json_response({"essays": rows}, dumps=_dumps)

    async def source(self, request: web.Request) -> web.Response:
        chat = _chat(request.query.get("session"))
        if chat is None:
            return failure(400, "Name the session whose last answer to cite: ?session=...")
        n = request.query.get("n", "")
        found = await asyncio.to_thread(self.service.sources, chat, int(n) if n.isdigit() else None)
        if found.message:
            return web.json_response({"message": found.message, "sources": []}, dumps=_dumps)
        return web.json_response(
            {"sources": [_source_json(s, found.lang) for s in found.sources]}, dumps=_dumps
        )


async def texts(request: web.Request) -> web.Response:
    """The page's interface strings in one language (bot.messages: one source of them all)."""
    lang = "zh" if request.query.get("lang") == "zh" else "en"
    found = {name: messages.raw(name, lang) for name in messages.WEB_TEXTS}
    found["closest"] = messages.raw("closest", lang).replace("{titles}", "").strip()
    return web.json_response(found, dumps=_dumps)


async def health(request: web.Request) -> web.Response:
    return web.json_response({"ok": True})


async def _json(request: web.Request) -> dict[str, Any]:
    try:
        body = json.loads(await request.read())
    except (ValueError, UnicodeDecodeError):
        raise QuestionError('Send {"question": "..."} as JSON.') from None
    if not isinstance(body, dict):
        raise QuestionError('Send {"question": "..."} as JSON.')
    return body


def _chat(session: object) -> str | None:
    """The Service chat id of a page's session (a random id it makes; none: no /source)."""
    if isinstance(session, str) and 8 <= len(session) <= 64 and session.isalnum():
        return f"web:{session}"
    return None


def _source_json(source: Source, lang: str) -> dict[str, object]:
    quote = source.quote
    return {
        "n": source.n,
        "citation": citation(quote, lang),
        "paragraphs": source.paragraph_text,
        "offset": source.offset,
        "highlights": [list(span) for span in quote.highlights] or [[quote.start, quote.end]],
        "translation": None if source.translation is None else source.translation.text,
    }


def _dumps(value: object) -> str:
    return json.dumps(value, ensure_ascii=False)


def _static(name: str, content_type: str) -> Handler:
    async def serve(request: web.Request) -> web.Response:
        return web.Response(body=(STATIC / name).read_bytes(), content_type=content_type)

    return serve


def create_app(service: Service, per_minute: int = 20) -> web.Application:
    app = web.Application(client_max_size=MAX_BODY_BYTES, middlewares=[errors])
    api = Api(service, per_minute)
    for path, (name, content_type) in PAGES.items():
        app.router.add_get(path, _static(name, content_type))
    app.router.add_post("/api/ask", api.ask)
    app.router.add_get("/api/essays", api.essays)
    app.router.add_get("/api/source", api.source)
    app.router.add_get("/api/texts", texts)
    app.router.add_get("/healthz", health)
    return app


def serve(service: Service, *, host: str, port: int, per_minute: int) -> None:
    """Serve until interrupted. No access log: a request line could carry a reader's text."""
    web.run_app(create_app(service, per_minute), host=host, port=port, access_log=None)
