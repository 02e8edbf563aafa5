"""Open a built index and search it.

search() ranks chunks by dense similarity only, with the question centred on its language's
mean (index.fusion) so a question meets passages in either language on equal terms; a chunk
scores its own similarity plus that of its best sentence. docs/retrieval.md says why keyword
(BM25) ranking is not fused in: on this corpus it only ever pulled same-language passages up.
keyword() stays available for callers that want it.
"""

from __future__ import annotations

import logging
import threading
from pathlib import Path

import faiss

from index import layout, vectors
from index.embedders import Embedder, part_slices
from index.errors import EmbedderMismatchError, EssayBotError
from index.fusion import centre, chunk_scores
from index.lang import detect_lang
from index.models import Essay, Hit
from index.store import Store

logger = logging.getLogger(__name__)
CANDIDATES = 50
UNITS = 1000  # sentences and chunks scored per question; the whole index when it is smaller


class Retriever:
    """One generation of an index, opened read-only, with the embedder it was built with."""

    def __init__(self, generation: Path, embedder: Embedder) -> None:
        self.generation = generation
        self.manifest = layout.read_manifest(generation)
        if self.manifest.embedder != embedder.id:
            raise EmbedderMismatchError(
                f"The index in {generation.parent} was built with embedder "
                f"'{self.manifest.embedder}', "
                f"not '{embedder.id}'. Use --embedder {self.manifest.embedder}, or rebuild: "
                f"essaybot index build --rebuild --embedder {embedder.id}"
            )
        self.embedder = embedder
        self.store = Store(generation / layout.DB_FILE)
        self.essays: dict[str, Essay] = {e.id: e for e in self.store.essays()}
        self.faiss: faiss.Index = vectors.load(generation / layout.FAISS_FILE)
        self.centres = self.store.centres()
        self.owners = self.store.sentence_owners()
        self.slices = part_slices(embedder)

    def close(self) -> None:
        self.store.close()

    def dense(self, question: str, k: int = CANDIDATES) -> list[tuple[int, float]]:
        """(unit key, similarity) best first: chunks and sentences, language-centred."""
        query = self.embedder.embed_queries([question])
        centred = centre(query, [detect_lang(question)], self.centres, self.slices)
        return vectors.search(self.faiss, centred[0], k)

    def keyword(self, question: str, k: int = CANDIDATES) -> list[tuple[int, float]]:
        return self.store.keyword_search(question, k)

    def search(self, question: str, k: int = 5) -> list[Hit]:
        """The k best chunks, by their own similarity plus their best sentence's."""
        scores = chunk_scores(dict(self.dense(question, UNITS)), self.owners)
        best = sorted(scores, key=lambda key: sum(scores[key]), reverse=True)[:k]
        return [
            Hit(chunk, sum(scores[chunk.key]), scores[chunk.key][0], sentence=scores[chunk.key][1])
            for chunk in self.store.chunks(best)
        ]


class LiveRetriever:
    """Follows an index directory: when a build publishes a new generation, the next call
    opens it, while calls already running finish on the generation they started with."""

    def __init__(self, index_dir: Path, embedder: Embedder) -> None:
        self.index_dir = index_dir
        self.embedder = embedder
        self._lock = threading.Lock()
        self._bad: Path | None = None
        self._current = Retriever(layout.current_generation(index_dir), embedder)

    def get(self) -> Retriever:
        """The retriever for the newest good generation (the last good one if a new one is bad)."""
        try:
            generation = layout.current_generation(self.index_dir)
        except EssayBotError:
            logger.warning("index %s disappeared; still serving the last good one", self.index_dir)
            return self._current
        with self._lock:
            if generation not in (self._current.generation, self._bad):
                self._reload(generation)
            return self._current

    def _reload(self, generation: Path) -> None:
        try:
            self._current = Retriever(generation, self.embedder)
            logger.info("switched to index generation %s", generation.name)
        except EssayBotError as exc:
            self._bad = generation
            logger.error(
                "index generation %s is unusable (%s); still serving %s",
                generation.name,
                exc,
                self._current.generation.name,
            )
