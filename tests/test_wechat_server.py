"""The WeChat webhook as WeChat meets it: a real aiohttp server on 127.0.0.1, real HTTP
requests signed (in safe mode also encrypted) as WeChat signs them, the real Service and index."""

from __future__ import annotations

import asyncio
import logging
import re
import sqlite3
import threading
import time
from pathlib import Path

import pytest
from aiohttp.test_utils import TestClient, TestServer

from bot.channels.wechat import protocol as wx
from bot.channels.wechat.server import MAX_BODY_BYTES, Conversations, create_app
from bot.messages import text
from bot.render import plain_blocks
from bot.service import Service
from bot.state import StateStore
from tests.policies import quote_everything
from tests.wechat_harness import (
    ACCOUNT,
    APPID,
    EN_QUESTION,
    KEY,
    READER,
    TOKEN,
    ZH_QUESTION,
    CountingService,
    WeChat,
    event_xml,
    settled,
    text_xml,
)

# ---------- URL verification and signatures ----------


async def test_verification_echoes_echostr_when_signed(start_wechat, hash_service):
    wechat, _ = await start_wechat(hash_service)
    response = await wechat.client.get("/wechat", params=wechat.query(echostr="5839207461"))
    assert response.status == 200
    assert await response.text() == "5839207461"


def _unsigned(q):
    return {k: v for k, v in q.items() if k != "signature"}


@pytest.mark.parametrize(
    "spoil",
    [
        _unsigned,
        lambda q: {**q, "signature": "0" * 40},
        lambda q: {**q, "nonce": q["nonce"] + "1"},
        lambda q: {**q, "timestamp": "1"},
    ],
    ids=["missing", "zeros", "other-nonce", "other-timestamp"],
)
@pytest.mark.parametrize("method", ["GET", "POST"])
async def test_bad_signature_gets_403_and_no_answer(start_wechat, hash_service, spoil, method):
    service = CountingService(hash_service)
    wechat, _ = await start_wechat(service)
    query = spoil(wechat.query(echostr="42", openid=READER))
    body = text_xml(EN_QUESTION, 1) if method == "POST" else None
    response = await wechat.client.request(method, "/wechat", params=query, data=body)
    assert response.status == 403
    assert "42" not in await response.text()
    assert service.asked == 0


async def test_signature_with_another_token_gets_403(start_wechat, hash_service):
    wechat, _ = await start_wechat(hash_service)
    query = wechat.query(token="not-the-token", echostr="42")
    assert (await wechat.client.get("/wechat", params=query)).status == 403


# ---------- answers ----------


@pytest.mark.parametrize(("question", "lang"), [(ZH_QUESTION, "zh"), (EN_QUESTION, "en")])
async def test_question_gets_the_same_answer_as_ask(start_wechat, default_service, question, lang):
    wechat, _ = await start_wechat(default_service)
    reply = await wechat.ask(question, 1001)
    answer = default_service.ask(question)  # what `essaybot ask` prints, without a chat
    assert answer.status != "not_found" and answer.lang == lang
    expected = "\n\n".join([*plain_blocks(answer), text("wechat_source_hint", lang)])
    assert reply == expected
    assert reply.startswith("[1] ") or reply.startswith(text("related", lang))


async def test_retry_with_the_same_msgid_is_answered_once(start_wechat, hash_service):
    service = CountingService(hash_service)
    wechat, _ = await start_wechat(service)
    first = await wechat.ask(EN_QUESTION, 2001)
    again = await wechat.ask(EN_QUESTION, 2001)
    assert first == again and first.startswith("[1] ")
    assert service.asked == 1
    await wechat.ask(EN_QUESTION, 2002)
    assert service.asked == 2


async def test_retry_while_the_first_is_still_running_starts_nothing(start_wechat, hash_service):
    service = CountingService(hash_service)
    service.gate.clear()
    wechat, conversations = await start_wechat(service, budget=0.05)
    assert await wechat.ask(EN_QUESTION, 3001) == wx.SUCCESS
    assert await wechat.ask(EN_QUESTION, 3001) == wx.SUCCESS  # WeChat's retry
    assert service.asked == 1
    service.gate.set()
    await settled(conversations)
    assert (await wechat.ask("more", 3002)).startswith("[1] ")
    assert service.asked == 1


@pytest.fixture
def long_service(hash_service):
    """The real Service quoting up to 12 passages, so that an answer outgrows one reply."""
    return CountingService(hash_service, quote_everything(12))


async def test_long_answer_is_split_at_quotes_and_continued_with_more(start_wechat, long_service):
    wechat, _ = await start_wechat(long_service)
    question = "钉钉 ONE 员工 管理者 效率 表演生产力"
    answer = long_service.ask(question)
    pages = [await wechat.ask(question, 4000)]
    while "回复“更多”" in pages[-1].rsplit("\n\n", 1)[-1]:
        pages.append(await wechat.ask("更多", 4000 + len(pages)))
    assert len(pages) >= 2
    for n, page in enumerate(pages[:-1], 1):
        assert page.endswith(text("more_hint", "zh", n=n, total=len(pages)))
    assert all(page.startswith("[") for page in pages)  # every page starts at a quote
    shown = "\n\n".join(page.rsplit("\n\n", 1)[0] for page in pages[:-1]) + "\n\n" + pages[-1]
    expected = [*plain_blocks(answer), text("wechat_source_hint", "zh")]
    assert shown == "\n\n".join(expected)
    assert await wechat.ask("更多", 4999) == text("no_more", "zh")


async def test_source_after_an_answer_shows_the_paragraphs(start_wechat, hash_service):
    wechat, _ = await start_wechat(hash_service)
    assert await wechat.ask("来源", 5000) == text("no_last_answer")
    answer = await wechat.ask("Mixue founders will stay as co-chairman", 5001)
    sources = await wechat.ask("来源", 5002)
    assert sources.startswith("[1] ") and "【" in sources and "】" in sources
    first_quote = answer.removeprefix("[1] ").split("\n— ")[0]  # up to its citation line
    unmarked = sources.replace("【", "").replace("】", "")
    assert first_quote.replace("【", "").replace("】", "") in unmarked
    for sentence in re.findall("【(.+?)】", first_quote):  # the answering sentences, marked
        assert f"【{sentence}】" in sources


# ---------- the time budget ----------


@pytest.mark.parametrize(
    ("next_message", "msg_id", "notice"),
    [
        ("继续", 6003, False),
        ("more", 6003, False),
        ("And what about Alibaba?", 6003, True),  # a new question: asked, the kept one first
        (EN_QUESTION, 6001, False),  # WeChat retrying the slow message itself
    ],
)
async def test_slow_answer_gets_success_and_comes_with_the_next_message(
    start_wechat, hash_service, next_message, msg_id, notice
):
    service = CountingService(hash_service)
    service.gate.clear()
    wechat, conversations = await start_wechat(service, budget=0.05)
    assert await wechat.ask(EN_QUESTION, 6001) == wx.SUCCESS
    service.gate.set()
    await settled(conversations)
    reply = await wechat.ask(next_message, msg_id)
    expected = "\n\n".join(
        [*plain_blocks(hash_service.ask(EN_QUESTION)), text("wechat_source_hint")]
    )
    if notice:
        assert reply.startswith(text("earlier_answer") + "\n\n" + expected)
        assert service.asked == 2  # the new question is asked too: never dropped
    else:
        assert reply == expected and service.asked == 1
    assert await wechat.ask(next_message, msg_id) == reply  # a retry of it: the same reply


async def test_a_second_message_while_the_first_is_answered_is_answered_too(
    start_wechat, hash_service
):
    """Before #17 a reader's second message, sent while the first was being answered, got
    `success` and was never asked."""
    service = CountingService(hash_service)
    service.gate.clear()
    wechat, conversations = await start_wechat(service, budget=0.05)
    assert await wechat.ask(EN_QUESTION, 6101) == wx.SUCCESS
    assert await wechat.ask(ZH_QUESTION, 6102) == wx.SUCCESS  # WeChat will retry it
    service.gate.set()
    await settled(conversations)
    first, second = await wechat.ask(EN_QUESTION, 6101), await wechat.ask(ZH_QUESTION, 6102)
    shown = (first + second).replace("【", "").replace("】", "")
    for question in (EN_QUESTION, ZH_QUESTION):
        quote = hash_service.ask(question).quotes[0].text.splitlines()[0]
        assert quote in shown
    assert service.asked == 2


async def test_many_messages_from_one_reader_at_once_are_all_answered(start_wechat, hash_service):
    """Concurrent messages per reader: every one is asked once and its answer delivered."""
    service = CountingService(hash_service)
    wechat, conversations = await start_wechat(service, budget=2.0)
    questions = [f"{EN_QUESTION} ({n})" for n in range(6)]
    replies = await asyncio.gather(*(wechat.ask(q, 6200 + n) for n, q in enumerate(questions)))
    await settled(conversations)
    late = [await wechat.ask(q, 6200 + n) for n, q in enumerate(questions)]  # WeChat's retries
    assert service.asked == len(questions)
    delivered = "\n".join(r for r in [*replies, *late] if r != wx.SUCCESS)
    assert delivered.count("[1] ") >= len(questions)


# ---------- keywords, events, other message types ----------


@pytest.mark.parametrize(
    ("xml", "expected"),
    [
        (text_xml("帮助", 7001), text("wechat_help", "zh")),
        (text_xml(" Help ", 7002), text("wechat_help", "en")),
        (event_xml("event", "subscribe"), text("wechat_welcome")),
        (event_xml("image"), text("text_only")),
        (event_xml("voice"), text("text_only")),
        (event_xml("location"), text("text_only")),
        (event_xml("event", "CLICK"), wx.SUCCESS),
        (text_xml("", 7003), text("empty_question")),
    ],
)
async def test_keywords_events_and_other_types(start_wechat, hash_service, xml, expected):
    wechat, _ = await start_wechat(hash_service)
    assert await wechat.send(xml) == expected


async def test_unsubscribe_forgets_the_reader(start_wechat, hash_service, tmp_path):
    wechat, _ = await start_wechat(hash_service)
    await wechat.ask(EN_QUESTION, 8001)
    assert await wechat.send(event_xml("event", "unsubscribe")) == wx.SUCCESS
    db = sqlite3.connect(tmp_path / "state.db")
    assert db.execute("select count(*) from state").fetchone() == (0,)


# ---------- safe mode ----------


async def test_safe_mode_round_trip(start_wechat, hash_service):
    wechat, _ = await start_wechat(hash_service, safe=wx.SafeMode(KEY, APPID))
    reply = await wechat.ask(EN_QUESTION, 9001)  # encrypted both ways; checked in WeChat.content
    assert reply.startswith("[1] ") and "Good CFOs" in reply
    assert await wechat.ask("帮助", 9002) == text("wechat_help", "zh")


async def test_safe_mode_with_a_bad_msg_signature_gets_403(start_wechat, hash_service):
    wechat, _ = await start_wechat(hash_service, safe=wx.SafeMode(KEY, APPID))
    query = wechat.query(encrypt_type="aes", msg_signature="0" * 40)
    encrypted = wechat.safe.encrypt(text_xml(EN_QUESTION, 9003))
    body = f"<xml><ToUserName>{ACCOUNT}</ToUserName><Encrypt>{encrypted}</Encrypt></xml>"
    response = await wechat.client.post("/wechat", data=body, params=query)
    assert response.status == 403


# ---------- bad input ----------

BOMB = (
    '<?xml version="1.0"?><!DOCTYPE lolz [<!ENTITY lol "lolololololololololol">'
    '<!ENTITY lol1 "&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;">'
    '<!ENTITY lol2 "&lol1;&lol1;&lol1;&lol1;&lol1;&lol1;&lol1;&lol1;&lol1;&lol1;">'
    '<!ENTITY lol3 "&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;">'
    '<!ENTITY lol4 "&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;">'
    '<!ENTITY lol5 "&lol4;&lol4;&lol4;&lol4;&lol4;&lol4;&lol4;&lol4;&lol4;&lol4;">]>'
    f"<xml><ToUserName>{ACCOUNT}</ToUserName><FromUserName>{READER}</FromUserName>"
    "<MsgType>text</MsgType><Content>&lol5;</Content><MsgId>1</MsgId></xml>"
)


@pytest.mark.parametrize(
    ("body", "logged"),
    [
        (BOMB, "malformed or unsafe XML"),
        ("<xml><Content>secret-zebra</Content>", "malformed or unsafe XML"),
        ("", "malformed or unsafe XML"),
        ('{"msg": "secret-zebra"}', "malformed or unsafe XML"),
        (text_xml("secret-zebra", 1).replace("<MsgId>1</MsgId>", ""), "without MsgId"),
        (text_xml("secret-zebra", 1).replace("text", "hologram"), "unknown MsgType"),
        ("<xml>" + "<Content>secret-zebra</Content>" * 40_000 + "</xml>", f"over {MAX_BODY_BYTES}"),
    ],
    ids=["xml-bomb", "malformed", "empty", "json", "missing-field", "unknown-type", "oversize"],
)
async def test_bad_input_is_logged_and_answered_success(
    start_wechat, hash_service, caplog, body, logged
):
    service = CountingService(hash_service)
    wechat, _ = await start_wechat(service)
    with caplog.at_level(logging.INFO, logger="bot.channels.wechat.server"):
        assert await wechat.post(body.encode("utf-8")) == wx.SUCCESS
    refusals = [r.getMessage() for r in caplog.records if "refused" in r.getMessage()]
    assert len(refusals) == 1 and logged in refusals[0]
    assert "secret-zebra" not in caplog.text
    assert service.asked == 0


async def test_encrypted_message_without_safe_mode_is_refused(start_wechat, hash_service, caplog):
    wechat, _ = await start_wechat(hash_service)
    wechat.safe = wx.SafeMode(KEY, APPID)
    with caplog.at_level(logging.INFO, logger="bot.channels.wechat.server"):
        assert await wechat.post_encrypted(text_xml(EN_QUESTION, 1)) == wx.SUCCESS
    assert "set ESSAYBOT_WECHAT_AES_KEY" in caplog.text


async def test_a_failing_service_is_logged_and_answered_with_an_apology(
    start_wechat, hash_service, caplog
):
    class Broken(CountingService):
        def ask(self, question, chat=None):
            raise RuntimeError(f"boom while answering {question}")

    wechat, _ = await start_wechat(Broken(hash_service))
    with caplog.at_level(logging.INFO):
        assert await wechat.ask("secret-zebra question", 1) == text("sorry")
    assert "RuntimeError" in caplog.text and "secret-zebra" not in caplog.text


# ---------- privacy ----------


async def test_no_message_text_or_reader_id_in_logs_or_state(
    start_wechat, hash_service, caplog, tmp_path
):
    secret = "Mixue founders will stay as co-chairman zebra-secret-417"
    service = CountingService(hash_service)
    wechat, conversations = await start_wechat(service, budget=0.05)
    with caplog.at_level(logging.DEBUG):
        await wechat.ask(secret, 1)
        service.gate.clear()
        await wechat.ask(secret + " again", 2)
        service.gate.set()
        await settled(conversations)
        for n, message in enumerate(["继续", "来源", "更多", "help", secret], 3):
            await wechat.ask(message, n)
        await wechat.post(f"<xml><Content>{secret}</Content>".encode())
    assert caplog.records, "nothing was logged at all: the test would prove nothing"
    logged = "\n".join(r.getMessage() for r in caplog.records)
    assert "zebra-secret-417" not in logged and READER not in logged
    raw = b"".join(p.read_bytes() for p in Path(tmp_path).glob("state.db*"))
    assert b"zebra-secret-417" not in raw and READER.encode() not in raw


class ThreadRecordingState(StateStore):
    """The real StateStore, noting which thread each read and write runs in."""

    def __init__(self, path: Path) -> None:
        super().__init__(path, ttl_seconds=3600)
        self.threads: list[int] = []

    def get(self, chat, key):
        self.threads.append(threading.get_ident())
        return super().get(chat, key)

    def put(self, chat, key, value):
        self.threads.append(threading.get_ident())
        return super().put(chat, key, value)


async def test_no_sqlite_call_runs_on_the_event_loop(start_wechat, hash_service, tmp_path):
    state = ThreadRecordingState(tmp_path / "threads.db")
    service = Service(hash_service.retriever, state, hash_service.policy)
    wechat, _ = await start_wechat(service)
    assert (await wechat.ask("Mixue founders will stay as co-chairman", 6001)).startswith("[1]")
    await wechat.ask("来源", 6002)
    await wechat.ask("更多", 6003)
    await wechat.ask("Mixue founders will stay as co-chairman", 6001)  # a retry
    assert state.threads and threading.get_ident() not in state.threads


# ---------- replays and safe mode (#17) ----------


async def test_a_signed_query_replayed_with_another_body_is_refused(start_wechat, hash_service):
    """Before #17 one signed query string was answered with any number of bodies and OpenIDs
    (in plain mode the signature does not cover the body)."""
    service = CountingService(hash_service)
    wechat, _ = await start_wechat(service)
    query = wechat.query(openid=READER)
    body = text_xml("Good CFOs are very good at numbers", 7001)  # its CreateTime is now
    first = await wechat.post(body, query)
    assert wechat.content(first).startswith("[1]")
    again = await wechat.post(body, query)  # WeChat's retry: the same request, byte for byte
    assert wechat.content(again) == wechat.content(first)
    forged = text_xml("What does Tencent gain?", 7002, user="o_someone_else")
    response = await wechat.client.post("/wechat", data=forged, params=query)
    assert response.status == 403 and service.asked == 1


@pytest.mark.parametrize("age", [-301, 301, 3600])
async def test_a_timestamp_outside_five_minutes_is_refused(start_wechat, hash_service, age):
    service = CountingService(hash_service)
    wechat, _ = await start_wechat(service)
    stamp, nonce = str(int(time.time()) - age), "4242"
    query = {"signature": wx.signature(TOKEN, stamp, nonce), "timestamp": stamp, "nonce": nonce}
    response = await wechat.client.post("/wechat", data=text_xml("hello", 7100), params=query)
    assert response.status == 403 and service.asked == 0
    verify = await wechat.client.get("/wechat", params={**query, "echostr": "42"})
    assert verify.status == 403


async def test_safe_mode_refuses_a_plaintext_message(start_wechat, hash_service):
    """Before #17 a server configured for AES answered a plaintext POST."""
    service = CountingService(hash_service)
    wechat, _ = await start_wechat(service, safe=wx.SafeMode(KEY, APPID))
    plain = WeChat(wechat.client)  # posts without encrypt_type=aes
    assert await plain.post(text_xml("Good CFOs are very good at numbers", 7200)) == wx.SUCCESS
    assert service.asked == 0
    encrypted = await wechat.ask("Good CFOs are very good at numbers", 7201)
    assert encrypted.startswith("[1]") and service.asked == 1


async def test_compatible_mode_takes_plaintext_too(hash_service):
    """Compatible mode is an explicit setting (ESSAYBOT_WECHAT_COMPATIBLE)."""
    conversations = Conversations(hash_service, 120.0)
    app = create_app(conversations, TOKEN, wx.SafeMode(KEY, APPID), plaintext_too=True)
    async with TestClient(TestServer(app, host="127.0.0.1")) as client:
        reply = await WeChat(client).post(text_xml("Good CFOs are very good at numbers", 7300))
        assert "[1]" in reply
