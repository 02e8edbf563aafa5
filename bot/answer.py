"""Pure answer composition: ranked hits in, an Answer made only of verbatim quotes out.

Nothing here writes a sentence of its own about the essays: a quote is a slice of an essay
body, checked character for character before it is used; everything else a reader sees is
a fixed interface string (bot.messages).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass

from index.models import Chunk, Essay, Hit

ANSWERED = "answered"
NOT_FOUND = "not_found"


@dataclass(frozen=True)
class Quote:
    text: str
    essay_id: str
    title: str
    paragraph: int
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
            "quotes": [
                {
                    k: getattr(q, k)
                    for k in ("text", "essay_id", "title", "paragraph", "start", "end", "score")
                }
                for q in self.quotes
            ],
            "closest": list(self.closest),
        }


@dataclass(frozen=True)
class Policy:
    """When hits count as an answer, and how many quotes an answer shows."""

    min_dense: float = 0.30
    max_quotes: int = 3
    closest_essays: int = 2


def is_verbatim(quote: Quote, essays: Mapping[str, Essay]) -> bool:
    essay = essays.get(quote.essay_id)
    return essay is not None and essay.body[quote.start : quote.end] == quote.text


def quote_of(chunk: Chunk, title: str, score: float) -> Quote:
    return Quote(
        chunk.text,
        chunk.essay_id,
        title,
        chunk.paragraph,
        chunk.start,
        chunk.end,
        round(score, 6),
        chunk.key,
    )


def answers(hits: Sequence[Hit], policy: Policy) -> bool:
    """Whether the best hit is relevant enough to quote at all."""
    return bool(hits) and (hits[0].dense or 0.0) >= policy.min_dense


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
    if not answers(hits, policy) or not quotes:
        return Answer(question, lang, NOT_FOUND, closest=closest_titles(quotes, policy))
    return Answer(question, lang, ANSWERED, tuple(quotes[: policy.max_quotes]))


def closest_titles(quotes: Sequence[Quote], policy: Policy) -> tuple[str, ...]:
    titles = dict.fromkeys(q.title for q in quotes)
    return tuple(titles)[: policy.closest_essays]
