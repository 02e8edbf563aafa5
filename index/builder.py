"""build_index: corpus directory in, a new index generation published atomically.

Two granularities are embedded: the chunks (what a reader is shown) and the sentences inside
them (what a question is matched against most precisely); a one-sentence chunk is both and is
embedded once. Vectors of units that did not change are copied from the current index
(matched by the content-derived key, and only when it was built with the same embedder), so
a rebuild embeds only what is new. FAISS holds the language-centred vectors (index.fusion);
SQLite keeps the raw ones for reuse and the language means for centring questions.

A translation (index.corpus) adds units of its own: the translated text of every passage
(a *view* of it, pointing to the original chunk) and its sentences (owned by the chunks that
hold their paragraph). They are embedded and keyword-indexed like the originals, so a
question meets every passage in its own language; what is quoted stays the original.

Reader questions (index.cues) are embedded as questions and owned, like sentences, by the
chunks that hold their paragraph; the questions the essays leave unanswered are embedded as
questions too and own nothing. None is keyword-indexed or shown, and the language means are
taken over the essays' and translations' units only, as questions are centred on them.
"""

from __future__ import annotations

import hashlib
import logging
import sys
import time
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np
from tqdm import tqdm

from index import layout, vectors
from index.chunking import (
    CHUNKER_VERSION,
    chunk_essay,
    sentence_chunks,
    sentence_owners,
    split_paragraphs,
    translation_units,
)
from index.corpus import MAX_ESSAY_BYTES, load_corpus, load_translations
from index.cues import cue_owners, load_cues
from index.embedders import Embedder, part_slices
from index.errors import EssayBotError
from index.fusion import centre, language_means
from index.lexicon import build_lexicon, dictionary_pairs
from index.models import Chunk, Cue, Essay, Translation
from index.store import Store
from index.tokenize import keyword_tokens

logger = logging.getLogger(__name__)
BATCH = 64


@dataclass(frozen=True)
class BuildReport:
    generation: Path
    essays: int
    chunks: int
    units: int  # vectors: the chunks and the sentences that are not whole chunks
    embedded: int
    reused: int
    removed: int
    translations: int = 0
    skipped: tuple[str, ...] = ()  # one line per translation left out, naming the file
    cues: int = 0  # reader questions a paragraph answers
    cues_skipped: tuple[str, ...] = ()  # one line per reader question or cue file left out
    unanswered: int = 0  # reader questions the essays leave unanswered


@dataclass(frozen=True)
class Units:
    """Everything embedded, and how the units that are not chunks score for chunks."""

    all: list[Chunk | Cue]  # chunks first, then sentences, translated units and cues
    owners: dict[int, list[int]]  # sentence key (either language) or cue key -> chunk keys
    views: dict[int, list[int]]  # translated passage key -> chunk keys
    translated: list[Chunk]  # the translated passages, for keyword rows


def corpus_hash(
    essays: Sequence[Essay], translations: Sequence[Translation] = (), cues: Sequence[Cue] = ()
) -> str:
    digest = hashlib.sha256()
    for essay in sorted(essays, key=lambda e: e.id):
        for part in (essay.id, essay.title, essay.lang, essay.body):
            digest.update(part.encode("utf-8") + b"\0")
    for t in sorted(translations, key=lambda t: (t.essay_id, t.lang)):
        for part in (t.essay_id, t.lang, t.title, t.translator, t.body):
            digest.update(part.encode("utf-8") + b"\0")
    for key in sorted(cue.key for cue in cues):
        digest.update(str(key).encode("ascii") + b"\0")
    return digest.hexdigest()


def build_index(
    corpus_dir: Path,
    index_dir: Path,
    embedder: Embedder,
    *,
    rebuild: bool = False,
    progress: bool | None = None,
    vector_index: str = vectors.AUTO,
    max_essay_bytes: int = MAX_ESSAY_BYTES,
) -> BuildReport:
    """Index every essay in corpus_dir into a new generation of index_dir and publish it.
    vector_index: the FAISS index type, chosen by size unless forced (index.vectors.KINDS)."""
    essays = load_corpus(corpus_dir, max_essay_bytes)
    translations, skipped = load_translations(corpus_dir, essays, max_essay_bytes)
    cues, cues_skipped = load_cues(corpus_dir, essays, max_essay_bytes)
    for problem in [*skipped, *cues_skipped]:
        logger.info("left out: %s", problem)
    chunks = [chunk for essay in essays for chunk in chunk_essay(essay)]
    units = embedding_units(essays, chunks, translations, cues)
    kind = vectors.choose_kind(len(units.all), vector_index)
    with layout.build_lock(index_dir):
        keys = [u.key for u in units.all]
        old_keys, cached = _previous(index_dir, embedder, keys, reuse=not rebuild)
        matrix, embedded = _embed(units.all, cached, embedder, progress)
        generation = layout.new_generation(index_dir)
        _write(generation, essays, chunks, units, translations)
        _write_vectors(generation, units.all, matrix, part_slices(embedder), kind)
        manifest = _manifest(embedder, essays, translations, cues, chunks, kind)
        layout.write_manifest(generation, manifest)
        layout.publish(index_dir, generation)
    removed = len(old_keys - {c.key for c in chunks})
    total = len(units.all)
    return BuildReport(
        generation,
        len(essays),
        len(chunks),
        total,
        embedded,
        total - embedded,
        removed,
        len(translations),
        tuple(skipped),
        sum(1 for u in units.all if isinstance(u, Cue) and u.paragraph is not None),
        tuple(cues_skipped),
        sum(1 for u in units.all if isinstance(u, Cue) and u.paragraph is None),
    )


def embedding_units(
    essays: list[Essay],
    chunks: list[Chunk],
    translations: Sequence[Translation] = (),
    cues: Sequence[Cue] = (),
) -> Units:
    """Every unit to embed: the chunks, the sentences that are not whole chunks, the
    translations' passages and sentences, the cues whose paragraph a chunk holds and the
    unanswered questions; with the maps that tie them to chunks."""
    sentences = [s for essay in essays for s in sentence_chunks(essay)]
    owners = sentence_owners(chunks, sentences)
    chunk_keys = {c.key for c in chunks}
    extra = {s.key: s for s in sentences if s.key not in chunk_keys and s.key in owners}
    translated: dict[int, Chunk] = {}
    views: dict[int, list[int]] = {}
    for translation in translations:
        found, passages, owned = translation_units(translation, chunks)
        translated.update(found)
        views.update(passages)
        owners.update(owned)
    passages_text = [translated[key] for key in views]
    owned = cue_owners(cues, chunks)
    owners.update(owned)
    return Units(
        [
            *chunks,
            *extra.values(),
            *translated.values(),
            *(c for c in cues if c.key in owned or c.paragraph is None),
        ],
        owners,
        views,
        passages_text,
    )


def _previous(
    index_dir: Path, embedder: Embedder, keys: list[int], reuse: bool
) -> tuple[set[int], dict[int, np.ndarray]]:
    """Keys of the current index, and its vectors for `keys` when they can be reused."""
    try:
        generation = layout.current_generation(index_dir)
        same_embedder = layout.read_manifest(generation).embedder == embedder.id
        store = Store(generation / layout.DB_FILE)
    except EssayBotError as exc:
        logger.info("no usable previous index, embedding everything: %s", exc)
        return set(), {}
    try:
        old_keys = {c.key for c in store.all_chunks()}
        return old_keys, store.vectors(keys) if reuse and same_embedder else {}
    finally:
        store.close()


def _embed(
    chunks: list[Chunk | Cue],
    cached: dict[int, np.ndarray],
    embedder: Embedder,
    progress: bool | None,
) -> tuple[np.ndarray, int]:
    """One row per unit: the cached vector where there is one, a fresh embedding otherwise
    (a cue is embedded as a question, everything else as a passage)."""
    matrix = np.zeros((len(chunks), embedder.dim), dtype=np.float32)
    missing = []
    for i, chunk in enumerate(chunks):
        if chunk.key in cached:
            matrix[i] = cached[chunk.key]
        else:
            missing.append(i)
    bar = tqdm(
        total=len(missing),
        desc="embedding",
        unit="chunk",
        file=sys.stderr,
        disable=(not progress) if progress is not None else None,
    )
    for asked in (False, True):
        todo = [i for i in missing if isinstance(chunks[i], Cue) == asked]
        embed = embedder.embed_queries if asked else embedder.embed_passages
        for start in range(0, len(todo), BATCH):
            batch = todo[start : start + BATCH]
            matrix[batch] = embed([chunks[i].text for i in batch])
            bar.update(len(batch))
    bar.close()
    return matrix, len(missing)


def _write(
    generation: Path,
    essays: list[Essay],
    chunks: list[Chunk],
    units: Units,
    translations: Sequence[Translation],
) -> None:
    store = Store(generation / layout.DB_FILE, create=True)
    try:
        store.write_essays(essays)
        store.write_paragraphs(p for e in essays for p in split_paragraphs(e.id, e.body))
        store.write_chunks(chunks)
        store.write_sentences(units.owners)
        store.write_cues(u for u in units.all if isinstance(u, Cue))
        store.write_translations(translations)
        store.write_views(units.translated, units.views)
        vocabulary = {t for c in chunks + units.translated for t in keyword_tokens(c.text)}
        store.write_lexicon(build_lexicon(vocabulary, dictionary_pairs()))
    finally:
        store.close()


def _write_vectors(
    generation: Path,
    units: list[Chunk | Cue],
    matrix: np.ndarray,
    slices: Sequence[slice],
    kind: str,
) -> None:
    """Raw vectors and language means (of the essays' and translations' units) into SQLite;
    the centred vectors into FAISS."""
    keys = np.array([u.key for u in units], dtype=np.int64)
    langs = [u.lang for u in units]
    texts = [not isinstance(u, Cue) for u in units]
    means = language_means(matrix[texts], [lang for lang, t in zip(langs, texts, strict=True) if t])
    store = Store(generation / layout.DB_FILE, create=True)
    try:
        store.write_vectors(keys.tolist(), matrix)
        store.write_centres(means)
    finally:
        store.close()
    centred = centre(matrix, langs, means, slices)
    index = vectors.build(centred, keys, matrix.shape[1], kind)
    vectors.save(index, generation / layout.FAISS_FILE)


def _manifest(
    embedder: Embedder,
    essays: list[Essay],
    translations: Sequence[Translation],
    cues: Sequence[Cue],
    chunks: list[Chunk],
    kind: str,
) -> layout.Manifest:
    return layout.Manifest(
        embedder=embedder.id,
        dim=embedder.dim,
        chunker=CHUNKER_VERSION,
        corpus_hash=corpus_hash(essays, translations, cues),
        essays=len(essays),
        chunks=len(chunks),
        built_at=time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()),
        vector_index=kind,
    )
