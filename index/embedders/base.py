"""What every embedder shares: the protocol, batching into unit rows, lazy model loading."""

from __future__ import annotations

import importlib
import logging
import os
import threading
import time
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from typing import Any, Generic, Protocol, TypeVar

import numpy as np

from index.errors import EmbedderError

logger = logging.getLogger(__name__)
BATCH_SIZE = 64  # texts per model call: bounds memory on large inputs
T = TypeVar("T")


class Embedder(Protocol):
    @property
    def id(self) -> str:
        """Stable identity recorded in the index manifest; changes when vectors would change.
        It is also a spec: create_embedder(e.id) makes the same embedder again."""
        ...

    @property
    def dim(self) -> int: ...

    def embed_passages(self, texts: Sequence[str]) -> np.ndarray:
        """(len(texts), dim) float32, rows L2-normalised."""
        ...

    def embed_queries(self, texts: Sequence[str]) -> np.ndarray: ...


def unit_rows(vectors: np.ndarray) -> np.ndarray:
    """float32 copy with every row scaled to length 1 (an all-zero row stays zero)."""
    out = np.asarray(vectors, dtype=np.float32).copy()
    norms = np.linalg.norm(out, axis=1, keepdims=True)
    out /= np.maximum(norms, np.float32(1e-12))
    return out


def embed_batches(
    texts: Sequence[str], dim: int, encode: Callable[[list[str]], np.ndarray]
) -> np.ndarray:
    """Run encode over texts BATCH_SIZE at a time; (n, dim) float32 unit rows, n may be 0."""
    if isinstance(texts, str):
        raise TypeError("embed a list of texts, not a single string")
    items = list(texts)
    if not items:
        return np.zeros((0, dim), dtype=np.float32)
    batches = (items[i : i + BATCH_SIZE] for i in range(0, len(items), BATCH_SIZE))
    return unit_rows(np.concatenate([encode(batch) for batch in batches]))


def import_or_explain(module: str, install_hint: str) -> Any:
    try:
        return importlib.import_module(module)
    except ImportError as exc:
        raise EmbedderError(install_hint) from exc


def usable_cpus() -> int:
    return len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else os.cpu_count() or 1


class Lazy(Generic[T]):
    """A model built on first use; `with lazy.loaded() as model:` also serialises calls into it."""

    def __init__(self, name: str, load: Callable[[], T]) -> None:
        self._name = name
        self._load = load
        self._lock = threading.RLock()
        self._value: T | None = None

    def is_loaded(self) -> bool:
        return self._value is not None

    @contextmanager
    def loaded(self) -> Iterator[T]:
        with self._lock:
            if self._value is None:
                started = time.perf_counter()
                self._value = self._load()
                logger.info("loaded %s in %.1fs", self._name, time.perf_counter() - started)
            yield self._value


def package_version(distribution: str) -> str:
    """The installed version of a distribution ("unknown" when it is not installed)."""
    from importlib.metadata import PackageNotFoundError, version

    try:
        return version(distribution)
    except PackageNotFoundError:
        return "unknown"
