"""Property tests through the Telegram adapter: whatever a stranger sends, the real
Application polling the fake Bot API sends back exactly what the renderers make of the
Service's answer: Telegram-valid HTML, every quote verbatim from an essay, nothing else."""

from __future__ import annotations

import asyncio
import html
import itertools
import re

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from bot.html_split import split_messages
from bot.render import html_blocks
from bot.service import Service
from index.corpus import load_corpus, load_translations
from index.errors import QuestionError
from tests.fake_telegram import parse_html
from tests.telegram_harness import Harness

NASTY = [
    "",
    " ",
    "\t \u3000 ",
    "\u200b\u200d\ufeff\u2060",
    "\x00\x07\x1b[31m\x7f",
    "\ud800 lone \udfff surrogates",
    "🙂👩‍👩‍👧 🇨🇳🇺🇸",
    "مرحبا بالعالم CFO",
    "\u202eevil\u202c שלום",
    "<b>&amp;</b> &#x27; &lt;script&gt; &nbsp; &#0; &#xD800;",
    "<a href='javascript:alert(1)'>x</a> </blockquote>",
    "]]><![CDATA[ <?xml ?> <!DOCTYPE x>",
    "*bold* _it_ `code` ```pre``` [link](http://x) ~~s~~ ||spoiler||",
    '"',
    '"unterminated phrase',
    "*",
    "NEAR",
    "NEAR(a b, 3)",
    "a -b",
    "NOT AND OR",
    "col:value ^start",
    "'; drop table chunks; --",
    "。！？，、…",
    "!!!???...",
    "錢包與阿里巴巴的數據監控",
    "ＡＢＣ１２３ ＣＦＯ",
    "x" * 100_000,
    "钉" * 100_000,
]
QUESTION = st.one_of(st.sampled_from(NASTY), st.text(max_size=300)).filter(
    lambda t: not t.startswith("/")  # commands are tested in test_telegram.py
)
_BLOCKQUOTE = re.compile(r"<blockquote>(.*?)</blockquote>", re.S)
_chats = itertools.count(50_001)


def expected_replies(service: Service, text: str) -> list[str]:
    """What the bot must send for a private message `text`: the rendered answer, or the
    QuestionError's message; nothing for an empty message (Telegram never sends one)."""
    if not text:
        return []
    try:
        answer = service.ask(text)
    except QuestionError as exc:
        return split_messages([html.escape(str(exc), quote=False)])
    return split_messages(html_blocks(answer))


def assert_quotes_verbatim(reply: str, bodies: list[str], translated: list[str]) -> None:
    """Every quote is a slice of an essay; every translation (a blockquote in italics, under
    its label) a slice of a translation."""
    for quoted in _BLOCKQUOTE.findall(reply):
        text = parse_html(quoted).strip()
        sources = translated if quoted.startswith("<i>") else bodies
        assert any(text in body for body in sources), text[:80]


async def ask_all(tg: Harness, texts: list[str]) -> list[list[str]]:
    """Each text from its own private chat, all at once; the replies each chat got."""
    chats = [next(_chats) for _ in texts]
    await asyncio.gather(
        *(tg.send(tg.fake.message(c, t)) for c, t in zip(chats, texts, strict=True))
    )
    return [tg.fake.texts(chat) for chat in chats]


def check_replies(tg: Harness, index_dir, texts: list[str], replies: list[list[str]]) -> None:
    essays = load_corpus(index_dir.parent / "corpus")
    bodies = [e.body for e in essays]
    translated = [t.body for t in load_translations(index_dir.parent / "corpus", essays)[0]]
    for text, got in zip(texts, replies, strict=True):
        assert got == expected_replies(tg.bot.service, text), text[:80]
        for reply in got:
            assert_quotes_verbatim(reply, bodies, translated)
    failed = [c for c in tg.fake.calls if c.status != 200]
    assert not failed, failed[:3]


async def test_every_nasty_text_gets_exactly_the_rendered_answer(tg, tg_index):
    check_replies(tg, tg_index, NASTY, await ask_all(tg, NASTY))


@settings(
    max_examples=12, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(st.lists(QUESTION, min_size=1, max_size=8))
async def test_any_text_gets_exactly_the_rendered_answer(tg, tg_index, texts):
    check_replies(tg, tg_index, texts, await ask_all(tg, texts))
