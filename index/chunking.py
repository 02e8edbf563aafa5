"""Pure bilingual (Chinese/English) paragraph and sentence splitter, and the chunker.

Everything here works on character offsets into an essay body, and every piece is an
exact slice: `body[x.start:x.end]` is the paragraph, sentence or chunk text, so a quote
is always verbatim.

Paragraphs: a maximal run of non-blank lines. A line is blank when it holds only
whitespace (spaces, tabs, NBSP U+00A0, ideographic space U+3000, ...). A paragraph's
span is trimmed of surrounding whitespace, so an indented bullet list starts at its
first "•"; later lines keep their indentation inside the slice. Numbered from 1.

Sentences, inside one paragraph:
- A newline always ends a sentence ("// heading" lines, one bullet per line).
- Terminators come in runs (`。`, `……`, `?!`, `?”;`); closing quotes and brackets right
  after a terminator stay with its sentence. Whether a run ends the sentence:
  - a full-width `。！？；：` always does; `…`/`……` is an ellipsis (below);
  - a lone ASCII `.` does when whitespace follows, except after an abbreviation
    ("e.g.", "vs.", "Sep."), an initial or dotted acronym ("J.", "U.S.") or a number
    that opens the line (a "1." list marker); and between two Han characters. So
    decimals ("7.5", "24.65%"), "A.I.技术" and "报告.pdf" stay whole;
  - any other run next to a Han character (before or after) does: this corpus writes
    Chinese with ASCII marks ("同一个结论:当企业", "权责不清;业务线", "退出?”;公告");
  - otherwise (English) an ellipsis (`..`, `...`, `…`) does when whitespace and an
    uppercase letter (or Han) follow; `?`, `!` do when whitespace follows; `;` and `:` never do
    ("Apple: 1980", "Apple vs China Internet: 礼尚往来").
- Chinese commas `,` `，` `、` never end a sentence.

Chunks (passages, what a reader is shown): the essay is first cut into pieces, each a whole
paragraph, or for a paragraph longer than `max_chars` windows of its whole consecutive
sentences packed greedily up to `max_chars` (a longer sentence is a piece on its own). Then
every piece starts one passage, which takes as many following pieces as fit in `max_chars`
characters. The passages overlap: a one-line paragraph is quoted together with the lines
that follow it (an essay written as a thread often states a point and answers it on the
next line), and the retriever never quotes two passages that overlap. A passage of a single
sentence that lies inside the passage before it (an essay's last line, a line before a
paragraph too long to join) is dropped: its sentence is scored anyway, as the best sentence
of the passages holding it, while as a passage of its own it counted that one similarity
twice, so short lines that say little ("Let's see.", "拭目以待") outranked passages that
answer (docs/retrieval.md, round 5). Each chunk's key is a
stable 60-bit number derived from the essay id, the text, and how many times that same
text occurs earlier in the body, so identical chunks get identical keys whichever
granularity produced them, and distinct ones get distinct keys.
"""

from __future__ import annotations

import bisect
import hashlib
import re
from collections.abc import Iterable, Iterator
from functools import lru_cache
from itertools import pairwise

from index.lang import SENTENCE_TERMINATORS, detect_lang, is_han
from index.models import Chunk, Essay, Paragraph, Sentence, Translation

# How the index cuts and tokenizes the corpus; an index built under another version is refused
# with the rebuild command (7: the keyword tokenizer knows CC-CEDICT's proper names).
CHUNKER_VERSION = "7"
MAX_CHARS = 400  # a passage's length (its first piece may be longer: a long sentence)
Span = tuple[int, int]

# Words that a '.' follows without ending the sentence (compared lowercased, without the dot).
ABBREVIATIONS = frozenset(
    {"e.g", "i.e", "etc", "vs", "cf", "al", "approx", "adj", "mr", "mrs", "ms", "dr", "prof"}
    | {"st", "jr", "sr", "inc", "ltd", "corp", "co", "jan", "feb", "mar", "apr", "jun", "jul"}
    | {"aug", "sep", "sept", "oct", "nov", "dec"}
)
_FULL_WIDTH = set("。！？；：")
_TERMS = SENTENCE_TERMINATORS
_CLOSERS = "”’」』)）]】》〉"  # always close; ASCII quotes close only before a non-word char
_RUN = re.compile(rf"(?:[{_TERMS}]+(?:[{re.escape(_CLOSERS)}]|[\"'](?!\w))*)+")
_DOTTED = re.compile(r"(?:[A-Za-z]\.)+[A-Za-z]|[A-Za-z]")
_OPENERS = "“‘\"'([（「『【《"


def split_paragraphs(essay_id: str, body: str) -> list[Paragraph]:
    """The paragraphs of `body`: runs of non-blank lines, trimmed, numbered from 1."""
    spans: list[tuple[int, int]] = []
    run: tuple[int, int] | None = None
    for start, end in _lines(body, 0, len(body)):
        if not body[start:end].strip():
            run = None
        elif run is None:
            run = (start, end)
            spans.append(run)
        else:
            spans[-1] = run = (run[0], end)
    trimmed = (_trim(body, start, end) for start, end in spans)
    return [Paragraph(essay_id, n, start, end) for n, (start, end) in enumerate(trimmed, 1)]


def split_sentences(body: str, start: int, end: int) -> list[Sentence]:
    """The sentences of body[start:end], with absolute offsets, trimmed, in order."""
    sentences = []
    for line_start, line_end in _lines(body, start, end):
        cuts = [line_start, *_boundaries(body, line_start, line_end), line_end]
        for a, b in pairwise(cuts):
            a, b = _trim(body, a, b)
            if a < b:
                sentences.append(Sentence(a, b))
    return sentences


def _lines(text: str, start: int, end: int) -> Iterator[tuple[int, int]]:
    """(start, end) of each line of text[start:end], without its newline."""
    while True:
        newline = text.find("\n", start, end)
        if newline < 0:
            yield start, end
            return
        yield start, newline
        start = newline + 1


def _trim(text: str, start: int, end: int) -> tuple[int, int]:
    """Narrow text[start:end] so it neither starts nor ends with whitespace."""
    piece = text[start:end]
    stripped = piece.strip()
    if not stripped:
        return start, start
    lead = len(piece) - len(piece.lstrip())
    return start + lead, start + lead + len(stripped)


def _boundaries(text: str, start: int, end: int) -> list[int]:
    """Offsets inside one line (text[start:end]) right after a sentence-ending run."""
    line = text[start:end]
    return [start + run.end() for run in _RUN.finditer(line) if _ends_sentence(line, run)]


def _ends_sentence(line: str, run: re.Match[str]) -> bool:
    """Whether the terminator run `run` in `line` ends a sentence (rules above)."""
    marks = run.group().rstrip(_CLOSERS + "\"'")
    before = line[run.start() - 1] if run.start() else ""
    after = line[run.end()] if run.end() < len(line) else ""
    if _FULL_WIDTH & set(marks):
        return True
    if marks == ".":
        return _period_ends(line, run.start(), before, after)
    if is_han(before) or is_han(after):
        return True
    if "…" in marks or ".." in marks:
        return _capital_follows(line, run.end())
    return ("?" in marks or "!" in marks) and after.isspace()


def _period_ends(line: str, dot: int, before: str, after: str) -> bool:
    """Whether a lone '.' ends a sentence: between Han, or before whitespace (no abbreviation)."""
    if is_han(before) and is_han(after):
        return True
    return after.isspace() and not _abbreviation(line, dot)


def _capital_follows(line: str, pos: int) -> bool:
    """True when whitespace, then (after any opening quotes) a capital or Han, follow."""
    rest = line[pos:]
    first = rest.lstrip().lstrip(_OPENERS)[:1]
    return rest[:1].isspace() and (first.isupper() or is_han(first))


def _abbreviation(line: str, dot: int) -> bool:
    """True when the word before the '.' at `dot` is an abbreviation, initial or list number."""
    head = line[:dot]
    word = head.split()[-1] if head.strip() else ""
    bare = word.lstrip(_OPENERS)
    if bare.lower() in ABBREVIATIONS or _DOTTED.fullmatch(bare):
        return True
    return bare.isdigit() and head.strip() == word


def chunk_key(essay_id: str, text: str, occurrence: int) -> int:
    """A stable positive 60-bit id for the `occurrence`-th (from 0) `text` in an essay."""
    data = "\x00".join([essay_id, text, str(occurrence)]).encode("utf-8")
    value = int.from_bytes(hashlib.sha256(data).digest()[:8], "big") >> 4
    return value or 1


def unit_keys(essay_id: str, body: str, spans: Iterable[tuple[int, int]]) -> dict[Span, int]:
    """The key of every span of one body: from the essay id, the text, and how many spans
    with the same text start before it. One pass over the spans, so keying is linear in the
    body's size (it rescanned the body for every span before, quadratic)."""
    seen: dict[str, int] = {}
    keys: dict[Span, int] = {}
    for start, end in sorted(set(spans)):
        text = body[start:end]
        keys[(start, end)] = chunk_key(essay_id, text, seen.get(text, 0))
        seen[text] = seen.get(text, 0) + 1
    return keys


def sentences_within(essay: Essay, start: int, end: int) -> list[tuple[int, int, int, int]]:
    """(paragraph, start, end, key) of each of the essay's sentences inside start..end, keyed
    as `sentence_chunks` keys them."""
    _, sentences, keys = _layout(essay, MAX_CHARS)
    at = bisect.bisect_left(sentences, start, key=lambda sentence: sentence[1])
    found = []
    for number, a, b in sentences[at:]:
        if a >= end:
            break
        if b <= end:
            found.append((number, a, b, keys[(a, b)]))
    return found


def chunk_essay(essay: Essay, max_chars: int = MAX_CHARS) -> list[Chunk]:
    """One passage starting at each piece, running over the following pieces that fit;
    less the one-sentence passages that lie inside the passage before them."""
    passages, _, keys = _layout(essay, max_chars)
    return [_chunk(essay, first, last, start, end, keys) for first, last, start, end in passages]


def sentence_chunks(essay: Essay, max_chars: int = MAX_CHARS) -> list[Chunk]:
    """One chunk per sentence, with the same fields as `chunk_essay` gives."""
    _, sentences, keys = _layout(essay, max_chars)
    return [_chunk(essay, n, n, start, end, keys) for n, start, end in sentences]


@lru_cache(maxsize=32)
def _layout(
    essay: Essay, max_chars: int
) -> tuple[list[tuple[int, int, int, int]], list[tuple[int, int, int]], dict[Span, int]]:
    """(passages as (first, last, start, end), sentences as (paragraph, start, end), the key
    of every one of their spans) for one essay."""
    passages = _passages(essay, max_chars)
    sentences = [
        (paragraph.number, sentence.start, sentence.end)
        for paragraph in split_paragraphs(essay.id, essay.body)
        for sentence in split_sentences(essay.body, paragraph.start, paragraph.end)
    ]
    spans = [(a, b) for _, _, a, b in passages] + [(a, b) for _, a, b in sentences]
    return passages, sentences, unit_keys(essay.id, essay.body, spans)


def _passages(essay: Essay, max_chars: int) -> list[tuple[int, int, int, int]]:
    """(first, last, start, end) of every passage, in order."""
    pieces = _pieces(essay, max_chars)
    passages: list[tuple[int, int, int, int]] = []
    for i, (first, start, end) in enumerate(pieces):
        last = first
        for j in range(i + 1, len(pieces)):
            number, _, piece_end = pieces[j]
            if piece_end - start > max_chars:
                break
            last, end = number, piece_end
        inside = bool(passages) and end <= passages[-1][3]
        if not (inside and len(split_sentences(essay.body, start, end)) == 1):
            passages.append((first, last, start, end))
    return passages


def _pieces(essay: Essay, max_chars: int) -> list[tuple[int, int, int]]:
    """(paragraph number, start, end): whole paragraphs, and sentence windows of long ones."""
    pieces = []
    for paragraph in split_paragraphs(essay.id, essay.body):
        if paragraph.end - paragraph.start <= max_chars:
            pieces.append((paragraph.number, paragraph.start, paragraph.end))
            continue
        sentences = split_sentences(essay.body, paragraph.start, paragraph.end)
        pieces.extend((paragraph.number, a, b) for a, b in _pack(sentences, max_chars))
    return pieces


def sentence_owners(chunks: list[Chunk], sentences: list[Chunk]) -> dict[int, list[int]]:
    """Sentence key -> keys of the chunks of the same essay whose spans hold the sentence.
    Chunks are sorted by start; a sentence looks only at the chunks that start at most the
    longest chunk's length before it, so this is linear in the essay's size."""
    by_essay: dict[str, list[Chunk]] = {}
    for chunk in chunks:
        by_essay.setdefault(chunk.essay_id, []).append(chunk)
    starts: dict[str, list[int]] = {}
    longest: dict[str, int] = {}
    for essay_id, held in by_essay.items():
        held.sort(key=lambda c: (c.start, c.end))
        starts[essay_id] = [c.start for c in held]
        longest[essay_id] = max(c.end - c.start for c in held)
    owners: dict[int, list[int]] = {}
    for sentence in sentences:
        held = by_essay.get(sentence.essay_id, [])
        if not held:
            continue
        at = bisect.bisect_right(starts[sentence.essay_id], sentence.start)
        lowest = sentence.end - longest[sentence.essay_id]
        for chunk in held[bisect.bisect_left(starts[sentence.essay_id], lowest) : at]:
            if sentence.end <= chunk.end:
                owners.setdefault(sentence.key, []).append(chunk.key)
    return owners


def _pack(sentences: list[Sentence], max_chars: int) -> list[tuple[int, int]]:
    """Greedy windows (start, end) over consecutive sentences, each <= max_chars if possible."""
    windows: list[tuple[int, int]] = []
    for sentence in sentences:
        if windows and sentence.end - windows[-1][0] <= max_chars:
            windows[-1] = (windows[-1][0], sentence.end)
        else:
            windows.append((sentence.start, sentence.end))
    return windows


def _chunk(
    essay: Essay, first: int, last: int, start: int, end: int, keys: dict[Span, int]
) -> Chunk:
    """The chunk for essay.body[start:end], drawn from paragraphs first..last."""
    text = essay.body[start:end]
    lang = detect_lang(text, default=essay.lang)
    return Chunk(essay.id, first, last, start, end, text, lang, keys[(start, end)])


def translation_units(
    translation: Translation, chunks: list[Chunk]
) -> tuple[dict[int, Chunk], dict[int, list[int]], dict[int, list[int]]]:
    """A translation's units and the original chunks each stands for: (units by key,
    passage key -> chunk keys, sentence key -> chunk keys).

    A passage of the translation spans the same paragraphs as its original chunk (a window
    of a long paragraph gets the whole translated paragraph: sentences do not line up across
    languages); each translated sentence belongs to every chunk that holds its paragraph.
    The offsets of a unit point into the translation's body."""
    mine = [c for c in chunks if c.essay_id == translation.essay_id]
    view, passages_at, sentences_at, keys = _view_layout(translation, mine)
    units: dict[int, Chunk] = {}
    passages: dict[int, list[int]] = {}
    for chunk, (start, end) in zip(mine, passages_at, strict=True):
        unit = _unit(
            view, translation.essay_id, chunk.paragraph, chunk.last_paragraph, start, end, keys
        )
        units[unit.key] = unit
        passages.setdefault(unit.key, []).append(chunk.key)
    sentences: dict[int, list[int]] = {}
    for number, start, end in sentences_at:
        unit = _unit(view, translation.essay_id, number, number, start, end, keys)
        units.setdefault(unit.key, unit)
        holders = sentences.setdefault(unit.key, [])
        holders += [
            c.key
            for c in mine
            if c.paragraph <= number <= c.last_paragraph and c.key not in holders
        ]
    return units, passages, sentences


def translated_sentences(translation: Translation, original: Essay) -> list[Chunk]:
    """Every sentence of a translation as a unit, numbered by its paragraph, keyed as
    `translation_units` keys it."""
    view, _, sentences_at, keys = _view_layout(translation, chunk_essay(original))
    return [
        _unit(view, translation.essay_id, number, number, start, end, keys)
        for number, start, end in sentences_at
    ]


def _view_layout(
    translation: Translation, chunks: list[Chunk]
) -> tuple[Essay, list[Span], list[tuple[int, int, int]], dict[Span, int]]:
    """(the view, the span of each chunk's translation, its sentences as (paragraph, start,
    end), the key of every one of those spans)."""
    view = _view(translation)
    paragraphs = {p.number: p for p in split_paragraphs(view.id, view.body)}
    passages = [(paragraphs[c.paragraph].start, paragraphs[c.last_paragraph].end) for c in chunks]
    sentences = [
        (p.number, s.start, s.end)
        for p in paragraphs.values()
        for s in split_sentences(view.body, p.start, p.end)
    ]
    spans = passages + [(a, b) for _, a, b in sentences]
    return view, passages, sentences, unit_keys(view.id, view.body, spans)


def _view(translation: Translation) -> Essay:
    """The translation as an essay of its own id (`<essay id>.<lang>`), for unit keys."""
    return Essay(
        f"{translation.essay_id}.{translation.lang}",
        translation.title,
        translation.lang,
        translation.body,
        translation.source,
    )


def _unit(
    view: Essay, essay_id: str, first: int, last: int, start: int, end: int, keys: dict[Span, int]
) -> Chunk:
    """A translated unit: the view's text at start..end, for the original's paragraphs."""
    made = _chunk(view, first, last, start, end, keys)
    return Chunk(essay_id, first, last, start, end, made.text, made.lang, made.key)
