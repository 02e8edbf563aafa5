"""build_index: corpus directory in, a new index generation published atomically.

Vectors of chunks that did not change are copied from the current index (matched by the
content-derived chunk key, and only when it was built with the same embedder), so a
rebuild embeds only what is new.
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
from index.chunking import CHUNKER_VERSION, chunk_essay, split_paragraphs
from index.corpus import load_corpus
from index.embedders import Embedder
from index.errors import EssayBotError
from index.models import Chunk, Essay
from index.store import Store

logger = logging.getLogger(__name__)
BATCH = 64


@dataclass(frozen=True)
class BuildReport:
    generation: Path
    essays: int
    chunks: int
    embedded: int
    reused: int
    removed: int


def corpus_hash(essays: Sequence[Essay]) -> str:
    digest = hashlib.sha256()
    for essay in sorted(essays, key=lambda e: e.id):
        for part in (essay.id, essay.title, essay.lang, essay.body):
            digest.update(part.encode("utf-8") + b"\0")
    return digest.hexdigest()


def build_index(
    corpus_dir: Path,
    index_dir: Path,
    embedder: Embedder,
    *,
    rebuild: bool = False,
    progress: bool | None = None,
    vector_index: str = vectors.AUTO,
) -> BuildReport:
    """Index every essay in corpus_dir into a new generation of index_dir and publish it.
    vector_index: the FAISS index type, chosen by size unless forced (index.vectors.KINDS)."""
    essays = load_corpus(corpus_dir)
    chunks = [chunk for essay in essays for chunk in chunk_essay(essay)]
    kind = vectors.choose_kind(len(chunks), vector_index)
    with layout.build_lock(index_dir):
        old_keys, cached = _previous(
            index_dir, embedder, [c.key for c in chunks], reuse=not rebuild
        )
        matrix, embedded = _embed(chunks, cached, embedder, progress)
        generation = layout.new_generation(index_dir)
        _write(generation, essays, chunks, matrix, kind)
        layout.write_manifest(generation, _manifest(embedder, essays, chunks, kind))
        layout.publish(index_dir, generation)
    removed = len(old_keys - {c.key for c in chunks})
    return BuildReport(
        generation, len(essays), len(chunks), embedded, len(chunks) - embedded, removed
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
    chunks: list[Chunk], cached: dict[int, np.ndarray], embedder: Embedder, progress: bool | None
) -> tuple[np.ndarray, int]:
    """One row per chunk: the cached vector where there is one, a fresh embedding otherwise."""
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
    for start in range(0, len(missing), BATCH):
        batch = missing[start : start + BATCH]
        matrix[batch] = embedder.embed_passages([chunks[i].text for i in batch])
        bar.update(len(batch))
    bar.close()
    return matrix, len(missing)


def _write(
    generation: Path, essays: list[Essay], chunks: list[Chunk], matrix: np.ndarray, kind: str
) -> None:
    keys = np.array([c.key for c in chunks], dtype=np.int64)
    store = Store(generation / layout.DB_FILE, create=True)
    try:
        store.write_essays(essays)
        store.write_paragraphs(p for e in essays for p in split_paragraphs(e.id, e.body))
        store.write_chunks(chunks)
        store.write_vectors(keys.tolist(), matrix)
    finally:
        store.close()
    index = vectors.build(matrix, keys, matrix.shape[1], kind)
    vectors.save(index, generation / layout.FAISS_FILE)


def _manifest(
    embedder: Embedder, essays: list[Essay], chunks: list[Chunk], kind: str
) -> layout.Manifest:
    return layout.Manifest(
        embedder=embedder.id,
        dim=embedder.dim,
        chunker=CHUNKER_VERSION,
        corpus_hash=corpus_hash(essays),
        essays=len(essays),
        chunks=len(chunks),
        built_at=time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()),
        vector_index=kind,
    )
