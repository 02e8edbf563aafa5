"""The Telegram bot end to end: the real python-telegram-bot Application, polling a fake
Bot API server on 127.0.0.1 over real HTTP, answering from a real index built by the real
builder. Nothing inside python-telegram-bot is mocked."""

from __future__ import annotations

import asyncio
import hashlib
import html
import logging
import os
import re
import shutil
import signal
import socket
import sqlite3
import sys
import threading
from dataclasses import replace
from pathlib import Path

import aiohttp
import pytest
from hypothesis import given
from hypothesis import strategies as st

from bot.answer import Quote
from bot.channels.telegram.app import build_application
from bot.channels.telegram.handlers import COMMANDS, TelegramBot
from bot.config import TelegramConfigError, check_secret, check_token
from bot.html_split import split_block, split_messages, units
from bot.render import citation
from index.builder import build_index
from index.embedders import create_embedder
from tests.cli_runner import run_cli
from tests.fake_telegram import BOT_USERNAME, TOKEN, parse_html
from tests.paths import CORPUS, ROOT
from tests.policies import quote_everything
from tests.telegram_harness import (
    ADMIN,
    GROUP,
    LONG_WORDS,
    NEW_ESSAY,
    SPECIAL,
    USER,
    add_essay,
    assert_all_valid,
    bot_message,
    button_press,
    tg_service,
)

# ---------- commands ----------


async def test_start_help_and_essays(tg):
    (welcome,) = await tg.say(USER, "/start")
    assert (
        "Why might a good CFO not make a good CEO?" in welcome
        and "钉钉 ONE 为什么会失败?" in welcome
    )
    (help_en,) = await tg.say(USER, "/help")
    assert "/source" in help_en and "/ask" in help_en
    (help_zh,) = await tg.say(USER, "/help", language_code="zh-hans")
    assert "文章列表" in help_zh
    (essays,) = await tg.say(USER, "/essays")
    assert "Why CFOs may not be good CEOs" in essays
    assert 'Tags &amp; &lt;i&gt;markup&lt;/i&gt; "test"' in essays
    assert_all_valid(tg.fake)


async def test_command_menu_is_registered_in_english_and_chinese(tg):
    default = '{"type": "default"}'
    english = [c["command"] for c in tg.fake.commands[(default, "")]]
    chinese = tg.fake.commands[(default, "zh")]
    assert english == list(COMMANDS)
    assert [c["command"] for c in chinese] == list(COMMANDS)
    assert any("文章" in c["description"] for c in chinese)


async def test_unknown_command_in_private_gets_help(tg):
    (reply,) = await tg.say(USER, "/nonsense")
    assert "/source" in reply


# ---------- answers ----------


async def test_question_gets_the_same_quotes_as_ask_with_a_sources_button(tg):
    question = "Good CFOs are very good at numbers"
    expected = tg.bot.service.ask(question)
    (reply,) = await tg.say(USER, question)
    shown = parse_html(reply)
    for n, quote in enumerate(expected.quotes, 1):
        assert f"[{n}] {quote.text}" in shown
        assert citation(quote, "en") in shown
    markup = tg.fake.sent(USER)[-1].params["reply_markup"]
    button = markup["inline_keyboard"][0][0]
    assert button["text"] == "Sources / 来源"
    assert button["callback_data"].startswith("src:")
    assert len(button["callback_data"].encode()) <= 64
    assert_all_valid(tg.fake)


async def test_html_special_characters_in_question_and_quotes_are_escaped(tg):
    (reply,) = await tg.say(USER, "zebra quotes x < y && <b>bold</b> markup?")
    assert "&lt;b&gt;bold&lt;/b&gt;" in reply and "x &lt; y &amp;&amp; y &gt; z" in reply
    assert SPECIAL in parse_html(reply)
    assert "Tags &amp; &lt;i&gt;markup&lt;/i&gt;" in reply
    (nothing,) = await tg.say(USER, "<script>qwzx & vbnm</script>")
    assert "<script>" not in nothing
    assert_all_valid(tg.fake)


# every hit quoted, whatever its score: for the tests of long replies
EVERYTHING = quote_everything(40)


def essay_text(tg, quote: Quote) -> str:
    return next(e.body for e in tg.bot.service.essays() if e.id == quote.essay_id)


async def test_a_long_answer_is_split_into_valid_messages(start_bot):
    tg = await start_bot(policy=EVERYTHING)
    replies = await tg.say(USER, "okapi walks and talks near the river, the zebra and the CFO")
    assert len(replies) >= 3
    shown = "".join(parse_html(r) for r in replies)
    assert shown.count("okapi") >= LONG_WORDS.count("okapi") - 2  # the long quote, whole
    assert "[40]" in shown or "[2]" in shown
    assert_all_valid(tg.fake)
    markups = [c.params.get("reply_markup") for c in tg.fake.sent(USER)]
    assert all(m is None for m in markups[:-1]) and markups[-1] is not None


async def test_a_single_quote_longer_than_a_message_is_split_safely(start_bot):
    tg = await start_bot(policy=replace(EVERYTHING, max_quotes=1, quote_chars=10_000))
    replies = await tg.say(USER, "okapi0 okapi1 walks talks near the river")
    assert len(replies) >= 2
    text = "".join(parse_html(r) for r in replies)
    assert "".join(text.split()).count("okapi") == LONG_WORDS.count("okapi")
    assert all(r.count("<blockquote>") == r.count("</blockquote>") for r in replies)
    assert_all_valid(tg.fake)


async def test_empty_and_too_long_questions_get_a_polite_line(tg):
    (reply,) = await tg.say(USER, "x" * 5000)
    assert "too long" in reply
    (reply,) = await tg.say(USER, "/ask")
    assert "Please ask a question" in reply


# ---------- sources ----------


async def test_sources_button_shows_the_citations(tg):
    first = tg.bot.service.ask("Good CFOs are very good at numbers").quotes[0]
    await tg.say(USER, "Good CFOs are very good at numbers")
    answer_message = tg.fake.sent(USER)[-1]
    data = answer_message.params["reply_markup"]["inline_keyboard"][0][0]["callback_data"]
    before = len(tg.fake.sent(USER))
    await tg.send(button_press(tg.fake, USER, data))
    (sources,) = tg.fake.texts(USER)[before:]
    for a, b in first.highlights:
        assert f"<b>{html.escape(essay_text(tg, first)[a:b], quote=False)}</b>" in sources
    assert html.escape(citation(first, "en")) in sources
    assert tg.fake.sent(method="answerCallbackQuery")
    await tg.say(USER, "Mixue founders will stay as co-chairman")
    await tg.send(button_press(tg.fake, USER, data))
    stale = tg.fake.sent(method="answerCallbackQuery")[-1].params
    assert stale["show_alert"] == "true" and "latest answer" in stale["text"]
    assert_all_valid(tg.fake)


async def test_source_command_variants(tg):
    (none,) = await tg.say(USER, "/source")
    assert "no earlier answer" in none
    answer = tg.bot.service.ask("Mixue founders will stay as co-chairman")
    await tg.say(USER, "Mixue founders will stay as co-chairman")
    (all_sources,) = await tg.say(USER, "/source")
    marks = sum(len(q.highlights) for q in answer.quotes)
    assert all_sources.count("<b>") == len(answer.quotes) + marks  # numbers, marked sentences
    (first,) = await tg.say(USER, "/source 1")
    assert first.startswith("<b>[1]</b>") and first.count("<b>") == 1 + len(
        answer.quotes[0].highlights
    )
    (missing,) = await tg.say(USER, "/source 9")
    assert "no quote 9" in missing
    (usage,) = await tg.say(USER, "/source one")
    assert "/source N" in usage
    assert_all_valid(tg.fake)


# ---------- Telegram failures ----------


async def test_a_429_is_waited_out_and_the_answer_delivered(tg):
    tg.fake.fail_next("sendMessage", 429, retry_after=1)
    (reply,) = await tg.say(USER, "Good CFOs are very good at numbers")
    assert "[1]" in reply
    statuses = [c.status for c in tg.fake.calls if c.method == "sendMessage"]
    assert statuses[-2:] == [429, 200]


async def test_a_5xx_is_retried(tg):
    tg.fake.fail_next("sendMessage", 502)
    (reply,) = await tg.say(USER, "/help")
    assert "/source" in reply
    statuses = [c.status for c in tg.fake.calls if c.method == "sendMessage"]
    assert statuses[-2:] == [502, 200]


async def test_a_failing_update_gets_an_apology_and_the_bot_goes_on(tg, caplog):
    tg.fake.fail_next("sendMessage", 400)  # the answer itself is refused: not retried
    (apology,) = await tg.say(USER, "Good CFOs are very good at numbers")
    assert "Sorry, something went wrong" in apology
    assert any("failed: BadRequest" in r.getMessage() for r in caplog.records)
    (reply,) = await tg.say(USER, "Good CFOs are very good at numbers")
    assert "[1]" in reply


async def test_rate_limit_per_chat_is_polite(start_bot):
    tg = await start_bot(rate=2)
    for _ in range(2):
        (reply,) = await tg.say(USER, "Good CFOs are very good at numbers")
        assert "[1]" in reply
    (slow,) = await tg.say(USER, "Good CFOs are very good at numbers")
    assert "wait a minute" in slow
    for _ in range(5):  # told once: further messages in the window get no reply (#17)
        assert await tg.say(USER, "Good CFOs are very good at numbers") == []
    (other,) = await tg.say(USER + 1, "Good CFOs are very good at numbers")
    assert "[1]" in other


async def test_many_chats_at_once_are_all_answered(tg):
    chats = range(9001, 9031)
    for chat in chats:
        await tg.fake.push(tg.fake.message(chat, "Good CFOs are very good at numbers"))
    for chat in chats:
        (reply,) = [c.params["text"] for c in await tg.fake.wait_sent(chat, 1)]
        assert "[1]" in reply
    assert_all_valid(tg.fake)


# ---------- groups ----------


async def test_group_answers_only_when_addressed(tg):
    question = "Good CFOs are very good at numbers"
    assert await tg.say(GROUP, question, user_id=USER) == []
    (mentioned,) = await tg.say(GROUP, f"@{BOT_USERNAME} {question}", user_id=USER)
    assert "[1]" in mentioned
    assert await tg.say(GROUP, f"@someone_else {question}", user_id=USER) == []
    (asked,) = await tg.say(GROUP, f"/ask {question}", user_id=USER)
    assert "[1]" in asked
    (asked_by_name,) = await tg.say(GROUP, f"/ask@{BOT_USERNAME} {question}", user_id=USER)
    assert "[1]" in asked_by_name
    group = {"id": GROUP, "type": "supergroup", "title": "Readers"}
    earlier = bot_message(group, 5, "an answer")
    (replied,) = await tg.say(GROUP, question, user_id=USER, reply_to=earlier)
    assert "[1]" in replied
    assert await tg.say(GROUP, "/nonsense", user_id=USER) == []
    replies = tg.fake.sent(GROUP)
    assert all("reply_parameters" in c.params for c in replies)  # quoted, in a group


# ---------- /reindex and hot reload ----------


async def test_reindex_is_refused_for_non_admins(tg):
    (refusal,) = await tg.say(USER, "/reindex")
    assert "only the bot's admins" in parse_html(refusal)


@pytest.fixture
def own_index(tmp_path: Path) -> tuple[Path, Path]:
    corpus, index_dir = tmp_path / "corpus", tmp_path / "index"
    shutil.copytree(CORPUS, corpus)
    build_index(corpus, index_dir, create_embedder("hash"), progress=False)
    return corpus, index_dir


async def test_reindex_by_an_admin_answers_during_the_rebuild_then_reloads(start_bot, own_index):
    corpus, index_dir = own_index
    started, release = threading.Event(), threading.Event()

    def slow_reindex():
        started.set()
        assert release.wait(60)
        return build_index(corpus, index_dir, create_embedder("hash"), progress=False)

    tg = await start_bot(index_dir=index_dir, reindex=slow_reindex)
    add_essay(corpus, "99-new.md", NEW_ESSAY)
    (status,) = await tg.say(ADMIN, "/reindex")
    assert "Rebuilding" in status
    await asyncio.to_thread(started.wait, 60)
    (during,) = await tg.say(USER, "Good CFOs are very good at numbers")
    assert "[1]" in during
    (busy,) = await tg.say(ADMIN, "/reindex")
    assert "already running" in busy
    release.set()
    await tg.fake.wait_sent(ADMIN, 1, method="editMessageText")
    report = tg.fake.sent(ADMIN, "editMessageText")[-1].params["text"]
    assert "11 essays" in report and "0 removed" in report
    (after,) = await tg.say(USER, "Why do narwhals polish their tusks?")
    assert "quokka parade" in after


async def test_an_index_built_by_another_process_is_picked_up(start_bot, own_index):
    corpus, index_dir = own_index
    tg = await start_bot(index_dir=index_dir)
    (before,) = await tg.say(USER, "Why do narwhals polish their tusks?")
    assert "quokka" not in before
    add_essay(corpus, "99-new.md", NEW_ESSAY)
    args = ["index", "build", "--corpus", str(corpus), "--index", str(index_dir)]
    built = await asyncio.to_thread(run_cli, *args, "--embedder", "hash")
    assert built.returncode == 0, built.stderr
    (after,) = await tg.say(USER, "Why do narwhals polish their tusks?")
    assert "quokka parade" in after


# ---------- privacy ----------


def state_rows(path: Path, chat: str) -> int:
    key = hashlib.sha256(chat.encode()).hexdigest()
    with sqlite3.connect(path) as conn:
        return conn.execute("select count(*) from state where chat = ?", [key]).fetchone()[0]


async def test_forget_leaves_no_rows_and_no_message_text_is_stored(start_bot, tmp_path, caplog):
    caplog.set_level(logging.INFO)
    tg = await start_bot()
    questions = [
        "Good CFOs are very good at numbers, says platypus-secret-1",
        "Mixue founders will stay as co-chairman? platypus-secret-2",
        "钉钉 ONE 的教训是什么 鸭嘴兽秘密三",
    ]
    for question in questions:
        await tg.say(USER, question)
    await tg.say(USER, "/source")
    state = tmp_path / "state.db"
    assert state_rows(state, f"telegram:{USER}") == 1
    raw = b"".join(p.read_bytes() for p in tmp_path.glob("state.db*"))
    for secret in ("platypus-secret", "鸭嘴兽秘密", str(USER)):
        assert secret.encode() not in raw
    assert "Done" in (await tg.say(USER, "/forget"))[0]
    assert state_rows(state, f"telegram:{USER}") == 0
    (after,) = await tg.say(USER, "/source")
    assert "no earlier answer" in after
    logged = "\n".join(r.getMessage() + str(r.exc_info or "") for r in caplog.records)
    assert TOKEN not in logged and TOKEN.split(":")[1] not in logged
    for secret in ("platypus-secret", "鸭嘴兽秘密", "Good CFOs"):
        assert secret not in logged
    assert any("is ready" in r.getMessage() for r in caplog.records)  # logging was captured


# ---------- webhook ----------


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


async def test_webhook_refuses_requests_without_the_secret_token(fake, tg_index, tmp_path):
    bot = TelegramBot(tg_service(tg_index, tmp_path / "state.db"), lambda: None)
    app = build_application(bot, TOKEN, fake.base_url)
    port, secret = free_port(), check_secret("s3cret-Token_1")
    await app.initialize()
    await app.updater.start_webhook(
        listen="127.0.0.1",
        port=port,
        url_path="hook",
        webhook_url="https://bot.example/hook",
        secret_token=secret,
    )
    await app.start()
    try:
        assert fake.sent(method="setWebhook")[-1].params["secret_token"] == secret
        update = {"update_id": 1, **fake.message(USER, "/help")}
        url = f"http://127.0.0.1:{port}/hook"
        async with aiohttp.ClientSession() as http:
            async with http.post(url, json=update) as response:
                assert response.status == 403
            headers = {"X-Telegram-Bot-Api-Secret-Token": "wrong"}
            async with http.post(url, json=update, headers=headers) as response:
                assert response.status == 403
            headers = {"X-Telegram-Bot-Api-Secret-Token": secret}
            async with http.post(url, json=update, headers=headers) as response:
                assert response.status == 200
        (reply,) = [c.params["text"] for c in await fake.wait_sent(USER, 1)]
        assert "/source" in reply
    finally:
        await app.updater.stop()
        await app.stop()
        await app.shutdown()


# ---------- configuration and the command line ----------


@pytest.mark.parametrize(
    ("token", "message"),
    [
        (None, "ESSAYBOT_TELEGRAM_TOKEN is not set"),
        ("", "ESSAYBOT_TELEGRAM_TOKEN is not set"),
        ("not-a-token", "does not look like a bot token"),
        ("123456:short", "does not look like a bot token"),
        ("abc:AAF-fake-token-for-tests-0123456789ab", "does not look like a bot token"),
    ],
)
def test_bad_tokens_are_refused_with_the_fix(token, message):
    with pytest.raises(TelegramConfigError, match=message) as info:
        check_token(token)
    assert not token or token not in str(info.value)


def test_a_good_token_passes():
    assert check_token(f" {TOKEN} ") == TOKEN


@pytest.mark.parametrize("secret", ["has space", "x" * 257, "ünï"])
def test_bad_webhook_secrets_are_refused(secret):
    with pytest.raises(TelegramConfigError, match="WEBHOOK_SECRET"):
        check_secret(secret)


@pytest.mark.parametrize(
    ("token", "message"),
    [("", "is not set"), ("12:xyz", "does not look like a bot token")],
)
def test_cli_refuses_a_missing_or_malformed_token_in_one_line(tg_index, token, message):
    env = {"ESSAYBOT_TELEGRAM_TOKEN": token}
    result = run_cli("telegram", "--index", str(tg_index), env=env)
    assert result.returncode == 1
    assert message in result.stderr and "Traceback" not in result.stderr
    assert len(result.stderr.strip().splitlines()) == 1, result.stderr


async def cli_process(env: dict[str, str], *args: str) -> asyncio.subprocess.Process:
    return await asyncio.create_subprocess_exec(
        sys.executable,
        "-m",
        "bot",
        *args,
        cwd=ROOT,
        env={**os.environ, **env},
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.PIPE,
    )


async def test_cli_reports_a_token_telegram_rejects_in_one_line(fake, tg_index, tmp_path):
    env = {
        "ESSAYBOT_TELEGRAM_TOKEN": "999:AAF-not-the-token-the-server-knows-xx",
        "ESSAYBOT_TELEGRAM_BASE_URL": fake.base_url,
        "ESSAYBOT_STATE_PATH": str(tmp_path / "state.db"),
    }
    process = await cli_process(env, "telegram", "--index", str(tg_index))
    _, err = await asyncio.wait_for(process.communicate(), 120)
    assert process.returncode == 1
    stderr = err.decode()
    assert "Telegram rejected ESSAYBOT_TELEGRAM_TOKEN" in stderr
    assert "Traceback" not in stderr and "not-the-token" not in stderr


async def test_cli_runs_the_bot_by_polling_until_stopped(fake, tg_index, tmp_path):
    env = {
        "ESSAYBOT_TELEGRAM_TOKEN": TOKEN,
        "ESSAYBOT_TELEGRAM_BASE_URL": fake.base_url,
        "ESSAYBOT_STATE_PATH": str(tmp_path / "state.db"),
    }
    process = await cli_process(env, "-v", "telegram", "--index", str(tg_index))
    try:
        await fake.wait_for(lambda: fake.sent(method="setMyCommands"), timeout=120)
        await fake.push(fake.message(USER, "Good CFOs are very good at numbers"))
        (reply,) = [c.params["text"] for c in await fake.wait_sent(USER, 1)]
        assert "[1]" in reply
    finally:
        process.send_signal(signal.SIGTERM)
        _, err = await asyncio.wait_for(process.communicate(), 60)
    assert process.returncode == 0, err.decode()
    stderr = err.decode()
    assert TOKEN.split(":")[1] not in stderr and "Good CFOs" not in stderr
    assert "is ready" in stderr  # INFO logging was on


# ---------- splitting, as pure functions ----------

_html_text = st.text(alphabet=st.sampled_from([*"ab <>&\"'。. \n钉", "🙂"]), max_size=400)


@given(_html_text, st.integers(min_value=40, max_value=200))
def test_split_block_pieces_fit_parse_and_keep_every_character(raw, limit):
    block = f"<b>[1]</b> <blockquote>{html.escape(raw)}</blockquote>\n<i>{html.escape(raw)}</i>"
    pieces = split_block(block, limit)
    assert all(units(p) <= limit for p in pieces)
    shown = "".join(parse_html(p) for p in pieces)
    assert "".join(shown.split()) == "".join(parse_html(block).split())


@given(st.lists(_html_text, max_size=8))
def test_split_messages_keeps_whole_every_block_that_fits(raws):
    blocks = [f"<b>{html.escape(r)}</b>" for r in raws if r.strip()]
    messages = split_messages(blocks, 100)
    assert all(units(m) <= 100 and parse_html(m) for m in messages)
    for block in blocks:
        if units(block) <= 100:
            assert any(block in m for m in messages)


# ---------- deployment ----------


def test_health_opens_the_index(tg_index, tmp_path):
    env = {"ESSAYBOT_STATE_PATH": str(tmp_path / "state.db")}
    result = run_cli("health", "--index", str(tg_index), env=env)
    assert result.returncode == 0, result.stderr
    assert result.stdout.startswith("ok: 11 essays")
    missing = run_cli("health", "--index", str(tmp_path / "none"), env=env)
    assert missing.returncode == 1 and "No index in" in missing.stderr
    assert len(missing.stderr.strip().splitlines()) == 1


def test_the_image_builds_with_the_commands_ci_runs():
    dockerfile = (ROOT / "Dockerfile").read_text(encoding="utf-8")
    ci = (ROOT / ".ci" / "run").read_text(encoding="utf-8")
    targets = re.findall(r"^RUN make (\S+)\s*$", dockerfile, re.M)
    assert targets == ["index"]
    for target in targets:
        assert re.search(rf"^make {target}\b", ci, re.M)
    user = re.findall(r"^USER (\S+)", dockerfile, re.M)
    assert user and user[-1] not in ("root", "0")
    assert re.search(r'^\s+CMD \["essaybot", "health"\]', dockerfile, re.M)
    # any channel: `docker run IMAGE web ...`; the Telegram bot by default
    assert re.search(r'^ENTRYPOINT \["essaybot"\]', dockerfile, re.M)
    assert re.search(r'^CMD \["telegram"\]', dockerfile, re.M)
