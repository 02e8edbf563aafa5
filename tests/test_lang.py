"""detect_lang and is_han: Chinese vs English by the share of Han letters."""

import json
from pathlib import Path

import pytest

from index.lang import detect_lang

DEV = Path(__file__).parent / "data" / "dev.jsonl"


@pytest.mark.parametrize(
    ("text", "lang"),
    [
        ("TME停披露和Netflix那次比,差在哪?", "zh"),
        ("what does 逛 mean in the Meituan essay", "en"),
        ("钉钉 ONE 是哪天正式发布的?", "zh"),
        ("Apple vs China Internet: 礼尚往来", "en"),
        ("Microsoft 的 Productivity Score 是一个很典型的例子。", "zh"),
        ("拭目以待", "zh"),
        ("Storms might be coming for Nvidia.", "en"),
        ("𠀀𠀁", "zh"),  # Han outside the Basic Multilingual Plane
    ],
)
def test_detect_lang(text, lang):
    assert detect_lang(text) == lang


@pytest.mark.parametrize("text", ["", "2024", "1/ 2/ 3.", "  \xa0\n", "😀 – ~$100"])
def test_no_letters_gives_the_default(text):
    assert detect_lang(text) == "en"
    assert detect_lang(text, default="zh") == "zh"


def test_dev_questions_are_detected_as_labelled():
    questions = [json.loads(line) for line in DEV.read_text(encoding="utf-8").splitlines()]
    assert [detect_lang(q["question"]) for q in questions] == [q["lang"] for q in questions]
