"""Pure answer composition: ranked hits in, an Answer made only of verbatim quotes out.

Nothing here writes a sentence of its own about the essays: a quote is a slice of an essay
body, checked character for character before it is used; everything else a reader sees is
a fixed interface string (bot.messages).
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from dataclasses import asdict, dataclass

from index.models import Chunk, Essay, Hit

ANSWERED = "answered"
NOT_FOUND = "not_found"


@dataclass(frozen=True)
class Quote:
    text: str
    essay_id: str
    title: str
    paragraph: int
    last_paragraph: int
    start: int
    end: int
    score: float
    key: int  # the chunk it came from, so /source can find it again after a rebuild


@dataclass(frozen=True)
class Answer:
    question: str
    lang: str
    status: str
    quotes: tuple[Quote, ...] = ()
    closest: tuple[str, ...] = ()  # essay titles, offered when nothing answers

    def to_json(self) -> dict[str, object]:
        return {
            "question": self.question,
            "lang": self.lang,
            "status": self.status,
            "quotes": [  # every field but the internal chunk key
                {k: v for k, v in asdict(q).items() if k != "key"} for q in self.quotes
            ],
            "closest": list(self.closest),
        }


@dataclass(frozen=True)
class Policy:
    """When hits count as an answer, and how many quotes an answer shows.

    min_score is on Hit.score (a passage's language-centred similarity plus its best
    sentence's; about 0.2 to 1.3 with the default embedder). It is a last-resort floor, not a
    relevance test: scores do not separate questions the essays answer from ones they do not
    (the two cross-validation folds of scripts/calibrate.py pick 0.27 and 0.0). Questions that
    match nothing are turned down by the word check (check_words). Passages of several short
    paragraphs score lower than single paragraphs did, so the round-2 floor of 0.30 became
    0.20, under the lowest dev score, 0.22 (docs/retrieval.md, round 4)."""

    min_score: float = 0.20
    max_quotes: int = 3
    closest_essays: int = 2
    check_numbers: bool = True  # a question asking for a number needs one in a topical sentence
    check_words: bool = True  # the essay quoted must hold a content word of the question


# Questions whose answer is a number, a year or a date, in English and Chinese. Generic
# interrogatives only (no topic words): "几" is left out, as "这几个" means "these few".
_ASKS_NUMBER = re.compile(
    r"\bhow (?:many|much)\b|\b(?:what|which) (?:year|date|day)\b"
    r"|多少|哪一?年|哪一?天|什么时候|何时",
    re.IGNORECASE,
)
# A digit, or Han numerals followed by a unit of time, a multiple or a percentage.
_HAS_NUMBER = re.compile(r"\d|[〇零一二三四五六七八九十百千万亿两]+[年月日天号倍成%]")


def asks_for_number(question: str) -> bool:
    return _ASKS_NUMBER.search(question) is not None


def wants_number(question: str, policy: Policy) -> bool:
    """Whether the number check applies: the retriever then marks the best hit's sentences
    that hold a word of the question (Retriever.search's `topical`)."""
    return policy.check_numbers and asks_for_number(question)


def has_number(text: str) -> bool:
    return _HAS_NUMBER.search(text) is not None


def is_verbatim(quote: Quote, essays: Mapping[str, Essay]) -> bool:
    essay = essays.get(quote.essay_id)
    return essay is not None and essay.body[quote.start : quote.end] == quote.text


def quote_of(chunk: Chunk, title: str, score: float) -> Quote:
    return Quote(
        chunk.text,
        chunk.essay_id,
        title,
        chunk.paragraph,
        chunk.last_paragraph,
        chunk.start,
        chunk.end,
        round(score, 6),
        chunk.key,
    )


def answers(question: str, hits: Sequence[Hit], policy: Policy) -> bool:
    """Whether the best hit may be quoted: it clears the score floor; its essay holds at least
    one content word of the question, in either language (keyboard mash and questions on
    other subjects share none with it); and when the question asks for a number, a sentence
    of the passage that holds a word of the question has one (a number beside the topic, in
    a neighbouring line about something else, does not answer)."""
    if not hits or hits[0].score < policy.min_score:
        return False
    if policy.check_words and hits[0].coverage == 0.0:
        return False
    if not wants_number(question, policy):
        return True
    best = hits[0]
    sentences = best.topical if best.topical is not None else (best.chunk.text,)
    return any(has_number(sentence) for sentence in sentences)


def compose(
    question: str, lang: str, hits: Sequence[Hit], essays: Mapping[str, Essay], policy: Policy
) -> Answer:
    """Quotes for the best hits, or not_found with the closest essays' titles."""
    candidates = (
        quote_of(h.chunk, essays[h.chunk.essay_id].title, h.score)
        for h in hits
        if h.chunk.essay_id in essays
    )
    quotes = [q for q in candidates if is_verbatim(q, essays)]
    if not answers(question, hits, policy) or not quotes:
        return Answer(question, lang, NOT_FOUND, closest=closest_titles(quotes, policy))
    return Answer(question, lang, ANSWERED, tuple(quotes[: policy.max_quotes]))


def closest_titles(quotes: Sequence[Quote], policy: Policy) -> tuple[str, ...]:
    titles = dict.fromkeys(q.title for q in quotes)
    return tuple(titles)[: policy.closest_essays]
