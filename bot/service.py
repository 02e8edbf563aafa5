"""The one call every front end makes: a question in, an Answer out; plus /source and /forget."""

from __future__ import annotations

import logging
from dataclasses import dataclass

from bot import answer as composer
from bot.answer import Answer
from bot.messages import text
from bot.render import Source
from bot.state import StateStore
from index.errors import QuestionError
from index.lang import detect_lang
from index.models import Essay
from index.retriever import LiveRetriever

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
    ) -> None:
        self.retriever = retriever
        self.state = state
        self.policy = policy or composer.Policy()
        self.max_chars = max_chars

    def ask(self, question: str, chat: str | None = None) -> Answer:
        """Answer one question; with a chat id, remember the quotes for /source."""
        question = self.check(question)
        lang = detect_lang(question)
        current = self.retriever.get()
        hits = current.search(
            question, CANDIDATES, topical=composer.wants_number(question, self.policy)
        )
        answer = composer.compose(question, lang, hits, current.essays, self.policy)
        if chat is not None and answer.quotes:
            self.state.put(
                chat, LAST_ANSWER, {"lang": lang, "keys": [q.key for q in answer.quotes]}
            )
        return answer

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
        if n is not None and not 1 <= n <= len(keys):
            return SourceReply(lang, message=text("no_such_quote", lang, n=n, count=len(keys)))
        wanted = list(enumerate(keys, 1)) if n is None else [(n, keys[n - 1])]
        found = [s for s in (self._source(i, key) for i, key in wanted) if s]
        if not found:
            return SourceReply(lang, message=text("quote_gone", lang, n=n or 1))
        return SourceReply(lang, tuple(found))

    def _source(self, n: int, key: int) -> Source | None:
        current = self.retriever.get()
        chunks = current.store.chunks([key])
        if not chunks:
            return None
        chunk = chunks[0]
        essay = current.essays[chunk.essay_id]
        span = current.store.paragraphs_span(chunk.essay_id, chunk.paragraph, chunk.last_paragraph)
        if span is None:
            return None
        quote = composer.quote_of(chunk, essay.title, 1.0)
        return Source(n, quote, essay.body[span[0] : span[1]], chunk.start - span[0])

    def forget(self, chat: str) -> int:
        return self.state.forget(chat)
