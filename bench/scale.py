"""The vector and keyword sides at 100 k and 1 M passages.

Vectors are synthetic: drawn from a Gaussian fitted to real passage embeddings of the bundled
essays (their mean and their covariance, through random combinations of the centred real
vectors) plus a little isotropic noise, then unit-normalised. They have the real embeddings'
spectrum but none of a real corpus's clusters and near-duplicates, which make approximate
search easier: a conservative stand-in. Exact (flat) search is the reference for recall@10.
"""

from __future__ import annotations

import gc
import random
from collections.abc import Iterator
from contextlib import contextmanager
from functools import cache, partial
from pathlib import Path
from typing import Any
from unittest.mock import patch

import faiss
import numpy as np

from bench.measure import percentiles, timed
from index import store as store_module
from index import vectors
from index.models import Chunk
from index.store import Store
from index.tokenize import keyword_tokens

NOISE = 0.01  # per-dimension noise: about a tenth of the variance, the part the fit cannot see
BLOCK = 50_000
QUERIES = 200
EF_SWEEP = (128, 256, 512)


class Synthetic:
    """Unit vectors with the mean and covariance of `real` (rows of real embeddings)."""

    def __init__(self, real: np.ndarray, seed: int) -> None:
        self.mean = real.mean(axis=0)
        self.basis = (real - self.mean) / np.sqrt(len(real))
        self.rng = np.random.default_rng(seed)

    def draw(self, count: int) -> np.ndarray:
        out = np.empty((count, self.mean.shape[0]), dtype=np.float32)
        for start in range(0, count, BLOCK):
            n = min(BLOCK, count - start)
            z = self.rng.standard_normal((n, len(self.basis)), dtype=np.float32)
            noise = self.rng.standard_normal((n, out.shape[1]), dtype=np.float32) * NOISE
            block = self.mean + z @ self.basis + noise
            out[start : start + n] = block / np.linalg.norm(block, axis=1, keepdims=True)
        return out


def _search_ms(index: faiss.Index, queries: np.ndarray) -> dict[str, float]:
    return percentiles(timed(partial(vectors.search, index, q, 10)) for q in queries)


def _recall(index: faiss.Index, queries: np.ndarray, truth: np.ndarray) -> float:
    found = [{key for key, _ in vectors.search(index, q, 10)} for q in queries]
    return float(np.mean([len(f & set(t)) / 10 for f, t in zip(found, truth, strict=True)]))


def index_mb(index: faiss.Index) -> float:
    return len(faiss.serialize_index(index)) / 2**20


def flat_side(data: np.ndarray, queries: np.ndarray) -> tuple[dict[str, Any], np.ndarray]:
    """Exact search: its figures, and the true top 10 of every query."""
    keys = np.arange(len(data), dtype=np.int64)
    holder: list[faiss.Index] = []
    seconds = timed(lambda: holder.append(vectors.build(data, keys, data.shape[1], vectors.FLAT)))
    index = holder[0]
    _, truth = index.search(queries, 10)
    figures = {"build_s": seconds, "memory_mb": index_mb(index), **_search_ms(index, queries)}
    figures["recall_at_10"] = 1.0
    return figures, truth


def hnsw_side(data: np.ndarray, queries: np.ndarray, truth: np.ndarray) -> dict[str, Any]:
    """The approximate index as the builder makes it, swept over efSearch."""
    keys = np.arange(len(data), dtype=np.int64)
    holder: list[faiss.Index] = []
    seconds = timed(lambda: holder.append(vectors.build(data, keys, data.shape[1], vectors.HNSW)))
    index = holder[0]
    graph: Any = faiss.downcast_index(index.index)  # type: ignore[attr-defined]
    sweep = []
    for ef in sorted({*EF_SWEEP, vectors.HNSW_EF_SEARCH}):
        graph.hnsw.efSearch = ef
        recall = _recall(index, queries, truth)
        sweep.append({"ef_search": ef, "recall_at_10": recall, **_search_ms(index, queries)})
    graph.hnsw.efSearch = vectors.HNSW_EF_SEARCH
    default = next(s for s in sweep if s["ef_search"] == vectors.HNSW_EF_SEARCH)
    return {"build_s": seconds, "memory_mb": index_mb(index), **default, "sweep": sweep}


def vector_side(real: np.ndarray, count: int, seed: int = 7) -> dict[str, Any]:
    synthetic = Synthetic(real, seed)
    data, queries = synthetic.draw(count), synthetic.draw(QUERIES)
    flat, truth = flat_side(data, queries)
    gc.collect()
    hnsw = hnsw_side(data, queries, truth)
    return {
        "passages": count,
        "dim": data.shape[1],
        "auto_choice": vectors.choose_kind(count),
        "flat": flat,
        "hnsw": hnsw,
    }


SEP = "\n\n"  # between a passage's sentences: a paragraph break, so tokens never span it


def _passages(sentences: list[str], count: int, seed: int) -> list[Chunk]:
    """`count` passages of two to four random real sentences each."""
    rng = random.Random(seed)
    chunks = []
    for key in range(count):
        text = SEP.join(rng.choices(sentences, k=rng.randint(2, 4)))
        chunks.append(Chunk("synthetic", key, key, 0, len(text), text, "en", key))
    return chunks


@contextmanager
def tokens_by_sentence() -> Iterator[None]:
    """While writing, tokenize each distinct sentence once: the passages repeat the same few
    hundred, and the tokens of "a SEP b" are those of a then b. Queries use the real tokenizer."""
    memo = cache(keyword_tokens)

    def tokens(text: str) -> list[str]:
        return [token for sentence in text.split(SEP) for token in memo(sentence)]

    with patch.object(store_module, "keyword_tokens", tokens):
        yield


def keyword_side(
    sentences: list[str], questions: list[str], count: int, workdir: Path
) -> dict[str, Any]:
    """SQLite FTS5 over `count` passages through the real store: build, size, query p50/p95."""
    path = workdir / f"fts-{count}.db"
    store = Store(path, create=True)
    try:
        with tokens_by_sentence():
            seconds = timed(lambda: store.write_chunks(_passages(sentences, count, seed=count)))
        times = [timed(partial(store.keyword_search, q, 50)) for q in questions]
    finally:
        store.close()
    size = path.stat().st_size / 2**20
    path.unlink()
    return {"passages": count, "build_s": seconds, "db_mb": size, **percentiles(times)}
