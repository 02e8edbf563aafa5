"""An optional second stage: a sentence-transformers CrossEncoder reads the question with each
of the retriever's top passages (in either language) and scores how well the passage answers.

`st:NAME` names the model as for embedders (a directory, or a Hugging Face hub name fetched on
first use unless HF_HUB_OFFLINE is set). The model loads once per process, on first use; the
passages of one question are scored in one batch, with torch's CPU threads bounded to the
cores this process may use. Off by default: the bundled encoders need nothing fetched.
"""

from __future__ import annotations

import importlib.util
import logging
from collections.abc import Sequence
from dataclasses import replace
from typing import Any

import numpy as np

from index.embedders.base import Lazy, import_or_explain, usable_cpus
from index.embedders.st import ST_MISSING, ST_PREFIX, find_st_model, offline
from index.errors import EmbedderError
from index.models import Hit

logger = logging.getLogger(__name__)
TOP = 20  # passages re-scored per question


class CrossEncoderReranker:
    """Scores (question, passage) pairs with a CrossEncoder; higher is a better answer."""

    def __init__(self, label: str, source: str, revision: str | None, top: int = TOP) -> None:
        self.id = f"{ST_PREFIX}{label}"
        self.top = top
        self._model: Lazy[Any] = Lazy(self.id, lambda: _load(source, revision))

    def scores(self, question: str, passages: Sequence[str]) -> np.ndarray:
        if not passages:
            return np.zeros(0, dtype=np.float32)
        pairs = [(question, passage) for passage in passages]
        with self._model.loaded() as model:
            found = model.predict(pairs, batch_size=len(pairs), show_progress_bar=False)
        return np.asarray(found, dtype=np.float32).reshape(len(pairs), -1)[:, -1]

    def rerank(self, question: str, hits: Sequence[Hit]) -> list[Hit]:
        """The hits with their reranker score, best first."""
        scored = self.scores(question, [hit.chunk.text for hit in hits])
        rescored = [replace(hit, rerank=float(s)) for hit, s in zip(hits, scored, strict=True)]
        return sorted(rescored, key=lambda hit: hit.rerank or 0.0, reverse=True)


def create_reranker(spec: str, top: int = TOP) -> CrossEncoderReranker:
    """The reranker `spec` names (st:PATH-OR-NAME)."""
    spec = spec.strip()
    if not spec.startswith(ST_PREFIX) or not spec.removeprefix(ST_PREFIX):
        raise EmbedderError(f"Unknown reranker '{spec}': name one as st:PATH-OR-HUB-NAME")
    if importlib.util.find_spec("sentence_transformers") is None:
        raise EmbedderError(ST_MISSING)
    label, source, revision = find_st_model(spec.removeprefix(ST_PREFIX))
    return CrossEncoderReranker(label, source, revision, top)


def _load(source: str, revision: str | None) -> Any:
    st = import_or_explain("sentence_transformers", ST_MISSING)
    import torch

    torch.set_num_threads(min(torch.get_num_threads(), usable_cpus()))
    try:
        return st.CrossEncoder(source, revision=revision, local_files_only=offline())
    except Exception as exc:  # a foreign loader: many failure types, one fix
        raise EmbedderError(f"cannot load the reranker {source}: {exc}") from exc
