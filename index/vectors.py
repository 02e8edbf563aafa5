"""FAISS only: build, save, load and search an inner-product index keyed by chunk key."""

from __future__ import annotations

from pathlib import Path

import faiss
import numpy as np

from index.errors import IndexCorruptError


def build(vectors: np.ndarray, keys: np.ndarray, dim: int) -> faiss.Index:
    """An exact inner-product index (cosine, as vectors are unit length) over `keys`."""
    index = faiss.IndexIDMap2(faiss.IndexFlatIP(dim))
    if len(keys):
        index.add_with_ids(
            np.ascontiguousarray(vectors, dtype=np.float32), np.asarray(keys, dtype=np.int64)
        )
    return index


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
    """(key, cosine) best first, for one query vector."""
    if index.ntotal == 0:
        return []
    scores, keys = index.search(np.asarray(query, dtype=np.float32).reshape(1, -1), k)
    return [(int(key), float(s)) for key, s in zip(keys[0], scores[0], strict=True) if key != -1]
