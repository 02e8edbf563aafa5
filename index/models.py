"""Frozen value types shared by the whole index package."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Essay:
    """One essay: front matter plus the body, kept exactly as written."""

    id: str
    title: str
    lang: str  # "zh" or "en": the essay's main language
    body: str
    source: str  # file name the essay was read from


@dataclass(frozen=True)
class Translation:
    """A paragraph-aligned translation of one essay: paragraph i translates paragraph i.

    Never a second essay: it is a view of the original, shown under a quote to a reader of
    the other language and indexed so that a question meets every passage in its own language.
    """

    essay_id: str  # the original essay's id (front matter `translation_of`)
    lang: str
    title: str
    translator: str
    body: str
    source: str


@dataclass(frozen=True)
class Cue:
    """A question a reader might ask about an essay (index.cues): one that a paragraph of it
    answers, or, with no paragraph, one that the essays leave unanswered.

    Written to help find the paragraph or to tell an answer from a near miss, never shown:
    it is embedded like a question; an answered one scores the passages that hold its
    paragraph, and what a reader sees stays the essay's."""

    essay_id: str
    paragraph: int | None  # None: no essay answers it (an "unanswered question")
    lang: str  # detected from the text, as a question's is
    text: str
    key: int  # stable, content-derived, in the same key space as chunks (index.cues.cue_key)


@dataclass(frozen=True)
class Paragraph:
    """A run of non-blank lines in an essay body; numbered from 1."""

    essay_id: str
    number: int
    start: int
    end: int


@dataclass(frozen=True)
class Sentence:
    """One sentence: character offsets into the essay body, end exclusive."""

    start: int
    end: int


@dataclass(frozen=True)
class Chunk:
    """A passage: whole consecutive paragraphs (or sentences of a long one) of one essay;
    essay.body[start:end] == text."""

    essay_id: str
    paragraph: int  # the first paragraph it draws on
    last_paragraph: int  # the last one (== paragraph for a passage inside one paragraph)
    start: int
    end: int
    text: str
    lang: str
    key: int  # stable, content-derived 60-bit id: the FAISS id and the SQLite primary key

    def overlaps(self, other: Chunk) -> bool:
        return self.essay_id == other.essay_id and self.start < other.end and other.start < self.end


@dataclass(frozen=True)
class Hit:
    """A retrieved chunk with its fused score and the per-retriever evidence behind it."""

    chunk: Chunk
    score: float
    dense: float | None = None  # the chunk's own similarity to the question
    keyword: float | None = None
    sentence: float | None = None  # the similarity of its best sentence
    coverage: float | None = None  # share of the question's content words its essay holds
    # its sentences holding a content word of the question: on the best hit, when asked for
    topical: tuple[str, ...] | None = None
    # (start, end, similarity) of each of its own sentences, in order; the similarity counts
    # the best translated sentence of the same paragraph when the essay has a translation
    sentences: tuple[tuple[int, int, float], ...] = ()
    words: float | None = None  # share of the question's content words the passage holds
    rerank: float | None = None  # the reranker's score (index.reranker), when one is used
    # on the best hit: whether it also comes first without the keyword evidence (the dense
    # similarity alone agrees); None when not judged
    agrees: bool | None = None
    # the question's similarity to the nearest reader question that one of its paragraphs
    # answers (index.cues); None when none does
    reader_similarity: float | None = None
    # that similarity minus the one to the nearest question the essays leave unanswered;
    # None when there is nothing to compare
    unanswered_gap: float | None = None
