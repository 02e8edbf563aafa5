"""The incremental, atomic index build over real SQLite and FAISS files."""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path

import pytest

from index import layout
from index.builder import build_index
from index.embedders import create_embedder
from index.errors import (
    CorpusError,
    EmbedderMismatchError,
    IndexCorruptError,
    IndexMissingError,
    IndexOutdatedError,
)
from index.retriever import Retriever
from index.store import Store

HASH = create_embedder("hash")


def build(corpus: Path, index_dir: Path, **kwargs):
    return build_index(corpus, index_dir, HASH, progress=False, **kwargs)


def chunk_rows(index_dir: Path) -> list:
    store = Store(layout.current_generation(index_dir) / layout.DB_FILE)
    try:
        return store.all_chunks()
    finally:
        store.close()


def test_first_build_embeds_everything_and_second_embeds_nothing(corpus_copy, tmp_path):
    first = build(corpus_copy, tmp_path / "idx")
    assert first.essays == 10
    assert first.embedded == first.units > first.chunks > 10
    second = build(corpus_copy, tmp_path / "idx")
    assert (second.embedded, second.reused, second.removed) == (0, first.units, 0)


def test_adding_an_essay_embeds_only_its_chunks(corpus_copy, tmp_path):
    first = build(corpus_copy, tmp_path / "idx")
    (corpus_copy / "11-new.md").write_text(
        "---\nid: new-essay\ntitle: A new essay\nlang: en\n---\n"
        "First sentence here. Second one.\n\n"
        "Another paragraph.\n",
        encoding="utf-8",
    )
    second = build(corpus_copy, tmp_path / "idx")
    new_chunks = [c for c in chunk_rows(tmp_path / "idx") if c.essay_id == "new-essay"]
    assert len(new_chunks) == 1  # the whole essay: "Another paragraph." alone lies inside it
    assert second.embedded == second.units - first.units == 4  # and its three sentences
    assert second.reused == first.units


def test_removing_an_essay_removes_its_rows(corpus_copy, tmp_path):
    build(corpus_copy, tmp_path / "idx")
    before = [c for c in chunk_rows(tmp_path / "idx") if c.essay_id == "cfo-ceo"]
    (corpus_copy / "04-cfo-ceo.md").unlink()
    report = build(corpus_copy, tmp_path / "idx")
    assert report.removed == len(before) > 0
    assert not [c for c in chunk_rows(tmp_path / "idx") if c.essay_id == "cfo-ceo"]


def test_rebuild_embeds_everything_again(corpus_copy, tmp_path):
    first = build(corpus_copy, tmp_path / "idx")
    again = build(corpus_copy, tmp_path / "idx", rebuild=True)
    assert again.embedded == first.units


def test_chunk_keys_are_stable_across_builds(corpus_copy, tmp_path):
    build(corpus_copy, tmp_path / "a")
    build(corpus_copy, tmp_path / "b")
    assert {c.key for c in chunk_rows(tmp_path / "a")} == {
        c.key for c in chunk_rows(tmp_path / "b")
    }


def test_bad_essay_fails_the_build_and_keeps_the_previous_index(corpus_copy, tmp_path):
    build(corpus_copy, tmp_path / "idx")
    generation = layout.current_generation(tmp_path / "idx")
    (corpus_copy / "12-broken.md").write_text("no front matter here\n", encoding="utf-8")
    with pytest.raises(CorpusError, match=r"12-broken\.md"):
        build(corpus_copy, tmp_path / "idx")
    assert layout.current_generation(tmp_path / "idx") == generation
    assert len(chunk_rows(tmp_path / "idx")) > 0


def test_opening_with_another_embedder_is_refused_with_the_fix(hash_index):
    with pytest.raises(EmbedderMismatchError, match=r"index build --rebuild --embedder use"):
        Retriever(layout.current_generation(hash_index), create_embedder("use"))


def test_an_index_chunked_by_an_older_version_is_refused_and_rebuilt(corpus_copy, tmp_path):
    build(corpus_copy, tmp_path / "idx")
    generation = layout.current_generation(tmp_path / "idx")
    layout.write_manifest(generation, replace(layout.read_manifest(generation), chunker="1"))
    with pytest.raises(IndexOutdatedError, match=r"essaybot index build --index"):
        Retriever(generation, HASH)
    build(corpus_copy, tmp_path / "idx")
    Retriever(layout.current_generation(tmp_path / "idx"), HASH).close()


def test_missing_index_says_how_to_build(tmp_path):
    with pytest.raises(IndexMissingError, match="essaybot index build"):
        layout.current_generation(tmp_path / "nothing")


@pytest.mark.parametrize("name", [layout.DB_FILE, layout.FAISS_FILE])
def test_corrupt_index_file_is_named_in_the_error(corpus_copy, tmp_path, name):
    build(corpus_copy, tmp_path / "idx")
    generation = layout.current_generation(tmp_path / "idx")
    (generation / name).write_bytes(b"this is not an index file" * 10)
    with pytest.raises(IndexCorruptError, match=name):
        Retriever(generation, HASH)


def test_old_generations_are_pruned(corpus_copy, tmp_path):
    for _ in range(4):
        build(corpus_copy, tmp_path / "idx")
    assert len(list((tmp_path / "idx").glob("gen-*"))) == layout.KEEP_GENERATIONS


def test_manifest_records_embedder_and_corpus(corpus_copy, tmp_path):
    build(corpus_copy, tmp_path / "idx")
    manifest = layout.read_manifest(layout.current_generation(tmp_path / "idx"))
    assert (manifest.embedder, manifest.dim, manifest.essays) == (HASH.id, HASH.dim, 10)
    assert len(manifest.corpus_hash) == 64
