"""The service every front end calls, over a real index built by the real builder."""

from __future__ import annotations

import json
import sqlite3
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from bot.answer import NOT_FOUND
from bot.channels.terminal import reply
from index.errors import QuestionError

DEV = [json.loads(line) for line in Path("tests/data/dev.jsonl").read_text("utf-8").splitlines()]


def assert_verbatim(service, answer):
    essays = service.retriever.get().essays
    for quote in answer.quotes:
        assert essays[quote.essay_id].body[quote.start : quote.end] == quote.text


@pytest.mark.parametrize("row", DEV, ids=[row["id"] for row in DEV])
def test_every_quote_for_every_dev_question_is_verbatim(hash_service, row):
    assert_verbatim(hash_service, hash_service.ask(row["question"]))


@settings(
    max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(st.text(min_size=1, max_size=300))
def test_every_quote_for_random_input_is_verbatim(hash_service, question):
    try:
        answer = hash_service.ask(question)
    except QuestionError:
        assert not question.strip()
        return
    assert_verbatim(hash_service, answer)


@pytest.mark.parametrize(
    "question",
    [
        '"',
        "*",
        "NEAR",
        "a -b",
        "AND OR NOT",
        "()",
        "\x00",
        "🙂" * 5,
        "<script>",
        "'; drop table chunks; --",
        "。。。",
    ],
)
def test_garbage_input_does_not_crash(hash_service, question):
    answer = hash_service.ask(question)
    assert_verbatim(hash_service, answer)


@pytest.mark.parametrize("question", ["", "   ", "\n\t"])
def test_empty_question_is_refused_politely(hash_service, question):
    with pytest.raises(QuestionError, match="Please ask a question"):
        hash_service.ask(question)


def test_huge_question_is_refused_politely(hash_service):
    with pytest.raises(QuestionError, match="too long"):
        hash_service.ask("x" * 100_000)


def test_source_shows_the_whole_paragraph_of_the_last_answer(hash_service):
    answer = hash_service.ask("Mixue founders will stay as co-chairman", chat="c1")
    found = hash_service.sources("c1")
    assert len(found.sources) == len(answer.quotes)
    first = found.sources[0]
    assert first.quote.text in first.paragraph_text
    at = first.quote.start - first.offset
    assert first.paragraph_text[at : at + len(first.quote.text)] == first.quote.text
    assert first.quote.highlights == answer.quotes[0].highlights  # remembered for /source
    assert hash_service.sources("c1", 1).sources[0].n == 1
    assert "no quote 9" in hash_service.sources("c1", 9).message


def test_source_without_an_answer_says_so(hash_service):
    assert "no earlier answer" in hash_service.sources("never-asked").message


def test_forget_deletes_the_chat_and_nothing_stores_the_question(hash_service, tmp_path):
    secret = "Mixue founders will stay as co-chairman though. zebra-secret-417"
    chat = "telegram:chat-id-quagga-5521"
    hash_service.ask(secret, chat=chat)
    raw = b"".join(p.read_bytes() for p in tmp_path.glob("state.db*"))
    assert b"zebra-secret-417" not in raw and b"quagga-5521" not in raw
    assert hash_service.forget(chat) == 1
    rows = sqlite3.connect(tmp_path / "state.db").execute("select count(*) from state").fetchone()
    assert rows == (0,)


def test_terminal_chat_commands(hash_service):
    assert "/source" in reply(hash_service, "/help")
    assert "Why CFOs may not be good CEOs" in reply(hash_service, "/essays")
    answered = reply(hash_service, "good CFOs are very good at")
    assert answered.startswith("[1] ")
    assert "\x1b[1m" in reply(hash_service, "/source")  # the answering sentence, in bold
    assert "\x1b[1m" in reply(hash_service, "/source 1")


def test_out_of_scope_nonsense_gets_not_found(hash_service):
    assert hash_service.ask("qwzx vbnm plokij").status == NOT_FOUND


def test_real_default_embedder_finds_the_passage(default_service):
    answer = default_service.ask("What are good CFOs very good at?")
    assert answer.status == "answered"
    assert answer.quotes[0].essay_id == "cfo-ceo"
    assert_verbatim(default_service, answer)
