"""hash: a tiny deterministic embedder for tests (hashed words and character n-grams)."""

from __future__ import annotations

import re
import zlib
from collections.abc import Sequence

import numpy as np

from index.embedders.base import embed_batches
from index.lang import HAN_RANGES

_HAN = re.compile(f"[{HAN_RANGES}]+")
_WORD = re.compile(r"\w+")


def text_features(text: str) -> list[str]:
    """Han unigrams and bigrams; lowercase words and their character trigrams."""
    features: list[str] = []
    for run in _HAN.findall(text):
        features += [f"h:{c}" for c in run] + [f"hh:{run[i : i + 2]}" for i in range(len(run) - 1)]
    for word in _WORD.findall(_HAN.sub(" ", text.lower())):
        padded = f"<{word}>"
        features += [f"w:{word}"] + [f"t:{padded[i : i + 3]}" for i in range(len(padded) - 2)]
    return features or ["<empty>"]


class HashEmbedder:
    """Signed feature hashing into 256 dims: texts sharing words score higher. No model."""

    id = "hash"
    dim = 256

    def embed_passages(self, texts: Sequence[str]) -> np.ndarray:
        return embed_batches(texts, self.dim, self._encode)

    def embed_queries(self, texts: Sequence[str]) -> np.ndarray:
        return embed_batches(texts, self.dim, self._encode)

    def _encode(self, batch: list[str]) -> np.ndarray:
        return np.stack([self._vector(text) for text in batch])

    def _vector(self, text: str) -> np.ndarray:
        hashes = np.array([zlib.crc32(f.encode()) for f in text_features(text)], dtype=np.uint64)
        signs = np.where(hashes >> np.uint64(31) & np.uint64(1), -1.0, 1.0)
        vector = np.zeros(self.dim, dtype=np.float32)
        np.add.at(vector, (hashes % np.uint64(self.dim)).astype(np.intp), signs)
        if not vector.any():  # features cancelled out: keep rows unit length
            vector[0] = 1.0
        return vector
