"""The bilingual sentence splitter and the chunker: tables from the corpus, and properties."""

from itertools import pairwise

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from index.chunking import (
    CHUNKER_VERSION,
    chunk_essay,
    chunk_key,
    sentence_chunks,
    split_paragraphs,
    split_sentences,
)
from index.models import Chunk, Essay


def sentences(text):
    return [text[s.start : s.end] for s in split_sentences(text, 0, len(text))]


def essay(body, lang="en"):
    return Essay(id="e", title="T", lang=lang, body=body, source="e.md")


ZH_QUESTION = (
    "一个方向看似正确的 AI 办公产品,如何在组织目标、商业压力、产品基因和真实用户需求的拉扯中走偏?"
)
APPLE_2007 = (
    "Apple/Great Financial Crisis: iPhone was introduced in 2007; iPhone 3G was introduced in 2008"
)
ABBREVIATED = (
    "Apple Inc. and Dr. Smith met in the U.S. on Sep. 5, e.g. at noon, i.e. early, J. Doe too."
)

CHINESE = [
    ("钉钉 ONE 的教训并不孤立。", ["钉钉 ONE 的教训并不孤立。"]),
    (
        "所以,钉钉 ONE 的教训并不孤立。它只是更完整地呈现了一个趋势的终局:当 AI 办公产品从"
        "“帮人工作”滑向“帮组织看人”,失败几乎是迟早的事。",
        [
            "所以,钉钉 ONE 的教训并不孤立。",
            "它只是更完整地呈现了一个趋势的终局:",
            "当 AI 办公产品从“帮人工作”滑向“帮组织看人”,失败几乎是迟早的事。",
        ],
    ),
    (
        "无独有偶,硅谷也在反复证明同一个结论:当企业试图用数据和 AI 把人的工作过程彻底量化。",
        ["无独有偶,硅谷也在反复证明同一个结论:", "当企业试图用数据和 AI 把人的工作过程彻底量化。"],
    ),
    (
        "产品、设计、研发、商业化、各业务线之间权责不清;业务线为了 AI 指标纷纷接入;一线用户反馈"
        "向上传递时被淡化。",
        [
            "产品、设计、研发、商业化、各业务线之间权责不清;",
            "业务线为了 AI 指标纷纷接入;",
            "一线用户反馈向上传递时被淡化。",
        ],
    ),
    (
        "员工反应很强烈:内部帖子的高赞评论是“这让我非常不舒服,怎么退出?”;公告下最常见反应是愤怒表情。",
        [
            "员工反应很强烈:",
            "内部帖子的高赞评论是“这让我非常不舒服,怎么退出?”;",
            "公告下最常见反应是愤怒表情。",
        ],
    ),
    (ZH_QUESTION, [ZH_QUESTION]),
    ("要么关闭入口,要么消极抵抗,要么表演指标。", ["要么关闭入口,要么消极抵抗,要么表演指标。"]),
    ("甲，乙、丙。丁", ["甲，乙、丙。", "丁"]),
    ("“走吧!”他说。", ["“走吧!”", "他说。"]),
    ("他问：「为什么？」然后走了。", ["他问：", "「为什么？」", "然后走了。"]),
    ("好的……我再想想。", ["好的……", "我再想想。"]),
    ("真的吗?!不会吧！？好吧", ["真的吗?!", "不会吧！？", "好吧"]),
    ("结论：当企业", ["结论：", "当企业"]),
    ("结束了.然后", ["结束了.", "然后"]),
    ("报告.pdf 已发布", ["报告.pdf 已发布"]),
    (
        "核心观点:\n// 产品发心过载\nONE 同时想服务用户、证明钉钉 AI 化。目标太多。",
        ["核心观点:", "// 产品发心过载", "ONE 同时想服务用户、证明钉钉 AI 化。", "目标太多。"],
    ),
]

ENGLISH = [
    ("Apple: 1980", ["Apple: 1980"]),
    (APPLE_2007, [APPLE_2007]),
    (
        "Alibaba used to have Daniel Zhang as CFO and he became CEO in 2015. When he stepped down "
        "in Sep 2023, the annualized return during his tenure is at best bond-like.",
        [
            "Alibaba used to have Daniel Zhang as CFO and he became CEO in 2015.",
            "When he stepped down in Sep 2023, the annualized return during his tenure is at best "
            "bond-like.",
        ],
    ),
    (
        "On top of that there are e-commerce, local services, payments, live-streaming etc. so "
        "overall Douyin app ARPU is a lot higher than pure ads.",
        [
            "On top of that there are e-commerce, local services, payments, live-streaming etc. so "
            "overall Douyin app ARPU is a lot higher than pure ads."
        ],
    ),
    (
        "This could be matching Alibaba’s China e-commerce adj. EBITA in 2026, which dropped.",
        ["This could be matching Alibaba’s China e-commerce adj. EBITA in 2026, which dropped."],
    ),
    (
        "Fighting with PDD is more defending vs. fighting with Meituan is winning new businesses. "
        "KPIs will look more exciting in the new business.",
        [
            "Fighting with PDD is more defending vs. fighting with Meituan is winning new "
            "businesses.",
            "KPIs will look more exciting in the new business.",
        ],
    ),
    (
        "Bilibili generates advertising revenue at about 7.5 rmb per DAU per month, slightly above "
        "$1 ARPU per month.",
        [
            "Bilibili generates advertising revenue at about 7.5 rmb per DAU per month, slightly "
            "above $1 ARPU per month."
        ],
    ),
    (
        "The stock dropped 24.65% in a day. Using $50bn pure ads gives about $5\xa0ARPU per month.",
        [
            "The stock dropped 24.65% in a day.",
            "Using $50bn pure ads gives about $5\xa0ARPU per month.",
        ],
    ),
    (
        "Just comparing ads revenue: Douyin DAU 3-3.5x Meta NA, about 50% of ~$100bn.",
        ["Just comparing ads revenue: Douyin DAU 3-3.5x Meta NA, about 50% of ~$100bn."],
    ),
    (
        "1/ Tencent’s own foundation model Hunyuan is not impressive. However, OpenClaw-like "
        "applications doesn’t rely on any single model.",
        [
            "1/ Tencent’s own foundation model Hunyuan is not impressive.",
            "However, OpenClaw-like applications doesn’t rely on any single model.",
        ],
    ),
    (
        "1) Amazon CEO Andy Jassy outlined $600bn goal in 10 years recently",
        ["1) Amazon CEO Andy Jassy outlined $600bn goal in 10 years recently"],
    ),
    (
        "Tencent Music $TME will no longer report, like this for 4q25 earnings. While $TME gave "
        "similar explanations, it didn’t adapt.",
        [
            "Tencent Music $TME will no longer report, like this for 4q25 earnings.",
            "While $TME gave similar explanations, it didn’t adapt.",
        ],
    ),
    (
        "Nvidia/Russia-Ukraine war: H100 was revealed in Apr 2022",
        ["Nvidia/Russia-Ukraine war: H100 was revealed in Apr 2022"],
    ),
    (
        "Is this discovery mode? Consumers don’t know what to eat.",
        ["Is this discovery mode?", "Consumers don’t know what to eat."],
    ),
    (
        "Alibaba is subsidizing over 40bn RMB per year via Taobao Instant Commerce. (Over 50bn "
        "announced in July 2025 for next 12month; reiterated importance of subsidy in 2026)",
        [
            "Alibaba is subsidizing over 40bn RMB per year via Taobao Instant Commerce.",
            "(Over 50bn announced in July 2025 for next 12month; reiterated importance of subsidy "
            "in 2026)",
        ],
    ),
    (
        "Apple cuts App Store fees in China by 5% – from 30% to 25%. Apple also said it commits "
        "to offer fee level that is “not higher than overall rates in other markets”.",
        [
            "Apple cuts App Store fees in China by 5% – from 30% to 25%.",
            "Apple also said it commits to offer fee level that is “not higher than overall rates "
            "in other markets”.",
        ],
    ),
    ("These are 0.1% of China GDP already! Wow", ["These are 0.1% of China GDP already!", "Wow"]),
    (ABBREVIATED, [ABBREVIATED]),
    ("He said “Stop.” Then he left.", ["He said “Stop.”", "Then he left."]),
    ('She asked "Why?" Nobody knew.', ['She asked "Why?"', "Nobody knew."]),
    (
        "Well.. maybe not. Wait... Then it moved.",
        ["Well.. maybe not.", "Wait...", "Then it moved."],
    ),
    ("Wait… then it moved.", ["Wait… then it moved."]),
    ("1. First item\n2. Second item", ["1. First item", "2. Second item"]),
    (
        "  • Samsung competition\n  • iPhone 5 disappoint",
        ["• Samsung competition", "• iPhone 5 disappoint"],
    ),
    ("Mixue will stay though.\nLet’s see.", ["Mixue will stay though.", "Let’s see."]),
    ("4q25 TME earnings release", ["4q25 TME earnings release"]),
]

MIXED = [
    ("Apple vs China Internet: 礼尚往来", ["Apple vs China Internet: 礼尚往来"]),
    (
        "What shopping mall provides is that consumers are just wandering around / 逛 – this is "
        "how the “discovery” value can be provided.",
        [
            "What shopping mall provides is that consumers are just wandering around / 逛 – this "
            "is how the “discovery” value can be provided."
        ],
    ),
    (
        "Microsoft 的 Productivity Score 是一个很典型的例子。它原本想帮企业理解员工如何使用 "
        "Microsoft 365、Teams、Outlook 等工具,提高组织协作效率。",
        [
            "Microsoft 的 Productivity Score 是一个很典型的例子。",
            "它原本想帮企业理解员工如何使用 Microsoft 365、Teams、Outlook 等工具,"
            "提高组织协作效率。",
        ],
    ),
    (
        "Meta 最初明确表示工作电脑无法 opt out,后来在压力下只开放了非常有限的临时暂停机制。",
        ["Meta 最初明确表示工作电脑无法 opt out,后来在压力下只开放了非常有限的临时暂停机制。"],
    ),
    (
        "有人开始为了显得自己更 AI-native 而刷 token、制造调用量。",
        ["有人开始为了显得自己更 AI-native 而刷 token、制造调用量。"],
    ),
    ("采用了 A.I.技术。", ["采用了 A.I.技术。"]),
    ("It ended. 然后呢?", ["It ended.", "然后呢?"]),
]


@pytest.mark.parametrize(("text", "expected"), CHINESE + ENGLISH + MIXED)
def test_split_sentences(text, expected):
    assert sentences(text) == expected


def test_split_sentences_uses_absolute_offsets_inside_the_range():
    body = "Skip this. Keep this one. And this."
    start = body.index("Keep")
    found = split_sentences(body, start, len(body))
    assert [body[s.start : s.end] for s in found] == ["Keep this one.", "And this."]
    assert found[0].start == start


@pytest.mark.parametrize(
    ("body", "expected"),
    [
        ("a\nb\n\nc", ["a\nb", "c"]),
        ("a\n\xa0\nb", ["a", "b"]),
        ("a\n\u3000\t\nb\n", ["a", "b"]),
        ("\n\n  • one\n  • two  \n\n", ["• one\n  • two"]),
        ("x\r\n\r\ny\r\n", ["x", "y"]),
        ("  \n\xa0\n", []),
        ("", []),
    ],
)
def test_split_paragraphs(body, expected):
    paragraphs = split_paragraphs("e", body)
    assert [body[p.start : p.end] for p in paragraphs] == expected
    assert [p.number for p in paragraphs] == list(range(1, len(expected) + 1))
    assert all(p.essay_id == "e" for p in paragraphs)


def test_chunks_pack_whole_sentences_up_to_max_chars():
    body = "One one one. Two two two. Three three.\n\nFour four four four four four four."
    chunks = chunk_essay(essay(body), max_chars=25)
    assert [(c.paragraph, c.last_paragraph, c.text) for c in chunks] == [
        (1, 1, "One one one. Two two two."),
        (1, 1, "Three three."),
        (2, 2, "Four four four four four four four."),  # longer than max_chars: on its own
    ]


def test_each_paragraph_starts_a_passage_over_the_following_ones_that_fit():
    body = "Short.\n\nShort too. Yes.\n\nA third one."
    chunks = chunk_essay(essay(body), max_chars=400)
    assert [(c.paragraph, c.last_paragraph, c.text) for c in chunks] == [
        (1, 3, body),
        (2, 3, "Short too. Yes.\n\nA third one."),
    ]  # "A third one." alone lies inside the passage before: its sentence scores anyway
    chunks = chunk_essay(essay(body), max_chars=24)  # "Short too. Yes.\n\nA third one." is 29
    assert [c.text for c in chunks] == [
        "Short.\n\nShort too. Yes.",
        "Short too. Yes.",
        "A third one.",
    ]


def test_a_one_sentence_passage_stays_when_no_passage_holds_it():
    line = "One sentence far too long to join the line before it."
    chunks = chunk_essay(essay("Let’s see.\n\n" + line), max_chars=30)
    assert [c.text for c in chunks] == ["Let’s see.", line]


def test_chunk_lang_per_chunk_with_the_essay_lang_for_no_letters():
    body = "2024\n\n拭目以待\n\nHello there."
    assert [c.lang for c in chunk_essay(essay(body, "en"), 5)] == ["en", "zh", "en"]
    assert [c.lang for c in chunk_essay(essay(body, "zh"), 5)] == ["zh", "zh", "en"]


def test_sentence_chunks_are_one_per_sentence():
    body = "A one. B two.\n\n甲。乙。"
    chunks = sentence_chunks(essay(body))
    assert [(c.paragraph, c.text, c.lang) for c in chunks] == [
        (1, "A one.", "en"),
        (1, "B two.", "en"),
        (2, "甲。", "zh"),
        (2, "乙。", "zh"),
    ]


def test_chunk_key_is_stable_and_60_bit():
    assert chunk_key("e", "Let’s see.", 0) == chunk_key("e", "Let’s see.", 0)
    assert chunk_key("e", "text", 0) == 259876428685399973  # sha256-derived: same everywhere
    keys = {chunk_key(i, t, n) for i in "ab" for t in ("x", "y") for n in range(3)}
    assert len(keys) == 12 and all(0 < key < 2**60 for key in keys)


def test_identical_texts_get_distinct_keys_and_identical_chunks_share_one():
    body = "Let’s see.\n\nLet’s see. More text here."
    windows = chunk_essay(essay(body), max_chars=12)
    singles = sentence_chunks(essay(body))
    assert windows[0] == singles[0]
    assert singles[0].text == singles[1].text and singles[0].key != singles[1].key


def test_chunker_version_is_a_string():
    assert isinstance(CHUNKER_VERSION, str) and CHUNKER_VERSION


# Property tests: arbitrary text mixing Han, ASCII, punctuation, spaces, newlines, emoji.

PIECES = [
    *"aZe7中文逛 \xa0\u3000\t\n\r.。！？；：…?!;:,，、”’」)）\"'“(😀•$%/-",
    "e.g.",
    "U.S.",
    "..",
    "1. ",
    "\n\n",
    "\n\xa0\n",
    "  • ",
]
TEXT = st.lists(st.one_of(st.sampled_from(PIECES), st.characters(codec="utf-8")), max_size=120).map(
    "".join
)


def check_sentences(body, start, end, found):
    previous = start
    for sentence in found:
        text = body[sentence.start : sentence.end]
        assert previous <= sentence.start < sentence.end <= end
        assert text == text.strip() and "\n" not in text
        assert body[previous : sentence.start].strip() == ""
        previous = sentence.end
    assert body[previous:end].strip() == ""


@settings(max_examples=300)
@given(TEXT, st.data())
def test_sentences_are_ordered_trimmed_slices_covering_the_range(body, data):
    start = data.draw(st.integers(0, len(body)))
    end = data.draw(st.integers(start, len(body)))
    check_sentences(body, start, end, split_sentences(body, start, end))
    check_sentences(body, 0, len(body), split_sentences(body, 0, len(body)))


@settings(max_examples=300)
@given(TEXT)
def test_paragraphs_are_trimmed_blank_free_and_cover_the_body(body):
    paragraphs = split_paragraphs("e", body)
    previous = 0
    for paragraph in paragraphs:
        text = body[paragraph.start : paragraph.end]
        assert previous <= paragraph.start < paragraph.end and text == text.strip()
        assert all(line.strip() for line in text.split("\n"))
        assert body[previous : paragraph.start].strip() == ""
        previous = paragraph.end
    assert body[previous:].strip() == ""


@settings(max_examples=300)
@given(TEXT, st.integers(1, 80))
def test_chunks_are_slices_from_their_first_to_their_last_paragraph(body, max_chars):
    doc = essay(body)
    paragraphs = {p.number: p for p in split_paragraphs("e", body)}
    chunks = chunk_essay(doc, max_chars)
    singles = sentence_chunks(doc)
    for chunk in chunks + singles:
        first, last = paragraphs[chunk.paragraph], paragraphs[chunk.last_paragraph]
        assert body[chunk.start : chunk.end] == chunk.text
        assert first.start <= chunk.start < first.end and last.start < chunk.end <= last.end
        assert chunk.lang in ("zh", "en")
    assert _ordered(singles) and _sliding(chunks)
    assert _made_of_whole_sentences(chunks, singles)
    assert not any(_one_sentence_inside(c, chunks, singles) for c in chunks)
    long = [c for c in chunks if c.end - c.start > max_chars]
    assert all(any((s.start, s.end) == (c.start, c.end) for s in singles) for c in long)
    spans = {(c.start, c.end): c.key for c in chunks + singles}
    assert len(set(spans.values())) == len(spans)


def _ordered(chunks: list[Chunk]) -> bool:
    return all(a.end <= b.start for a, b in pairwise(chunks))


def _sliding(chunks: list[Chunk]) -> bool:
    """Passages start in order, each after the last one's start, and never end earlier."""
    return all(a.start < b.start and a.end <= b.end for a, b in pairwise(chunks))


def _one_sentence_inside(chunk: Chunk, chunks: list[Chunk], singles: list[Chunk]) -> bool:
    one = any((s.start, s.end) == (chunk.start, chunk.end) for s in singles)
    inside = any(o is not chunk and o.start <= chunk.start and chunk.end <= o.end for o in chunks)
    return one and inside


def _made_of_whole_sentences(chunks: list[Chunk], singles: list[Chunk]) -> bool:
    """Every sentence lies in one chunk, and every chunk starts and ends on sentence edges."""
    starts, ends = {s.start for s in singles}, {s.end for s in singles}
    inside = all(any(c.start <= s.start and s.end <= c.end for c in chunks) for s in singles)
    return inside and all(c.start in starts and c.end in ends for c in chunks)


def test_repeated_texts_get_distinct_keys_and_a_one_sentence_passage_shares_its_sentence_key():
    """Keys come from one pass over the spans (#17: the body was rescanned for every chunk)."""
    body = "Let’s see.\n\nA point. Let’s see.\n\nLet’s see."
    essay = Essay("e", "T", "en", body, "e.md")
    units = chunk_essay(essay) + sentence_chunks(essay)
    by_span: dict[tuple[int, int], set[int]] = {}
    for unit in units:
        by_span.setdefault((unit.start, unit.end), set()).add(unit.key)
    assert all(len(keys) == 1 for keys in by_span.values())  # one key per span
    assert len({next(iter(k)) for k in by_span.values()}) == len(by_span)  # distinct spans
