"""Pure: join reply pieces into messages under a channel's size limit."""

from __future__ import annotations

from collections.abc import Callable, Iterable

SEPARATOR = "\n\n"


def pack(pieces: Iterable[str], limit: int, measure: Callable[[str], int]) -> list[str]:
    """Pieces joined by blank lines into as few messages as fit in `limit` (as `measure`
    counts), in order; each piece must fit on its own, and none is ever cut."""
    messages: list[str] = []
    current = ""
    for piece in pieces:
        joined = f"{current}{SEPARATOR}{piece}" if current else piece
        if measure(joined) <= limit:
            current = joined
        else:
            messages.append(current)
            current = piece
    return [*messages, current] if current else messages
