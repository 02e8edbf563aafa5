"""Security and privacy across whole conversations: with every logger captured at DEBUG (more
than the CLI's -v ever turns on), no bot token, webhook secret, WeChat token or AES key and
none of the readers' messages appears in any log line, traceback or error message; the SQLite
files hold none of the message texts; /forget and unsubscribe leave no rows."""

from __future__ import annotations

import base64
import logging
import sqlite3
from pathlib import Path

import pytest

from bot.channels.wechat import protocol as wx
from bot.config import check_secret
from bot.state import chat_key
from index.errors import EssayBotError
from tests.fake_telegram import DROP, TOKEN
from tests.telegram_harness import ADMIN, GROUP, USER, button_press
from tests.wechat_harness import APPID, KEY, READER, CountingService, event_xml, settled
from tests.wechat_harness import TOKEN as WX_TOKEN

PRIVATE = ["platypus-7731", "鸭嘴兽七七三一"]  # marks in every message a reader sends
_FORMAT = logging.Formatter("%(name)s %(levelname)s %(message)s")


def everything_logged(records: list[logging.LogRecord]) -> str:
    """Every record as a handler would write it, tracebacks included."""
    assert records, "nothing was logged at all: the test would prove nothing"
    return "\n".join(_FORMAT.format(r) for r in records)


def assert_absent(haystack: str | bytes, needles: list[str]) -> None:
    for needle in needles:
        encoded = needle.encode() if isinstance(haystack, bytes) else needle
        assert encoded not in haystack, f"{needle!r} leaked"  # type: ignore[operator]


def sqlite_bytes(folder: Path) -> bytes:
    return b"".join(p.read_bytes() for p in folder.rglob("*.db*"))


def rows_about(state: Path, chat: str) -> int:
    with sqlite3.connect(state) as conn:
        query = "select count(*) from state where chat = ?"
        return conn.execute(query, [chat_key(chat)]).fetchone()[0]


# ---------- Telegram ----------


async def telegram_conversation(tg) -> None:
    """Commands, questions, sources, the button, a group, admin refusal, a failing reindex,
    Bot API faults, a failing update, the rate limit, and /forget."""
    for command in ("/start", "/help", "/essays", "/source"):
        await tg.say(USER, command)
    await tg.say(USER, f"Good CFOs are very good at numbers {PRIVATE[0]}")
    data = tg.fake.sent(USER)[-1].params["reply_markup"]["inline_keyboard"][0][0]
    await tg.send(button_press(tg.fake, USER, data["callback_data"]))
    for command in ("/source", "/source 1", "/source 9", "/reindex"):
        await tg.say(USER, command)
    await tg.say(ADMIN, "/reindex")
    await tg.say(GROUP, f"@essay_test_bot 钉钉 ONE {PRIVATE[1]}", user_id=USER)
    for status in (502, DROP, 429):
        tg.fake.fail_next("sendMessage", status, retry_after=1)
    await tg.say(USER, f"钉钉 ONE 的教训 {PRIVATE[1]}")
    tg.fake.fail_next("sendMessage", 400)  # the update fails: logged with its traceback
    await tg.say(USER, f"Mixue founders {PRIVATE[0]}")
    for _ in range(3):  # past the rate limit
        await tg.say(USER, f"Alibaba {PRIVATE[0]}")


def failing_reindex():
    raise EssayBotError("No essays in /nowhere. Add Markdown files, then run: /reindex")


async def test_telegram_conversation_leaks_no_secret_and_no_message(start_bot, caplog, tmp_path):
    caplog.set_level(logging.DEBUG)
    tg = await start_bot(rate=4, reindex=failing_reindex)
    await telegram_conversation(tg)
    assert "rebuild failed" in tg.fake.sent(ADMIN, "editMessageText")[-1].params["text"]
    logged = everything_logged(caplog.records)
    assert "Traceback" in logged and "failed: BadRequest" in logged  # errors were logged
    assert_absent(logged, [TOKEN, TOKEN.split(":")[1], *PRIVATE, str(USER)])
    state = tmp_path / "state.db"
    assert rows_about(state, f"telegram:{USER}") >= 1
    assert_absent(sqlite_bytes(tmp_path), [*PRIVATE, str(USER)])
    await tg.say(USER, "/forget")
    assert rows_about(state, f"telegram:{USER}") == 0


# ---------- WeChat ----------


async def wechat_conversation(wechat, service: CountingService, conversations) -> None:
    """Subscribe, questions and retries, a late answer, keywords, bad requests, unsubscribe."""
    await wechat.send(event_xml("event", "subscribe"))
    await wechat.ask(f"Good CFOs are very good at numbers {PRIVATE[0]}", 1)
    await wechat.ask(f"Good CFOs are very good at numbers {PRIVATE[0]}", 1)  # a retry
    service.gate.clear()
    await wechat.ask(f"钉钉 ONE 的教训 {PRIVATE[1]}", 2)  # misses the budget
    service.gate.set()
    await settled(conversations)
    for n, word in enumerate(["继续", "更多", "来源", "help", f"{PRIVATE[0]} ]]>&<"], 3):
        await wechat.ask(word, n)
    bad = wechat.query(openid=READER, echostr=PRIVATE[0])
    bad["signature"] = "0" * 40
    assert (await wechat.client.post("/wechat", params=bad, data=PRIVATE[0])).status == 403
    await wechat.post(f"<xml><Content>{PRIVATE[0]}</Content>".encode(), wechat.query())


@pytest.mark.parametrize("mode", ["plain", "safe"])
async def test_wechat_conversation_leaks_no_secret_and_no_message(
    start_wechat, hash_service, caplog, tmp_path, mode
):
    caplog.set_level(logging.DEBUG)
    service = CountingService(hash_service)
    safe = wx.SafeMode(KEY, APPID) if mode == "safe" else None
    wechat, conversations = await start_wechat(service, safe=safe, budget=0.05)
    await wechat_conversation(wechat, service, conversations)
    logged = everything_logged(caplog.records)
    raw_key = base64.b64decode(KEY + "=")
    secrets = [WX_TOKEN, KEY, raw_key.hex(), str(raw_key)[2:-1], *PRIVATE, READER]
    assert_absent(logged, secrets)
    assert_absent(sqlite_bytes(tmp_path), [*PRIVATE, READER])
    assert rows_about(tmp_path / "state.db", f"wechat:{READER}") >= 1
    await wechat.send(event_xml("event", "unsubscribe"))
    assert rows_about(tmp_path / "state.db", f"wechat:{READER}") == 0


# ---------- error messages ----------


@pytest.mark.parametrize(
    ("make", "secret"),
    [
        (lambda: wx.credentials("t0ken", "not-a-43-character-key-zz", "wx1"), "not-a-43"),
        (lambda: wx.credentials("t0ken", KEY[:-1] + "!", "wx1"), KEY[:-1]),
        (lambda: check_secret("bad secret with spaces"), "bad secret"),
        (lambda: wx.check_signature("f" * 40, "t0ken-secret", "1", "2"), "t0ken-secret"),
    ],
    ids=["short-aes-key", "bad-aes-key", "webhook-secret", "signature"],
)
def test_error_messages_never_echo_a_secret(make, secret):
    with pytest.raises(EssayBotError) as info:
        make()
    assert secret not in str(info.value)
