"""Tell Chinese text from English text by counting letters.

A text is "zh" when Han characters make up at least a fifth of its letters (Han
characters plus other alphabetic characters; digits, punctuation and spaces do not
count). One Han character carries about as much meaning as a short English word, so
a fifth is enough: "TME停披露和Netflix那次比,差在哪?" (10 Han, 10 Latin) is zh, while
"what does 逛 mean in the Meituan essay" (1 Han, 29 Latin) is en. A text with no
letters at all gets the caller's default.
"""

from __future__ import annotations

import re

HAN_SHARE = 0.2  # the smallest share of Han characters among the letters that makes "zh"

# Han (CJK ideograph) ranges, for character classes: the one definition of "Han" in the project
HAN_RANGES = "\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff\U00020000-\U0003134f"
# What may end a sentence in either language (index.chunking says when each one does); also
# where a channel prefers to cut a message too long to send whole
SENTENCE_TERMINATORS = "。！？；：….?!;:"
_HAN = re.compile(f"[{HAN_RANGES}]")


def is_han(char: str) -> bool:
    """True when the single character `char` is a Han (CJK ideograph) character."""
    return _HAN.fullmatch(char) is not None


def detect_lang(text: str, default: str = "en") -> str:
    """Return "zh" or "en" for `text`; `default` when it has no letters at all."""
    han = len(_HAN.findall(text))
    letters = sum(1 for char in text if char.isalpha())
    if letters == 0:
        return default
    return "zh" if han >= HAN_SHARE * letters else "en"
