"""Reader questions (cues): the shipped ones load; bad lines and files are left out, named, and
never take the essays down; a cue finds the passage holding its paragraph and is never shown;
a question the essays leave unanswered scores no passage and tells a near miss apart."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from index.builder import build_index
from index.chunking import split_paragraphs
from index.corpus import load_corpus
from index.cues import CUES_DIR, MAX_CUE_CHARS, UNANSWERED_DIR, load_cues
from index.embedders import create_embedder
from index.layout import current_generation
from index.models import Hit
from index.retriever import Retriever
from tests.cli_runner import run_cli
from tests.paths import CORPUS

ESSAY = "---\nid: e\ntitle: An essay\nlang: en\n---\nFirst point.\n\nSecond point. And more.\n"
GOOD = '{"paragraph": 2, "question": "What is the second point?"}'


UNANSWERED = '{"question": "Who wrote the third point?", "why": "There are two points."}'


def corpus_with(
    tmp_path: Path, cues: dict[str, str], unanswered: dict[str, str] | None = None
) -> Path:
    corpus = tmp_path / "c"
    for folder, files in ((CUES_DIR, cues), (UNANSWERED_DIR, unanswered or {})):
        (corpus / folder).mkdir(parents=True)
        for name, text in files.items():
            (corpus / folder / name).write_text(text, encoding="utf-8")
    (corpus / "e.md").write_text(ESSAY, encoding="utf-8")
    return corpus


def test_every_shipped_essay_has_cues_in_both_languages_and_none_is_left_out():
    essays = load_corpus(CORPUS)
    cues, problems = load_cues(CORPUS, essays)
    assert problems == []
    for essay in essays:
        mine = [c for c in cues if c.essay_id == essay.id and c.paragraph is not None]
        assert {c.lang for c in mine} == {"en", "zh"}, essay.id
        paragraphs = len(split_paragraphs(essay.id, essay.body))
        assert all(1 <= c.paragraph <= paragraphs for c in mine)


def test_every_shipped_essay_has_unanswered_questions_in_both_languages():
    essays = load_corpus(CORPUS)
    cues, _ = load_cues(CORPUS, essays)
    unanswered = [c for c in cues if c.paragraph is None]
    for essay in essays:
        assert {c.lang for c in unanswered if c.essay_id == essay.id} == {"en", "zh"}, essay.id
    lines = [
        json.loads(line)
        for path in sorted((CORPUS / UNANSWERED_DIR).glob("*.jsonl"))
        for line in path.read_text(encoding="utf-8").splitlines()
    ]
    assert len(unanswered) == len(lines)  # none left out, none repeated
    assert all(line.get("why") for line in lines)  # each says why the essays do not answer it


def test_no_cue_repeats_a_sentence_of_its_essay():
    # a cue is a reader's question, not a copy of the text it helps to find
    essays = {e.id: e for e in load_corpus(CORPUS)}
    cues, _ = load_cues(CORPUS, list(essays.values()))
    assert not [c.text for c in cues if len(c.text) > 20 and c.text in essays[c.essay_id].body]


@pytest.mark.parametrize(
    ("line", "message"),
    [
        ("not json", "e.jsonl:2: not JSON"),
        ('["a list"]', 'e.jsonl:2: write {"paragraph": N, "question": "..."}'),
        ('{"paragraph": 2, "question": "Q?", "lang": "en"}', "and nothing else"),
        ('{"paragraph": 3, "question": "Q?"}', "e.jsonl:2: no paragraph 3 (the essay has 2)"),
        ('{"paragraph": 0, "question": "Q?"}', "no paragraph 0"),
        ('{"paragraph": "2", "question": "Q?"}', "paragraph must be a whole number"),
        ('{"paragraph": true, "question": "Q?"}', "paragraph must be a whole number"),
        ('{"paragraph": 2, "question": "  "}', "question must be a non-empty string"),
        ('{"paragraph": 2, "question": 7}', "question must be a non-empty string"),
        (json.dumps({"paragraph": 2, "question": "x" * (MAX_CUE_CHARS + 1)}), "over 300"),
    ],
)
def test_a_bad_line_is_left_out_with_one_line_naming_file_and_line(tmp_path, line, message):
    corpus = corpus_with(tmp_path, {"e.jsonl": f"{GOOD}\n{line}\n"})
    cues, problems = load_cues(corpus, load_corpus(corpus))
    assert [c.text for c in cues] == ["What is the second point?"]  # the good line stays
    assert len(problems) == 1 and message in problems[0] and "\n" not in problems[0]
    assert problems[0].startswith("cues/e.jsonl:2: ")


@pytest.mark.parametrize(
    ("line", "message"),
    [
        ("not json", "e.jsonl:2: not JSON"),
        ('"a string"', 'write {"question": "...", "why": "..."}'),
        ('{"why": "no question"}', 'write {"question": "...", "why": "..."}'),
        ('{"question": "Q?", "paragraph": 1}', "and nothing else"),
        ('{"question": "Q?", "why": 3}', "why must be a string"),
        ('{"question": ""}', "question must be a non-empty string"),
        (json.dumps({"question": "x" * (MAX_CUE_CHARS + 1)}), "over 300"),
    ],
)
def test_a_bad_unanswered_line_is_left_out_naming_file_and_line(tmp_path, line, message):
    corpus = corpus_with(tmp_path, {}, {"e.jsonl": f"{UNANSWERED}\n{line}\n"})
    cues, problems = load_cues(corpus, load_corpus(corpus))
    assert [(c.text, c.paragraph) for c in cues] == [("Who wrote the third point?", None)]
    assert len(problems) == 1 and message in problems[0]
    assert problems[0].startswith("unanswered/e.jsonl:2: ")


def test_a_file_named_after_no_essay_or_holding_a_nul_is_left_out_whole(tmp_path):
    corpus = corpus_with(tmp_path, {"nobody.jsonl": GOOD, "e.jsonl": GOOD + "\x00\n"})
    cues, problems = load_cues(corpus, load_corpus(corpus))
    assert cues == []
    assert any("cues/nobody.jsonl: names no essay" in p and "(e)" in p for p in problems)
    assert any("cues/e.jsonl: a NUL character on line 1" in p for p in problems)


def test_a_corpus_without_cues_loads_none_and_a_repeated_line_counts_once(tmp_path):
    corpus = corpus_with(tmp_path, {"e.jsonl": f"{GOOD}\n\n{GOOD}\n"})
    essays = load_corpus(corpus)
    cues, problems = load_cues(corpus, essays)
    assert len(cues) == 1 and problems == [] and cues[0].lang == "en"
    assert load_cues(tmp_path / "elsewhere", essays) == ([], [])


NONSENSE = "Zyxw plover quandary, qoph?"  # shares no word with any essay


@pytest.mark.parametrize(("essay", "paragraph"), [("cfo-ceo", 5), ("dingtalk-one", 9)])
def test_a_cue_finds_the_passage_holding_its_paragraph_and_is_never_shown(
    corpus_copy, tmp_path, essay, paragraph
):
    cue = json.dumps({"paragraph": paragraph, "question": NONSENSE})
    with (corpus_copy / CUES_DIR / f"{essay}.jsonl").open("a", encoding="utf-8") as out:
        out.write(cue + "\n")
    embedder = create_embedder("hash")
    build_index(corpus_copy, tmp_path / "i", embedder, progress=False)
    retriever = Retriever(current_generation(tmp_path / "i"), embedder)
    try:
        (hit,) = retriever.search(NONSENSE, 1)
    finally:
        retriever.close()
    start, end = _paragraph_span(corpus_copy, essay, paragraph)
    assert hit.chunk.essay_id == essay and hit.chunk.start < end and start < hit.chunk.end
    body = next(e for e in load_corpus(corpus_copy) if e.id == essay).body
    assert body[hit.chunk.start : hit.chunk.end] == hit.chunk.text  # the essay's words only
    assert "plover" not in hit.chunk.text


def _paragraph_span(corpus: Path, essay_id: str, number: int) -> tuple[int, int]:
    essay = next(e for e in load_corpus(corpus) if e.id == essay_id)
    found = split_paragraphs(essay.id, essay.body)[number - 1]
    return found.start, found.end


def test_a_bad_cue_is_reported_by_the_build_and_the_essays_still_serve(corpus_copy, tmp_path):
    with (corpus_copy / CUES_DIR / "cfo-ceo.jsonl").open("a", encoding="utf-8") as out:
        out.write('{"paragraph": 99, "question": "Where?"}\n')
    result = run_cli("index", "build", "--corpus", str(corpus_copy), "--index",
                     str(tmp_path / "i"), "--embedder", "hash")  # fmt: skip
    assert result.returncode == 0, result.stderr
    (line,) = [x for x in result.stderr.splitlines() if x.startswith("Reader question left out")]
    assert "cues/cfo-ceo.jsonl:" in line and "no paragraph 99 (the essay has 9)" in line
    assert "Indexed 10 essays, 10 translations, " in result.stdout


def test_editing_a_cue_re_embeds_only_it_and_deleting_the_file_drops_its_cues(tmp_path):
    corpus = corpus_with(tmp_path, {"e.jsonl": f"{GOOD}\n" + GOOD.replace("second", "other")})
    index, embedder = tmp_path / "idx", create_embedder("hash")
    first = build_index(corpus, index, embedder, progress=False)
    assert first.cues == 2
    edited_text = f"{GOOD}\n" + GOOD.replace("second", "last")
    (corpus / CUES_DIR / "e.jsonl").write_text(edited_text, encoding="utf-8")
    edited = build_index(corpus, index, embedder, progress=False)
    assert (edited.embedded, edited.units) == (1, first.units)
    (corpus / CUES_DIR / "e.jsonl").unlink()
    gone = build_index(corpus, index, embedder, progress=False)
    assert (gone.cues, gone.embedded, gone.units) == (0, 0, first.units - 2)


def test_unanswered_questions_are_embedded_apart_and_score_no_passage(tmp_path):
    corpus = corpus_with(tmp_path, {"e.jsonl": GOOD}, {"e.jsonl": UNANSWERED})
    (corpus / "f.md").write_text(ESSAY.replace("id: e", "id: f"), encoding="utf-8")
    index, embedder = tmp_path / "idx", create_embedder("hash")
    report = build_index(corpus, index, embedder, progress=False)
    assert (report.cues, report.unanswered) == (1, 1)
    retriever = Retriever(current_generation(index), embedder)
    try:
        hits = retriever.search("Who wrote the third point?", 5)
        near_miss = _gap_in(hits, "e")
        answered = _gap_in(retriever.search("What is the second point?", 5), "e")
    finally:
        retriever.close()
    bodies = {e.id: e.body for e in load_corpus(corpus)}
    assert all(bodies[h.chunk.essay_id][h.chunk.start : h.chunk.end] == h.chunk.text for h in hits)
    # each passage is judged on its own; one of an essay without reader questions is not
    # judged (an essay added without them is not held against)
    assert {h.chunk.essay_id for h in hits} == {"e", "f"}
    assert all((h.unanswered_gap is None) == (h.chunk.essay_id == "f") for h in hits)
    assert near_miss is not None and near_miss < 0 < answered  # nearer its own kind
    (corpus / UNANSWERED_DIR / "e.jsonl").unlink()
    assert build_index(corpus, index, embedder, progress=False).unanswered == 0
    retriever = Retriever(current_generation(index), embedder)
    try:
        assert retriever.search("Who wrote the third point?", 1)[0].unanswered_gap is None
    finally:
        retriever.close()


def _gap_in(hits: list[Hit], essay_id: str) -> float | None:
    return next(h for h in hits if h.chunk.essay_id == essay_id).unanswered_gap
