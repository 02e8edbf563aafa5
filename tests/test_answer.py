"""Pure answer composition and rendering: no index needed."""

from __future__ import annotations

import html
import re
from dataclasses import replace

import pytest

from bot.answer import ANSWERED, NOT_FOUND, RELATED, Policy, compose
from bot.render import Source, html_blocks, html_source, plain_blocks, plain_source
from index.models import Chunk, Essay, Hit, Translation

BODY = "First <b>sentence</b> & more. Second one.\n\n钉钉 ONE 的教训并不孤立。"
ESSAYS = {"e": Essay("e", "T & <i>", "en", BODY, "e.md")}


def hit(start: int, end: int, score: float = 1.2, text: str | None = None) -> Hit:
    number = 1 if start < 43 else 2  # the paragraph it stands in
    chunk = Chunk(
        "e", number, number, start, end, BODY[start:end] if text is None else text, "en", start + 1
    )
    return Hit(chunk, score, score / 2, None, coverage=1.0)


def test_quotes_are_exact_slices_with_citations():
    answer = compose("q", "en", [hit(0, 29), hit(43, len(BODY))], ESSAYS, Policy())
    assert answer.status == ANSWERED
    assert [q.text for q in answer.quotes] == [BODY[0:29], BODY[43:]]
    assert all(BODY[q.start : q.end] == q.text for q in answer.quotes)


def test_a_quote_that_does_not_match_its_essay_is_dropped():
    answer = compose(
        "q",
        "en",
        [hit(0, 29, text="Something the essay never said."), hit(43, len(BODY))],
        ESSAYS,
        Policy(),
    )
    assert [q.text for q in answer.quotes] == [BODY[43:]]


def test_weak_hits_give_not_found_with_closest_titles():
    answer = compose("q", "zh", [hit(0, 29, score=0.05)], ESSAYS, Policy())
    assert (answer.status, answer.quotes, answer.closest) == (NOT_FOUND, (), ("T & <i>",))


def test_not_found_names_no_essay_that_shares_no_word_with_the_question():
    unrelated = replace(hit(0, 29, score=0.05), coverage=0.0)
    assert compose("asdf qwerty", "en", [unrelated], ESSAYS, Policy()).closest == ()


def test_a_best_passage_the_dense_similarity_alone_would_not_put_first_is_only_related():
    disputed = replace(hit(0, 29), agrees=False)
    assert compose("q", "en", [disputed], ESSAYS, Policy()).status == RELATED
    unchecked = replace(Policy(), check_agreement=False)
    assert compose("q", "en", [disputed], ESSAYS, unchecked).status == ANSWERED
    assert compose("q", "en", [replace(hit(0, 29), agrees=True)], ESSAYS, Policy()).status == (
        ANSWERED
    )


def test_a_question_nearer_an_unanswered_question_is_related_then_not_found():
    policy = replace(Policy(), answer_gap=0.1, related_gap=-0.1)
    assert compose("q", "en", [replace(hit(0, 29), unanswered_gap=0.2)], ESSAYS, policy).status == (
        ANSWERED
    )
    near = replace(hit(0, 29), unanswered_gap=0.0)
    assert compose("q", "en", [near], ESSAYS, policy).status == RELATED
    nearer = compose("q", "en", [replace(hit(0, 29), unanswered_gap=-0.2)], ESSAYS, policy)
    assert (nearer.status, nearer.quotes) == (NOT_FOUND, ())
    # a corpus without unanswered questions does not judge it
    assert compose("q", "en", [hit(0, 29)], ESSAYS, policy).status == ANSWERED


def test_a_question_like_no_reader_question_of_the_passage_gets_no_quote():
    policy = replace(Policy(), quote_similarity=0.3)
    unlike = compose("q", "en", [replace(hit(0, 29), reader_similarity=0.2)], ESSAYS, policy)
    assert (unlike.status, unlike.quotes) == (NOT_FOUND, ())
    like = replace(hit(0, 29), reader_similarity=0.4)
    assert compose("q", "en", [like], ESSAYS, policy).status == ANSWERED
    # a further quote is judged on its own
    other = replace(hit(43, len(BODY)), reader_similarity=0.2)
    assert len(compose("q", "en", [like, other], ESSAYS, policy).quotes) == 1


def test_no_hits_is_not_found():
    assert compose("q", "en", [], ESSAYS, Policy()).status == NOT_FOUND


def test_max_quotes():
    hits = [hit(0, 29), hit(43, len(BODY))]
    assert len(compose("q", "en", hits, ESSAYS, Policy(max_quotes=2)).quotes) == 2
    assert len(compose("q", "en", hits, ESSAYS, Policy(max_quotes=1)).quotes) == 1


def test_no_two_quotes_share_a_paragraph():
    hits = [hit(0, 29), hit(30, 41), hit(43, len(BODY))]
    quotes = compose("q", "en", hits, ESSAYS, Policy()).quotes
    assert [q.text for q in quotes] == [BODY[0:29], BODY[43:]]


def test_a_further_quote_from_another_essay_needs_a_closer_score():
    other = Essay("o", "Other", "en", "Another essay.", "o.md")
    far = Hit(Chunk("o", 1, 1, 0, 14, "Another essay.", "en", 99), 1.1, coverage=1.0)
    essays = {**ESSAYS, "o": other}
    policy = Policy(follow_margin=0.2, other_margin=0.05)
    assert [q.essay_id for q in compose("q", "en", [hit(0, 29), far], essays, policy).quotes] == [
        "e"
    ]
    near = replace(far, score=1.18)
    assert len(compose("q", "en", [hit(0, 29), near], essays, policy).quotes) == 2


def test_plain_rendering_names_title_and_paragraph_in_the_askers_language():
    answer = compose("q", "zh", [hit(43, len(BODY))], ESSAYS, Policy())
    assert plain_blocks(answer) == ["[1] 钉钉 ONE 的教训并不孤立。\n——《T & <i>》第 2 段"]


def test_html_rendering_escapes_corpus_text():
    answer = compose("q", "en", [hit(0, 29)], ESSAYS, Policy())
    block = html_blocks(answer)[0]
    assert "&lt;b&gt;sentence&lt;/b&gt; &amp; more." in block
    assert "T &amp; &lt;i&gt;" in block
    assert html.unescape(re.sub(r"<[^>]+>", "", block)).startswith("[1] First <b>sentence</b>")


@pytest.mark.parametrize("render", [plain_source, html_source])
def test_source_marks_the_quote_inside_its_paragraph(render):
    answer = compose("q", "en", [hit(30, 41)], ESSAYS, Policy())
    source = Source(1, answer.quotes[0], BODY[0:41], 0)
    out = render(source, "en")
    marked = "【Second one.】" if render is plain_source else "<b>Second one.</b>"
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
        "highlights",
        "passage",
        "translation",
    }


BILINGUAL = "钉钉 ONE 的教训并不孤立。\n\n第二段。"
TRANSLATED = "The lesson of DingTalk ONE is not isolated.\n\nParagraph two."
ZH = {"z": Essay("z", "置身钉内?", "zh", BILINGUAL, "z.md")}
EN = {"z": Translation("z", "en", "Inside DingTalk?", "essaybot project", TRANSLATED, "z.en.md")}


def zh_hit() -> Hit:
    chunk = Chunk("z", 1, 1, 0, 15, BILINGUAL[0:15], "zh", 7)
    return Hit(chunk, 1.2, coverage=1.0, words=1.0)


def test_a_reader_of_the_other_language_gets_the_translation_of_the_quoted_paragraphs():
    quote = compose("q", "en", [zh_hit()], ZH, Policy(), EN).quotes[0]
    assert quote.text == BILINGUAL[0:15]  # the quote is the original, verbatim
    assert quote.translation is not None
    assert quote.translation.text == "The lesson of DingTalk ONE is not isolated."
    assert TRANSLATED[quote.translation.start : quote.translation.end] == quote.translation.text
    blocks = plain_blocks(compose("q", "en", [zh_hit()], ZH, Policy(), EN))
    assert "\n\nTranslation — not the author's words:\nThe lesson of" in blocks[0]
    html_out = html_blocks(compose("q", "en", [zh_hit()], ZH, Policy(), EN))
    assert html_out[0].endswith(
        "<blockquote><i>The lesson of DingTalk ONE is not isolated.</i></blockquote>"
    )


def test_a_reader_of_the_essays_language_gets_no_translation():
    assert compose("q", "zh", [zh_hit()], ZH, Policy(), EN).quotes[0].translation is None


def test_json_gives_the_translation_with_its_offsets():
    data = compose("q", "en", [zh_hit()], ZH, Policy(), EN).to_json()
    shown = data["quotes"][0]["translation"]
    assert shown == {"text": TRANSLATED[:43], "lang": "en", "start": 0, "end": 43}


def test_a_related_answer_says_so_before_its_quotes():
    policy = Policy(answer_score=1.5, related_score=0.5)
    answer = compose("q", "en", [zh_hit()], ZH, policy, EN)
    assert answer.status == RELATED
    assert (
        plain_blocks(answer)[0] == "The essays may not answer this directly. The closest passages:"
    )
