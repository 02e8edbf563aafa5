"""Read the corpus: one Markdown file per essay, front matter first, and their translations.

Each file starts with YAML front matter between two `---` lines (id, title, lang),
followed by the body, which is kept exactly as written: every later offset points
into it. `parse_essay` is pure; `load_corpus` reads a directory and reports every
problem it finds at once, so one malformed file fails the whole load and nothing
half-read reaches the index.

A translation is a file whose front matter names the essay it translates
(`translation_of`, `lang`, `translator`, optionally `title`), conventionally named after
it (`01-dingtalk-one.en.md`). It must have the original's paragraphs, in the same order
and number. `load_translations` never fails the corpus: a translation that does not line
up, names an unknown essay or cannot be read is left out with one line naming the file
and what to fix, and the essays build and serve without it.
"""

from __future__ import annotations

import re
from pathlib import Path, PurePosixPath
from typing import Any

import yaml

from index.chunking import split_paragraphs
from index.errors import CorpusError
from index.models import Essay, Translation

LANGS = ("zh", "en")
MAX_ESSAY_BYTES = 2_000_000  # a larger file is refused: chunking one takes long (#17)
REQUIRED = ("id", "title", "lang")
TRANSLATION_REQUIRED = ("translation_of", "lang", "translator")
_TRANSLATION_NAME = re.compile(r".+\.(?:" + "|".join(LANGS) + r")\.md")
_SLUG = re.compile(r"[A-Za-z0-9_-]+")
_FENCE = "---"


def parse_essay(text: str, source: str) -> Essay:
    """Parse one essay file's text; `source` names the file in error messages."""
    refuse_nul(text, source)
    header, body = _split_front_matter(text, source)
    meta = _parse_meta(header, source)
    if not body.strip():
        raise CorpusError(f"{source}: empty body (write the essay after the closing '---' line)")
    return Essay(id=meta["id"], title=meta["title"], lang=meta["lang"], body=body, source=source)


def refuse_nul(text: str, source: str) -> None:
    """A NUL character is no text a reader should be quoted: refuse the file, naming the line."""
    at = text.find("\x00")
    if at >= 0:
        line = text.count("\n", 0, at) + 1
        raise CorpusError(f"{source}: a NUL character on line {line}; remove it")


def _split_front_matter(text: str, source: str) -> tuple[str, str]:
    """Split text into (front matter, body); the body starts after the closing fence line."""
    lines = text.removeprefix("\ufeff").splitlines(keepends=True)
    if not lines or lines[0].rstrip() != _FENCE:
        raise CorpusError(f"{source}: no front matter (the file must start with a '---' line)")
    for number, line in enumerate(lines[1:], start=1):
        if line.rstrip() == _FENCE:
            return "".join(lines[1:number]), "".join(lines[number + 1 :])
    raise CorpusError(f"{source}: front matter is not closed (add a '---' line after it)")


def _parse_meta(header: str, source: str) -> dict[str, str]:
    """Parse and check the front matter; return the required fields."""
    meta = _yaml_meta(header, source)
    fields = {key: _field(meta, key, source) for key in REQUIRED}
    _check_values(fields, source)
    return fields


def _yaml_meta(header: str, source: str) -> dict[Any, Any]:
    """The front matter as a mapping, or CorpusError naming what is wrong with it."""
    try:
        meta: Any = yaml.safe_load(header)
    except yaml.YAMLError as error:
        problem = str(error).splitlines()[0]
        raise CorpusError(f"{source}: front matter is not valid YAML ({problem})") from None
    if not isinstance(meta, dict):
        raise CorpusError(f"{source}: front matter must be 'key: value' lines (id, title, lang)")
    return meta


def parse_translation(text: str, source: str, essays: dict[str, Essay]) -> Translation:
    """Parse one translation file and check it lines up with the essay it names."""
    refuse_nul(text, source)
    header, body = _split_front_matter(text, source)
    meta = _yaml_meta(header, source)
    fields = {key: _field(meta, key, source) for key in TRANSLATION_REQUIRED}
    original = essays.get(fields["translation_of"])
    if original is None:
        raise CorpusError(
            f"{source}: translation_of names no essay ({fields['translation_of']!r}); "
            "use the id in the original's front matter"
        )
    if fields["lang"] not in LANGS or fields["lang"] == original.lang:
        raise CorpusError(
            f"{source}: lang {fields['lang']!r} must be the other language than the "
            f"original's ({original.lang})"
        )
    title = str(meta.get("title") or original.title).strip()
    _check_alignment(original, body, source)
    return Translation(original.id, fields["lang"], title, fields["translator"], body, source)


def _check_alignment(original: Essay, body: str, source: str) -> None:
    """CorpusError naming the first paragraph that does not line up with the original's."""
    mine = split_paragraphs(original.id, body)
    theirs = split_paragraphs(original.id, original.body)
    if len(mine) == len(theirs):
        return
    lines = [_line_count(body, p.start, p.end) for p in mine]
    wanted = [_line_count(original.body, p.start, p.end) for p in theirs]
    first = next(
        (i for i, (a, b) in enumerate(zip(lines, wanted, strict=False), 1) if a != b),
        min(len(mine), len(theirs)) + 1,
    )
    raise CorpusError(
        f"{source}: {len(mine)} paragraphs, the original ({original.source}) has "
        f"{len(theirs)}; paragraph {first} is the first that does not line up "
        "(separate paragraphs with one blank line, exactly as in the original)"
    )


def _line_count(body: str, start: int, end: int) -> int:
    return body.count("\n", start, end) + 1


def _field(meta: dict[Any, Any], key: str, source: str) -> str:
    """One required front-matter field as non-empty text."""
    if meta.get(key) is None:
        raise CorpusError(f"{source}: missing '{key}' in front matter")
    value = meta[key]
    if not isinstance(value, str) or not value.strip():
        raise CorpusError(f"{source}: '{key}' must be non-empty text (put it in quotes)")
    return value.strip()


def _check_values(fields: dict[str, str], source: str) -> None:
    """Check the id is slug-like and the language is one we support."""
    if not _SLUG.fullmatch(fields["id"]):
        raise CorpusError(
            f"{source}: id {fields['id']!r} may hold only letters, digits, '-' and '_'"
        )
    if fields["lang"] not in LANGS:
        raise CorpusError(f"{source}: lang {fields['lang']!r} must be one of {', '.join(LANGS)}")


def load_corpus(directory: Path, max_bytes: int = MAX_ESSAY_BYTES) -> list[Essay]:
    """Read every *.md essay in `directory` (translations aside), sorted by file name; raise
    on any problem. A file over `max_bytes` is a problem, named with its size."""
    paths = _essay_paths(Path(directory))
    essays: list[Essay] = []
    problems: list[str] = []
    for path in paths:
        try:
            text, source = read_text(path, max_bytes)
            if not _is_translation(path, text):
                essays.append(parse_essay(text, source))
        except CorpusError as error:
            problems.append(str(error))
    if not essays and not problems:
        problems.append(f"{directory}: holds only translations; add the original essays")
    problems += _duplicate_ids(essays)
    if problems:
        raise CorpusError(_summary(Path(directory), problems))
    return essays


def _essay_paths(directory: Path) -> list[Path]:
    """The essay files in `directory`, sorted by name; an error if there are none."""
    if not directory.is_dir():
        raise CorpusError(
            f"Corpus directory {directory} not found: create it and put one Markdown (.md) "
            "file per essay in it, or point to the right directory."
        )
    paths = sorted(path for path in directory.glob("*.md") if path.is_file())
    if not paths:
        raise CorpusError(
            f"No essays in {directory}: add one Markdown (.md) file per essay, starting with "
            "front matter (id, title, lang) between '---' lines."
        )
    return paths


def load_translations(
    directory: Path, essays: list[Essay], max_bytes: int = MAX_ESSAY_BYTES
) -> tuple[list[Translation], list[str]]:
    """The translations in `directory` that line up with their essays, and one line per file
    left out (never an exception: the essays build without a bad translation)."""
    by_id = {essay.id: essay for essay in essays}
    found: dict[tuple[str, str], Translation] = {}
    problems: list[str] = []
    for path in _essay_paths(Path(directory)):
        try:
            text, source = read_text(path, max_bytes)
            if not _is_translation(path, text):
                continue
            translation = parse_translation(text, source, by_id)
        except CorpusError as error:
            problems.append(str(error))
            continue
        slot = (translation.essay_id, translation.lang)
        if slot in found:
            problems.append(
                f"{source}: a second {slot[1]} translation of {slot[0]} "
                f"(also in {found[slot].source}); keep one"
            )
            continue
        found[slot] = translation
    return list(found.values()), problems


def _is_translation(path: Path, text: str) -> bool:
    """A file named like a translation (NAME.en.md, NAME.zh.md) or whose front matter has
    `translation_of`."""
    if _TRANSLATION_NAME.fullmatch(path.name):
        return True
    try:
        meta = yaml.safe_load(_split_front_matter(text, path.name)[0])
    except (CorpusError, yaml.YAMLError):
        return False
    return isinstance(meta, dict) and "translation_of" in meta


def read_text(path: Path, max_bytes: int = MAX_ESSAY_BYTES) -> tuple[str, str]:
    """(text, source) of one file; its source is '<directory name>/<file name>'. A link to a
    file outside the corpus directory is refused: the corpus is what the directory holds."""
    source = str(PurePosixPath(path.parent.resolve().name, path.name))
    if path.is_symlink() and not path.resolve().is_relative_to(path.parent.resolve()):
        raise CorpusError(f"{source}: a link to a file outside the corpus; copy the file in")
    try:
        size = path.stat().st_size
        if size > max_bytes:
            raise CorpusError(
                f"{source}: {size:,} bytes, over the limit of {max_bytes:,} "
                "(ESSAYBOT_MAX_ESSAY_BYTES); split the essay or raise the limit"
            )
        data = path.read_bytes()
    except OSError as error:
        raise CorpusError(f"{source}: cannot be read ({error.strerror})") from None
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError as error:
        raise CorpusError(f"{source}: not UTF-8 (byte {error.start}); save it as UTF-8") from None
    return text, source


def _duplicate_ids(essays: list[Essay]) -> list[str]:
    """One problem line per essay whose id an earlier essay already uses."""
    first: dict[str, Essay] = {}
    problems = []
    for essay in essays:
        if essay.id in first:
            other = first[essay.id].source
            problems.append(f"{essay.source}: duplicate id '{essay.id}' (also in {other})")
        first.setdefault(essay.id, essay)
    return problems


def _summary(directory: Path, problems: list[str]) -> str:
    """The error message: a summary line, then one line per problem."""
    count = f"{len(problems)} problem" + ("s" if len(problems) > 1 else "")
    head = f"Corpus {directory} has {count}; fix the files and build again:"
    return "\n".join([head, *(f"  {problem}" for problem in problems)])
