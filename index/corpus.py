"""Read the corpus: one Markdown file per essay, front matter first.

Each file starts with YAML front matter between two `---` lines (id, title, lang),
followed by the body, which is kept exactly as written: every later offset points
into it. `parse_essay` is pure; `load_corpus` reads a directory and reports every
problem it finds at once, so one malformed file fails the whole load and nothing
half-read reaches the index.
"""

from __future__ import annotations

import re
from pathlib import Path, PurePosixPath
from typing import Any

import yaml

from index.errors import CorpusError
from index.models import Essay

LANGS = ("zh", "en")
REQUIRED = ("id", "title", "lang")
_SLUG = re.compile(r"[A-Za-z0-9_-]+")
_FENCE = "---"


def parse_essay(text: str, source: str) -> Essay:
    """Parse one essay file's text; `source` names the file in error messages."""
    header, body = _split_front_matter(text, source)
    meta = _parse_meta(header, source)
    if not body.strip():
        raise CorpusError(f"{source}: empty body (write the essay after the closing '---' line)")
    return Essay(id=meta["id"], title=meta["title"], lang=meta["lang"], body=body, source=source)


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
    try:
        meta: Any = yaml.safe_load(header)
    except yaml.YAMLError as error:
        problem = str(error).splitlines()[0]
        raise CorpusError(f"{source}: front matter is not valid YAML ({problem})") from None
    if not isinstance(meta, dict):
        raise CorpusError(f"{source}: front matter must be 'key: value' lines (id, title, lang)")
    fields = {key: _field(meta, key, source) for key in REQUIRED}
    _check_values(fields, source)
    return fields


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


def load_corpus(directory: Path) -> list[Essay]:
    """Read every *.md essay in `directory`, sorted by file name; raise on any problem."""
    paths = _essay_paths(Path(directory))
    essays: list[Essay] = []
    problems: list[str] = []
    for path in paths:
        try:
            essays.append(_read_essay(path))
        except CorpusError as error:
            problems.append(str(error))
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


def _read_essay(path: Path) -> Essay:
    """Read and parse one file; its source is '<directory name>/<file name>'."""
    source = str(PurePosixPath(path.resolve().parent.name, path.name))
    try:
        data = path.read_bytes()
    except OSError as error:
        raise CorpusError(f"{source}: cannot be read ({error.strerror})") from None
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError as error:
        raise CorpusError(f"{source}: not UTF-8 (byte {error.start}); save it as UTF-8") from None
    return parse_essay(text, source)


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
