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


def chunk_scores(
    units: Mapping[int, float],
    owners: Mapping[int, Sequence[int]],
    views: Mapping[int, Sequence[int]] | None = None,
) -> dict[int, tuple[float, float]]:
    """chunk key -> (its own similarity, its best sentence's similarity), from unit scores.

    `owners` maps each sentence key, of either language, to the keys of the chunks holding
    it (a one-sentence chunk is among its own owners); `views` maps a translated passage to
    the chunks it translates, and a chunk's own similarity is the better of its text's and
    its translation's. A unit not among `units` counts as the lowest score seen, an upper
    bound."""
    views = views or {}
    floor = min(units.values(), default=0.0)
    best: dict[int, float] = {}
    own: dict[int, float] = {}
    for key, score in units.items():
        for chunk in owners.get(key, ()):
            best[chunk] = max(best.get(chunk, floor), score)
        for chunk in views.get(key, ()):
            own[chunk] = max(own.get(chunk, floor), score)
        if key not in views and (key not in owners or key in owners[key]):
            own[key] = max(own.get(key, floor), score)
    return {key: (own.get(key, floor), best.get(key, floor)) for key in set(best) | set(own)}
