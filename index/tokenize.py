"""Keyword tokens for the full-text table: jieba for Chinese, lower-cased words for the rest.

The same function runs at index time and at query time, so both sides agree.
NFKC folds full-width Latin and digits; Traditional Chinese is folded to Simplified.
"""

from __future__ import annotations

import logging
import unicodedata
from functools import cache, lru_cache
from typing import Any

import jieba

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
    return tuple(t for t in jieba.lcut_for_search(normalize(text)) if _is_word(t))


def fts_query(tokens: list[str]) -> str:
    """An FTS5 MATCH expression that ORs the tokens, each quoted so no token is read as syntax."""
    quoted = ['"' + t.replace('"', '""') + '"' for t in dict.fromkeys(tokens)]
    return " OR ".join(quoted)
