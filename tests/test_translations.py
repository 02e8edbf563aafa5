"""Translations: the shipped ones line up with their essays; bad ones are left out, named, and
never take the essays down; a translation is indexed as a view of its essay's passages."""

from __future__ import annotations

from pathlib import Path

import pytest

from index.builder import build_index, embedding_units
from index.chunking import chunk_essay, split_paragraphs, translation_units
from index.corpus import load_corpus, load_translations
from index.embedders import create_embedder
from index.fusion import ChunkScorer
from index.layout import current_generation
from index.retriever import Retriever
from tests.paths import CORPUS

ESSAY = "---\nid: e\ntitle: An essay\nlang: en\n---\nFirst point.\n\nSecond point. And more.\n"
GOOD = (
    "---\ntranslation_of: e\nlang: zh\ntranslator: essaybot project\ntitle: 一篇文章\n---\n"
    "第一点。\n\n第二点。还有更多。\n"
)


@pytest.fixture(scope="module")
def shipped():
    essays = load_corpus(CORPUS)
    translations, problems = load_translations(CORPUS, essays)
    return essays, translations, problems


def test_every_essay_has_a_translation_into_the_other_language(shipped):
    essays, translations, problems = shipped
    assert problems == []
    assert {(t.essay_id, t.lang) for t in translations} == {
        (e.id, "en" if e.lang == "zh" else "zh") for e in essays
    }
    assert all(t.translator == "essaybot project" for t in translations)


def test_every_translation_has_its_essays_paragraphs_none_empty(shipped):
    essays, translations, _ = shipped
    by_id = {e.id: e for e in essays}
    for t in translations:
        original = split_paragraphs(t.essay_id, by_id[t.essay_id].body)
        mine = split_paragraphs(t.essay_id, t.body)
        assert len(mine) == len(original), t.source
        assert all(t.body[p.start : p.end].strip() for p in mine), t.source


def write(tmp_path: Path, files: dict[str, str]) -> Path:
    for name, text in files.items():
        (tmp_path / name).write_text(text, encoding="utf-8")
    return tmp_path


@pytest.mark.parametrize(
    ("translation", "message"),
    [
        (
            GOOD.replace("第一点。\n\n第二点。", "第一点。第二点。"),
            "e.zh.md: 1 paragraphs, the original (",
        ),
        (
            GOOD.replace("第一点。\n\n", "第一点。\n\n多出来的一段。\n\n"),
            "paragraph 3 is the first that does not line up",
        ),
        (GOOD.replace("translation_of: e", "translation_of: nobody"), "names no essay ('nobody')"),
        (GOOD.replace("lang: zh", "lang: en"), "must be the other language"),
        (GOOD.replace("translator: essaybot project\n", ""), "missing 'translator'"),
        (GOOD.replace("---\ntranslation_of", "translation_of"), "no front matter"),
        (GOOD.replace("lang: zh\n", "lang: [zh\n"), "front matter is not valid YAML"),
    ],
)
def test_a_bad_translation_is_left_out_with_one_line_naming_the_file(
    tmp_path, translation, message
):
    corpus = write(tmp_path, {"e.md": ESSAY, "e.zh.md": translation})
    essays = load_corpus(corpus)  # the essays load: a translation never fails the corpus
    translations, problems = load_translations(corpus, essays)
    assert [e.id for e in essays] == ["e"] and translations == []
    assert len(problems) == 1 and "e.zh.md" in problems[0] and message in problems[0]
    assert "\n" not in problems[0]


def test_the_first_paragraph_that_does_not_line_up_is_named_by_its_lines(tmp_path):
    essay = ESSAY.replace("First point.", "First point.\nA second line.")
    lost = GOOD.replace("第一点。\n\n", "")
    corpus = write(tmp_path, {"e.md": essay, "e.zh.md": lost})
    _, problems = load_translations(corpus, load_corpus(corpus))
    assert "paragraph 1 is the first that does not line up" in problems[0]


def test_a_second_translation_into_the_same_language_is_left_out(tmp_path):
    corpus = write(tmp_path, {"e.md": ESSAY, "e.zh.md": GOOD, "f.zh.md": GOOD})
    translations, problems = load_translations(corpus, load_corpus(corpus))
    assert len(translations) == 1 and "a second zh translation of e" in problems[0]


def test_a_translation_units_point_to_the_original_passages(tmp_path):
    corpus = write(tmp_path, {"e.md": ESSAY, "e.zh.md": GOOD})
    essays = load_corpus(corpus)
    [translation], _ = load_translations(corpus, essays)
    chunks = chunk_essay(essays[0])
    units, passages, sentences = translation_units(translation, chunks)
    for unit in units.values():
        assert translation.body[unit.start : unit.end] == unit.text and unit.lang == "zh"
    texts = {
        units[k].text: [c.paragraph for c in chunks if c.key in v] for k, v in passages.items()
    }
    assert texts == {"第一点。\n\n第二点。还有更多。": [1], "第二点。还有更多。": [2]}
    owned = {units[k].text: sorted(v) for k, v in sentences.items()}
    assert owned["还有更多。"] == sorted(c.key for c in chunks)  # both passages hold paragraph 2


def test_a_chunk_scores_the_better_of_its_text_and_its_translation():
    # chunk 10 is translated by view 30; sentence 31 of the translation is in chunk 10
    scores = ChunkScorer([10, 30, 31], {31: [10]}, {30: [10]})({10: 0.2, 30: 0.6, 31: 0.7})
    assert scores == {10: (0.6, 0.7)}


def test_the_index_holds_translations_and_a_corpus_without_one_still_builds(tmp_path):
    other = "---\nid: f\ntitle: Untranslated\nlang: en\n---\nNothing translated here.\n"
    (tmp_path / "c").mkdir()
    corpus = write(tmp_path / "c", {"e.md": ESSAY, "e.zh.md": GOOD, "f.md": other})
    report = build_index(corpus, tmp_path / "idx", create_embedder("hash"), progress=False)
    assert (report.essays, report.translations, report.skipped) == (2, 1, ())
    retriever = Retriever(current_generation(tmp_path / "idx"), create_embedder("hash"))
    try:
        assert set(retriever.translations) == {"e"}
        assert retriever.views and all(retriever.views.values())
        assert retriever.search("第二点", 1)[0].chunk.essay_id == "e"
    finally:
        retriever.close()


def test_editing_a_translation_re_embeds_only_its_units_and_deleting_it_falls_back(tmp_path):
    corpus = write(tmp_path, {"e.md": ESSAY, "e.zh.md": GOOD})
    index = tmp_path / "idx"
    hash_embedder = create_embedder("hash")
    first = build_index(corpus, index, hash_embedder, progress=False)
    (corpus / "e.zh.md").write_text(GOOD.replace("还有更多。", "还有更多内容。"), encoding="utf-8")
    edited = build_index(corpus, index, hash_embedder, progress=False)
    essays = load_corpus(corpus)
    translations, _ = load_translations(corpus, essays)
    changed = {"还有更多内容。", "第二点。还有更多内容。", "第一点。\n\n第二点。还有更多内容。"}
    assert edited.embedded == len(changed) and edited.units == first.units
    (corpus / "e.zh.md").unlink()
    gone = build_index(corpus, index, hash_embedder, progress=False)
    assert (gone.translations, gone.embedded) == (0, 0)
    assert gone.units == len(embedding_units(essays, chunk_essay(essays[0])).all)
    assert translations  # the edited translation was loaded


def test_a_bad_translation_is_reported_by_the_build_and_the_essays_still_serve(tmp_path):
    bad = GOOD.replace("第一点。\n\n第二点。", "第一点。第二点。")
    corpus = write(tmp_path, {"e.md": ESSAY, "e.zh.md": bad})
    report = build_index(corpus, tmp_path / "idx", create_embedder("hash"), progress=False)
    assert report.translations == 0 and len(report.skipped) == 1
    assert "e.zh.md" in report.skipped[0]
