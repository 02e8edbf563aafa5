"""Index build: chunks per second next to the embedder's raw batch throughput, and the
incremental case (one essay added to N) embedding only the new essay's chunks."""

from __future__ import annotations

import shutil
from functools import partial
from pathlib import Path
from typing import Any

import numpy as np

from bench.corpora import add_new_essay, generate
from bench.embedding import CountingEmbedder
from bench.measure import timed
from index.builder import build_index, embedding_units
from index.chunking import chunk_essay
from index.corpus import load_corpus
from index.embedders import Embedder


def chunk_texts(corpus: Path) -> list[str]:
    return [c.text for essay in load_corpus(corpus) for c in chunk_essay(essay)]


def throughput(embedder: Embedder, workdir: Path, essays: int, repeats: int) -> dict[str, Any]:
    """Full builds of `essays` generated essays vs embedding the same chunk texts directly,
    alternated `repeats` times; the best of each, as the least disturbed by other load."""
    corpus = generate(essays, workdir / f"corpus-{essays}")
    texts = chunk_texts(corpus)
    embedder.embed_passages(texts[:8])  # load the model: not part of either figure
    raw, build = [], []
    for i in range(repeats):
        raw.append(timed(partial(embedder.embed_passages, texts)))
        index_dir = workdir / f"index-{essays}-{i}"
        build.append(timed(partial(build_index, corpus, index_dir, embedder, progress=False)))
        shutil.rmtree(index_dir)
    return {
        "essays": essays,
        "chunks": len(texts),
        "raw_chunks_per_s": len(texts) / min(raw),
        "build_chunks_per_s": len(texts) / min(build),
        "build_over_raw": min(raw) / min(build),
        "raw_s": raw,
        "build_s": build,
    }


def incremental(
    embedder: Embedder, workdir: Path, essays: int, memo: dict[str, np.ndarray]
) -> dict[str, Any]:
    """Build N essays (vectors of repeated texts served from `memo`), add one new essay,
    rebuild with the plain embedder, and count what the second build embedded."""
    corpus = generate(essays, workdir / f"inc-corpus-{essays}")
    index_dir = workdir / f"inc-index-{essays}"
    base = timed(
        lambda: build_index(corpus, index_dir, CountingEmbedder(embedder, memo), progress=False)
    )
    new_id = add_new_essay(corpus)
    new_essay = [e for e in load_corpus(corpus) if e.id == new_id]
    new_units = len(embedding_units(new_essay, chunk_essay(new_essay[0])).all)
    counting = CountingEmbedder(embedder)
    reports = []
    seconds = timed(
        lambda: reports.append(build_index(corpus, index_dir, counting, progress=False))
    )
    shutil.rmtree(corpus)
    shutil.rmtree(index_dir)
    return {
        "essays": essays,
        "chunks_before": reports[0].reused,
        "new_essay_units": new_units,
        "embedded": counting.embedded,
        "report_embedded": reports[0].embedded,
        "only_new_embedded": counting.embedded == new_units == reports[0].embedded,
        "base_build_s": base,
        "incremental_s": seconds,
    }
