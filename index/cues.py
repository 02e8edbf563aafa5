"""Reader questions ("cues"): questions a paragraph answers, written to help find it.

A question rarely shares words with the passage that answers it, and two small encoders
match a question to a question better than a question to an argument. So the corpus may
carry, per essay, the questions its paragraphs answer (document expansion, as in doc2query:
Nogueira et al., 2019, "Document Expansion by Query Prediction"), written from the essay
alone. `corpus/cues/<essay id>.jsonl` holds one JSON object per line:

    {"paragraph": 3, "question": "What does ONE want to be?"}

`paragraph` numbers the essay's paragraphs from 1, as `/source` does. A cue's language is
detected from its text, as a question's is. Cues are embedded like questions and score the
passages that hold their paragraph, as a sentence of them would (index.fusion); they are
never quoted, shown or searched by keyword: what a reader sees stays the essay's words.

Like a translation, a cue never fails the corpus: a line that is not a JSON object with a
paragraph the essay has and a question of at most MAX_CUE_CHARS characters is left out with
one line naming file:line, a file named after no essay is left out whole, and the essays
build and serve without them.
"""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from pathlib import Path

from index.chunking import chunk_key, split_paragraphs
from index.corpus import MAX_ESSAY_BYTES, read_text, refuse_nul
from index.errors import CorpusError
from index.lang import detect_lang
from index.models import Chunk, Cue, Essay

CUES_DIR = "cues"
MAX_CUE_CHARS = 300
FIELDS = ("paragraph", "question")


def cue_key(essay_id: str, paragraph: int, text: str) -> int:
    """A key no essay or translation unit has: the essay id is prefixed with 'cue:' (a cue
    repeated for one paragraph is loaded once, so the text and paragraph make it unique)."""
    return chunk_key(f"cue:{essay_id}", f"{paragraph}\x00{text}", 0)


def load_cues(
    directory: Path, essays: Sequence[Essay], max_bytes: int = MAX_ESSAY_BYTES
) -> tuple[list[Cue], list[str]]:
    """The cues in `directory`/cues, and one line per line or file left out."""
    folder = Path(directory) / CUES_DIR
    if not folder.is_dir():
        return [], []
    paragraphs = {e.id: len(split_paragraphs(e.id, e.body)) for e in essays}
    cues: dict[tuple[str, int, str], Cue] = {}
    problems: list[str] = []
    for path in sorted(p for p in folder.glob("*.jsonl") if p.is_file()):
        try:
            text, source = read_text(path, max_bytes)
            refuse_nul(text, source)
        except CorpusError as error:
            problems.append(str(error))
            continue
        if path.stem not in paragraphs:
            known = ", ".join(sorted(paragraphs))
            problems.append(f"{source}: names no essay; name the file after an essay id ({known})")
            continue
        for number, line in enumerate(text.splitlines(), 1):
            if not line.strip():
                continue
            try:
                cue = parse_cue(line, path.stem, paragraphs[path.stem])
            except CorpusError as error:
                problems.append(f"{source}:{number}: {error}")
                continue
            cues.setdefault((cue.essay_id, cue.paragraph, cue.text), cue)
    return list(cues.values()), problems


def parse_cue(line: str, essay_id: str, paragraphs: int) -> Cue:
    """One line of a cue file, for an essay of `paragraphs` paragraphs."""
    try:
        data = json.loads(line)
    except json.JSONDecodeError as error:
        raise CorpusError(f"not JSON ({error.msg})") from None
    if not isinstance(data, dict) or sorted(data) != sorted(FIELDS):
        raise CorpusError('write {"paragraph": N, "question": "..."} and nothing else')
    paragraph, question = data["paragraph"], data["question"]
    if isinstance(paragraph, bool) or not isinstance(paragraph, int):
        raise CorpusError("paragraph must be a whole number")
    if not 1 <= paragraph <= paragraphs:
        raise CorpusError(f"no paragraph {paragraph} (the essay has {paragraphs})")
    if not isinstance(question, str) or not question.strip():
        raise CorpusError("question must be a non-empty string")
    text = question.strip()
    if len(text) > MAX_CUE_CHARS:
        raise CorpusError(f"question of {len(text)} characters, over {MAX_CUE_CHARS}")
    return Cue(essay_id, paragraph, detect_lang(text), text, cue_key(essay_id, paragraph, text))


def cue_owners(cues: Sequence[Cue], chunks: Sequence[Chunk]) -> dict[int, list[int]]:
    """Cue key -> the keys of the chunks that hold its paragraph (a cue whose paragraph no
    chunk holds, as in an essay that changed under it, owns none and is left out)."""
    holding: dict[tuple[str, int], list[int]] = {}
    for chunk in chunks:
        for number in range(chunk.paragraph, chunk.last_paragraph + 1):
            holding.setdefault((chunk.essay_id, number), []).append(chunk.key)
    found: Mapping[int, list[int]] = {
        cue.key: holding.get((cue.essay_id, cue.paragraph), []) for cue in cues
    }
    return {key: owners for key, owners in found.items() if owners}
