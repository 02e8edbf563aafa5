"""FAISS only: build, save, load and search an inner-product index keyed by chunk key.

The index type follows the corpus size (`choose_kind`): exact (flat) search while a scan of every
vector is cheap, HNSW over 8-bit scalar-quantised vectors above that, where a scan is not (see
docs/benchmarks.md for the figures behind the threshold and the parameters). Either can be forced.
"""

from __future__ import annotations

import os
from pathlib import Path

import faiss
import numpy as np

from index.errors import IndexCorruptError, VectorIndexError

AUTO, FLAT, HNSW = "auto", "flat", "hnsw"
KINDS = (AUTO, FLAT, HNSW)
FLAT_MAX = 50_000  # auto: flat below this many vectors, HNSW from here on
HNSW_M = 32  # graph neighbours per vector: memory 2*M*4 bytes/vector, recall rises with M
HNSW_EF_CONSTRUCTION = 80
HNSW_EF_SEARCH = 512  # candidates per query: recall@10 >= 0.95 at 1M (docs/benchmarks.md)


def choose_kind(count: int, kind: str = AUTO) -> str:
    """FLAT or HNSW for an index of `count` vectors; `kind` other than AUTO forces it."""
    if kind not in KINDS:
        raise VectorIndexError(f"Unknown vector index '{kind}'. Valid: {', '.join(KINDS)}.")
    if kind != AUTO:
        return kind
    return FLAT if count < FLAT_MAX else HNSW


def _empty(kind: str, dim: int) -> faiss.Index:
    if kind == FLAT:
        return faiss.IndexFlatIP(dim)
    quantizer = faiss.ScalarQuantizer.QT_8bit  # an enum value; faiss's stubs say otherwise
    index = faiss.IndexHNSWSQ(dim, quantizer, HNSW_M, faiss.METRIC_INNER_PRODUCT)  # type: ignore[arg-type]
    index.hnsw.efConstruction = HNSW_EF_CONSTRUCTION
    index.hnsw.efSearch = HNSW_EF_SEARCH
    return index


def build(vectors: np.ndarray, keys: np.ndarray, dim: int, kind: str = AUTO) -> faiss.Index:
    """An inner-product index (cosine, as vectors are unit length) over `keys`; the type is
    chosen by size unless `kind` forces one (see choose_kind). Uses every usable core."""
    faiss.omp_set_num_threads(len(os.sched_getaffinity(0)))  # this thread's OpenMP setting
    index = faiss.IndexIDMap2(_empty(choose_kind(len(keys), kind), dim))
    if len(keys):
        matrix = np.ascontiguousarray(vectors, dtype=np.float32)
        index.train(matrix)
        index.add_with_ids(matrix, np.asarray(keys, dtype=np.int64))
    return index


def kind_of(index: faiss.Index) -> str:
    """FLAT or HNSW: what `build` made (after a save and load too)."""
    inner = faiss.downcast_index(index.index) if hasattr(index, "index") else index
    return HNSW if isinstance(inner, faiss.IndexHNSW) else FLAT


def save(index: faiss.Index, path: Path) -> None:
    faiss.write_index(index, str(path))


def load(path: Path) -> faiss.Index:
    if not path.is_file():
        raise IndexCorruptError(f"{path} is missing. Rebuild it: essaybot index build --rebuild")
    try:
        return faiss.read_index(str(path))
    except RuntimeError as exc:
        raise IndexCorruptError(
            f"{path} is not a readable FAISS index. Rebuild it: essaybot index build --rebuild"
        ) from exc


def search(index: faiss.Index, query: np.ndarray, k: int) -> list[tuple[int, float]]:
    """(key, cosine) best first, for one query vector, on one core: concurrent askers are the
    parallelism. (An OpenMP team per query costs more than it saves, and its idle workers spin
    on the cores the query encoder needs.) The setting is OpenMP's, per calling thread."""
    faiss.omp_set_num_threads(1)
    if index.ntotal == 0:
        return []
    scores, keys = index.search(np.asarray(query, dtype=np.float32).reshape(1, -1), k)
    return [(int(key), float(s)) for key, s in zip(keys[0], scores[0], strict=True) if key != -1]
