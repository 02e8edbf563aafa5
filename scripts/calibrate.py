"""Choose Policy.min_score by two-fold cross-validation on a dev.jsonl file, and print the figures.

    python scripts/calibrate.py tests/data/dev.jsonl --index data/q-idx

The questions are split by position (odd/even). On each half, the highest floor that still
answers at least ANSWERED (0.90, the target) of the in-scope questions is chosen, then scored on
the other half. (Maximising the mean of "answered" and "not_found" instead was tried: with three
out-of-scope questions per half it swung to floors that answered under half the questions.)
Finally the same rule on all questions gives the floor to ship. Retrieval runs once per
question; only the abstention rule is replayed.
"""

from __future__ import annotations

from dataclasses import replace
from itertools import pairwise

import devset  # scripts/devset.py, beside this script

from bot.answer import NOT_FOUND, Policy, compose
from bot.evaluate import evaluate
from index.lang import detect_lang
from index.models import Hit

Case = tuple[dict, list[Hit]]


ANSWERED = 0.90


def answered(cases: list[Case], essays: dict, policy: Policy) -> float:
    inside = [(r, h) for r, h in cases if r.get("essay")]
    answers = [
        compose(r["question"], detect_lang(r["question"]), h, essays, policy) for r, h in inside
    ]
    return sum(a.status != NOT_FOUND for a in answers) / max(len(answers), 1)


def fit(cases: list[Case], essays: dict, base: Policy) -> float:
    scores = sorted({round(h[0].score, 4) for _, h in cases if h})
    floors = [0.0] + [(a + b) / 2 for a, b in pairwise(scores)]
    ok = [f for f in floors if answered(cases, essays, replace(base, min_score=f)) >= ANSWERED]
    return max(ok, default=0.0)


def report(cases: list[Case], essays: dict, policy: Policy) -> dict:
    rows = [r for r, _ in cases]
    answers = [
        compose(r["question"], detect_lang(r["question"]), h, essays, policy) for r, h in cases
    ]
    full = evaluate(rows, answers, essays)
    return {k: full[k] for k in ("answered_in_scope", "not_found_out_of_scope")} | {
        "recall@3": full["overall"]["recall@3"]
    }


def main() -> None:
    parser = devset.arguments(__doc__)
    parser.add_argument("--no-numbers", action="store_true", help="Leave the number check out.")
    args = parser.parse_args()
    retriever, rows = devset.open_dev(args)
    cases = [(r, retriever.search(r["question"], 10, topical=True)) for r in rows]
    base = Policy(check_numbers=not args.no_numbers)
    halves = [cases[0::2], cases[1::2]]
    for i, (train, test) in enumerate([(halves[0], halves[1]), (halves[1], halves[0])]):
        floor = fit(train, retriever.essays, base)
        print(
            f"fold {i + 1}: floor {floor:.3f} fitted on {len(train)}, held-out",
            report(test, retriever.essays, replace(base, min_score=floor)),
        )
    floor = fit(cases, retriever.essays, base)
    print(
        f"all: floor {floor:.3f}", report(cases, retriever.essays, replace(base, min_score=floor))
    )


if __name__ == "__main__":
    main()
