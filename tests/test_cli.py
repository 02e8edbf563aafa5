"""The `essaybot` command line, run as a user runs it: a real process, real files."""

from __future__ import annotations

import json
from pathlib import Path

import click
import pytest

from bot.cli import cli
from tests.cli_runner import run_cli
from tests.paths import ROOT


def test_ask_json_prints_one_object_with_verbatim_quotes(hash_index):
    result = run_cli(
        "ask", "--json", "--index", str(hash_index), "Good CFOs are very good at numbers"
    )
    assert result.returncode == 0, result.stderr
    data = json.loads(result.stdout)
    assert data["status"] == "answered" and data["lang"] == "en"
    body = (ROOT / "corpus" / "04-cfo-ceo.md").read_text(encoding="utf-8").split("---\n", 2)[2]
    first = data["quotes"][0]
    assert first["essay_id"] == "cfo-ceo"
    assert body[first["start"] : first["end"]] == first["text"]


def test_ask_json_stdin_answers_each_line_in_order(hash_index):
    questions = ["Good CFOs", "", "钉钉 ONE 的教训"]
    result = run_cli(
        "ask", "--json", "--index", str(hash_index), "-", stdin="\n".join(questions) + "\n"
    )
    assert result.returncode == 0, result.stderr
    lines = [json.loads(line) for line in result.stdout.splitlines()]
    assert [line["question"] for line in lines] == ["Good CFOs", "", "钉钉 ONE 的教训"]
    assert [line["status"] for line in lines][1] == "error"
    assert lines[2]["lang"] == "zh"


def test_ask_plain_prints_quotes_and_citations(hash_index):
    result = run_cli("ask", "--index", str(hash_index), "Mixue founders co-chairman")
    assert result.returncode == 0, result.stderr
    assert "[1] " in result.stdout and "paragraph" in result.stdout


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (("ask", "--index", "{tmp}/none", "hello"), "No index in"),
        (("ask", "--index", "{hash}", "   "), "Please ask a question"),
        (("ask", "--index", "{hash}", "--embedder", "nonsense", "hi"), "nonsense"),
        (("ask", "--index", "{hash}", "--embedder", "use", "hi"), "--rebuild --embedder use"),
        (("index", "build", "--corpus", "{tmp}/empty", "--index", "{tmp}/i"), "empty"),
    ],
)
def test_user_mistakes_print_one_line_and_fail(hash_index, tmp_path, args, message):
    (tmp_path / "empty").mkdir()
    filled = [a.format(tmp=tmp_path, hash=hash_index) for a in args]
    result = run_cli(*filled)
    assert result.returncode == 1
    assert message in result.stderr
    assert "Traceback" not in result.stderr
    assert len(result.stderr.strip().splitlines()) == 1, result.stderr


def test_index_build_reports_counts(corpus_copy, tmp_path):
    result = run_cli(
        "index",
        "build",
        "--corpus",
        str(corpus_copy),
        "--index",
        str(tmp_path / "i"),
        "--embedder",
        "hash",
    )
    assert result.returncode == 0, result.stderr
    assert "Indexed 10 essays" in result.stdout and "0 reused" in result.stdout


def test_a_translation_that_does_not_line_up_is_left_out_with_one_line(corpus_copy, tmp_path):
    target = corpus_copy / "03-ads-arpu.zh.md"
    text = target.read_text(encoding="utf-8")
    target.write_text(text.replace("\n\n", "\n", 1), encoding="utf-8")  # two paragraphs joined
    result = run_cli(
        "index", "build", "--corpus", str(corpus_copy), "--index", str(tmp_path / "i"),
        "--embedder", "hash",
    )  # fmt: skip
    assert result.returncode == 0, result.stderr
    (line,) = [x for x in result.stderr.splitlines() if x.startswith("Translation left out")]
    assert "03-ads-arpu.zh.md: 8 paragraphs, the original" in line and "has 9" in line
    assert "Indexed 10 essays, 9 translations, " in result.stdout
    answer = run_cli("ask", "--json", "--index", str(tmp_path / "i"), "哔哩哔哩的广告收入")
    assert answer.returncode == 0, answer.stderr


def test_eval_reports_every_figure_by_outcome_and_direction(hash_index):
    bank = str(ROOT / "tests/data/questions.jsonl")
    result = run_cli("eval", "--json", "--split", "test", "--index", str(hash_index), bank)
    assert result.returncode == 0, result.stderr
    report = json.loads(result.stdout)
    rows = [json.loads(line) for line in Path(bank).read_text(encoding="utf-8").splitlines()]
    tested = [r for r in rows if r["split"] == "test"]
    assert report["questions"] == len(tested)
    assert report["in_scope"]["n"] == sum(1 for r in tested if r["essay"])
    assert report["fidelity"] == 1.0
    assert {"en->en", "en->zh", "zh->en", "zh->zh", "kind=paraphrase"} <= set(report["groups"])
    groups = report["groups"]
    assert groups["across languages"]["n"] == groups["en->zh"]["n"] + groups["zh->en"]["n"]
    assert groups["same language"]["n"] == groups["en->en"]["n"] + groups["zh->zh"]["n"]
    for figure in (
        "answered_precision",
        "out_of_scope_answered",
        "out_of_scope_quoted",
        "in_scope_answered",
        "in_scope_quoted",
        "filler",
        "median_quoted_chars",
        "quotes_per_answer",
        "translation_carried",
    ):
        assert figure in report
    assert set(report["in_scope"]) == {"n", "answered@1", "answered@3", "quoted@1", "quoted@3"}


def all_commands(group: click.Group, prefix: str = "") -> list[tuple[str, click.Command]]:
    found = []
    for name, command in group.commands.items():
        found.append((f"{prefix}{name}", command))
        if isinstance(command, click.Group):
            found += all_commands(command, f"{prefix}{name} ")
    return found


@pytest.mark.parametrize(("name", "command"), all_commands(cli))
def test_every_command_has_help_and_is_in_the_readme(name, command):
    assert command.help and len(command.help) > 20
    assert f"essaybot {name}" in (ROOT / "README.md").read_text(encoding="utf-8")
