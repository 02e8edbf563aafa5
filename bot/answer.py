"""Pure answer composition: ranked hits in, an Answer made only of verbatim quotes out.

Nothing here writes a sentence of its own about the essays: a quote is a slice of an essay
body, checked character for character before it is used; a translation shown under it is a
slice of the translation's body, checked the same way; everything else a reader sees is a
fixed interface string (bot.messages).

One step decides how sure the answer is (`decide`), over what the retriever returned and
nothing else, with the thresholds of one frozen `Policy` (docs/retrieval.md says how they
were fitted and on which questions):
- `answered`: the best passage clears the answer thresholds (its score; the share of the
  question's words it holds, in either language; and how much closer the question is to a
  reader question the passage answers than to one the essays leave unanswered, index.cues),
  it also comes first on the dense similarity alone (the keyword evidence agrees rather than
  decides), and, when the question asks for a number, a sentence of it that holds a word of
  the question has one;
- `related`: the essays discuss the subject (the best passage clears the lower thresholds)
  but may not answer; the reply says so before the quotes;
- `not_found`: neither; the closest essays are named only when they share a word with the
  question.
Any quote needs the question to resemble a reader question its passage answers
(`quote_similarity`): the essays discuss what it asks about. Each further quote passes the
same test as the first and stays close to it in score; a quote from another essay than the
first's must be closer still. A quote leads with the sentences that answer: its best
sentence, marked, and the neighbouring sentences of the passage that fit in `quote_chars`,
with the whole passage one step away (`passage`, /source).
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from dataclasses import asdict, dataclass, replace

from index.chunking import split_paragraphs
from index.models import Chunk, Essay, Hit, Translation

ANSWERED = "answered"
RELATED = "related"
NOT_FOUND = "not_found"
STATUSES = (ANSWERED, RELATED, NOT_FOUND)


@dataclass(frozen=True)
class TranslationText:
    """The translation of the paragraphs a quote stands in: never the author's words."""

    text: str
    lang: str
    start: int  # offsets in the translation file's body
    end: int
    translator: str


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
    highlights: tuple[tuple[int, int], ...] = ()  # essay offsets of the answering sentences
    passage: tuple[int, int] = (0, 0)  # essay offsets of the whole passage it was drawn from
    translation: TranslationText | None = None


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
            "quotes": [_quote_json(q) for q in self.quotes],
            "closest": list(self.closest),
        }


def _quote_json(quote: Quote) -> dict[str, object]:
    """Every field but the internal chunk key; pairs as lists, `passage` as {start, end}."""
    data = {k: v for k, v in asdict(quote).items() if k != "key"}
    data["highlights"] = [list(span) for span in quote.highlights]
    data["passage"] = {"start": quote.passage[0], "end": quote.passage[1]}
    if quote.translation is not None:
        data["translation"] = {
            k: v for k, v in asdict(quote.translation).items() if k != "translator"
        }
    return data


@dataclass(frozen=True)
class Policy:
    """The decision's thresholds and the shape of an answer, in one frozen object.

    Scores are Hit.score (a passage's language-centred similarity plus its best sentence's,
    plus the weighted keyword evidence; about 0.2 to 2 with the default embedder); `words`
    is Hit.words, the share of the question's content words the passage or its translation
    holds; `gap` is Hit.unanswered_gap (about -0.6 to 0.6: below 0, the question is nearer a
    question the essays leave unanswered than any question the passage answers). The
    defaults were fitted on the `tune` halves of tests/data/questions.jsonl, questions-2.jsonl
    and questions-3.jsonl only, by scripts/fit_policy.py (docs/retrieval.md)."""

    answer_score: float = 1.107
    answer_words: float = 0.01
    related_score: float = 0.891
    related_words: float = 0.01  # any one word of the question
    follow_margin: float = 0.3  # a further quote from the first quote's essay
    other_margin: float = 0.0  # a further quote from another essay: stricter
    highlight_margin: float = 0.05  # sentences this close to the best one are marked
    max_quotes: int = 3
    quote_chars: int = 300
    closest_essays: int = 2
    check_numbers: bool = True  # a question asking for a number needs one in a topical sentence
    # `answered` needs the best passage to come first on the dense similarity alone too
    # (Hit.agrees): the keyword evidence must not be what put it there
    check_agreement: bool = True
    # the question must be this much closer to a reader question the essays answer than to
    # one they leave unanswered (Hit.unanswered_gap, index.cues) for `answered`, and for
    # `related`; not judged when there is nothing to compare (no unanswered questions, or
    # none the passage answers)
    answer_gap: float = -0.021
    related_gap: float = -0.146
    # any quote needs the question to be at least this similar to a reader question its
    # passage answers (Hit.reader_similarity): the essays discuss what it asks about
    quote_similarity: float = 0.344
    # with a reranker (index.reranker), `answered` also needs its score at least this (a
    # CrossEncoder's logit: 0 is even odds); not fitted here, as no reranker ships
    rerank_answer: float = 0.0


# Questions whose answer is a number, a year or a date, in English and Chinese. Generic
# interrogatives only (no topic words): "几" is left out, as "这几个" means "these few".
_ASKS_NUMBER = re.compile(
    r"\bhow (?:many|much)\b|\b(?:what|which) (?:year|date|day)\b|^\W*when\b"
    r"|多少|哪一?年|哪一?天|什么时候|何时",
    re.IGNORECASE,
)
# Questions asking what something is: generic forms only, no topic words.
_ASKS_DEFINITION = re.compile(
    r"^\W*(?:what(?:'s| is| are| was)|what does .+ mean|define\b|who (?:is|are)\b)"
    r"|是什么|是啥|是个什么|什么是|指的是什么|是谁",
    re.IGNORECASE,
)
# A digit, or Han numerals followed by a unit of time, a multiple or a percentage.
_HAS_NUMBER = re.compile(r"\d|[〇零一二三四五六七八九十百千万亿两]+[年月日天号倍成%]")


def asks_for_number(question: str) -> bool:
    return _ASKS_NUMBER.search(question) is not None


def asks_definition(question: str) -> bool:
    return _ASKS_DEFINITION.search(question) is not None


def wants_number(question: str, policy: Policy) -> bool:
    """Whether the number check applies: the retriever then marks the best hit's sentences
    that hold a word of the question (Retriever.search's `topical`)."""
    return policy.check_numbers and asks_for_number(question)


def has_number(text: str) -> bool:
    return _HAS_NUMBER.search(text) is not None


def is_verbatim(quote: Quote, essays: Mapping[str, Essay]) -> bool:
    essay = essays.get(quote.essay_id)
    return essay is not None and essay.body[quote.start : quote.end] == quote.text


def passes(hit: Hit, score: float, words: float, gap: float, similarity: float) -> bool:
    """Whether a hit clears a floor: its score, the share of the question's words it holds,
    how much closer the question is to a reader question it answers than to one the essays
    leave unanswered, and how similar to that reader question (the last three always, when
    not judged)."""
    return (
        hit.score >= score
        and judged_or(hit.words, words) >= words
        and judged_or(hit.unanswered_gap, gap) >= gap
        and judged_or(hit.reader_similarity, similarity) >= similarity
    )


def judged_or(value: float | None, default: float) -> float:
    """A hit's signal, or `default` when it was not judged (None)."""
    return default if value is None else value


def number_ok(question: str, hit: Hit, policy: Policy) -> bool:
    """When the question asks for a number, a sentence of the passage that holds a word of
    the question has one (a number in a neighbouring line about something else does not
    answer)."""
    if not wants_number(question, policy):
        return True
    sentences = hit.topical if hit.topical is not None else (hit.chunk.text,)
    return any(has_number(sentence) for sentence in sentences)


def decide(question: str, hits: Sequence[Hit], policy: Policy) -> tuple[str, list[Hit]]:
    """The outcome and the hits to quote, best first: the one pure decision step."""
    if not hits:
        return NOT_FOUND, []
    best = hits[0]
    answer = (policy.answer_score, policy.answer_words, policy.answer_gap, policy.quote_similarity)
    related = (
        policy.related_score,
        policy.related_words,
        policy.related_gap,
        policy.quote_similarity,
    )
    if (
        passes(best, *answer)
        and number_ok(question, best, policy)
        and (not policy.check_agreement or best.agrees is not False)
    ):
        status, floor = ANSWERED, answer
    elif passes(best, *related):
        status, floor = RELATED, related
    else:
        return NOT_FOUND, []
    return status, [best, *followers(best, hits[1:], floor, policy)][: policy.max_quotes]


def followers(
    best: Hit, rest: Sequence[Hit], floor: tuple[float, float, float, float], policy: Policy
) -> list[Hit]:
    """The further hits worth quoting: they clear the first one's thresholds and stay within
    a margin of its score (a smaller one when they come from another essay), and share no
    paragraph with a hit already chosen (its translation would be shown twice)."""
    chosen: list[Hit] = []
    shown = _paragraphs_of(best)
    for hit in rest:
        same = hit.chunk.essay_id == best.chunk.essay_id
        margin = policy.follow_margin if same else policy.other_margin
        close = passes(hit, *floor) and hit.score >= best.score - margin
        if close and not shown & _paragraphs_of(hit):
            chosen.append(hit)
            shown |= _paragraphs_of(hit)
    return chosen


def _paragraphs_of(hit: Hit) -> set[tuple[str, int]]:
    chunk = hit.chunk
    return {(chunk.essay_id, n) for n in range(chunk.paragraph, chunk.last_paragraph + 1)}


def quote_span(hit: Hit, policy: Policy) -> tuple[int, int, tuple[tuple[int, int], ...]]:
    """(start, end, highlights): the passage's best sentence, widened one neighbour at a time
    (the better-scoring side first) while the whole fits in quote_chars; the sentences near
    the best score are highlighted."""
    sentences = list(hit.sentences) or [(hit.chunk.start, hit.chunk.end, hit.score)]
    best = max(range(len(sentences)), key=lambda j: sentences[j][2])
    lo = hi = best
    while (step := _widen(sentences, lo, hi, policy.quote_chars)) is not None:
        lo, hi = step
    top = sentences[best][2]
    marked = tuple(
        (a, b) for a, b, score in sentences[lo : hi + 1] if score >= top - policy.highlight_margin
    )
    return sentences[lo][0], sentences[hi][1], marked


def _widen(
    sentences: Sequence[tuple[int, int, float]], lo: int, hi: int, limit: int
) -> tuple[int, int] | None:
    """The window lo..hi grown by its better-scoring neighbour that still fits, or None."""
    sides = [(lo - 1, hi)] if lo > 0 else []
    sides += [(lo, hi + 1)] if hi + 1 < len(sentences) else []
    sides.sort(key=lambda s: sentences[s[0] if s[0] < lo else s[1]][2], reverse=True)
    for a, b in sides:
        if sentences[b][1] - sentences[a][0] <= limit:
            return a, b
    return None


def quote_of(
    chunk: Chunk, essay: Essay, score: float, span: tuple[int, int, tuple[tuple[int, int], ...]]
) -> Quote:
    """The quote for essay.body[start:end], drawn from `chunk`."""
    start, end, highlights = span
    first, last = _paragraphs(essay, start, end)
    return Quote(
        essay.body[start:end],
        chunk.essay_id,
        essay.title,
        first,
        last,
        start,
        end,
        round(score, 6),
        chunk.key,
        highlights,
        (chunk.start, chunk.end),
    )


def _paragraphs(essay: Essay, start: int, end: int) -> tuple[int, int]:
    """The numbers of the first and last paragraphs that the span start..end touches."""
    touched = [
        p.number for p in split_paragraphs(essay.id, essay.body) if p.start < end and start < p.end
    ]
    return (touched[0], touched[-1]) if touched else (1, 1)


def translation_for(
    translation: Translation | None, lang: str, first: int, last: int
) -> TranslationText | None:
    """The translation of paragraphs first..last, when the asker reads `lang` and one exists."""
    if translation is None or translation.lang != lang:
        return None
    paragraphs = split_paragraphs(translation.essay_id, translation.body)
    if len(paragraphs) < last:
        return None
    start = paragraphs[first - 1].start
    end = paragraphs[last - 1].end
    return TranslationText(
        translation.body[start:end], translation.lang, start, end, translation.translator
    )


def translation_is_verbatim(quote: Quote, translations: Mapping[str, Translation]) -> bool:
    """No translation, or one that is exactly the slice of its translation's body."""
    shown = quote.translation
    if shown is None:
        return True
    source = translations.get(quote.essay_id)
    return source is not None and source.body[shown.start : shown.end] == shown.text


def compose(
    question: str,
    lang: str,
    hits: Sequence[Hit],
    essays: Mapping[str, Essay],
    policy: Policy,
    translations: Mapping[str, Translation] | None = None,
) -> Answer:
    """The outcome of `decide`, with a verbatim quote (and translation) per hit chosen."""
    translations = translations or {}
    usable = [h for h in hits if h.chunk.essay_id in essays]
    status, chosen = decide(question, usable, policy)
    quotes = [q for q in (_quote(h, essays, translations, lang, policy) for h in chosen) if q]
    if status == NOT_FOUND or not quotes:
        return Answer(question, lang, NOT_FOUND, closest=closest_titles(usable, essays, policy))
    return Answer(question, lang, status, tuple(quotes))


def _quote(
    hit: Hit,
    essays: Mapping[str, Essay],
    translations: Mapping[str, Translation],
    lang: str,
    policy: Policy,
) -> Quote | None:
    """The hit's quote, checked against its essay (and its translation), or None: a passage
    whose text is no longer its essay's (an index out of step with it) is never quoted."""
    essay = essays[hit.chunk.essay_id]
    if essay.body[hit.chunk.start : hit.chunk.end] != hit.chunk.text:
        return None
    quote = quote_of(hit.chunk, essay, hit.score, quote_span(hit, policy))
    if lang != essay.lang:
        shown = translation_for(
            translations.get(essay.id), lang, quote.paragraph, quote.last_paragraph
        )
        quote = replace(quote, translation=shown)
    if not is_verbatim(quote, essays) or not translation_is_verbatim(quote, translations):
        return None
    return quote


def closest_titles(
    hits: Sequence[Hit], essays: Mapping[str, Essay], policy: Policy
) -> tuple[str, ...]:
    """Titles of the best hits' essays that hold a content word of the question."""
    sharing = (h for h in hits if h.coverage)
    titles = dict.fromkeys(essays[h.chunk.essay_id].title for h in sharing)
    return tuple(titles)[: policy.closest_essays]
