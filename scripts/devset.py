"""Shared by the tuning scripts: the dev questions and the retriever of a built index."""

from __future__ import annotations

import argparse
import json
from pathlib import Path
from typing import Any

from index import layout
from index.embedders import create_embedder
from index.retriever import Retriever


def arguments(doc: str | None) -> argparse.ArgumentParser:
    """A parser for `SCRIPT FILE.jsonl [FILE.jsonl ...] [--index DIR]`; callers may add their
    own options."""
    parser = argparse.ArgumentParser(description=(doc or "").splitlines()[0])
    parser.add_argument("files", type=Path, nargs="+")
    parser.add_argument("--index", type=Path, default=Path("data/index"))
    return parser


def open_dev(args: argparse.Namespace) -> tuple[Retriever, list[dict[str, Any]]]:
    """The index's retriever, with the embedder it was built with, and the questions in every
    FILE, in order."""
    generation = layout.current_generation(args.index)
    retriever = Retriever(generation, create_embedder(layout.read_manifest(generation).embedder))
    lines = [line for path in args.files for line in path.read_text(encoding="utf-8").splitlines()]
    return retriever, [json.loads(line) for line in lines if line.strip()]
