"""Cross-validate the weight of translated keyword evidence (index.retriever.KEYWORD_WEIGHT).

    python scripts/keyword_weight.py tests/data/dev.jsonl --index data/q-idx

Each question is encoded once; the ranking is replayed for every weight. The questions are
split by position (odd/even); on each half the weight with the best recall@3 (then recall@1,
then the smallest weight) is chosen and scored on the other half.
"""

from __future__ import annotations

from functools import cache

import devset  # scripts/devset.py, beside this script

from bot.answer import Policy, compose
from bot.evaluate import evaluate
from index import retriever
from index.lang import detect_lang
from index.retriever import Retriever

WEIGHTS = (0.0, 0.05, 0.1, 0.15, 0.2, 0.3, 0.5)


def figures(r: Retriever, rows: list[dict], weight: float) -> tuple[float, float, float]:
    retriever.KEYWORD_WEIGHT = weight
    policy = Policy(min_score=-10.0, check_numbers=False, check_words=False)
    answers = [
        compose(
            q["question"],
            detect_lang(q["question"]),
            r.search(q["question"], 10, topical=True),
            r.essays,
            policy,
        )
        for q in rows
    ]
    report = evaluate(rows, answers, r.essays)
    cross = report["groups"].get("kind=cross-lang", {"recall@3": 0.0})["recall@3"]
    return report["overall"]["recall@3"], report["overall"]["recall@1"], cross


def main() -> None:
    r, rows = devset.open_dev(devset.arguments(__doc__).parse_args())
    r.dense = cache(r.dense)  # type: ignore[method-assign]
    for weight in WEIGHTS:
        print(f"weight {weight:.2f}: R@3, R@1, cross-lang R@3 =", figures(r, rows, weight))
    halves = [rows[0::2], rows[1::2]]
    for train, test in [(halves[0], halves[1]), (halves[1], halves[0])]:
        best = max(WEIGHTS, key=lambda w: (*figures(r, train, w)[:2], -w))
        print(
            f"fitted {best:.2f}; held-out", figures(r, test, best), "vs 0:", figures(r, test, 0.0)
        )


if __name__ == "__main__":
    main()
