"""The one call every front end makes: a question in, an Answer out; plus /source and /forget."""

from __future__ import annotations

import logging
from dataclasses import dataclass

from bot import answer as composer
from bot.answer import Answer
from bot.messages import text
from bot.render import Source
from bot.state import StateStore
from index.errors import IndexCorruptError, QuestionError
from index.lang import detect_lang
from index.models import Essay, Hit
from index.reranker import CrossEncoderReranker
from index.retriever import LiveRetriever, Retriever

logger = logging.getLogger(__name__)
LAST_ANSWER = "last_answer"
CANDIDATES = 10


@dataclass(frozen=True)
class SourceReply:
    """What /source found: the sources, or a fixed message to show instead."""

    lang: str
    sources: tuple[Source, ...] = ()
    message: str | None = None


class Service:
    def __init__(
        self,
        retriever: LiveRetriever,
        state: StateStore,
        policy: composer.Policy | None = None,
        max_chars: int = 2000,
        reranker: CrossEncoderReranker | None = None,
    ) -> None:
        self.retriever = retriever
        self.state = state
        self.policy = policy or composer.Policy()
        self.max_chars = max_chars
        self.reranker = reranker

    def ask(self, question: str, chat: str | None = None) -> Answer:
        """Answer one question; with a chat id, remember the quotes for /source."""
        question = self.check(question)
        lang = detect_lang(question)
        current = self.retriever.get()
        try:
            hits = self._search(current, question)
        except IndexCorruptError:  # a damaged file: the next good generation answers instead
            current = self.retriever.damaged(current)
            hits = self._search(current, question)
        if self.reranker is not None:  # re-scored and re-ordered by the second stage
            hits = self.reranker.rerank(question, hits)[:CANDIDATES]
        answer = composer.compose(
            question, lang, hits, current.essays, self.policy, current.translations
        )
        if chat is not None and answer.quotes:
            self.state.put(chat, LAST_ANSWER, remembered(answer))
        return answer

    def _search(self, current: Retriever, question: str) -> list[Hit]:
        return current.search(
            question,
            self.reranker.top if self.reranker else CANDIDATES,
            topical=composer.wants_number(question, self.policy),
            define=composer.asks_definition(question),
        )

    def check(self, question: str) -> str:
        """The question stripped, or QuestionError with a message fit to show the asker."""
        stripped = question.strip()
        if not stripped:
            raise QuestionError(text("empty_question"))
        if len(stripped) > self.max_chars:
            lang = detect_lang(stripped[:200])
            raise QuestionError(text("too_long", lang, length=len(stripped), limit=self.max_chars))
        return stripped

    def essays(self) -> list[Essay]:
        return list(self.retriever.get().essays.values())

    def sources(self, chat: str, n: int | None = None) -> SourceReply:
        """Full citations of this chat's last answer (just quote n when given)."""
        last = self.state.get(chat, LAST_ANSWER)
        if not last:
            return SourceReply("en", message=text("no_last_answer"))
        lang, keys = last["lang"], last["keys"]
        spans = last.get("spans") or [None] * len(keys)
        if n is not None and not 1 <= n <= len(keys):
            return SourceReply(lang, message=text("no_such_quote", lang, n=n, count=len(keys)))
        wanted = list(enumerate(zip(keys, spans, strict=True), 1))
        wanted = wanted if n is None else [wanted[n - 1]]
        found = [s for s in (self._source(i, key, span, lang) for i, (key, span) in wanted) if s]
        if not found:
            return SourceReply(lang, message=text("quote_gone", lang, n=n or 1))
        return SourceReply(lang, tuple(found))

    def _source(self, n: int, key: int, span: list | None, lang: str) -> Source | None:
        """Quote n's whole passage, its answering sentences marked, and its translation."""
        current = self.retriever.get()
        chunks = current.store.chunks([key])
        if not chunks:
            return None
        chunk = chunks[0]
        essay = current.essays[chunk.essay_id]
        where = current.store.paragraphs_span(chunk.essay_id, chunk.paragraph, chunk.last_paragraph)
        if where is None:
            return None
        quote = composer.quote_of(chunk, essay, 1.0, _absolute(chunk.start, chunk.end, span))
        shown = None
        if lang != essay.lang:
            translation = current.translations.get(essay.id)
            shown = composer.translation_for(
                translation, lang, chunk.paragraph, chunk.last_paragraph
            )
        return Source(n, quote, essay.body[where[0] : where[1]], where[0], shown)

    def forget(self, chat: str) -> int:
        return self.state.forget(chat)


def remembered(answer: Answer) -> dict[str, object]:
    """What /source needs of an answer: each quote's chunk key and, relative to the chunk's
    start (so they survive a rebuild that moves the chunk), its span and highlights."""
    spans = []
    for q in answer.quotes:
        base = q.passage[0]
        marks = [[a - base, b - base] for a, b in q.highlights]
        spans.append([q.start - base, q.end - base, marks])
    return {"lang": answer.lang, "keys": [q.key for q in answer.quotes], "spans": spans}


def _absolute(
    start: int, end: int, span: list | None
) -> tuple[int, int, tuple[tuple[int, int], ...]]:
    """A remembered span made absolute again, kept inside the chunk; the whole chunk when
    there is none (an answer remembered before spans were)."""
    if not span:
        return start, end, ()
    a, b = start + span[0], start + span[1]
    if not start <= a < b <= end:
        return start, end, ()
    marks = tuple((start + x, start + y) for x, y in span[2] if a <= start + x < start + y <= b)
    return a, b, marks
