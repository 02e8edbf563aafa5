"""`python -m bench`: run every benchmark once, print the table, write bench/results/*.json."""

from __future__ import annotations

import json
import tempfile
import time
from pathlib import Path
from typing import Any

import click
import faiss
import numpy as np

from bench import answering, building, process, scale
from bench.corpora import BUNDLED
from bench.measure import machine, timed
from bench.report import table
from bot.service import Service
from bot.state import StateStore
from index.builder import build_index
from index.chunking import sentence_chunks
from index.corpus import load_corpus
from index.embedders import DEFAULT_EMBEDDER, Embedder, create_embedder
from index.retriever import LiveRetriever

ROOT = Path(__file__).resolve().parent.parent
DEV = ROOT / "tests" / "data" / "dev.jsonl"
RESULTS = ROOT / "bench" / "results"


def dev_questions() -> list[str]:
    lines = DEV.read_text(encoding="utf-8").splitlines()
    return [json.loads(line)["question"] for line in lines if line.strip()]


def serve(index_dir: Path, workdir: Path, spec: str) -> Service:
    """A Service as the CLI opens one (bot.cli.open_service), on this index."""
    state = StateStore(workdir / "state.db", ttl_seconds=3600)
    return Service(LiveRetriever(index_dir, create_embedder(spec)), state)


def service_figures(index_dir: Path, workdir: Path, rounds: int) -> dict[str, Any]:
    questions = dev_questions()
    service = serve(index_dir, workdir, DEFAULT_EMBEDDER)
    return {
        "latency": answering.latency(service, questions, rounds),
        "throughput": [answering.throughput(service, questions * 2, n) for n in (1, 2, 8)],
    }


def process_figures(index_dir: Path, workdir: Path, runs: int) -> dict[str, Any]:
    env = process.bot_env(workdir, index_dir)
    questions = dev_questions()
    return {
        "cold_start": process.cold_start(env, questions[1], runs),
        "memory": process.resident(env, questions),
    }


def build_figures(embedder: Embedder, workdir: Path, sizes: list[int]) -> dict[str, Any]:
    memo: dict[str, np.ndarray] = {}
    return {
        "throughput": building.throughput(embedder, workdir, essays=20, repeats=3),
        "incremental": [building.incremental(embedder, workdir, n, memo) for n in sizes],
    }


def scale_figures(embedder: Embedder, workdir: Path, sizes: list[int]) -> list[dict[str, Any]]:
    sentences = [c.text for e in load_corpus(BUNDLED) for c in sentence_chunks(e)]
    real = embedder.embed_passages(sentences)
    rows = []
    for count in sizes:
        row = scale.vector_side(real, count)
        row["keyword"] = scale.keyword_side(sentences, dev_questions(), count, workdir)
        rows.append(row)
    return rows


@click.command()
@click.option(
    "--scale",
    "scales",
    type=int,
    multiple=True,
    default=(100_000,),
    show_default=True,
    help="Synthetic passage counts for the vector and keyword sides; repeatable "
    "(--scale 100000 --scale 1000000 adds the 1 M case, about 40 more minutes).",
)
@click.option(
    "--essays",
    type=int,
    multiple=True,
    default=(10, 100, 1000),
    show_default=True,
    help="Corpus sizes for the incremental build.",
)
@click.option("--rounds", default=3, show_default=True, help="Passes over the dev questions.")
@click.option("--out", type=click.Path(path_type=Path), default=RESULTS, show_default=True)
def main(scales: tuple[int, ...], essays: tuple[int, ...], rounds: int, out: Path) -> None:
    """Measure answer latency, cold start, memory, throughput, index builds and scale."""
    started = time.perf_counter()
    results: dict[str, Any] = {"machine": machine(), "faiss": faiss.__version__}
    embedder = create_embedder(DEFAULT_EMBEDDER)
    with tempfile.TemporaryDirectory(prefix="essaybot-bench-") as tmp:
        workdir = Path(tmp)
        index_dir = workdir / "index"
        results["index_build_s"] = timed(
            lambda: build_index(BUNDLED, index_dir, embedder, progress=False)
        )
        results.update(process_figures(index_dir, workdir, runs=3))
        results.update(service_figures(index_dir, workdir, rounds))
        results["build"] = build_figures(embedder, workdir, list(essays))
        results["scale"] = scale_figures(embedder, workdir, list(scales))
    results["total_s"] = time.perf_counter() - started
    click.echo(table(results))
    click.echo(f"\nJSON: {write(results, out)}")


def write(results: dict[str, Any], out: Path) -> Path:
    out.mkdir(parents=True, exist_ok=True)
    path = out / f"bench-{time.strftime('%Y%m%dT%H%M%S')}.json"
    path.write_text(json.dumps(results, indent=2) + "\n", encoding="utf-8")
    (out / "latest.json").write_text(path.read_text(encoding="utf-8"), encoding="utf-8")
    return path


main()
