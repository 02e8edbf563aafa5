"""Pure scoring of answers against questions in the questions.jsonl format.

A question is in scope when it names an essay. A quote is right for it when it comes from
that essay and covers at least half of one of its evidence strings (or the evidence covers
half of the quote): quotes are short, evidence strings are the clause that answers. Its
direction is the question's language -> the essay's ("en->zh"); out-of-scope questions
are "out-of-scope" (or "near-miss": they name something the essays discuss).
"""

from __future__ import annotations

import statistics
from collections import defaultdict
from collections.abc import Mapping, Sequence
from typing import Any

from bot.answer import (
    ANSWERED,
    NOT_FOUND,
    RELATED,
    Answer,
    Quote,
    is_verbatim,
    translation_is_verbatim,
)
from index.models import Essay, Translation

KS = (1, 3)


def spans(evidence: str, body: str) -> list[tuple[int, int]]:
    """Every (start, end) where `evidence` stands in `body`."""
    found, at = [], body.find(evidence)
    while at >= 0 and evidence:
        found.append((at, at + len(evidence)))
        at = body.find(evidence, at + 1)
    return found


def is_right(quote: Quote, row: Mapping[str, Any], essays: Mapping[str, Essay]) -> bool:
    """Whether the quote comes from the question's essay and covers its evidence."""
    if quote.essay_id != row.get("essay") or quote.essay_id not in essays:
        return False
    body = essays[quote.essay_id].body
    for evidence in row["evidence"]:
        for a, b in spans(evidence, body):
            overlap = min(b, quote.end) - max(a, quote.start)
            if overlap > 0 and overlap * 2 >= min(b - a, quote.end - quote.start):
                return True
    return False


def hit_rank(row: Mapping[str, Any], answer: Answer, essays: Mapping[str, Essay]) -> int | None:
    """1-based position of the first right quote, or None."""
    for rank, quote in enumerate(answer.quotes, 1):
        if is_right(quote, row, essays):
            return rank
    return None


def direction(row: Mapping[str, Any], essays: Mapping[str, Essay]) -> str:
    if not row.get("essay"):
        return str(row.get("kind") or "out-of-scope")
    essay = essays.get(row["essay"])
    return f"{row['lang']}->{essay.lang if essay else '?'}"


def _share(flags: Sequence[bool]) -> float | None:
    return round(sum(flags) / len(flags), 3) if flags else None


def _recall(pairs: Sequence[tuple[Answer, int | None]]) -> dict[str, Any]:
    """Recall@k of `answered` alone and of `answered` + `related`, over in-scope pairs."""
    out: dict[str, Any] = {"n": len(pairs)}
    for k in KS:
        out[f"answered@{k}"] = _share(
            [a.status == ANSWERED and bool(r and r <= k) for a, r in pairs]
        )
        out[f"quoted@{k}"] = _share([bool(r and r <= k) for _, r in pairs])
    return out


def evaluate(
    rows: Sequence[dict[str, Any]],
    answers: Sequence[Answer],
    essays: Mapping[str, Essay],
    translations: Mapping[str, Translation] | None = None,
) -> dict[str, Any]:
    """Every figure of the answer and bilingual-corpus issues, overall, by direction (and
    across languages against the same language) and by kind."""
    translations = translations or {}
    pairs = list(zip(rows, answers, strict=True))
    inside = [(r, a, hit_rank(r, a, essays)) for r, a in pairs if r.get("essay")]
    outside = [(r, a) for r, a in pairs if not r.get("essay")]
    groups: dict[str, list[tuple[Answer, int | None]]] = defaultdict(list)
    for r, a, rank in inside:
        way = direction(r, essays)
        asked, _, written = way.partition("->")
        groups[way].append((a, rank))
        groups["same language" if asked == written else "across languages"].append((a, rank))
        groups[f"kind={r['kind']}"].append((a, rank))
    shown = [(r, q) for r, a, _ in inside for q in a.quotes]
    quoted = [a for _, a in pairs if a.quotes]
    return {
        "questions": len(rows),
        "in_scope": _recall([(a, rank) for _, a, rank in inside]),
        "groups": {name: _recall(group) for name, group in sorted(groups.items())},
        "answered_precision": _share([rank == 1 for _, a, rank in inside if a.status == ANSWERED]),
        "in_scope_answered": _share([a.status == ANSWERED for _, a, _ in inside]),
        "in_scope_quoted": _share([a.status != NOT_FOUND for _, a, _ in inside]),
        "out_of_scope_answered": _share([a.status == ANSWERED for _, a in outside]),
        "out_of_scope_quoted": _share([a.status != NOT_FOUND for _, a in outside]),
        "near_miss_quoted": _share(
            [a.status != NOT_FOUND for r, a in outside if r.get("kind") == "near-miss"]
        ),
        "quotes_per_answer": _mean([len(a.quotes) for a in quoted]),
        "median_quoted_chars": _median([sum(len(q.text) for q in a.quotes) for a in quoted]),
        "filler": _share([q.essay_id != r["essay"] for r, q in shown]),
        "same_passage_twice": sum(_repeats(a) for _, a in pairs),
        "translation_carried": _share(_carried(inside, essays, translations)),
        "fidelity": _share(
            [
                is_verbatim(q, essays) and translation_is_verbatim(q, translations)
                for a in answers
                for q in a.quotes
            ]
        ),
        "wrong_answered": [r["id"] for r, a, rank in inside if a.status == ANSWERED and rank != 1]
        + [r["id"] for r, a in outside if a.status == ANSWERED],
        "missed": [r["id"] for r, a, rank in inside if a.status == NOT_FOUND or not rank],
        "out_of_scope_related": [r["id"] for r, a in outside if a.status == RELATED],
    }


def _mean(values: Sequence[float]) -> float | None:
    return round(statistics.fmean(values), 3) if values else None


def _median(values: Sequence[float]) -> float | None:
    return statistics.median(values) if values else None


def _repeats(answer: Answer) -> int:
    """Pairs of quotes in one answer that show the same paragraph."""
    seen = [
        (q.essay_id, p) for q in answer.quotes for p in range(q.paragraph, q.last_paragraph + 1)
    ]
    return len(seen) - len(set(seen))


def _carried(
    inside: Sequence[tuple[dict[str, Any], Answer, int | None]],
    essays: Mapping[str, Essay],
    translations: Mapping[str, Translation],
) -> list[bool]:
    """Per shown quote of a cross-language question whose essay has a translation into the
    question's language: whether the translation is shown with it."""
    flags = []
    for _, answer, _ in inside:
        for q in answer.quotes:
            t = translations.get(q.essay_id)
            if t is not None and t.lang == answer.lang and essays[q.essay_id].lang != answer.lang:
                flags.append(q.translation is not None)
    return flags


def format_report(report: dict[str, Any]) -> str:
    head = f"{'group':<22} {'n':>4} {'ans@1':>6} {'ans@3':>6} {'quo@1':>6} {'quo@3':>6}"
    lines = [head]
    for name, r in [("in scope", report["in_scope"]), *report["groups"].items()]:
        cells = [r[f"{x}@{k}"] for x in ("answered", "quoted") for k in KS]
        lines.append(f"{name:<22} {r['n']:>4} " + " ".join(_cell(c) for c in cells))
    for key in (
        "answered_precision",
        "in_scope_answered",
        "in_scope_quoted",
        "out_of_scope_answered",
        "out_of_scope_quoted",
        "near_miss_quoted",
        "filler",
        "quotes_per_answer",
        "median_quoted_chars",
        "translation_carried",
        "same_passage_twice",
        "fidelity",
    ):
        lines.append(f"{key + ':':<26}{_cell(report[key]).strip()}")
    lines.append(f"wrong answered: {', '.join(report['wrong_answered']) or '-'}")
    lines.append(f"missed (in scope): {', '.join(report['missed']) or '-'}")
    lines.append(f"out of scope, related: {', '.join(report['out_of_scope_related']) or '-'}")
    return "\n".join(lines)


def _cell(value: float | None) -> str:
    return (
        f"{value:>6.3f}"
        if isinstance(value, float)
        else f"{value if value is not None else '-':>6}"
    )
