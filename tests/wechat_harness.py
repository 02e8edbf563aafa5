"""WeChat's side of the webhook for tests: messages as WeChat posts them, signed (in safe mode
also encrypted), and a Service that counts and can hold its answers. The fixture that starts the
webhook over them (start_wechat) is in conftest."""

from __future__ import annotations

import asyncio
import secrets
import threading
import time

from aiohttp.test_utils import TestClient

from bot.answer import Policy
from bot.channels.wechat import protocol as wx
from bot.channels.wechat.server import Conversations
from bot.service import Service

TOKEN = "essaybot-test-token"
ACCOUNT, READER = "gh_essaybot", "o6_bmjrPTlm6_2sgVt7hMZOPfL2M"
KEY = "kWxPEV2UEDyxWpmPdKC3F4dgPDmOvfKX1HGnEUDS1aR"
APPID = "wx49f0ab532d5d035a"
ZH_QUESTION = "钉钉 ONE 看见了什么,又没看见什么?"
EN_QUESTION = "What are good CFOs very good at?"


class CountingService(Service):
    """The real Service, counting the questions it answers; while `gate` is clear, answering
    waits for it (a deliberately slow answer, with no clock involved)."""

    def __init__(self, base: Service, policy: Policy | None = None) -> None:
        super().__init__(base.retriever, base.state, policy or base.policy, base.max_chars)
        self.asked = 0
        self.gate = threading.Event()
        self.gate.set()
        self._count = threading.Lock()

    def ask(self, question, chat=None):
        with self._count:
            self.asked += 1
        self.gate.wait(timeout=120)
        return super().ask(question, chat)


def text_xml(content: str, msg_id: int | str, user: str = READER) -> str:
    """A text message as WeChat posts it (CDATA and all)."""
    return (
        f"<xml><ToUserName><![CDATA[{ACCOUNT}]]></ToUserName>"
        f"<FromUserName><![CDATA[{user}]]></FromUserName>"
        f"<CreateTime>{int(time.time())}</CreateTime><MsgType><![CDATA[text]]></MsgType>"
        f"<Content><![CDATA[{content}]]></Content><MsgId>{msg_id}</MsgId></xml>"
    )


def event_xml(kind: str, event: str = "", user: str = READER) -> str:
    return (
        f"<xml><ToUserName><![CDATA[{ACCOUNT}]]></ToUserName>"
        f"<FromUserName><![CDATA[{user}]]></FromUserName><CreateTime>1</CreateTime>"
        f"<MsgType><![CDATA[{kind}]]></MsgType><Event><![CDATA[{event}]]></Event>"
        f"<PicUrl><![CDATA[http://mmbiz.example/x.jpg]]></PicUrl><MsgId>77</MsgId></xml>"
    )


class WeChat:
    """WeChat's side of the webhook: signs, (encrypts,) posts, and reads the passive reply."""

    def __init__(self, client: TestClient, safe: wx.SafeMode | None = None) -> None:
        self.client = client
        self.safe = safe

    def query(self, token: str = TOKEN, **extra: str) -> dict[str, str]:
        stamp, nonce = str(int(time.time())), str(secrets.randbelow(10**9))
        signature = wx.signature(token, stamp, nonce)
        return {"signature": signature, "timestamp": stamp, "nonce": nonce, **extra}

    async def post(self, body: str | bytes, query: dict[str, str] | None = None) -> str:
        response = await self.client.post("/wechat", data=body, params=query or self.query())
        assert response.status == 200
        assert "json" not in response.content_type
        return await response.text()

    async def send(self, xml: str) -> str:
        """Post one message; the reply's Content, or "success"."""
        if self.safe is None:
            return self.content(await self.post(xml.encode("utf-8"), self.query(openid=READER)))
        return self.content(await self.post_encrypted(xml))

    async def post_encrypted(self, xml: str) -> str:
        query = self.query(openid=READER, encrypt_type="aes")
        encrypted = self.safe.encrypt(xml)
        query["msg_signature"] = wx.signature(TOKEN, query["timestamp"], query["nonce"], encrypted)
        envelope = f"<xml><ToUserName><![CDATA[{ACCOUNT}]]></ToUserName>"
        envelope += f"<Encrypt><![CDATA[{encrypted}]]></Encrypt></xml>"
        return await self.post(envelope, query)

    def content(self, body: str) -> str:
        if body == wx.SUCCESS:
            return body
        fields = wx.parse_xml(body.encode("utf-8"))
        if self.safe is not None:
            stamp, nonce = fields["TimeStamp"], fields["Nonce"]
            assert fields["MsgSignature"] == wx.signature(TOKEN, stamp, nonce, fields["Encrypt"])
            fields = wx.parse_xml(self.safe.decrypt(fields["Encrypt"]))
        assert (fields["ToUserName"], fields["FromUserName"]) == (READER, ACCOUNT)
        assert fields["MsgType"] == "text"
        assert wx.utf8_len(fields["Content"]) <= 2048
        return fields["Content"]

    async def ask(self, content: str, msg_id: int | str) -> str:
        return await self.send(text_xml(content, msg_id))


async def settled(conversations: Conversations) -> None:
    """Wait until no answer is being computed (bounded by the test timeout, not a clock)."""
    while conversations.running:
        await asyncio.sleep(0.01)
