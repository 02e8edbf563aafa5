"""Keyword tokens for the full-text table: jieba for Chinese, lower-cased words for the rest.

The same function runs at index time and at query time, so both sides agree.
NFKC folds full-width Latin and digits; Traditional Chinese is folded to Simplified.
jieba's dictionary lacks many names the essays use and readers type ("钉钉", DingTalk, came
out as two characters, which no keyword matches): CC-CEDICT's proper names that jieba does not
know are added to it once, before the first cut, in a fixed order, so every process cuts alike.
"""

from __future__ import annotations

import logging
import threading
import unicodedata
from functools import cache, lru_cache
from typing import Any

import jieba

from index.cedict import cedict_lines, proper_names

jieba.setLogLevel(logging.WARNING)


@cache
def _t2s() -> Any:
    import opencc

    return opencc.OpenCC("t2s")


def normalize(text: str) -> str:
    """Fold width, case and Traditional characters; the result is only ever used for matching."""
    folded = unicodedata.normalize("NFKC", text).lower()
    return _t2s().convert(folded)


def _is_word(token: str) -> bool:
    return any(ch.isalnum() for ch in token)


def keyword_tokens(text: str) -> list[str]:
    """Search-mode jieba tokens of the normalized text, punctuation and spaces dropped."""
    return list(_tokens(text))


@lru_cache(maxsize=16384)
def _tokens(text: str) -> tuple[str, ...]:
    """keyword_tokens, remembered: a build tokenizes each passage for its row and for the
    lexicon, and a running bot sees the same passages again."""
    _add_names()
    return tuple(t for t in jieba.lcut_for_search(normalize(text)) if _is_word(t))


_NAMES_LOCK = threading.Lock()


@cache
def _add_names() -> int:
    """Add CC-CEDICT's proper names jieba does not know to its dictionary (once per process;
    about 6 200 names; 0.3 s, most of it reading the dictionary). Returns how many were
    added."""
    with _NAMES_LOCK:
        jieba.initialize()
        added = [name for name in proper_names(cedict_lines()) if not jieba.get_FREQ(name)]
        for name in added:
            jieba.add_word(name)
        return len(added)


def fts_query(tokens: list[str]) -> str:
    """An FTS5 MATCH expression that ORs the tokens, each quoted so no token is read as syntax."""
    quoted = ['"' + t.replace('"', '""') + '"' for t in dict.fromkeys(tokens)]
    return " OR ".join(quoted)
