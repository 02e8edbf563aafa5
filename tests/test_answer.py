"""Pure answer composition and rendering: no index needed."""

from __future__ import annotations

import html
import re

import pytest

from bot.answer import ANSWERED, NOT_FOUND, Policy, compose
from bot.render import Source, html_blocks, html_source, plain_blocks, plain_source
from index.models import Chunk, Essay, Hit

BODY = "First <b>sentence</b> & more. Second one.\n\n钉钉 ONE 的教训并不孤立。"
ESSAYS = {"e": Essay("e", "T & <i>", "en", BODY, "e.md")}


def hit(start: int, end: int, score: float = 0.8, text: str | None = None) -> Hit:
    chunk = Chunk("e", 1, 1, start, end, BODY[start:end] if text is None else text, "en", start + 1)
    return Hit(chunk, score, score / 2, None)


def test_quotes_are_exact_slices_with_citations():
    answer = compose("q", "en", [hit(0, 29), hit(30, 41)], ESSAYS, Policy())
    assert answer.status == ANSWERED
    assert [q.text for q in answer.quotes] == [BODY[0:29], BODY[30:41]]
    assert all(BODY[q.start : q.end] == q.text for q in answer.quotes)


def test_a_quote_that_does_not_match_its_essay_is_dropped():
    answer = compose(
        "q",
        "en",
        [hit(0, 29, text="Something the essay never said."), hit(30, 41)],
        ESSAYS,
        Policy(),
    )
    assert [q.text for q in answer.quotes] == ["Second one."]


def test_weak_hits_give_not_found_with_closest_titles():
    answer = compose("q", "zh", [hit(0, 29, score=0.05)], ESSAYS, Policy())
    assert (answer.status, answer.quotes, answer.closest) == (NOT_FOUND, (), ("T & <i>",))


def test_no_hits_is_not_found():
    assert compose("q", "en", [], ESSAYS, Policy()).status == NOT_FOUND


def test_max_quotes():
    hits = [hit(0, 29), hit(30, 41), hit(43, len(BODY))]
    assert len(compose("q", "en", hits, ESSAYS, Policy(max_quotes=2)).quotes) == 2


def test_plain_rendering_names_title_and_paragraph_in_the_askers_language():
    answer = compose("q", "zh", [hit(43, len(BODY))], ESSAYS, Policy())
    assert plain_blocks(answer) == ["[1] 钉钉 ONE 的教训并不孤立。\n——《T & <i>》第 1 段"]


def test_html_rendering_escapes_corpus_text():
    answer = compose("q", "en", [hit(0, 29)], ESSAYS, Policy())
    block = html_blocks(answer)[0]
    assert "&lt;b&gt;sentence&lt;/b&gt; &amp; more." in block
    assert "T &amp; &lt;i&gt;" in block
    assert html.unescape(re.sub(r"<[^>]+>", "", block)).startswith("[1] First <b>sentence</b>")


@pytest.mark.parametrize("render", [plain_source, html_source])
def test_source_marks_the_quote_inside_its_paragraph(render):
    answer = compose("q", "en", [hit(30, 41)], ESSAYS, Policy())
    source = Source(1, answer.quotes[0], BODY[0:41], 30)
    out = render(source, "en")
    marked = "【Second one.】" if render is plain_source else "<b><u>Second one.</u></b>"
    assert marked in out
    assert "paragraph 1" in out


def test_json_has_the_documented_fields():
    data = compose("q", "en", [hit(0, 29)], ESSAYS, Policy()).to_json()
    assert set(data) >= {"question", "lang", "status", "quotes"}
    assert set(data["quotes"][0]) == {
        "text",
        "essay_id",
        "title",
        "paragraph",
        "last_paragraph",
        "start",
        "end",
        "score",
    }
