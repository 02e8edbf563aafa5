"""A running service follows new index generations, and keeps the last good one when a new one
is broken or the index disappears."""

from __future__ import annotations

import shutil

import pytest

from index import layout
from index.builder import build_index
from index.embedders import create_embedder
from index.retriever import LiveRetriever

HASH = create_embedder("hash")
NEW = "---\nid: zebra\ntitle: Zebras\nlang: en\n---\nZebras have stripes that confuse flies.\n"


@pytest.fixture
def live(corpus_copy, tmp_path):
    build_index(corpus_copy, tmp_path / "idx", HASH, progress=False)
    return LiveRetriever(tmp_path / "idx", HASH)


def test_a_new_generation_is_picked_up_without_restart(live, corpus_copy, tmp_path):
    before = live.get()
    (corpus_copy / "50-zebra.md").write_text(NEW, encoding="utf-8")
    build_index(corpus_copy, tmp_path / "idx", HASH, progress=False)
    after = live.get()
    assert after.generation != before.generation
    assert "zebra" in after.essays
    assert before.search("Good CFOs", 3)  # a request in flight on the old one still works


@pytest.mark.parametrize("broken", [layout.FAISS_FILE, layout.DB_FILE, layout.MANIFEST])
def test_a_corrupt_new_generation_keeps_the_last_good_one(live, corpus_copy, tmp_path, broken):
    good = live.get().generation
    build_index(corpus_copy, tmp_path / "idx", HASH, progress=False)
    new = layout.current_generation(tmp_path / "idx")
    data = (new / broken).read_bytes()
    (new / broken).write_bytes(data[: len(data) // 3])
    assert live.get().generation == good
    assert live.get().search("Mixue founders co-chairman", 3)


def test_a_vanished_index_keeps_serving_from_memory(live, tmp_path):
    good = live.get().generation
    shutil.rmtree(tmp_path / "idx" / layout.CURRENT, ignore_errors=True)
    (tmp_path / "idx" / layout.CURRENT).unlink(missing_ok=True)
    assert live.get().generation == good


def test_damaged_pages_in_a_new_database_keep_the_last_good_one(live, corpus_copy, tmp_path):
    good = live.get().generation
    build_index(corpus_copy, tmp_path / "idx", HASH, progress=False)
    db = layout.current_generation(tmp_path / "idx") / layout.DB_FILE
    data = bytearray(db.read_bytes())
    data[4096:] = b"\xff" * (len(data) - 4096)  # keep the header page, ruin the rest
    db.write_bytes(bytes(data))
    assert live.get().generation == good
