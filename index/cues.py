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

The corpus may also carry questions the essays leave unanswered: a reader names a company,
product or person an essay discusses and asks what no essay says ("When was Meituan
founded?"). These near misses hold the subject's name and score like answers, and no model
that reads a passage installs here; but a question resembles the questions it is like. So
`corpus/unanswered/<essay id>.jsonl` holds, per essay, such questions, written from the
essays alone and checked against all of them, one per line:

    {"question": "When was Meituan founded?", "why": "The essays give Meituan's ..."}

`why` (optional) says what the essays say nearest to it and why that does not answer. They
are embedded like questions and own no passage: the retriever reads how much closer a
question is to a question the essays answer than to one they leave unanswered
(Hit.unanswered_gap), and the answer decision reads that (bot.answer).

Like a translation, a cue never fails the corpus: a line that is not a JSON object with a
paragraph the essay has (none, for an unanswered question) and a question of at most
MAX_CUE_CHARS characters is left out with one line naming file:line, a file named after no
essay is left out whole, and the essays build and serve without them.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Mapping, Sequence
from pathlib import Path

from index.chunking import chunk_key, split_paragraphs
from index.corpus import MAX_ESSAY_BYTES, read_text, refuse_nul
from index.errors import CorpusError
from index.lang import detect_lang
from index.models import Chunk, Cue, Essay

CUES_DIR = "cues"
UNANSWERED_DIR = "unanswered"
MAX_CUE_CHARS = 300
FIELDS = ("paragraph", "question")
UNANSWERED_FIELDS = ("question", "why")  # `why` optional

Parse = Callable[[str, str, int], Cue]


def cue_key(essay_id: str, paragraph: int | None, text: str) -> int:
    """A key no essay or translation unit has: the essay id is prefixed with 'cue:' (a cue
    repeated for one paragraph is loaded once, so the text and paragraph make it unique; an
    unanswered question has "-" for its paragraph)."""
    where = "-" if paragraph is None else paragraph
    return chunk_key(f"cue:{essay_id}", f"{where}\x00{text}", 0)


def load_cues(
    directory: Path, essays: Sequence[Essay], max_bytes: int = MAX_ESSAY_BYTES
) -> tuple[list[Cue], list[str]]:
    """The cues in `directory`/cues and `directory`/unanswered (these with no paragraph), and
    one line per line or file left out."""
    answered, problems = _load(Path(directory) / CUES_DIR, essays, parse_cue, max_bytes)
    unanswered, left = _load(Path(directory) / UNANSWERED_DIR, essays, parse_unanswered, max_bytes)
    return answered + unanswered, problems + left


def _load(
    folder: Path, essays: Sequence[Essay], parse: Parse, max_bytes: int
) -> tuple[list[Cue], list[str]]:
    """Every line of every ESSAY-ID.jsonl in `folder`, read by `parse`."""
    if not folder.is_dir():
        return [], []
    paragraphs = {e.id: len(split_paragraphs(e.id, e.body)) for e in essays}
    cues: dict[tuple[str, int | None, str], Cue] = {}
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
                cue = parse(line, path.stem, paragraphs[path.stem])
            except CorpusError as error:
                problems.append(f"{source}:{number}: {error}")
                continue
            cues.setdefault((cue.essay_id, cue.paragraph, cue.text), cue)
    return list(cues.values()), problems


def parse_cue(line: str, essay_id: str, paragraphs: int) -> Cue:
    """One line of a cue file, for an essay of `paragraphs` paragraphs."""
    shape = 'write {"paragraph": N, "question": "..."} and nothing else'
    data = _json_object(line, shape)
    if sorted(data) != sorted(FIELDS):
        raise CorpusError(shape)
    paragraph, question = data["paragraph"], data["question"]
    if isinstance(paragraph, bool) or not isinstance(paragraph, int):
        raise CorpusError("paragraph must be a whole number")
    if not 1 <= paragraph <= paragraphs:
        raise CorpusError(f"no paragraph {paragraph} (the essay has {paragraphs})")
    return _cue(essay_id, paragraph, question)


def parse_unanswered(line: str, essay_id: str, paragraphs: int) -> Cue:
    """One line of an unanswered-questions file: a question and, optionally, why."""
    shape = 'write {"question": "...", "why": "..."} ("why" optional) and nothing else'
    data = _json_object(line, shape)
    if "question" not in data or set(data) - set(UNANSWERED_FIELDS):
        raise CorpusError(shape)
    if not isinstance(data.get("why", ""), str):
        raise CorpusError("why must be a string")
    return _cue(essay_id, None, data["question"])


def _json_object(line: str, shape: str) -> dict[str, object]:
    """The line's JSON object; CorpusError saying `shape` when it is another JSON value."""
    try:
        data = json.loads(line)
    except json.JSONDecodeError as error:
        raise CorpusError(f"not JSON ({error.msg})") from None
    if not isinstance(data, dict):
        raise CorpusError(shape)
    return data


def _cue(essay_id: str, paragraph: int | None, question: object) -> Cue:
    if not isinstance(question, str) or not question.strip():
        raise CorpusError("question must be a non-empty string")
    text = question.strip()
    if len(text) > MAX_CUE_CHARS:
        raise CorpusError(f"question of {len(text)} characters, over {MAX_CUE_CHARS}")
    return Cue(essay_id, paragraph, detect_lang(text), text, cue_key(essay_id, paragraph, text))


def cue_owners(cues: Sequence[Cue], chunks: Sequence[Chunk]) -> dict[int, list[int]]:
    """Cue key -> the keys of the chunks that hold its paragraph (a cue whose paragraph no
    chunk holds, as in an essay that changed under it, owns none and is left out; an
    unanswered question owns none by design)."""
    holding: dict[tuple[str, int], list[int]] = {}
    for chunk in chunks:
        for number in range(chunk.paragraph, chunk.last_paragraph + 1):
            holding.setdefault((chunk.essay_id, number), []).append(chunk.key)
    found: Mapping[int, list[int]] = {
        cue.key: holding.get((cue.essay_id, cue.paragraph), [])
        for cue in cues
        if cue.paragraph is not None
    }
    return {key: owners for key, owners in found.items() if owners}
