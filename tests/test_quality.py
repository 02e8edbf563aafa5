"""Answer quality: cross-language retrieval with the real default embedder, abstention, and the
quote invariant. No dev figure is asserted; the questions here are not dev questions."""

from __future__ import annotations

import json

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from bot.answer import ANSWERED, NOT_FOUND, RELATED, Policy, asks_for_number, decide, has_number
from bot.service import Service
from index.cedict import cedict_lines, proper_names
from index.chunking import split_sentences
from index.fusion import ChunkScorer, centre, language_means
from index.lexicon import build_lexicon, cedict_pairs, sense_words
from index.models import Chunk, Hit
from index.tokenize import keyword_tokens
from tests.paths import DEV


@pytest.fixture
def service(default_service: Service) -> Service:
    return default_service


@pytest.mark.parametrize(
    ("question", "essay"),
    [
        ("Why did Amazon remove its internal AI usage leaderboard?", "dingtalk-one"),
        ("How did Meta's staff react to the mouse and keyboard tracking?", "dingtalk-one"),
        ("腾讯音乐股价一天跌了多少?", "stopping-disclosure"),
        ("哔哩哔哩每个日活用户的广告收入是多少?", "ads-arpu"),
    ],
)
def test_a_question_finds_the_essay_in_the_other_language(service, question, essay):
    answer = service.ask(question)
    # found, and quoted first; how sure the answer is belongs to the decision (`essaybot
    # eval`): the Meta question is only `related` since round 8, as questions the essays leave
    # unanswered about Meta's tracking lie near it
    assert answer.status in (ANSWERED, RELATED)
    assert answer.quotes[0].essay_id == essay


@pytest.mark.parametrize(
    "question",
    [
        "钉钉是哪一年成立的?",
        "美团有多少员工?",
        "How many people work at Tencent Music?",
        "Who is the CEO of Kuaishou?",  # answered before the unanswered questions (round 8)
    ],
)
def test_a_question_the_essays_do_not_answer_is_never_answered(service, question):
    answer = service.ask(question)
    assert answer.status != ANSWERED  # at most "related", which says it may not answer
    assert answer.quotes or answer.closest


@pytest.mark.xfail(
    strict=True,
    reason="known gap (docs/retrieval.md, rounds 6 and 8): the passage holds the question's "
    "subject and half its words, and no unanswered question is near enough to tell it apart",
)
@pytest.mark.parametrize("question", ["did Meta get sued over the mouse tracking program?"])
def test_a_near_miss_question_is_not_answered(service, question):
    assert service.ask(question).status != ANSWERED


def test_every_quote_for_every_dev_question_is_a_verbatim_slice_of_its_paragraphs(service):
    essays = service.retriever.get().essays
    store = service.retriever.get().store
    for line in DEV.read_text(encoding="utf-8").splitlines():
        quotes = service.ask(json.loads(line)["question"]).quotes
        for quote in quotes:
            assert essays[quote.essay_id].body[quote.start : quote.end] == quote.text
            span = store.paragraphs_span(quote.essay_id, quote.paragraph, quote.last_paragraph)
            assert span and span[0] <= quote.start <= quote.end <= span[1]
        chunks = store.chunks([q.key for q in quotes])
        assert len(chunks) == len(quotes)
        assert not any(a.overlaps(b) for i, a in enumerate(chunks) for b in chunks[:i])


# ---------- abstention, pure ----------


@pytest.mark.parametrize(
    ("question", "expected"),
    [
        ("How many users does it have?", True),
        ("how much did it cost", True),
        ("In which year was it founded?", True),
        ("抖音的广告收入是多少?", True),
        ("它是哪一年发布的?", True),
        ("什么时候上线", True),
        ("Why did the stock fall?", False),
        ("把这几个案例放一起看,结论是什么?", False),
        ("What does the author expect next?", False),
    ],
)
def test_asks_for_number(question, expected):
    assert asks_for_number(question) is expected


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("The stock dropped 24.65% in a day.", True),
        ("用户规模增长了三倍。", True),
        ("Ｈ１００", True),
        ("一个方向看似正确的 AI 办公产品", False),
        ("Storms might be coming for Nvidia.", False),
    ],
)
def test_has_number(text, expected):
    assert has_number(text) is expected


def _hit(text: str, score: float) -> Hit:
    return Hit(Chunk("e", 1, 1, 0, len(text), text, "en", 1), score)


def answers(question: str, hits: list[Hit], policy: Policy) -> bool:
    return decide(question, hits, policy)[0] == ANSWERED


@pytest.mark.parametrize(
    ("question", "text", "score", "expected"),
    [
        ("why?", "Because.", 0.8, True),
        ("why?", "Because.", 0.1, False),  # below the floor
        ("how many?", "Many.", 0.8, False),  # asks for a number, the passage has none
        ("how many?", "About 800mn.", 0.8, True),
    ],
)
def test_answers(question, text, score, expected):
    assert answers(question, [_hit(text, score)], Policy(answer_score=0.3)) is expected


def test_the_number_must_be_in_a_sentence_holding_a_word_of_the_question():
    text = "Users are no longer reported. The stock dropped 24.65% in a day."
    beside = Hit(_hit(text, 0.8).chunk, 0.8, topical=("Users are no longer reported.",))
    assert not answers("how many users?", [beside], Policy(answer_score=0.3))
    inside = Hit(_hit(text, 0.8).chunk, 0.8, topical=("The stock dropped 24.65% in a day.",))
    assert answers("how much did the stock drop?", [inside], Policy(answer_score=0.3))


@pytest.mark.parametrize("question", ["腾讯音乐股价一天跌了多少?", "How many users has Bilibili?"])
def test_the_retriever_marks_the_sentences_holding_a_word_of_the_question(service, question):
    retriever = service.retriever.get()
    targets = set().union(*(retriever.question_words(question) or {}).values())
    assert all(hit.topical is None for hit in retriever.search(question, 3))
    best, *rest = retriever.search(question, 3, topical=True)
    body = retriever.essays[best.chunk.essay_id].body
    spans = split_sentences(body, best.chunk.start, best.chunk.end)
    sentences = [body[s.start : s.end] for s in spans]
    assert best.topical == tuple(s for s in sentences if targets & set(keyword_tokens(s)))
    assert best.topical and all(hit.topical is None for hit in rest)


def test_the_best_hit_says_whether_the_dense_similarity_alone_puts_it_first(service):
    retriever = service.retriever.get()
    questions = [
        json.loads(line)["question"] for line in DEV.read_text(encoding="utf-8").splitlines()[:12]
    ]
    for question in questions:
        alone, *rest = retriever.search(question, 3, keyword_weight=0.0)
        assert alone.agrees is True and all(hit.agrees is None for hit in rest)
    # a keyword weight that swamps the similarity puts some other passage first
    swamped = [retriever.search(q, 1, keyword_weight=50.0)[0].agrees for q in questions]
    assert False in swamped


def test_the_number_check_can_be_turned_off():
    assert answers("how many?", [_hit("Many.", 0.8)], Policy(answer_score=0.3, check_numbers=False))


def test_no_hits_never_answer():
    assert not answers("why?", [], Policy(answer_score=-1.0))


# ---------- fusion, pure ----------


def test_centring_removes_the_shared_language_direction():
    rng = np.random.default_rng(0)
    zh_offset, en_offset = np.eye(8)[0] * 3, np.eye(8)[1] * 3
    rows = np.vstack([rng.normal(size=(5, 8)) + zh_offset, rng.normal(size=(5, 8)) + en_offset])
    langs = ["zh"] * 5 + ["en"] * 5
    means = language_means(rows, langs)
    centred = centre(rows, langs, means, [slice(0, 4), slice(4, 8)])
    assert np.allclose(np.linalg.norm(centred, axis=1), 1.0, atol=1e-5)
    assert abs(centred[:5, 0].mean()) < 0.2 and abs(centred[5:, 1].mean()) < 0.2


def test_an_unknown_language_is_centred_on_the_overall_mean():
    rows = np.array([[1.0, 0.0], [0.0, 1.0]], dtype=np.float32)
    means = language_means(rows, ["zh", "en"])
    out = centre(np.array([[1.5, 0.5]], dtype=np.float32), ["fr"], means, [slice(0, 2)])
    assert np.allclose(out, [[1.0, 0.0]])  # (1.5, 0.5) minus the mean of both rows, (0.5, 0.5)


def test_a_chunk_scores_itself_and_its_best_sentence():
    # chunk 10 holds sentences 11 and 12; chunk 20 is one sentence (among its own owners)
    owners = {11: [10], 12: [10], 20: [20]}
    scores = ChunkScorer([10, 11, 12, 20], owners)({10: 0.5, 11: 0.2, 12: 0.7, 20: 0.6})
    assert scores == {10: (0.5, 0.7), 20: (0.6, 0.6)}


def test_a_sentence_in_overlapping_chunks_counts_for_each():
    # chunk 10 holds sentences 11 and 12, chunk 12 is sentence 12 alone: 12 is in both
    owners = {11: [10], 12: [10, 12]}
    scores = ChunkScorer([10, 11, 12], owners)({10: 0.5, 11: 0.2, 12: 0.7})
    assert scores == {10: (0.5, 0.7), 12: (0.7, 0.7)}


def test_a_chunk_only_its_sentence_reached_gets_the_lowest_seen_score():
    scores = ChunkScorer([10, 11, 20], {11: [10], 20: [20]})({11: 0.9, 20: 0.1})
    assert scores[10] == (0.1, 0.9)


def test_a_reader_question_scores_its_chunks_like_a_sentence_and_is_no_chunk():
    scores = ChunkScorer([10, 40], {40: [10]})({10: 0.2, 40: 0.8})
    assert scores == {10: (0.2, 0.8)}


def _reference_chunk_scores(units, owners, views):
    """The plain loop the scorer replaces: the definition it must keep."""
    floor = min(units.values(), default=0.0)
    best, own = {}, {}
    for key, score in units.items():
        for chunk in owners.get(key, ()):
            best[chunk] = max(best.get(chunk, floor), score)
        for chunk in views.get(key, ()):
            own[chunk] = max(own.get(chunk, floor), score)
        if key not in views and (key not in owners or key in owners[key]):
            own[key] = max(own.get(key, floor), score)
    return {key: (own.get(key, floor), best.get(key, floor)) for key in set(best) | set(own)}


@settings(max_examples=200, deadline=None)
@given(
    st.dictionaries(st.integers(0, 30), st.lists(st.integers(0, 30), max_size=3), max_size=12),
    st.dictionaries(st.integers(31, 40), st.lists(st.integers(0, 30), max_size=2), max_size=4),
    st.lists(st.integers(0, 40), unique=True, max_size=25),
    st.randoms(use_true_random=False),
)
def test_the_scorer_equals_the_plain_loop_on_any_maps(owners, views, returned, rng):
    every = sorted(set(range(41)))
    units = {key: round(rng.uniform(-1, 1), 3) for key in returned}
    got = ChunkScorer(every, owners, views)(units)
    want = _reference_chunk_scores(units, owners, views)
    assert got.keys() == want.keys()
    for key, pair in want.items():
        assert got[key] == pytest.approx(pair)


# ---------- the lexicon and "the corpus knows none of these words" ----------


@pytest.mark.parametrize(
    "question",
    [
        "What is the capital of France?",
        "qwzx vbnm plokij",
        "How do I bake sourdough bread?",
        "Tell me a joke",
        "asdf asdf asdf",
        "What's the weather like tomorrow?",
        "如何做红烧肉?",
        "量子计算机的原理是什么",
    ],
)
def test_nonsense_and_general_knowledge_get_not_found(service, question):
    assert service.ask(question).status == NOT_FOUND


def test_the_lexicon_maps_words_both_ways_and_only_onto_corpus_words():
    pairs = cedict_pairs(["衡量 衡量 [heng2 liang2] /to measure/to weigh/", "# comment"])
    lexicon = build_lexicon({"measure", "衡量", "the"}, pairs)
    assert ("衡量", "measure") in lexicon and ("measure", "衡量") in lexicon
    assert ("weigh", "衡量") in lexicon and ("衡量", "weigh") not in lexicon
    assert ("the", "the") not in lexicon  # a function word is never matched


@pytest.mark.parametrize(
    ("sense", "expected"),
    [
        ("to measure", ["measure"]),
        ("e-commerce (abbr. for 電子商務)", ["commerce"]),
        ("CL:個|个[ge4]", []),
        ("a long explanation of a word that is not a translation", []),
        ("to make a distinction", []),  # a phrase: "make" is no translation of it
        ("Taobao, a Chinese online shopping website", ["taobao"]),
        ("to tell; to inform", ["tell", "inform"]),
    ],
)
def test_sense_words(sense, expected):
    assert sense_words(sense) == expected


def test_the_real_dictionary_is_shipped():
    assert any(zh == "衡量" for zh, _ in cedict_pairs(cedict_lines()))


def test_proper_names_are_the_capitalised_entries_of_two_han_characters_or_more():
    lines = [
        "釘釘 钉钉 [Ding1 ding1] /DingTalk, business communication platform developed by Alibaba/",
        "衡量 衡量 [heng2 liang5] /to weigh/to examine/",  # not a name
        "王 王 [Wang2] /surname Wang/",  # one character
        "# a comment line",
    ]
    assert proper_names(iter(lines)) == ["钉钉"]


@pytest.mark.parametrize(
    ("text", "token"),
    [("钉钉是谁在付钱?", "钉钉"), ("阿里钉钉", "钉钉"), ("拼多多的广告", "拼多多")],
)
def test_a_name_jieba_lacks_is_one_keyword_token(text, token):
    assert token in keyword_tokens(text)


def test_the_real_lexicon_bridges_names_but_not_the_words_of_a_phrase():
    lexicon = build_lexicon(
        {"taobao", "dingtalk", "make", "difference"}, cedict_pairs(cedict_lines())
    )
    assert {("淘宝", "taobao"), ("钉钉", "dingtalk"), ("区别", "difference")} <= lexicon
    assert ("区别", "make") not in lexicon  # from "to make a distinction"


def test_a_passage_holding_too_few_of_the_questions_words_is_not_answered():
    hit = Hit(Chunk("e", 1, 1, 0, 8, "Because.", "en", 1), 0.9, coverage=0.0, words=0.0)
    assert not answers("why?", [hit], Policy(answer_score=0.3, answer_words=0.5))
    assert answers("why?", [hit], Policy(answer_score=0.3, answer_words=0.0))
