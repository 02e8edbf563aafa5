"""Property tests through the WeChat webhook: whatever a reader sends (as WeChat would post
it, plain or in safe mode), the reply is well-formed XML addressed back to the reader, under
WeChat's byte limit, and is exactly the first page of what the renderer makes of the
Service's answer: every quote verbatim from an essay, nothing else."""

from __future__ import annotations

import itertools
import re

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from bot.channels.wechat import protocol as wx
from bot.channels.wechat.server import is_keyword
from bot.messages import text
from bot.render import plain_blocks
from bot.service import Service
from index.corpus import load_corpus, load_translations
from index.errors import QuestionError
from tests.paths import CORPUS
from tests.test_telegram_fuzz import NASTY
from tests.wechat_harness import ACCOUNT, APPID, KEY, READER, WeChat

ESSAYS = load_corpus(CORPUS)
BODIES = [e.body for e in ESSAYS]
TRANSLATED = [t.body for t in load_translations(CORPUS, ESSAYS)[0]]
_LABELS = tuple(text("translation_label", lang) for lang in ("en", "zh"))
QUESTION = st.one_of(st.sampled_from(NASTY), st.text(max_size=300)).filter(
    lambda t: not is_keyword(t.strip().casefold())
)
_QUOTE_LINE = re.compile(r"^\[\d+\] (.+)$", re.M)
_ids = itertools.count(70_001)


def request(content: str, msg_id: int) -> bytes:
    """A text message as WeChat posts it, content escaped; lone surrogates become the
    invalid UTF-8 they would be on the wire."""
    xml = wx.build_xml(
        {
            "ToUserName": ACCOUNT,
            "FromUserName": READER,
            "CreateTime": "1700000000",
            "MsgType": "text",
            "Content": content,
            "MsgId": str(msg_id),
        }
    )
    return xml.encode("utf-8", "surrogatepass")


def first_page(service: Service, body: bytes) -> str:
    """What the webhook must answer to `body`: `success` for a body it cannot parse, else the
    first page of the rendered answer (or of the QuestionError's message)."""
    try:
        content = wx.parse_xml(body)["Content"]
    except wx.WeChatRequestError:
        return wx.SUCCESS
    try:
        answer = service.ask(content)
    except QuestionError as exc:
        lang, blocks = "en", [str(exc)]
    else:
        hint = [text("wechat_source_hint", answer.lang)] if answer.quotes else []
        lang, blocks = answer.lang, plain_blocks(answer) + hint
    return wx.paginate(blocks, lambda n, total: text("more_hint", lang, n=n, total=total))[0]


async def post(wechat: WeChat, body: bytes) -> str:
    """Post as WeChat would: plain, or encrypted in safe mode (whose AES payload is UTF-8, so
    lone surrogates cannot travel there at all)."""
    if wechat.safe is None:
        return await wechat.post(body, wechat.query(openid=READER))
    return await wechat.post_encrypted(body.decode("utf-8", "replace"))


async def check(wechat: WeChat, service: Service, contents: list[str]) -> None:
    """Each content as its own message; WeChat.content checks the XML, addressing and size."""
    for content in contents:
        body = request(content, next(_ids))
        if wechat.safe is not None:
            body = body.decode("utf-8", "replace").encode("utf-8")
        reply = wechat.content(await post(wechat, body))
        assert reply == first_page(service, body), content[:80]
        for quote in _QUOTE_LINE.findall(reply):  # the answering sentences are marked 【】
            bare = quote.replace("【", "").replace("】", "")
            assert any(bare in b for b in BODIES), quote[:80]
        for label in _LABELS:
            for shown in re.findall(re.escape(label) + r"\n(.+)", reply):
                assert any(shown in b for b in TRANSLATED), shown[:80]


@pytest.fixture(params=["plain", "safe"])
async def wechat(request, start_wechat, hash_service):
    safe = wx.SafeMode(KEY, APPID) if request.param == "safe" else None
    client, _ = await start_wechat(hash_service, safe=safe)
    return client


async def test_every_nasty_text_gets_exactly_the_rendered_answer(wechat, hash_service):
    await check(wechat, hash_service, NASTY)


@settings(
    max_examples=15, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(st.lists(QUESTION, min_size=1, max_size=6))
async def test_any_text_gets_exactly_the_rendered_answer(wechat, hash_service, contents):
    await check(wechat, hash_service, contents)
