"""`python -m bench.chunking [MB ...]`: chunking time against essay size (default 1 4 16 64).

An essay of the given size is made from the bundled essays' paragraphs, each copy numbered so
that no two paragraphs are the same text; it is split into passages and sentences, keyed, and
each sentence matched to the passages holding it (what `essaybot index build` does before
embedding). Linear chunking shows as a constant time per MB.
"""

from __future__ import annotations

import json
import sys
import time
from pathlib import Path

from index.chunking import chunk_essay, sentence_chunks, sentence_owners, split_paragraphs
from index.corpus import load_corpus
from index.models import Essay

ROOT = Path(__file__).resolve().parent.parent


def essay_of(megabytes: float) -> Essay:
    """An English essay of about `megabytes` MB (UTF-8) from the bundled paragraphs."""
    paragraphs = [
        e.body[p.start : p.end]
        for e in load_corpus(ROOT / "corpus")
        if e.lang == "en"
        for p in split_paragraphs(e.id, e.body)
    ]
    target, parts, size, n = int(megabytes * 1_000_000), [], 0, 0
    while size < target:
        text = f"{n}. {paragraphs[n % len(paragraphs)]}"
        parts.append(text)
        size += len(text.encode("utf-8")) + 2
        n += 1
    return Essay("big", "Big", "en", "\n\n".join(parts), "big.md")


def measure(megabytes: float) -> dict[str, float]:
    essay = essay_of(megabytes)
    started = time.perf_counter()
    chunks = chunk_essay(essay)
    sentences = sentence_chunks(essay)
    sentence_owners(chunks, sentences)
    seconds = time.perf_counter() - started
    return {"mb": megabytes, "passages": len(chunks), "seconds": round(seconds, 2),
            "seconds_per_mb": round(seconds / megabytes, 2)}  # fmt: skip


if __name__ == "__main__":
    sizes = [float(a) for a in sys.argv[1:]] or [1, 4, 16, 64]
    for size in sizes:
        print(json.dumps(measure(size)), flush=True)
