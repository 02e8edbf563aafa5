"""Pure scoring helpers: language-neutral vectors, and chunk scores from two granularities.

Language centring. A multilingual encoder puts every text of one language near a common
point, so a question scores higher against any passage in its own language than against
the passage in the other language that answers it. Subtracting, from every vector, the
mean passage vector of its language (passages for passages, the question's language for the
question) removes that shared part and leaves what the text says (Libovický et al., 2020,
"On the language neutrality of pre-trained multilingual representations"). The means are
taken over the corpus at build time; nothing is fitted to questions. Each part of a composite
vector is centred and re-normalised on its own, so the inner product stays the mean of
the parts' cosines.

Granularity. A chunk (a passage of whole paragraphs or sentences) is scored by its own
similarity plus that of its best sentence: the chunk brings context, the sentence precision.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence

import numpy as np


def language_means(matrix: np.ndarray, langs: Sequence[str]) -> dict[str, np.ndarray]:
    """The mean row for each language, plus "*" over all rows (for a language not seen)."""
    labels = np.asarray(langs)
    means = {lang: matrix[labels == lang].mean(axis=0) for lang in sorted(set(langs))}
    if len(labels):
        means["*"] = matrix.mean(axis=0)
    return {lang: mean.astype(np.float32) for lang, mean in means.items()}


def centre(
    matrix: np.ndarray,
    langs: Sequence[str],
    means: Mapping[str, np.ndarray],
    slices: Sequence[slice],
) -> np.ndarray:
    """Rows minus their language's mean, each part re-normalised and scaled by 1/sqrt(parts)."""
    zero = np.zeros(matrix.shape[1], dtype=np.float32)
    shift = np.stack([means.get(lang, means.get("*", zero)) for lang in langs]) if langs else 0.0
    out = np.asarray(matrix, dtype=np.float32) - shift
    for part in slices:
        norms = np.linalg.norm(out[:, part], axis=1, keepdims=True)
        out[:, part] /= np.maximum(norms, np.float32(1e-12)) * np.sqrt(len(slices))
    return out.astype(np.float32)


class ChunkScorer:
    """chunk key -> (its own similarity, its best sentence's similarity), from unit scores.

    `owners` maps each sentence key, of either language, and each reader question's key to the
    keys of the chunks holding it (a one-sentence chunk is among its own owners); `views` maps
    a translated passage to the chunks it translates, and a chunk's own similarity is the
    better of its text's and its translation's. A unit not among a question's scores counts as
    the lowest score seen, an upper bound. The maps are laid out once per index as index
    arrays, so a question costs a few numpy reductions, not a Python loop over every unit."""

    def __init__(
        self,
        unit_keys: Sequence[int],
        owners: Mapping[int, Sequence[int]],
        views: Mapping[int, Sequence[int]] | None = None,
    ) -> None:
        views = views or {}
        self.position = {key: i for i, key in enumerate(dict.fromkeys(unit_keys))}
        itself = [k for k in self.position if k not in views and k in owners.get(k, (k,))]
        best_pairs = [(u, c) for u, chunks in owners.items() for c in chunks]
        own_pairs = [(u, c) for u, chunks in views.items() for c in chunks] + [
            (k, k) for k in itself
        ]
        chunks = sorted({c for _, c in best_pairs + own_pairs})
        self.chunks = np.array(chunks, dtype=np.int64)
        column = {key: j for j, key in enumerate(chunks)}
        self.best = self._pairs(best_pairs, column)
        self.own = self._pairs(own_pairs, column)

    def _pairs(
        self, pairs: list[tuple[int, int]], column: Mapping[int, int]
    ) -> tuple[np.ndarray, np.ndarray]:
        """(unit positions, chunk columns) of the pairs whose unit is in the index."""
        kept = [(self.position[u], column[c]) for u, c in pairs if u in self.position]
        rows = np.array(kept, dtype=np.int64).reshape(-1, 2)
        return rows[:, 0], rows[:, 1]

    def __call__(self, units: Mapping[int, float]) -> dict[int, tuple[float, float]]:
        """The scores of every chunk that a unit among `units` reaches."""
        floor = min(units.values(), default=0.0)
        scores = np.full(len(self.position), floor, dtype=np.float64)
        seen = np.zeros(len(self.position), dtype=bool)
        known = [(self.position[k], v) for k, v in units.items() if k in self.position]
        if known:
            at, values = zip(*known, strict=True)
            scores[list(at)] = values
            seen[list(at)] = True
        reached = np.zeros(len(self.chunks), dtype=bool)
        found = []
        for unit, chunk in (self.own, self.best):
            best = np.full(len(self.chunks), floor, dtype=np.float64)
            np.maximum.at(best, chunk, scores[unit])
            reached[chunk[seen[unit]]] = True
            found.append(best)
        own, best = found
        return {
            int(key): (float(own[j]), float(best[j]))
            for j, key in zip(np.flatnonzero(reached), self.chunks[reached], strict=True)
        }
