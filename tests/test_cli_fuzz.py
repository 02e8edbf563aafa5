"""Property tests through `essaybot ask --json -`: any input gives one valid JSON line each,
in order, and every quote is an exact slice of its essay."""

from __future__ import annotations

import json
import subprocess
import sys

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from index.corpus import load_corpus
from tests.paths import CORPUS, ROOT

BODIES = {e.id: e.body for e in load_corpus(CORPUS)}
NASTY = st.sampled_from(
    [
        "",
        "   ",
        "\u200b\u200d\ufeff",
        "\x00\x07\x1b[31m",
        "🙂👩‍👩‍👧",
        "مرحبا بالعالم",
        "שלום",
        "<b>&amp;</b> &#x27; &lt;script&gt;",
        "]]><![CDATA[",
        "*bold* _it_ `code`",
        '"',
        "*",
        "NEAR",
        "a -b",
        "NOT AND OR",
        "'; drop table chunks; --",
        "。！？",
        "錢包與阿里巴巴",
        "ＡＢＣ１２３",
        "x" * 5000,
    ]
)
QUESTION = st.one_of(NASTY, st.text(max_size=200)).map(
    lambda t: t.replace("\n", " ").replace("\r", " ")
)


def run_batch(index_dir, data: bytes) -> list[dict]:
    """Feed raw bytes to `ask --json -`; the JSON objects it printed, one per line."""
    result = subprocess.run(
        [sys.executable, "-m", "bot", "ask", "--json", "--index", str(index_dir), "-"],
        input=data,
        capture_output=True,
        cwd=ROOT,
        timeout=300,
    )
    assert result.returncode == 0, result.stderr.decode("utf-8", "replace")
    return [json.loads(line) for line in result.stdout.decode("utf-8").splitlines()]


def assert_valid(reply: dict) -> None:
    assert reply["status"] in {"answered", "related", "not_found", "error"}
    for quote in reply.get("quotes", []):
        assert BODIES[quote["essay_id"]][quote["start"] : quote["end"]] == quote["text"]


@settings(
    max_examples=4, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(st.lists(QUESTION, min_size=10, max_size=30))
def test_any_batch_of_questions_gets_one_valid_json_line_each(hash_index, questions):
    replies = run_batch(hash_index, "".join(q + "\n" for q in questions).encode("utf-8"))
    assert len(replies) == len(questions)
    for question, reply in zip(questions, replies, strict=True):
        assert_valid(reply)
        assert reply["status"] == "error" or reply["question"] == question.strip()


def test_lone_surrogates_and_invalid_utf8_do_not_crash(hash_index):
    replies = run_batch(hash_index, b"caf\xe9 \xff\xfe\n\xed\xa0\x80 lone surrogate\nGood CFOs\n")
    assert len(replies) == 3
    for reply in replies:
        assert_valid(reply)
