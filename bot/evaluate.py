"""Pure scoring of answers against questions in the dev.jsonl format.

A question is in scope when it names an essay. An in-scope question is a hit at k when one
of the first k quotes contains one of its evidence strings or is contained in one.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Mapping, Sequence
from typing import Any

from bot.answer import NOT_FOUND, Answer, is_verbatim
from index.models import Essay

KS = (1, 3, 5)


def hit_rank(evidence: Sequence[str], answer: Answer) -> int | None:
    """1-based position of the first quote matching an evidence string, or None."""
    for rank, quote in enumerate(answer.quotes, 1):
        if any(e in quote.text or quote.text in e for e in evidence):
            return rank
    return None


def _recall(ranks: list[int | None]) -> dict[str, float]:
    n = len(ranks)
    return {f"recall@{k}": sum(1 for r in ranks if r and r <= k) / n if n else 0.0 for k in KS} | {
        "n": n
    }


def evaluate(
    rows: Sequence[dict[str, Any]], answers: Sequence[Answer], essays: Mapping[str, Essay]
) -> dict[str, Any]:
    """Recall@1/3/5 overall, by kind and by language; abstention, answer and fidelity rates."""
    in_scope = [(r, a) for r, a in zip(rows, answers, strict=True) if r.get("essay")]
    out_scope = [a for r, a in zip(rows, answers, strict=True) if not r.get("essay")]
    ranks = [hit_rank(r["evidence"], a) for r, a in in_scope]
    groups: dict[str, list[int | None]] = defaultdict(list)
    for (row, _), rank in zip(in_scope, ranks, strict=True):
        groups[f"kind={row['kind']}"].append(rank)
        groups[f"lang={row['lang']}"].append(rank)
    return {
        "overall": _recall(ranks),
        "groups": {name: _recall(group) for name, group in sorted(groups.items())},
        "answered_in_scope": _share([a.status != NOT_FOUND for _, a in in_scope]),
        "not_found_out_of_scope": _share([a.status == NOT_FOUND for a in out_scope]),
        "quote_fidelity": _share([is_verbatim(q, essays) for a in answers for q in a.quotes]),
        "misses": [
            r["id"] for (r, _), rank in zip(in_scope, ranks, strict=True) if not rank or rank > 3
        ],
        "false_answers": [
            r["id"]
            for r, a in zip(rows, answers, strict=True)
            if not r.get("essay") and a.status != NOT_FOUND
        ],
    }


def _share(flags: list[bool]) -> float:
    return sum(flags) / len(flags) if flags else 0.0


def format_report(report: dict[str, Any]) -> str:
    lines = [f"{'group':<22} {'n':>3} {'R@1':>6} {'R@3':>6} {'R@5':>6}"]
    for name, r in [("overall", report["overall"]), *report["groups"].items()]:
        lines.append(
            f"{name:<22} {r['n']:>3} {r['recall@1']:>6.3f} {r['recall@3']:>6.3f} "
            f"{r['recall@5']:>6.3f}"
        )
    lines.append(f"in-scope answered:        {report['answered_in_scope']:.3f}")
    lines.append(f"out-of-scope not_found:   {report['not_found_out_of_scope']:.3f}")
    lines.append(f"quote fidelity:           {report['quote_fidelity']:.3f}")
    lines.append(f"misses at 3: {', '.join(report['misses']) or '-'}")
    lines.append(f"out-of-scope answered: {', '.join(report['false_answers']) or '-'}")
    return "\n".join(lines)
