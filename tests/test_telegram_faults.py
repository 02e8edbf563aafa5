"""The Bot API misbehaving: 5xx, 429 with retry_after, dropped connections and calls that never
answer (the client's timeout), on sending and on polling. Replies are retried and delivered
once; polling resumes and never answers an update twice, also across a restart."""

from __future__ import annotations

import asyncio
import logging

import pytest

from tests.fake_telegram import DROP, STALL, FakeTelegram
from tests.telegram_harness import USER, button_press, start_harness, tg_service

QUESTION = "Good CFOs are very good at numbers"
NAMES = {DROP: "drop", STALL: "timeout"}


def statuses(fake: FakeTelegram, method: str) -> list[int]:
    return [c.status for c in fake.calls if c.method == method]


def fault_ids(faults: list[int]) -> str:
    return "+".join(NAMES.get(f, str(f)) for f in faults)


def inject(fake: FakeTelegram, method: str, faults: list[int]) -> None:
    for status in faults:
        fake.fail_next(method, status, retry_after=1 if status == 429 else None)


@pytest.mark.parametrize(
    "faults",
    [[500], [502], [503, 504], [DROP], [STALL], [429], [502, DROP, 503]],
    ids=fault_ids,
)
async def test_a_failed_reply_is_retried_and_delivered_once(tg, faults):
    inject(tg.fake, "sendMessage", faults)
    (reply,) = await tg.say(USER, QUESTION)
    assert "[1]" in reply
    assert statuses(tg.fake, "sendMessage") == [*faults, 200]


@pytest.mark.parametrize("faults", [[502], [DROP]], ids=fault_ids)
async def test_a_failed_typing_action_is_retried_and_the_answer_follows(tg, faults):
    inject(tg.fake, "sendChatAction", faults)
    (reply,) = await tg.say(USER, QUESTION)
    assert "[1]" in reply
    assert statuses(tg.fake, "sendChatAction") == [*faults, 200]


async def test_a_reply_failing_past_every_retry_becomes_one_apology(tg):
    inject(tg.fake, "sendMessage", [502] * 4)
    (apology,) = await tg.say(USER, QUESTION)
    assert "Sorry, something went wrong" in apology
    assert statuses(tg.fake, "sendMessage") == [502] * 4 + [200]
    (reply,) = await tg.say(USER, QUESTION)  # and the bot goes on
    assert "[1]" in reply


async def answered_once(fake: FakeTelegram, chats: list[int], last_update: int) -> None:
    """Wait until every chat has a reply and the bot has confirmed every update (a getUpdates
    with a later offset, after which Telegram never sends them again); then exactly one each."""
    await fake.wait_for(lambda: all(fake.sent(c) for c in chats))
    await fake.wait_for(lambda: confirmed(fake) >= last_update)
    assert {c: len(fake.sent(c)) for c in chats} == dict.fromkeys(chats, 1)


def confirmed(fake: FakeTelegram) -> int:
    offsets = [int(c.params.get("offset") or 0) for c in fake.calls if c.method == "getUpdates"]
    return max(offsets, default=0) - 1


@pytest.mark.parametrize("fault", [500, 502, DROP, STALL, 429], ids=lambda f: NAMES.get(f, f))
async def test_polling_resumes_after_a_failed_get_updates_and_answers_each_once(tg, fault):
    before = len(statuses(tg.fake, "getUpdates"))
    inject(tg.fake, "getUpdates", [fault])
    await tg.fake.wait_for(lambda: fault in statuses(tg.fake, "getUpdates")[before:])
    chats = [USER + n for n in range(5)]
    for chat in chats:  # they arrive while polling is failing
        last = await tg.fake.push(tg.fake.message(chat, QUESTION))
    await answered_once(tg.fake, chats, last)


async def test_a_restarted_bot_answers_only_what_came_while_it_was_down(fake, tg_index, tmp_path):
    first = await start_harness(fake, tg_service(tg_index, tmp_path / "state.db"))
    earlier = [USER + n for n in range(3)]
    for chat in earlier:
        await first.say(chat, QUESTION)
    await first.stop()
    later = [USER + 10 + n for n in range(3)]
    for chat in later:
        last = await fake.push(fake.message(chat, QUESTION))
    second = await start_harness(fake, tg_service(tg_index, tmp_path / "state.db"))
    try:
        await answered_once(fake, earlier + later, last)
    finally:
        await second.stop()


async def test_a_typing_indicator_failing_past_every_retry_never_costs_the_answer(tg):
    """Before #17 a sendChatAction failing four times left the reader only an apology."""
    inject(tg.fake, "sendChatAction", [502] * 4)
    (reply,) = await tg.say(USER, QUESTION)
    assert "[1]" in reply and "Sorry" not in reply


@pytest.mark.parametrize("status", [400, 502])
async def test_sources_arrive_when_the_button_acknowledgement_fails(tg, status):
    """Before #17 answerCallbackQuery answering 400 (an old button) meant no sources."""
    await tg.say(USER, QUESTION)
    markup = tg.fake.sent(USER)[-1].params["reply_markup"]
    data = markup["inline_keyboard"][0][0]["callback_data"]
    inject(tg.fake, "answerCallbackQuery", [status] * (4 if status == 502 else 1))
    before = len(tg.fake.sent(USER))
    await tg.send(button_press(tg.fake, USER, data))
    (sources,) = tg.fake.texts(USER)[before:]
    assert sources.startswith("<b>[1]</b>")


async def test_a_button_with_unknown_data_is_acknowledged(tg):
    """Before #17 it was never acknowledged, and the reader's spinner stayed."""
    await tg.send(button_press(tg.fake, USER, "something-else"))
    assert tg.fake.sent(method="answerCallbackQuery")


async def test_an_inline_mode_button_is_acknowledged_without_an_error(tg, caplog):
    """Before #17 a callback from an inline-mode message (no chat) logged an AssertionError."""
    update = tg.fake.callback(USER, "src:0123456789ab", {})
    del update["callback_query"]["message"]
    update["callback_query"]["inline_message_id"] = "inline-1"
    await tg.send(update)
    assert tg.fake.sent(method="answerCallbackQuery")
    assert not [r for r in caplog.records if r.levelno >= logging.ERROR]


async def test_a_429_on_one_chat_does_not_hold_up_another_chat(tg):
    """Before #17 python-telegram-bot's limiter paused every chat's requests for one chat's
    retry_after. Chat A's reply gets a 429 asking it to wait 2 s; chat B asks meanwhile and is
    answered before A's reply goes out."""
    other = USER + 1
    tg.fake.fail_next("sendMessage", 429, retry_after=2)
    waiting = asyncio.create_task(tg.say(USER, QUESTION))
    while 429 not in statuses(tg.fake, "sendMessage"):
        await asyncio.sleep(0.01)
    (reply,) = await tg.say(other, QUESTION)
    assert "[1]" in reply
    assert tg.fake.sent(USER) == []  # A is still waiting out its own retry_after
    (late,) = await waiting
    assert "[1]" in late
