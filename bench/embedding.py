"""An Embedder wrapper for the build benchmarks: counts what it really embeds, and can serve
vectors it has already computed for the same text (the generated essays repeat the bundled texts,
so a base index of 1 000 essays needs only the bundled texts' vectors)."""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

from index.embedders import Embedder


class CountingEmbedder:
    """The wrapped embedder's vectors; `embedded` counts texts it really embedded."""

    def __init__(self, inner: Embedder, memo: dict[str, np.ndarray] | None = None) -> None:
        self.inner = inner
        self.memo = memo  # text -> vector; None: always embed
        self.embedded = 0
        self.id = inner.id
        self.dim = inner.dim

    def embed_passages(self, texts: Sequence[str]) -> np.ndarray:
        if self.memo is None:
            self.embedded += len(texts)
            return self.inner.embed_passages(texts)
        missing = [t for t in dict.fromkeys(texts) if t not in self.memo]
        if missing:
            self.embedded += len(missing)
            self.memo.update(zip(missing, self.inner.embed_passages(missing), strict=True))
        rows = [self.memo[t] for t in texts]
        return np.stack(rows) if rows else np.zeros((0, self.dim), dtype=np.float32)

    def embed_queries(self, texts: Sequence[str]) -> np.ndarray:
        return self.inner.embed_queries(texts)
