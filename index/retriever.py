"""Open a built index and search it.

search() ranks chunks (overlapping passages, index.chunking) by dense similarity, with the
question centred on its language's mean (index.fusion) so a question meets passages in either
language on equal terms. A chunk scores the better of its own similarity and its
translation's, plus its best sentence's in either language or its best reader question's
(index.cues: a question the corpus says one of its paragraphs answers). Keyword evidence is
added, times KEYWORD_WEIGHT: BM25 over the question's own words in whichever text of a
passage reads in the question's language (the original or its translation), divided by the
best; for essays with no translation into that language, BM25 over the question's words
translated through the corpus lexicon (index.lexicon). A question asking what something is
(`define`) favours the passage that first mentions its words. Each hit carries what the
answer decision reads: the share of the question's content words its essay and the passage
hold, how much closer the question is to a reader question one of its paragraphs answers
than to one the essays leave unanswered, its sentences' scores (to pick the quote), and on
request (a question asking for a number) the best hit's sentences that hold a word of the
question. A passage that overlaps a better-ranked one is skipped, so no text is quoted twice.
The weights were fitted on the tune half of the question bank (docs/retrieval.md).
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Iterable
from pathlib import Path

import faiss

from index import layout, vectors
from index.chunking import (
    CHUNKER_VERSION,
    sentences_within,
    split_sentences,
    translated_sentences,
)
from index.embedders import Embedder, part_slices
from index.errors import (
    EmbedderMismatchError,
    EssayBotError,
    IndexOutdatedError,
    IndexUnavailableError,
)
from index.fusion import ChunkScorer, centre
from index.lang import detect_lang
from index.lexicon import is_content
from index.models import Chunk, Essay, Hit, Translation
from index.store import Store
from index.tokenize import keyword_tokens

logger = logging.getLogger(__name__)
CANDIDATES = 50
UNITS = 2000  # units scored per question; the whole index when it is smaller
KEYWORD_WEIGHT = 0.5  # fitted on the tune half of the question bank (docs/retrieval.md)
DEFINE_WEIGHT = 0.5  # likewise (0.5 and 0.8 tie; 0 to 0.3 change nothing)


def _by_paragraph(
    translations: Iterable[Translation], essays: dict[str, Essay]
) -> dict[tuple[str, int], list[int]]:
    """(essay id, paragraph number) -> the keys of its translated sentences."""
    found: dict[tuple[str, int], list[int]] = {}
    for translation in translations:
        for unit in translated_sentences(translation, essays[translation.essay_id]):
            found.setdefault((unit.essay_id, unit.paragraph), []).append(unit.key)
    return found


def _unversioned(spec: str) -> str:
    return "+".join(part.partition("@")[0] for part in spec.split("+"))


def _mismatch(index_dir: Path, built: str, asked: str) -> str:
    """What to do when an index was built with another embedder (or another version of it)."""
    if _unversioned(built) == _unversioned(asked):
        return (
            f"The index in {index_dir} was built with '{built}', another version of the "
            f"installed '{asked}'. Rebuild it: essaybot index build --rebuild --index {index_dir}"
        )
    return (
        f"The index in {index_dir} was built with embedder '{built}', not '{asked}'. Use "
        f"--embedder {built}, or rebuild: essaybot index build --rebuild --embedder {asked}"
    )


def _scaled(hits: list[tuple[int, float]]) -> dict[int, float]:
    """Scores divided by the best one (none when the best is not positive)."""
    top = max((score for _, score in hits), default=0.0)
    return {key: score / top for key, score in hits} if top > 0 else {}


def _difference(a: float | None, b: float | None) -> float | None:
    return None if a is None or b is None else a - b


class Retriever:
    """One generation of an index, opened read-only, with the embedder it was built with."""

    def __init__(self, generation: Path, embedder: Embedder) -> None:
        self.generation = generation
        self.manifest = layout.read_manifest(generation)
        if self.manifest.embedder != embedder.id:
            raise EmbedderMismatchError(
                _mismatch(generation.parent, self.manifest.embedder, embedder.id)
            )
        if self.manifest.chunker != CHUNKER_VERSION:
            raise IndexOutdatedError(
                f"The index in {generation.parent} was built by an older essaybot (chunker "
                f"{self.manifest.chunker}, now {CHUNKER_VERSION}). Rebuild it: "
                f"essaybot index build --index {generation.parent}"
            )
        self.embedder = embedder
        self.store = Store(generation / layout.DB_FILE)
        self.essays: dict[str, Essay] = {e.id: e for e in self.store.essays()}
        self.faiss: faiss.Index = vectors.load(generation / layout.FAISS_FILE)
        self.centres = self.store.centres()
        self.slices = part_slices(embedder)
        self.vocabulary = self.store.essay_tokens()
        self.translations = {t.essay_id: t for t in self.store.translations()}
        self.views = self.store.views()
        self.translated_sentences = _by_paragraph(self.translations.values(), self.essays)
        cues = self.store.cue_paragraphs()
        self.unanswered = {key for key, (_, paragraph) in cues.items() if paragraph is None}
        owners = self.store.sentence_owners()
        self.reader_questions: dict[int, list[int]] = {}  # chunk key -> its reader questions
        for key in cues.keys() & owners.keys():
            for chunk in owners[key]:
                self.reader_questions.setdefault(chunk, []).append(key)
        self.chunk_scores = ChunkScorer(
            [k for k in self.store.unit_keys() if k not in self.unanswered], owners, self.views
        )
        self._mentions: dict[str, list[tuple[int, set[str]]]] | None = None

    def close(self) -> None:
        self.store.close()

    def dense(self, question: str, k: int = CANDIDATES) -> list[tuple[int, float]]:
        """(unit key, similarity) best first: chunks, sentences and translated units,
        language-centred."""
        query = self.embedder.embed_queries([question])
        centred = centre(query, [detect_lang(question)], self.centres, self.slices)
        return vectors.search(self.faiss, centred[0], k)

    def keywords(self, question: str, words: dict[str, set[str]] | None) -> dict[int, float]:
        """Chunk key -> keyword evidence in [0, 1]: BM25 over the question's own words in every
        passage that reads in its language (the original or its translation), each divided
        by the best; for essays with no translation in that language, BM25 over the
        question's words translated through the lexicon (`question_words`)."""
        lang = detect_lang(question)
        own = [w for w in (words or {})]
        found = _scaled(self.store.keyword_search_in(own, lang, UNITS))
        for key, score in _scaled(self.store.view_keyword_search(own, lang, UNITS)).items():
            for chunk in self.views.get(key, ()):
                found[chunk] = max(found.get(chunk, 0.0), score)
        for key, score in self.translated(question, words).items():
            found.setdefault(key, score)
        return found

    def translated(self, question: str, words: dict[str, set[str]] | None) -> dict[int, float]:
        """(chunk key, BM25 scaled to [0, 1]) over the other language's chunks of essays that
        have no translation into the question's language, for its words translated through
        the lexicon."""
        lang = detect_lang(question)
        other = "en" if lang == "zh" else "zh"
        if all(essay in self.translations for essay in self.essays):
            return {}  # every essay has a translation: nothing for the lexicon to bridge
        found = (words or {}).values()
        targets = {t for corpus in found for t in corpus if detect_lang(t, lang) != lang}
        hits = self.store.keyword_search_in(sorted(targets), other, UNITS)
        if self.translations:
            chunks = {c.key: c for c in self.store.chunks([key for key, _ in hits])}
            hits = [(k, s) for k, s in hits if chunks[k].essay_id not in self.translations]
        return _scaled(hits)

    def search(
        self,
        question: str,
        k: int = 5,
        *,
        topical: bool = False,
        define: bool = False,
        keyword_weight: float = KEYWORD_WEIGHT,
        define_weight: float = DEFINE_WEIGHT,
    ) -> list[Hit]:
        """The k best chunks: own similarity + best sentence's + weighted keyword evidence.
        With `topical`, the best one also carries its sentences holding a question word; with
        `define` (a question asking what something is), a chunk gains for each of the
        question's words it introduces (its first mention in the essay, where essays say
        what a thing is)."""
        words = self.question_words(question)
        units = dict(self.dense(question, UNITS))
        near = self.nearest_unanswered(units)
        scores = self.chunk_scores(units)
        keyword = self.keywords(question, words)
        first = self.first_mentions(words) if define else {}
        total = {
            key: sum(s)
            + keyword_weight * keyword.get(key, 0.0)
            + define_weight * first.get(key, 0.0)
            for key, s in scores.items()
        }
        best = self.disjoint(sorted(total, key=lambda key: total[key], reverse=True), k)
        agrees = self.agrees(best[0], scores, first, define_weight) if best else None
        coverage = self.coverage(words)
        held = self.passage_coverage(words, [chunk.key for chunk in best])
        similar = {chunk.key: self.reader_similarity(chunk, units) for chunk in best}
        return [
            Hit(
                chunk,
                total[chunk.key],
                scores[chunk.key][0],
                keyword.get(chunk.key),
                scores[chunk.key][1],
                coverage.get(chunk.essay_id, 0.0),
                self.topical(chunk, words) if topical and rank == 0 else None,
                self.sentence_scores(chunk, units),
                held.get(chunk.key, 0.0),
                agrees=agrees if rank == 0 else None,
                reader_similarity=similar[chunk.key],
                unanswered_gap=_difference(similar[chunk.key], near),
            )
            for rank, chunk in enumerate(best)
        ]

    def nearest_unanswered(self, units: dict[int, float]) -> float | None:
        """The question's similarity to the nearest reader question the essays leave
        unanswered (index.cues), None when the corpus has none; they are taken out of
        `units`, as they score no passage."""
        near = [units.pop(key) for key in self.unanswered if key in units]
        return max(near) if near else None

    def reader_similarity(self, chunk: Chunk, units: dict[int, float]) -> float | None:
        """The question's similarity to the nearest reader question that a paragraph of
        `chunk` answers; None when none does (an essay added without reader questions is
        not judged by them)."""
        found = [units[key] for key in self.reader_questions.get(chunk.key, ()) if key in units]
        return max(found) if found else None

    def agrees(
        self,
        best: Chunk,
        scores: dict[int, tuple[float, float]],
        first: dict[int, float],
        define_weight: float,
    ) -> bool:
        """Whether `best` (ranked with the keyword evidence) is, or overlaps, the passage that
        ranks first on the dense similarity alone: two kinds of evidence agree on it."""
        dense = {key: sum(s) + define_weight * first.get(key, 0.0) for key, s in scores.items()}
        (alone,) = self.store.chunks([max(dense, key=lambda key: dense[key])])
        return best.overlaps(alone)

    def first_mentions(self, words: dict[str, set[str]] | None) -> dict[int, float]:
        """Chunk key -> share of the question's content words whose first mention in its
        essay (in the original or its translation) the chunk holds."""
        if not words:
            return {}
        found: dict[int, float] = {}
        for chunks in self.mentions().values():
            for targets in words.values():
                first = next((key for key, tokens in chunks if targets & tokens), None)
                if first is not None:
                    found[first] = found.get(first, 0.0) + 1 / len(words)
        return found

    def mentions(self) -> dict[str, list[tuple[int, set[str]]]]:
        """Essay id -> (chunk key, its and its translation's tokens), in the essay's order;
        read once, on the first question that needs it."""
        if self._mentions is None:
            chunks = sorted(self.store.all_chunks(), key=lambda c: (c.essay_id, c.start))
            tokens = self.store.passage_tokens([c.key for c in chunks]) if chunks else {}
            self._mentions = {}
            for chunk in chunks:
                self._mentions.setdefault(chunk.essay_id, []).append(
                    (chunk.key, tokens.get(chunk.key, set()))
                )
        return self._mentions

    def sentence_scores(
        self, chunk: Chunk, units: dict[int, float]
    ) -> tuple[tuple[int, int, float], ...]:
        """(start, end, score) of each sentence of the chunk, in order: its similarity, plus
        that of the best translated sentence of its paragraph when the essay has a
        translation (the paragraph its translation matched is where the answer is)."""
        essay = self.essays[chunk.essay_id]
        floor = min(units.values(), default=0.0)
        scored = []
        for number, start, end, key in sentences_within(essay, chunk.start, chunk.end):
            own = units.get(key, floor)
            keys = self.translated_sentences.get((chunk.essay_id, number))
            bonus = max((units.get(k, floor) for k in keys), default=floor) if keys else 0.0
            scored.append((start, end, own + bonus))
        return tuple(scored)

    def disjoint(self, ranked: list[int], k: int) -> list[Chunk]:
        """The first k chunks of `ranked` (keys, best first) that overlap no better one."""
        chosen: list[Chunk] = []
        for start in range(0, len(ranked), CANDIDATES):
            for chunk in self.store.chunks(ranked[start : start + CANDIDATES]):
                if not any(chunk.overlaps(other) for other in chosen):
                    chosen.append(chunk)
                    if len(chosen) == k:
                        return chosen
        return chosen

    def question_words(self, question: str) -> dict[str, set[str]] | None:
        """Each content word of the question -> the corpus words it may stand for, in either
        language (an empty set when none); None when the question has no content word."""
        content = [t for t in dict.fromkeys(keyword_tokens(question)) if is_content(t)]
        if not content:
            return None
        found = self.store.lexicon(content)
        return {word: found.get(word, set()) for word in content}

    def passage_coverage(
        self, words: dict[str, set[str]] | None, keys: list[int]
    ) -> dict[int, float]:
        """Chunk key -> share of the question's content words its text or its translation
        holds (1.0 for every chunk when the question has no content word)."""
        if words is None:
            return dict.fromkeys(keys, 1.0)
        held = self.store.passage_tokens(keys) if keys else {}
        return {
            key: sum(1 for found in words.values() if found & tokens) / len(words)
            for key, tokens in held.items()
        }

    def coverage(self, words: dict[str, set[str]] | None) -> dict[str, float]:
        """Essay id -> share of the question's content words the essay holds (every essay
        gets 1.0 when the question has no content word to judge by)."""
        if words is None:
            return dict.fromkeys(self.essays, 1.0)
        return {
            essay: sum(1 for found in words.values() if found & held) / len(words)
            for essay, held in self.vocabulary.items()
        }

    def topical(self, chunk: Chunk, words: dict[str, set[str]] | None) -> tuple[str, ...]:
        """The chunk's sentences that hold a content word of the question (all of them when
        the question has none)."""
        body = self.essays[chunk.essay_id].body
        texts = [body[s.start : s.end] for s in split_sentences(body, chunk.start, chunk.end)]
        if words is None:
            return tuple(texts)
        targets = set().union(*words.values())
        return tuple(text for text in texts if targets & set(keyword_tokens(text)))


class LiveRetriever:
    """Follows an index directory: when a build publishes a new generation, the next call
    opens it, while calls already running finish on the generation they started with. A
    generation that cannot be opened, or that fails a read while serving (a damaged file), is
    set aside: the newest other generation that opens and reads takes over, and when none
    does, every question gets IndexUnavailableError until a build publishes a good one."""

    def __init__(self, index_dir: Path, embedder: Embedder) -> None:
        self.index_dir = index_dir
        self.embedder = embedder
        self._lock = threading.Lock()
        self._bad: set[Path] = set()
        self._current: Retriever | None = Retriever(layout.current_generation(index_dir), embedder)

    def get(self) -> Retriever:
        """The retriever for the newest good generation (the last good one if a new one is bad)."""
        try:
            generation = layout.current_generation(self.index_dir)
        except EssayBotError:
            logger.warning("index %s disappeared; still serving the last good one", self.index_dir)
            return self._serving()
        with self._lock:
            if generation not in self._bad and (
                self._current is None or generation != self._current.generation
            ):
                self._reload(generation)
            return self._serving()

    def damaged(self, retriever: Retriever) -> Retriever:
        """`retriever` failed a read: set its generation aside and serve the newest other one
        that opens and reads (IndexUnavailableError when none does)."""
        with self._lock:
            if self._current is retriever:
                self._bad.add(retriever.generation)
                logger.error("index generation %s is damaged", retriever.generation.name)
                self._current = self._fallback()
            return self._serving()

    def _serving(self) -> Retriever:
        if self._current is None:
            raise IndexUnavailableError(
                f"The index in {self.index_dir} is damaged and no earlier copy opens, so the "
                "essays cannot be searched now. Rebuild it: essaybot index build --rebuild / "
                "索引已损坏,重建之前暂时无法回答。"
            )
        return self._current

    def _fallback(self) -> Retriever | None:
        for generation in layout.published(self.index_dir):
            if generation in self._bad:
                continue
            try:
                retriever = Retriever(generation, self.embedder)
                retriever.store.essays()  # a read: a damaged file fails here
            except EssayBotError:
                self._bad.add(generation)
                continue
            logger.error("serving index generation %s instead", generation.name)
            return retriever
        return None

    def _reload(self, generation: Path) -> None:
        try:
            self._current = Retriever(generation, self.embedder)
            logger.info("switched to index generation %s", generation.name)
        except EssayBotError as exc:
            self._bad.add(generation)
            serving = self._current.generation.name if self._current else "nothing"
            logger.error(
                "index generation %s is unusable (%s); still serving %s",
                generation.name,
                exc,
                serving,
            )
