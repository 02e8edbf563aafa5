"""A+B: several embedders side by side, one vector per text."""

from __future__ import annotations

from collections.abc import Sequence
from itertools import pairwise

import numpy as np

from index.embedders.base import Embedder
from index.errors import EmbedderError

JOIN = "+"  # "use+e5": a composite of the embedders named on either side


class CompositeEmbedder:
    """Each part's unit vector scaled by 1/sqrt(parts), concatenated: rows stay unit length, and
    the inner product of two rows is the mean of the parts' cosines. `slices` says which
    columns belong to which part, so a caller can treat the parts separately."""

    def __init__(self, parts: Sequence[Embedder]) -> None:
        if len(parts) < 2:
            raise EmbedderError("A composite needs two embedders or more. e.g. use+e5.")
        self.parts = tuple(parts)

    @property
    def id(self) -> str:
        return JOIN.join(part.id for part in self.parts)

    @property
    def dim(self) -> int:
        return sum(part.dim for part in self.parts)

    @property
    def slices(self) -> tuple[slice, ...]:
        ends = np.cumsum([0] + [part.dim for part in self.parts])
        return tuple(slice(int(a), int(b)) for a, b in pairwise(ends))

    def embed_passages(self, texts: Sequence[str]) -> np.ndarray:
        return self._join([part.embed_passages(texts) for part in self.parts])

    def embed_queries(self, texts: Sequence[str]) -> np.ndarray:
        return self._join([part.embed_queries(texts) for part in self.parts])

    def _join(self, blocks: list[np.ndarray]) -> np.ndarray:
        scale = np.float32(1.0 / np.sqrt(len(blocks)))
        return (np.concatenate(blocks, axis=1) * scale).astype(np.float32)


def part_slices(embedder: Embedder) -> tuple[slice, ...]:
    """The column ranges of the embedder's parts: one range for a plain embedder."""
    return getattr(embedder, "slices", (slice(0, embedder.dim),))
