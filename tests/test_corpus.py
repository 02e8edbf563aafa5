"""load_corpus and parse_essay over the real corpus and over malformed files."""

import json
from pathlib import Path

import pytest

from index.chunking import chunk_essay, sentence_chunks
from index.corpus import load_corpus, parse_essay
from index.errors import CorpusError
from tests.paths import BANK, BANK_2, BANK_3, DEV, PROBES

ROOT = Path(__file__).parent.parent
EXPECTED = json.loads((ROOT / "tests" / "data" / "essays.json").read_text(encoding="utf-8"))

GOOD = "---\nid: {id}\ntitle: A title\nlang: en\n---\nThe body.\n"


@pytest.fixture(scope="module")
def essays():
    return load_corpus(ROOT / "corpus")


def _non_blank_lines(body):
    return [line.strip() for line in body.splitlines() if line.strip()]


def test_corpus_has_the_expected_essays(essays):
    assert [(e.id, e.title, e.lang) for e in essays] == [
        (x["id"], x["title"], x["lang"]) for x in EXPECTED
    ]


def test_bodies_start_after_the_title_and_end_with_the_last_line(essays):
    for essay, expected in zip(essays, EXPECTED, strict=True):
        lines = _non_blank_lines(essay.body)
        assert expected["first_line"] == essay.title
        assert lines[0] != essay.title and not essay.body[0].isspace()
        assert lines[-1] == expected["last_line"]


def test_bodies_are_kept_byte_exact(essays):
    for essay in essays:
        text = (ROOT / essay.source).read_text(encoding="utf-8")
        assert text.endswith(essay.body)
        assert text[: -len(essay.body)].endswith("\n---\n")
    nvidia = next(e for e in essays if e.id == "nvidia-apple")
    assert "2024,\xa0 2 years" in nvidia.body and "\n  • Samsung competition\n" in nvidia.body


def test_sources_name_the_directory_and_file(essays):
    assert essays[0].source == "corpus/01-dingtalk-one.md"


def test_every_chunk_of_the_corpus_is_its_slice(essays):
    for essay in essays:
        for chunk in chunk_essay(essay) + sentence_chunks(essay):
            assert essay.body[chunk.start : chunk.end] == chunk.text


def test_parse_essay_keeps_the_body_exactly():
    body = "\xa0\n  • one\r\n“quoted”,\u3000x\n\n"
    essay = parse_essay(
        f"---\nid: a_1\ntitle: '置身钉内?'\nlang: zh\nextra: ok\n---\n{body}", "x.md"
    )
    assert (essay.id, essay.title, essay.lang, essay.body, essay.source) == (
        "a_1",
        "置身钉内?",
        "zh",
        body,
        "x.md",
    )


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("id: x\n---\nbody\n", "x.md: no front matter (the file must start with a '---' line)"),
        ("", "x.md: no front matter"),
        ("---\nid: x\ntitle: t\nlang: en\nbody\n", "x.md: front matter is not closed"),
        ("---\nid: x\nlang: en\n---\nbody\n", "x.md: missing 'title' in front matter"),
        ("---\ntitle: t\nlang: en\n---\nbody\n", "x.md: missing 'id' in front matter"),
        ("---\nid: x\ntitle: t\n---\nbody\n", "x.md: missing 'lang' in front matter"),
        ("---\nid: x\ntitle: t\nlang: fr\n---\nbody\n", "x.md: lang 'fr' must be one of zh, en"),
        ("---\nid: a b\ntitle: t\nlang: en\n---\nbody\n", "x.md: id 'a b' may hold only"),
        ("---\nid: x\ntitle: 2024\nlang: en\n---\nbody\n", "'title' must be non-empty text"),
        ("---\nid: x\ntitle: ''\nlang: en\n---\nbody\n", "'title' must be non-empty text"),
        ("---\nid: x\ntitle: t\nlang: en\n---\n", "x.md: empty body"),
        ("---\nid: x\ntitle: t\nlang: en\n---\n\xa0\n\u3000\n", "x.md: empty body"),
        ("---\nid: [x\n---\nbody\n", "x.md: front matter is not valid YAML"),
        ("---\n- x\n---\nbody\n", "x.md: front matter must be 'key: value' lines"),
    ],
)
def test_parse_essay_errors(text, message):
    with pytest.raises(CorpusError) as error:
        parse_essay(text, "x.md")
    assert str(error.value).startswith("x.md: ")
    assert message in str(error.value)


@pytest.mark.parametrize(
    ("files", "message"),
    [
        ({"a.md": b"no front matter\n"}, "a.md: no front matter"),
        ({"a.md": b"---\nid: a\nlang: en\n---\nbody\n"}, "a.md: missing 'title'"),
        ({"a.md": b"---\nid: a\ntitle: t\nlang: de\n---\nbody\n"}, "a.md: lang 'de'"),
        ({"a.md": b"---\nid: a\ntitle: t\nlang: en\n---\n\n"}, "a.md: empty body"),
        ({"a.md": GOOD.format(id="a").encode() + b"\xff\n"}, "a.md: not UTF-8 (byte 48)"),
        (
            {"a.md": GOOD.format(id="same"), "b.md": GOOD.format(id="same")},
            "b.md: duplicate id 'same' (also in ",
        ),
        ({}, "No essays in"),
        ({"notes.txt": "not an essay"}, "add one Markdown (.md) file per essay"),
    ],
)
def test_load_corpus_errors(tmp_path, files, message):
    for name, content in files.items():
        path = tmp_path / name
        path.write_bytes(content if isinstance(content, bytes) else content.encode())
    with pytest.raises(CorpusError) as error:
        load_corpus(tmp_path)
    assert message in str(error.value)


def test_duplicate_id_names_both_files(tmp_path):
    (tmp_path / "a.md").write_text(GOOD.format(id="same"), encoding="utf-8")
    (tmp_path / "b.md").write_text(GOOD.format(id="same"), encoding="utf-8")
    with pytest.raises(CorpusError) as error:
        load_corpus(tmp_path)
    assert f"{tmp_path.name}/b.md: duplicate id 'same' (also in {tmp_path.name}/a.md)" in str(
        error.value
    )


def test_all_problems_are_reported_at_once(tmp_path):
    (tmp_path / "1.md").write_text("no front matter", encoding="utf-8")
    (tmp_path / "2.md").write_text(GOOD.format(id="fine"), encoding="utf-8")
    (tmp_path / "3.md").write_bytes(b"\x80")
    with pytest.raises(CorpusError) as error:
        load_corpus(tmp_path)
    lines = str(error.value).splitlines()
    assert lines[0] == f"Corpus {tmp_path} has 2 problems; fix the files and build again:"
    assert "1.md: no front matter" in lines[1] and "3.md: not UTF-8 (byte 0)" in lines[2]
    assert len(lines) == 3


def test_missing_directory(tmp_path):
    with pytest.raises(CorpusError, match="not found: create it and put one Markdown"):
        load_corpus(tmp_path / "nowhere")


def test_load_corpus_sorts_by_file_name_and_accepts_a_bom(tmp_path):
    (tmp_path / "b.md").write_text(GOOD.format(id="second"), encoding="utf-8")
    (tmp_path / "a.md").write_text("\ufeff" + GOOD.format(id="first"), encoding="utf-8")
    essays = load_corpus(tmp_path)
    assert [e.id for e in essays] == ["first", "second"]
    assert essays[0].body == "The body.\n"


@pytest.mark.parametrize("path", [DEV, *PROBES, BANK, BANK_2, BANK_3], ids=lambda p: p.name)
def test_question_sets_are_well_formed_and_their_evidence_is_verbatim(essays, path):
    rows = [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines()]
    bodies = {e.id: e.body for e in essays}
    assert len({row["id"] for row in rows}) == len(rows) > 0
    for row in rows:
        assert row["lang"] in ("en", "zh") and row["question"].strip()
        assert row["essay"] is None or row["evidence"], row["id"]
        assert all(e in bodies[row["essay"]] for e in row["evidence"]), row["id"]


@pytest.mark.parametrize(
    ("path", "in_scope", "outside"),
    [(BANK, 160, 50), (BANK_2, 130, 40), (BANK_3, 130, 40)],
    ids=["1", "2", "3"],
)
def test_each_bank_is_split_into_tune_and_test_with_every_kind_in_both(path, in_scope, outside):
    rows = [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines()]
    assert {row["split"] for row in rows} == {"tune", "test"}
    out = [row for row in rows if row["essay"] is None]
    assert len(rows) - len(out) >= in_scope and len(out) >= outside
    assert sum(row["kind"] == "near-miss" for row in out) * 2 >= len(out)
    for split in ("tune", "test"):
        kinds = {row["kind"] for row in rows if row["split"] == split}
        assert {"same-lang", "cross-lang", "paraphrase", "keyword", "definition"} <= kinds
        assert {"numeric", "out-of-scope", "near-miss"} <= kinds


def test_a_nul_character_is_refused_naming_the_file_and_line(tmp_path):
    """Before #17 NUL bytes were indexed and quoted."""
    (tmp_path / "a.md").write_text(GOOD.format(id="a") + "Line two\x00 here.\n", encoding="utf-8")
    with pytest.raises(CorpusError, match=r"a\.md: a NUL character on line 7"):
        load_corpus(tmp_path)


def test_a_link_to_a_file_outside_the_corpus_is_refused(tmp_path):
    """Before #17 a symlink in the corpus to any file on the machine was followed."""
    corpus, outside = tmp_path / "corpus", tmp_path / "secret.md"
    corpus.mkdir()
    outside.write_text(GOOD.format(id="secret"), encoding="utf-8")
    (corpus / "a.md").write_text(GOOD.format(id="a"), encoding="utf-8")
    (corpus / "b.md").symlink_to(outside)
    with pytest.raises(CorpusError, match=r"b\.md: a link to a file outside the corpus"):
        load_corpus(corpus)
    (corpus / "b.md").unlink()
    (corpus / "c.md").symlink_to(corpus / "a.md")  # a link inside the corpus is just a file
    with pytest.raises(CorpusError, match="duplicate id 'a'"):
        load_corpus(corpus)


def test_an_essay_over_the_size_limit_is_refused_naming_its_size(tmp_path):
    """Before #17 any size was chunked: a 50 MB essay was still chunking after 10 minutes."""
    (tmp_path / "big.md").write_text(GOOD.format(id="big") + "x" * 5000, encoding="utf-8")
    (tmp_path / "small.md").write_text(GOOD.format(id="small"), encoding="utf-8")
    with pytest.raises(CorpusError, match=r"big\.md: 5,\d+ bytes, over the limit of 4,000"):
        load_corpus(tmp_path, max_bytes=4000)
    assert [e.id for e in load_corpus(tmp_path, max_bytes=10_000)] == ["big", "small"]
