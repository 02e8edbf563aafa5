"""Renderers: an Answer or its sources as text blocks for each channel.

An answer renders as one block per quote: the quote with its answering sentences marked,
its citation and, when shown, the translation as a paragraph of its own, labelled as a
translation (so a page never separates a translation from its quote). A `related` answer
starts with a block saying the essays may not answer directly. A channel that must split
long replies splits between blocks, never inside a quote or a tag. Marking is formatting
only: the text between the marks is the quote.
"""

from __future__ import annotations

import html
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from itertools import pairwise

from bot.answer import ANSWERED, RELATED, Answer, Quote, TranslationText
from bot.messages import text


@dataclass(frozen=True)
class Source:
    """Quote n of an answer, with the whole paragraphs it stands in and where they start."""

    n: int
    quote: Quote
    paragraph_text: str
    offset: int  # essay offset of paragraph_text
    translation: TranslationText | None = None  # of the same paragraphs, for another reader


@dataclass(frozen=True)
class Style:
    """How a channel marks answering sentences and sets a translation apart."""

    escape: Callable[[str], str]
    number: tuple[str, str]
    mark: tuple[str, str]
    quote: tuple[str, str]
    cite: tuple[str, str]
    translated: tuple[str, str]


def _same(s: str) -> str:
    return s


_NONE = ("", "")
PLAIN = Style(_same, _NONE, ("【", "】"), _NONE, _NONE, _NONE)  # WeChat
TERMINAL = Style(_same, _NONE, ("\x1b[1m", "\x1b[22m"), _NONE, _NONE, ("\x1b[2m", "\x1b[22m"))
HTML = Style(  # Telegram
    lambda s: html.escape(s, quote=False),
    ("<b>", "</b>"),
    ("<b>", "</b>"),
    ("<blockquote>", "</blockquote>"),
    ("<i>", "</i>"),
    ("<blockquote><i>", "</i></blockquote>"),
)


def citation(quote: Quote, lang: str) -> str:
    first, last = quote.paragraph, quote.last_paragraph
    if first == last:
        return text("citation", lang, title=quote.title, paragraph=first)
    return text("citation_span", lang, title=quote.title, first=first, last=last)


def marked(body: str, offset: int, marks: Sequence[tuple[int, int]], style: Style) -> str:
    """body (which starts at essay offset `offset`), escaped, with the spans `marks` wrapped
    in the style's marks; nothing is marked when one span would cover the whole body."""
    spans = sorted((a - offset, b - offset) for a, b in marks if 0 <= a - offset < b - offset)
    if spans and spans[0][0] == 0 and spans[-1][1] == len(body) and _contiguous(body, spans):
        spans = []
    out, at = [], 0
    for a, b in spans:
        out += [style.escape(body[at:a]), style.mark[0], style.escape(body[a:b]), style.mark[1]]
        at = b
    out.append(style.escape(body[at:]))
    return "".join(out)


def _contiguous(body: str, spans: Sequence[tuple[int, int]]) -> bool:
    return all(not body[b:c].strip() for (_, b), (c, _) in pairwise(spans))


def translation_block(shown: TranslationText, lang: str, style: Style) -> str:
    label = text("translation_label", lang)
    return (
        f"{style.cite[0]}{style.escape(label)}{style.cite[1]}\n"
        f"{style.translated[0]}{style.escape(shown.text)}{style.translated[1]}"
    )


def blocks(answer: Answer, style: Style) -> list[str]:
    """The answer as blocks: a notice first when not answered, then each quote and its
    translation."""
    if answer.status not in (ANSWERED, RELATED):
        return [style.escape(b) for b in _not_found_blocks(answer)]
    out = [style.escape(text("related", answer.lang))] if answer.status == RELATED else []
    for n, q in enumerate(answer.quotes, 1):
        quote = marked(q.text, q.start, q.highlights, style)
        cite = style.escape(citation(q, answer.lang))
        number = f"{style.number[0]}[{n}]{style.number[1]}"
        block = (
            f"{number} {style.quote[0]}{quote}{style.quote[1]}\n"
            f"{style.cite[0]}{cite}{style.cite[1]}"
        )
        if q.translation is not None:
            block += "\n\n" + translation_block(q.translation, answer.lang, style)
        out.append(block)
    return out


def _not_found_blocks(answer: Answer) -> list[str]:
    found = [text("not_found", answer.lang)]
    if answer.closest:
        sep = "、" if answer.lang == "zh" else "; "
        found.append(text("closest", answer.lang, titles=sep.join(answer.closest)))
    return found


def plain_blocks(answer: Answer, style: Style = PLAIN) -> list[str]:
    return blocks(answer, style)


def html_blocks(answer: Answer) -> list[str]:
    """Telegram HTML: every string from the corpus or the user is escaped."""
    return blocks(answer, HTML)


def source_blocks(source: Source, lang: str, style: Style) -> list[str]:
    """The whole paragraphs with the answering sentences (or the quote) marked, then the
    translation of the same paragraphs when there is one for this reader."""
    q = source.quote
    marks = q.highlights or ((q.start, q.end),)
    number = f"{style.number[0]}[{source.n}]{style.number[1]}"
    cite = f"{style.cite[0]}{style.escape(citation(q, lang))}{style.cite[1]}"
    body = marked(source.paragraph_text, source.offset, marks, style)
    if source.translation is None:
        return [f"{number} {cite}\n{body}"]
    return [f"{number} {cite}\n{body}\n\n{translation_block(source.translation, lang, style)}"]


def plain_source(source: Source, lang: str, style: Style = PLAIN) -> str:
    return "\n".join(source_blocks(source, lang, style))


def html_source(source: Source, lang: str) -> str:
    return "\n".join(source_blocks(source, lang, HTML))
