"""Renderers: an Answer or its sources as text blocks for each channel.

An answer renders as one block per quote (the quote, then its citation), so a channel that
must split long replies splits between blocks, never inside a quote or a tag.
"""

from __future__ import annotations

import html
from dataclasses import dataclass

from bot.answer import ANSWERED, Answer, Quote
from bot.messages import text


@dataclass(frozen=True)
class Source:
    """Quote n of an answer, with the whole paragraphs it stands in and where it stands."""

    n: int
    quote: Quote
    paragraph_text: str
    at: int  # offset of the quote inside paragraph_text


def citation(quote: Quote, lang: str) -> str:
    first, last = quote.paragraph, quote.last_paragraph
    if first == last:
        return text("citation", lang, title=quote.title, paragraph=first)
    return text("citation_span", lang, title=quote.title, first=first, last=last)


def _not_found_blocks(answer: Answer) -> list[str]:
    blocks = [text("not_found", answer.lang)]
    if answer.closest:
        sep = "、" if answer.lang == "zh" else "; "
        blocks.append(text("closest", answer.lang, titles=sep.join(answer.closest)))
    return blocks


def plain_blocks(answer: Answer) -> list[str]:
    if answer.status != ANSWERED:
        return _not_found_blocks(answer)
    return [f"[{n}] {q.text}\n{citation(q, answer.lang)}" for n, q in enumerate(answer.quotes, 1)]


def html_blocks(answer: Answer) -> list[str]:
    """Telegram HTML: every string from the corpus or the user is escaped."""
    if answer.status != ANSWERED:
        return [html.escape(b) for b in _not_found_blocks(answer)]
    return [
        f"<b>[{n}]</b> <blockquote>{html.escape(q.text)}</blockquote>\n"
        f"<i>{html.escape(citation(q, answer.lang))}</i>"
        for n, q in enumerate(answer.quotes, 1)
    ]


def plain_source(source: Source, lang: str) -> str:
    """The whole paragraphs with the quote marked 【like this】."""
    p, q = source.paragraph_text, source.quote
    marked = p[: source.at] + "【" + q.text + "】" + p[source.at + len(q.text) :]
    return f"[{source.n}] {citation(q, lang)}\n{marked}"


def html_source(source: Source, lang: str) -> str:
    p, q = source.paragraph_text, source.quote
    before, after = p[: source.at], p[source.at + len(q.text) :]
    return (
        f"<b>[{source.n}]</b> <i>{html.escape(citation(q, lang))}</i>\n"
        f"{html.escape(before)}<b><u>{html.escape(q.text)}</u></b>{html.escape(after)}"
    )
