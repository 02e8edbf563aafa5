"""Answer latency next to the bare query encoding, and answers per second under concurrency."""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor
from functools import partial
from typing import Any

from bench.measure import percentiles, timed
from bot.service import Service


def latency(service: Service, questions: list[str], rounds: int) -> dict[str, Any]:
    """p50/p95 of Service.ask and of the same embedder's query encoding, interleaved per
    question so both see the same machine."""
    embedder = service.retriever.get().embedder
    service.ask(questions[0])  # load the model and the keyword dictionary first
    encode, answer = [], []
    for _ in range(rounds):
        for question in questions:
            encode.append(timed(partial(embedder.embed_queries, [question])))
            answer.append(timed(partial(service.ask, question)))
    enc, ans = percentiles(encode), percentiles(answer)
    return {
        "questions": len(questions) * rounds,
        "encode": enc,
        "answer": ans,
        "answer_over_encode_p50": ans["p50_ms"] / enc["p50_ms"],
    }


def throughput(service: Service, questions: list[str], askers: int) -> dict[str, Any]:
    """Answers per second with `askers` threads sharing one Service, as a chat front end does."""
    with ThreadPoolExecutor(askers) as pool:
        seconds = timed(lambda: list(pool.map(service.ask, questions)))
    return {"askers": askers, "answers": len(questions), "answers_per_s": len(questions) / seconds}
