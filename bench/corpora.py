"""Corpora for the build benchmarks: N essays generated from the bundled ten, and one new one."""

from __future__ import annotations

import json
from pathlib import Path

from index.corpus import load_corpus

BUNDLED = Path(__file__).resolve().parent.parent / "corpus"
NEW_ID = "bench-new"


def essay_file(essay_id: str, title: str, lang: str, body: str) -> str:
    """An essay file as the corpus loader reads it (JSON strings are valid YAML)."""
    header = f"id: {essay_id}\ntitle: {json.dumps(title, ensure_ascii=False)}\nlang: {lang}"
    return f"---\n{header}\n---\n{body}\n"


def _rotated(body: str, turn: int) -> str:
    paragraphs = body.split("\n\n")
    turn %= len(paragraphs)
    return "\n\n".join(paragraphs[turn:] + paragraphs[:turn])


def generate(count: int, target: Path) -> Path:
    """`count` essays in `target`: the bundled ones over and over, each copy with its own id
    and its paragraphs rotated, so every copy is a distinct document of real text."""
    essays = load_corpus(BUNDLED)
    target.mkdir(parents=True, exist_ok=True)
    for i in range(count):
        base = essays[i % len(essays)]
        body = _rotated(base.body, i // len(essays))
        text = essay_file(f"{base.id}-{i:04d}", f"{base.title} #{i}", base.lang, body)
        (target / f"{i:04d}-{base.id}.md").write_text(text, encoding="utf-8")
    return target


def add_new_essay(target: Path) -> str:
    """Add an essay whose every chunk is new text (a bundled English essay, case swapped);
    its id."""
    base = next(e for e in load_corpus(BUNDLED) if e.lang == "en")
    text = essay_file(NEW_ID, f"{base.title} (new)", base.lang, base.body.swapcase())
    (target / f"9999-{NEW_ID}.md").write_text(text, encoding="utf-8")
    return NEW_ID
