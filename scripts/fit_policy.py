"""Fit the answer decision (bot.answer.Policy) on the `tune` halves of the question banks.

    python scripts/fit_policy.py tests/data/questions.jsonl tests/data/questions-2.jsonl \
        tests/data/questions-3.jsonl --index data/q-idx

Retrieval runs once per question (per keyword weight tried); only the decision is replayed. The
six thresholds (answer score, word share and unanswered-question gap; the same for related) are
searched on a grid of the tune questions' own values, then the floor on the similarity to a
reader question that every quote needs, the six held (the highest floor that takes away no
right first quote: `similarity_floor`). A rule that just meets the targets on tune sits on an
edge that the next questions fall off, so each rule is scored by how often it meets every
target of the answer issue over stratified bootstrap resamples of tune (in-scope and out-of-
scope questions resampled apart), and the most reliable rule wins; rules within NOISE of it
count as ties, which go to the rule quoting the fewest tune questions, then answering the
fewest, then to the higher utility (a right answer 1, a related in-scope answer 0.5, a wrong
`answered` -3). The quote margins are fitted after, to cut filler.
The `test` halves are never read here: report them with
`essaybot eval FILE --split test`.
"""

from __future__ import annotations

import itertools
import json
from collections.abc import Sequence
from dataclasses import asdict, replace
from typing import Any

import devset  # scripts/devset.py, beside this script
import numpy as np

from bot.answer import Policy, asks_definition, compose, judged_or, number_ok
from bot.evaluate import evaluate, is_right
from index.lang import detect_lang
from index.models import Hit

Case = tuple[dict[str, Any], list[Hit]]
TARGETS = {  # figure: (bound, "min" or "max"), the answer issue's targets
    "answered_precision": (0.92, "min"),
    "out_of_scope_answered": (0.10, "max"),
    "out_of_scope_quoted": (0.50, "max"),
    "in_scope_answered": (0.75, "min"),
    "in_scope_quoted": (0.95, "min"),
}
WORDS = (0.01, 0.2, 0.34, 0.5, 0.67, 0.8, 1.0)
RESAMPLES = 400
# Rules whose share of resamples meeting every target is within this of the best are taken
# as equally reliable (one in-scope tune question moves it by about this much); among them
# the most cautious wins: the one quoting the fewest tune questions, then answering the
# fewest, then the highest utility. Round 8 (the unanswered questions) chose this after the
# older probe sets showed the most reliable rule lowering the `related` floor to 0.8 (7 of
# probe-offtopic's 60 generic questions quoted) and answering more with more wrong quotes.
NOISE = 0.03


def report(cases: Sequence[Case], essays: dict, translations: dict, policy: Policy) -> dict:
    answers = [
        compose(r["question"], detect_lang(r["question"]), h, essays, policy, translations)
        for r, h in cases
    ]
    return evaluate([r for r, _ in cases], answers, essays, translations)


class Signals:
    """Per tune case, what the decision reads (best hit's score and word share, whether its
    number check passes and the dense similarity alone agrees) and whether its first quote is
    right."""

    def __init__(self, cases: Sequence[Case], essays: dict, translations: dict) -> None:
        # every floor off: whether the best hit's quote is right, whatever the decision says
        loose = replace(
            Policy(),
            answer_score=-9,
            answer_words=0,
            answer_gap=-9,
            quote_similarity=-9,
            check_numbers=False,
            check_agreement=False,
        )
        self.inside = np.array([bool(r.get("essay")) for r, _ in cases])
        self.score = np.array([h[0].score if h else -9.0 for _, h in cases])
        self.words = np.array([judged_or(h[0].words, 1.0) if h else 0.0 for _, h in cases])
        self.number = np.array(
            [bool(h) and number_ok(r["question"], h[0], Policy()) for r, h in cases]
        )
        self.agrees = np.array([bool(h) and h[0].agrees is not False for _, h in cases])
        # a signal not judged (None) passes every floor, as in bot.answer.passes
        self.gap = np.array([judged_or(h[0].unanswered_gap, 9.0) if h else -9.0 for _, h in cases])
        self.similarity = np.array(
            [judged_or(h[0].reader_similarity, 9.0) if h else -9.0 for _, h in cases]
        )
        self.right = np.array([_first_right(r, h, essays, translations, loose) for r, h in cases])

    def outcomes(
        self,
        a_score: float,
        a_words: float,
        r_score: float,
        r_words: float,
        a_gap: float = -9.0,
        r_gap: float = -9.0,
        similarity: float = -9.0,
    ):
        similar = self.similarity >= similarity
        answered = (
            (self.score >= a_score)
            & (self.words >= a_words)
            & self.number
            & self.agrees
            & (self.gap >= a_gap)
            & similar
        )
        quoted = answered | (
            (self.score >= r_score) & (self.words >= r_words) & (self.gap >= r_gap) & similar
        )
        return answered, quoted


def _first_right(
    row: dict, hits: list[Hit], essays: dict, translations: dict, loose: Policy
) -> bool:
    if not hits or not row.get("essay"):
        return False
    answer = compose(row["question"], "en", hits, essays, loose, translations)
    return bool(answer.quotes) and is_right(answer.quotes[0], row, essays)


def resample_weights(inside: np.ndarray, seed: int = 20261204) -> np.ndarray:
    """RESAMPLES x cases counts: in-scope and out-of-scope cases bootstrapped apart."""
    rng = np.random.default_rng(seed)
    weights = np.zeros((RESAMPLES, len(inside)))
    for group in (np.flatnonzero(inside), np.flatnonzero(~inside)):
        picks = rng.choice(group, size=(RESAMPLES, len(group)))
        for row, chosen in enumerate(picks):
            np.add.at(weights[row], chosen, 1)
    return weights


def reliability(
    s: Signals, weights: np.ndarray, answered: np.ndarray, quoted: np.ndarray
) -> tuple[float, float]:
    """(share of resamples meeting every target, utility on tune) of one rule's outcomes."""
    inside, outside = s.inside, ~s.inside

    def share(mask: np.ndarray, base: np.ndarray) -> np.ndarray:
        return (weights @ (mask & base)) / np.maximum(weights @ base, 1e-9)

    ok = (
        (share(answered & s.right, answered & inside) >= TARGETS["answered_precision"][0])
        & (share(answered, outside) <= TARGETS["out_of_scope_answered"][0])
        & (share(quoted, outside) <= TARGETS["out_of_scope_quoted"][0])
        & (share(answered, inside) >= TARGETS["in_scope_answered"][0])
        & (share(quoted, inside) >= TARGETS["in_scope_quoted"][0])
    )
    related = quoted & ~answered
    value = (
        (answered & inside & s.right).sum() * 1.0
        - ((answered & inside & ~s.right).sum() + (answered & outside).sum()) * 3.0
        + (related & inside & s.right).sum() * 0.5
        - (related & outside).sum() * 0.5
    )
    return float(ok.mean()), float(value)


def grid(s: Signals) -> list[float]:
    """Candidate score thresholds: the tune questions' best scores, thinned to ~40 quantiles."""
    scores = np.sort(s.score[s.score > -9])
    return sorted({round(float(x), 3) for x in scores[:: max(1, len(scores) // 40)]})


def quantile_grid(values: np.ndarray) -> list[float]:
    """Candidate floors on a signal: none (-9), and the tune questions' values at every 5th
    percentile up to the median (a higher one turns away most answers)."""
    judged = values[(values > -9) & (values < 9)]
    if not len(judged):
        return [-9.0]
    cuts = np.quantile(judged, np.linspace(0.0, 0.5, 11))
    return [-9.0, *sorted({round(float(x), 3) for x in cuts})]


def most_cautious(rules: list[tuple]) -> tuple[float, float, tuple]:
    """(reliability, best reliability, rule) of the rule chosen among `rules`, each
    (reliability, -quoted, -answered, utility, rule): the most cautious of those within
    NOISE of the most reliable (quoting the fewest, then answering the fewest, then the
    highest utility, then the highest thresholds: a floor that changes nothing on tune is
    set as high as it can go without changing anything)."""
    top = max(r[0] for r in rules)
    tied = [r for r in rules if r[0] >= top - NOISE]
    reliable, *_, chosen = max(tied, key=lambda r: r[1:])
    return reliable, top, chosen


def scored(s: Signals, weights: np.ndarray, rule: tuple[float, ...]) -> tuple:
    answered, quoted = s.outcomes(*rule)
    reliable, value = reliability(s, weights, answered, quoted)
    return reliable, -int(quoted.sum()), -int(answered.sum()), value, rule


def fit(cases: Sequence[Case], essays: dict, translations: dict) -> tuple[Policy, float, float]:
    """The six thresholds (the most reliable, or the most cautious of those within NOISE of
    it), then the similarity floor, then the quote margins; with the chosen rule's reliability
    and the most reliable six-threshold rule's."""
    s = Signals(cases, essays, translations)
    weights = resample_weights(s.inside)
    scores, gaps = grid(s), quantile_grid(s.gap)
    rules = []
    for a_score, a_words, a_gap in itertools.product(scores, WORDS, gaps):
        for r_score, r_words, r_gap in itertools.product(scores, WORDS, gaps):
            if r_score > a_score or r_words > a_words or r_gap > a_gap:
                continue
            rules.append(scored(s, weights, (a_score, a_words, r_score, r_words, a_gap, r_gap)))
    _, top, chosen = most_cautious(rules)
    similarity = similarity_floor(s, chosen)
    reliable = scored(s, weights, (*chosen, similarity))[0]
    a_score, a_words, r_score, r_words, a_gap, r_gap = chosen
    policy = replace(
        Policy(),
        answer_score=a_score,
        answer_words=a_words,
        related_score=r_score,
        related_words=r_words,
        answer_gap=a_gap,
        related_gap=r_gap,
        quote_similarity=similarity,
    )
    return fit_margins(cases, essays, translations, policy), reliable, top


def similarity_floor(s: Signals, rule: tuple[float, ...]) -> float:
    """The reader-question similarity floor, the six thresholds held: the highest that takes
    away no right first quote on tune. A lower one only adds wrong quotes and out-of-scope
    ones (round 9: on the two tune halves, the most reliable floor, 0.17, added four wrong
    in-scope quotes and four generic questions' quotes, and no right one; they raised "in
    scope given quotes" while telling a reader nothing)."""
    _, everything = s.outcomes(*rule)
    floor = -9.0
    for x in quantile_grid(s.similarity):
        _, quoted = s.outcomes(*rule, x)
        if (everything & ~quoted & s.right).any():
            break
        floor = x
    return floor


def fit_margins(cases: Sequence[Case], essays: dict, translations: dict, policy: Policy) -> Policy:
    """Quote margins: the most right quotes at 3 for the least filler (filler <= 0.10)."""
    choices = []
    for same, other in itertools.product((0.0, 0.05, 0.1, 0.15, 0.2, 0.3), (0.0, 0.02, 0.05, 0.1)):
        if other > same:
            continue
        trial = replace(policy, follow_margin=same, other_margin=other)
        figures = report(cases, essays, translations, trial)
        filler = figures["filler"] or 0.0
        choices.append(
            (filler <= 0.10, figures["in_scope"]["quoted@3"] or 0.0, -filler, -same, trial)
        )
    return max(choices, key=lambda c: c[:4])[4]


def main() -> None:
    parser = devset.arguments(__doc__)
    parser.add_argument("--keyword-weights", default="0.5", help="comma-separated weights to try")
    args = parser.parse_args()
    retriever, rows = devset.open_dev(args)
    tune = [r for r in rows if r.get("split") == "tune"]
    essays, translations = retriever.essays, retriever.translations
    for weight in (float(w) for w in args.keyword_weights.split(",")):
        cases = [
            (
                r,
                retriever.search(
                    r["question"],
                    10,
                    topical=True,
                    define=asks_definition(r["question"]),
                    keyword_weight=weight,
                ),
            )
            for r in tune
        ]
        chosen, reliable, top = fit(cases, essays, translations)
        figures = report(cases, essays, translations, chosen)
        brief = {k: figures[k] for k in [*TARGETS, "filler", "median_quoted_chars"]}
        print(
            json.dumps(
                {
                    "keyword_weight": weight,
                    "policy": asdict(chosen),
                    "targets_met_in_resamples": round(reliable, 3),
                    "most_reliable_rule_meets_them_in": round(top, 3),
                    "tune": brief | {"quoted@1": figures["in_scope"]["quoted@1"]},
                },
                ensure_ascii=False,
                indent=1,
            )
        )


if __name__ == "__main__":
    main()
