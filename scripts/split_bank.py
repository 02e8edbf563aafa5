"""Split a question bank once, at random, into `tune` and `test`, before anything runs on it.

    python scripts/split_bank.py tests/data/questions-2.jsonl --seed 20261204

Questions are grouped by kind and direction (the question's language and its essay's; the
question's language alone when out of scope); each group is shuffled with the seed and its
first half (rounded at random) goes to `tune`. Rows that already have a split keep it, so a
bank is split once and never redrawn.
"""

from __future__ import annotations

import argparse
import json
import random
from collections import defaultdict
from pathlib import Path

from index.corpus import load_corpus


def main() -> None:
    parser = argparse.ArgumentParser(description=(__doc__ or "").splitlines()[0])
    parser.add_argument("file", type=Path)
    parser.add_argument("--seed", type=int, required=True)
    parser.add_argument("--corpus", type=Path, default=Path("corpus"))
    args = parser.parse_args()
    langs = {e.id: e.lang for e in load_corpus(args.corpus)}
    rows = [json.loads(line) for line in args.file.read_text(encoding="utf-8").splitlines()]
    groups: dict[tuple, list[dict]] = defaultdict(list)
    for row in rows:
        if "split" not in row:
            groups[(row["kind"], row["lang"], langs.get(row["essay"]))].append(row)
    chance = random.Random(args.seed)
    for key in sorted(groups, key=str):
        group = groups[key]
        chance.shuffle(group)
        half = (len(group) + chance.randint(0, 1)) // 2
        for i, row in enumerate(group):
            row["split"] = "tune" if i < half else "test"
    lines = (json.dumps(row, ensure_ascii=False) for row in rows)
    args.file.write_text("".join(line + "\n" for line in lines), encoding="utf-8")


if __name__ == "__main__":
    main()
