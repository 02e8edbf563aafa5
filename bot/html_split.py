"""Pure: rendered Telegram-HTML blocks packed into messages under Telegram's length limit.

Blocks (one per quote or source) are joined while they fit. A block that alone is too long
is cut between characters, preferring a sentence end or a space, never inside a tag or an
entity; tags open at the cut are closed there and reopened at the start of the next piece.
Lengths are counted in UTF-16 code units of the HTML itself, which is never shorter than
the text Telegram counts after parsing it.
"""

from __future__ import annotations

import re
from collections.abc import Iterable

from bot.paging import pack
from index.lang import SENTENCE_TERMINATORS

LIMIT = 4096
_TOKEN = re.compile(r"<[^>]*>|&#?\w+;|[^<&]", re.S)
_TAG = re.compile(r"<(/?)([a-zA-Z-]+)")
_SENTENCE_END = frozenset(SENTENCE_TERMINATORS + "\n")
_SPACE = frozenset(" \t\u3000")

Stack = tuple[str, ...]  # the opening tags in force, outermost first


def units(text: str) -> int:
    """Length as Telegram counts it: UTF-16 code units."""
    return len(text.encode("utf-16-le")) // 2


def split_messages(blocks: Iterable[str], limit: int = LIMIT) -> list[str]:
    """Messages of whole blocks joined by blank lines, each at most `limit` long."""
    return pack((p for block in blocks for p in split_block(block, limit)), limit, units)


def split_block(block: str, limit: int = LIMIT) -> list[str]:
    """The block itself when it fits, else well-formed pieces that each fit."""
    if units(block) <= limit:
        return [block]
    tokens = _TOKEN.findall(block)
    pieces: list[str] = []
    start, stack = 0, Stack()
    while start < len(tokens):
        end, end_stack = _fit(tokens, start, stack, limit)
        pieces.append(_opening(stack) + "".join(tokens[start:end]) + _closing(end_stack))
        start, stack = end, end_stack
    return [p for p in pieces if _TOKEN.sub(_visible, p).strip()]


def _fit(tokens: list[str], start: int, stack: Stack, limit: int) -> tuple[int, Stack]:
    """Where the piece from `start` ends: the last good break in its second half, else as
    many tokens as fit (always at least one), with the tags open at that point."""
    size, i = units(_opening(stack)), start
    breaks: dict[str, tuple[int, Stack]] = {}
    while i < len(tokens):
        after = _push(stack, tokens[i])
        if i > start and size + units(tokens[i]) + units(_closing(after)) > limit:
            break
        size, stack, i = size + units(tokens[i]), after, i + 1
        _note_break(breaks, tokens[i - 1], i, stack)
    if i == len(tokens):
        return i, stack
    for kind in ("sentence", "space"):
        if kind in breaks and breaks[kind][0] - start > (i - start) // 2:
            return breaks[kind]
    return i, stack


def _note_break(breaks: dict[str, tuple[int, Stack]], token: str, i: int, stack: Stack) -> None:
    """Remember a cut after a sentence end or a space; a space or closing tag right after
    one moves that cut past itself, so no piece starts with a space or an empty element."""
    if token in _SENTENCE_END:
        breaks["sentence"] = (i, stack)
    elif token in _SPACE or token.startswith("</"):
        for kind, (at, _) in list(breaks.items()):
            if at == i - 1:
                breaks[kind] = (i, stack)
        if token in _SPACE:
            breaks["space"] = (i, stack)


def _push(stack: Stack, token: str) -> Stack:
    match = _TAG.match(token)
    if not match:
        return stack
    closing, name = match.groups()
    if not closing:
        return (*stack, token)
    if stack and _TAG.match(stack[-1]).group(2) == name:  # type: ignore[union-attr]
        return stack[:-1]
    return stack


def _opening(stack: Stack) -> str:
    return "".join(stack)


def _closing(stack: Stack) -> str:
    return "".join(f"</{_TAG.match(tag).group(2)}>" for tag in reversed(stack))  # type: ignore[union-attr]


def _visible(match: re.Match[str]) -> str:
    token = match.group(0)
    return "" if token.startswith("<") else token
