"""Where an index lives on disk, and how a new one replaces the old one atomically.

    INDEX_DIR/
      current -> gen-<id>     symlink, swapped with one rename(2)
      gen-<id>/manifest.json  embedder id, dimension, chunker version, corpus hash, counts,
                              vector index type;
                              written last, so a generation without one is a dead build's leftover
      gen-<id>/index.db       SQLite (index.store)
      gen-<id>/vectors.faiss  FAISS (index.vectors)
      build.lock              held by the one build allowed at a time

A reader resolves `current` once and keeps that generation open; a build writes a new
generation beside it and only then swaps the link, so nobody ever sees a half-built index.
"""

from __future__ import annotations

import fcntl
import json
import os
import shutil
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import asdict, dataclass
from pathlib import Path

from index.errors import IndexCorruptError, IndexMissingError

FORMAT = 1
CURRENT = "current"
MANIFEST = "manifest.json"
DB_FILE = "index.db"
FAISS_FILE = "vectors.faiss"
KEEP_GENERATIONS = 2


@dataclass(frozen=True)
class Manifest:
    embedder: str
    dim: int
    chunker: str
    corpus_hash: str
    essays: int
    chunks: int
    built_at: str
    format: int = FORMAT
    vector_index: str = "flat"  # index.vectors kind; manifests older than the field were flat


def current_generation(index_dir: Path) -> Path:
    """The generation directory `current` points at, or IndexMissingError."""
    link = index_dir / CURRENT
    if not link.is_symlink() or not link.resolve().is_dir():
        raise IndexMissingError(
            f"No index in {index_dir}. Run: essaybot index build --index {index_dir}"
        )
    return link.resolve()


def read_manifest(generation: Path) -> Manifest:
    path = generation / MANIFEST
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
        return Manifest(**data)
    except (OSError, ValueError, TypeError) as exc:
        raise IndexCorruptError(
            f"{path} is unreadable ({exc}). Rebuild the index: essaybot index build --rebuild"
        ) from exc


def write_manifest(generation: Path, manifest: Manifest) -> None:
    text = json.dumps(asdict(manifest), ensure_ascii=False, indent=2)
    (generation / MANIFEST).write_text(text + "\n", encoding="utf-8")


def new_generation(index_dir: Path) -> Path:
    """A fresh, empty generation directory beside the current one."""
    index_dir.mkdir(parents=True, exist_ok=True)
    path = index_dir / f"gen-{time.strftime('%Y%m%dT%H%M%S')}-{os.getpid()}-{time.monotonic_ns()}"
    path.mkdir()
    return path


def _fsync_tree(directory: Path) -> None:
    for path in [*directory.iterdir(), directory]:
        fd = os.open(path, os.O_RDONLY)
        try:
            os.fsync(fd)
        finally:
            os.close(fd)


def publish(index_dir: Path, generation: Path) -> None:
    """Make `generation` current with one atomic rename, then drop all but the newest few."""
    _fsync_tree(generation)
    tmp_link = index_dir / f".{CURRENT}.{os.getpid()}"
    tmp_link.unlink(missing_ok=True)
    tmp_link.symlink_to(generation.name)
    os.replace(tmp_link, index_dir / CURRENT)
    _fsync_tree(index_dir)
    prune(index_dir, keep=generation)


def published(index_dir: Path) -> list[Path]:
    """The generations a build completed (they have a manifest), newest first."""
    generations = sorted(index_dir.glob("gen-*"), key=lambda p: p.stat().st_mtime, reverse=True)
    return [g for g in generations if (g / MANIFEST).is_file()]


def prune(index_dir: Path, keep: Path) -> None:
    """Remove unpublished leftovers of dead builds and generations older than the newest few."""
    generations = sorted(index_dir.glob("gen-*"), key=lambda p: p.stat().st_mtime, reverse=True)
    published = [g for g in generations if (g / MANIFEST).is_file()]
    survivors = {keep.resolve(), *(g.resolve() for g in published[:KEEP_GENERATIONS])}
    for gen in generations:
        if gen.resolve() not in survivors:
            shutil.rmtree(gen, ignore_errors=True)


@contextmanager
def build_lock(index_dir: Path) -> Iterator[None]:
    """Hold the index's build lock; a second build waits for the first to finish."""
    index_dir.mkdir(parents=True, exist_ok=True)
    with open(index_dir / "build.lock", "w") as handle:
        fcntl.flock(handle, fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(handle, fcntl.LOCK_UN)
