"""Fit the answer decision (bot.answer.Policy) on the `tune` half of a question bank.

    python scripts/fit_policy.py tests/data/questions.jsonl --index data/q-idx

Retrieval runs once per question (per keyword weight tried); only the decision is replayed.
The thresholds are searched on a grid of the tune questions' own signal values, keeping the
rules that meet every target of the answer issue on tune and, among those, the one with the
highest utility: right answers count 1, related in-scope answers 0.5, and a wrong `answered`
(a wrong first quote, or any out-of-scope question) -3, since a wrong confident answer is the
failure that matters most. The quote margins are fitted after, to cut filler. Two-fold
cross-validation inside tune says how stable the choice is. The `test` half is never read
here: report it with `essaybot eval FILE --split test`.
"""

from __future__ import annotations

import itertools
import json
import random
from collections.abc import Sequence
from dataclasses import asdict, replace
from typing import Any

import devset  # scripts/devset.py, beside this script

from bot.answer import ANSWERED, NOT_FOUND, Answer, Policy, compose, decide
from bot.evaluate import evaluate, is_right
from index.lang import detect_lang
from index.models import Hit

Case = tuple[dict[str, Any], list[Hit]]
TARGETS = {  # (figure, bound, "min" or "max")
    "answered_precision": (0.92, "min"),
    "out_of_scope_answered": (0.10, "max"),
    "out_of_scope_quoted": (0.50, "max"),
    "in_scope_answered": (0.75, "min"),
    "in_scope_quoted": (0.95, "min"),
}
WORDS = (0.0, 0.2, 0.34, 0.5, 0.67, 0.8, 1.0)


def answers(cases: Sequence[Case], essays: dict, translations: dict, policy: Policy) -> list[Answer]:
    return [
        compose(r["question"], detect_lang(r["question"]), h, essays, policy, translations)
        for r, h in cases
    ]


def report(cases: Sequence[Case], essays: dict, translations: dict, policy: Policy) -> dict:
    rows = [r for r, _ in cases]
    return evaluate(rows, answers(cases, essays, translations, policy), essays, translations)


def fast_figures(cases: Sequence[Case], right: list[list[bool]], policy: Policy) -> tuple[dict, float]:
    """The targets' figures and the utility of a policy, from `decide` alone: which hits would
    be quoted, and whether each hit's quote is right, are known in advance (`right`)."""
    inside = outside = answered = correct = in_answered = in_quoted = out_answered = out_quoted = 0
    value = 0.0
    for (row, hits), flags in zip(cases, right, strict=True):
        status, _ = decide(row["question"], hits, policy)
        good = bool(flags) and flags[0]
        if row.get("essay"):
            inside += 1
            in_answered += status == ANSWERED
            in_quoted += status != NOT_FOUND
            answered += status == ANSWERED
            correct += status == ANSWERED and good
            value += {ANSWERED: 1.0 if good else -3.0, NOT_FOUND: 0.0}.get(status, 0.5 if good else -0.25)
        else:
            outside += 1
            out_answered += status == ANSWERED
            out_quoted += status != NOT_FOUND
            value += {ANSWERED: -3.0, NOT_FOUND: 0.0}.get(status, -0.5)
    figures = {
        "answered_precision": correct / answered if answered else None,
        "out_of_scope_answered": out_answered / outside if outside else None,
        "out_of_scope_quoted": out_quoted / outside if outside else None,
        "in_scope_answered": in_answered / inside if inside else None,
        "in_scope_quoted": in_quoted / inside if inside else None,
    }
    return figures, value


def meets(figures: dict) -> bool:
    """Whether every target of TARGETS holds (a figure with nothing to count holds)."""
    for key, (bound, side) in TARGETS.items():
        value = figures.get(key)
        if value is None:
            continue
        if (side == "min" and value < bound) or (side == "max" and value > bound):
            return False
    return True


def grid(cases: Sequence[Case]) -> list[float]:
    """Candidate score thresholds: the tune questions' best scores, thinned to ~40 quantiles."""
    scores = sorted(h[0].score for _, h in cases if h)
    step = max(1, len(scores) // 40)
    return sorted({round(s, 3) for s in scores[::step]})


def right_flags(cases: Sequence[Case], essays: dict, translations: dict) -> list[list[bool]]:
    """Per case, per hit: whether the quote made from it is right for the question."""
    loose = replace(Policy(), answer_score=-9, answer_words=0, follow_margin=9, other_margin=9,
                    check_numbers=False, max_quotes=99)
    flags = []
    for row, hits in cases:
        answer = compose(row["question"], "en", hits, essays, loose, translations)
        flags.append([is_right(q, row, essays) for q in answer.quotes])
    return flags


def fit(cases: Sequence[Case], essays: dict, translations: dict, base: Policy) -> Policy:
    """The feasible thresholds of highest utility (the highest utility overall if none is)."""
    scores = grid(cases)
    right = right_flags(cases, essays, translations)
    best: tuple[bool, float, Policy] | None = None
    for a_score, a_words, r_score, r_words in itertools.product(scores, WORDS, scores, WORDS):
        if r_score > a_score or r_words > a_words:
            continue
        policy = replace(
            base, answer_score=a_score, answer_words=a_words,
            related_score=r_score, related_words=max(r_words, 0.01),
        )
        figures, value = fast_figures(cases, right, policy)
        ok = meets(figures)
        if best is None or (ok, value) > best[:2]:
            best = (ok, value, policy)
    assert best is not None
    return fit_margins(cases, essays, translations, best[2])


def fit_margins(cases: Sequence[Case], essays: dict, translations: dict, policy: Policy) -> Policy:
    """Quote margins: the most further right quotes for the least filler (filler <= 0.10)."""
    choices = []
    for same, other in itertools.product((0.0, 0.05, 0.1, 0.15, 0.2, 0.3), (0.0, 0.02, 0.05, 0.1)):
        if other > same:
            continue
        trial = replace(policy, follow_margin=same, other_margin=other)
        figures = report(cases, essays, translations, trial)
        filler = figures["filler"] or 0.0
        choices.append((filler <= 0.10, figures["in_scope"]["quoted@3"] or 0.0, -filler, trial))
    return max(choices, key=lambda c: c[:3])[3]


def folds(cases: list[Case], seed: int = 7) -> tuple[list[Case], list[Case]]:
    shuffled = cases[:]
    random.Random(seed).shuffle(shuffled)
    return shuffled[::2], shuffled[1::2]


def main() -> None:
    parser = devset.arguments(__doc__)
    parser.add_argument("--keyword-weights", default="0.1", help="comma-separated weights to try")
    args = parser.parse_args()
    retriever, rows = devset.open_dev(args)
    tune = [r for r in rows if r.get("split") == "tune"]
    essays, translations = retriever.essays, retriever.translations
    for weight in (float(w) for w in args.keyword_weights.split(",")):
        cases = [(r, retriever.search(r["question"], 10, topical=True, keyword_weight=weight))
                 for r in tune]
        chosen = fit(cases, essays, translations, Policy())
        first, second = folds(cases)
        cv = [
            _brief(report(b, essays, translations, fit(a, essays, translations, Policy())))
            for a, b in ((first, second), (second, first))
        ]
        print(json.dumps({
            "keyword_weight": weight,
            "policy": asdict(chosen),
            "tune": _brief(report(cases, essays, translations, chosen)),
            "two_fold": cv,
        }, ensure_ascii=False, indent=1))


def _brief(figures: dict) -> dict:
    keep = [*TARGETS, "filler", "median_quoted_chars", "quotes_per_answer"]
    return {k: figures[k] for k in keep} | {"quoted@1": figures["in_scope"]["quoted@1"]}


if __name__ == "__main__":
    main()
