"""The FAISS side: the automatic index type, forcing it, and that each type finds what exact
search finds. Correctness only; the timings are in bench/."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest
from click.testing import CliRunner

from bot.cli import cli
from index import layout, vectors
from index.builder import build_index
from index.embedders import create_embedder
from index.errors import VectorIndexError
from index.retriever import Retriever

CORPUS = Path(__file__).resolve().parent.parent / "corpus"


def unit_rows(count: int, dim: int = 32, seed: int = 0) -> np.ndarray:
    rows = np.random.default_rng(seed).standard_normal((count, dim)).astype(np.float32)
    return rows / np.linalg.norm(rows, axis=1, keepdims=True)


@pytest.mark.parametrize(
    ("count", "kind", "expected"),
    [
        (0, "auto", "flat"),
        (111, "auto", "flat"),
        (vectors.FLAT_MAX - 1, "auto", "flat"),
        (vectors.FLAT_MAX, "auto", "hnsw"),
        (10_000_000, "auto", "hnsw"),
        (111, "hnsw", "hnsw"),
        (10_000_000, "flat", "flat"),
    ],
)
def test_choose_kind_by_size_unless_forced(count, kind, expected):
    assert vectors.choose_kind(count, kind) == expected


def test_unknown_kind_is_refused_with_the_valid_ones():
    with pytest.raises(VectorIndexError, match=r"Unknown vector index 'ivf'\. Valid: auto, flat"):
        vectors.choose_kind(10, "ivf")


def test_auto_build_is_flat_below_the_threshold_and_hnsw_from_it(monkeypatch):
    monkeypatch.setattr(vectors, "FLAT_MAX", 300)
    below, at = unit_rows(299), unit_rows(300)
    assert vectors.kind_of(vectors.build(below, np.arange(299), 32)) == "flat"
    assert vectors.kind_of(vectors.build(at, np.arange(300), 32)) == "hnsw"


@pytest.mark.parametrize("kind", ["flat", "hnsw"])
def test_each_kind_finds_the_exact_top_ten_by_key(kind, tmp_path):
    data, keys = unit_rows(2000), np.arange(2000, dtype=np.int64) * 7919 + 3
    path = tmp_path / "v.faiss"
    vectors.save(vectors.build(data, keys, 32, kind), path)
    index = vectors.load(path)
    assert vectors.kind_of(index) == kind
    for query in unit_rows(20, seed=1):
        exact = keys[np.argsort(-(data @ query))[:10]]
        found = [key for key, _ in vectors.search(index, query, 10)]
        assert len(set(found) & set(exact.tolist())) >= 9
        assert found[0] == exact[0]


def test_hnsw_keeps_its_search_depth_through_save_and_load(tmp_path):
    path = tmp_path / "v.faiss"
    vectors.save(vectors.build(unit_rows(50), np.arange(50), 32, "hnsw"), path)
    index = vectors.load(path)  # keep it referenced: the graph below lives inside it
    graph = vectors.faiss.downcast_index(index.index)
    assert graph.hnsw.efSearch == vectors.HNSW_EF_SEARCH


def test_empty_index_of_either_kind_answers_nothing():
    for kind in ("flat", "hnsw"):
        index = vectors.build(np.zeros((0, 32), np.float32), np.zeros(0, np.int64), 32, kind)
        assert vectors.search(index, unit_rows(1)[0], 10) == []


@pytest.mark.parametrize(("forced", "recorded"), [("auto", "flat"), ("hnsw", "hnsw")])
def test_builder_records_the_chosen_type_and_the_index_answers(forced, recorded, tmp_path):
    embedder = create_embedder("hash")
    build_index(CORPUS, tmp_path / "idx", embedder, progress=False, vector_index=forced)
    generation = layout.current_generation(tmp_path / "idx")
    assert layout.read_manifest(generation).vector_index == recorded
    retriever = Retriever(generation, embedder)
    assert vectors.kind_of(retriever.faiss) == recorded
    chunk = retriever.store.all_chunks()[5]
    assert retriever.dense(chunk.text, 5)[0][0] == chunk.key


def test_a_manifest_written_before_the_field_existed_reads_as_flat(tmp_path):
    build_index(CORPUS, tmp_path / "idx", create_embedder("hash"), progress=False)
    path = layout.current_generation(tmp_path / "idx") / layout.MANIFEST
    data = json.loads(path.read_text(encoding="utf-8"))
    del data["vector_index"]
    path.write_text(json.dumps(data), encoding="utf-8")
    assert layout.read_manifest(path.parent).vector_index == "flat"


def test_cli_forces_the_type_and_refuses_an_unknown_one(tmp_path):
    args = ["index", "build", "--corpus", str(CORPUS), "--index", str(tmp_path / "idx")]
    args += ["--embedder", "hash"]
    forced = CliRunner().invoke(cli, [*args, "--vector-index", "hnsw"])
    assert forced.exit_code == 0, forced.output
    generation = layout.current_generation(tmp_path / "idx")
    assert layout.read_manifest(generation).vector_index == "hnsw"
    refused = CliRunner().invoke(cli, [*args, "--vector-index", "ivf"])
    assert refused.exit_code != 0
    assert "'ivf' is not one of 'auto', 'flat', 'hnsw'" in refused.output
