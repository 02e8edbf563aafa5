"""Round 3 of #3: replay re-ranking ideas on the shipped vectors, with two-fold CV.

    PYTHONPATH=. python scripts/rerank_replay.py tests/data/dev.jsonl --index data/q-idx

Each question is encoded once; every variant re-ranks the same unit similarities (the
language-centred composite vectors FAISS holds, read back from the index) plus the shipped
translated-keyword evidence. Ranking only, no abstention; a quote is a hit as in
`essaybot eval`. "window" variants also embed, once, each chunk joined with the chunk before
(or after) it in its essay: the cost such a design would add to a build. Fitted variants are
cross-validated on odd/even in-scope questions (best R@3, then R@1, then smallest weight).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import devset  # scripts/devset.py, beside this script
import faiss
import numpy as np

from index.chunking import sentence_chunks
from index.fusion import centre
from index.lang import detect_lang
from index.models import Chunk
from index.retriever import KEYWORD_WEIGHT, Retriever

Ranker = Callable[[str], list[str]]


class Replay:
    def __init__(self, r: Retriever, rows: list[dict]) -> None:
        self.r, self.rows = r, [row for row in rows if row.get("essay")]
        mapped: Any = r.faiss  # an IndexIDMap2 over the flat (or HNSW) index
        base = faiss.downcast_index(mapped.index)
        keys = faiss.vector_to_array(mapped.id_map).tolist()
        self.mat = base.reconstruct_n(0, r.faiss.ntotal)
        self.row = {k: i for i, k in enumerate(keys)}
        self.chunks = {c.key: c for c in r.store.all_chunks()}
        self.sentences = {
            s.key: s for e in r.essays.values() for s in sentence_chunks(e) if s.key in r.owners
        }
        self.neighbours = _neighbours(list(self.chunks.values()))
        self.q = {row["question"]: self._encode(row["question"]) for row in self.rows}
        self.kw = {q: dict(r.translated(q)) for q in self.q}
        self.windows = self._windows()

    def _encode(self, question: str) -> np.ndarray:
        v = self.r.embedder.embed_queries([question])
        return centre(v, [detect_lang(question)], self.r.centres, self.r.slices)[0]

    def _windows(self) -> dict[str, dict[int, np.ndarray]]:
        out: dict[str, dict[int, np.ndarray]] = {}
        keys = list(self.chunks)
        langs = [self.chunks[k].lang for k in keys]
        for side in ("prev", "next"):
            texts = [self._window_text(k, side) for k in keys]
            m = centre(self.r.embedder.embed_passages(texts), langs, self.r.centres, self.r.slices)
            out[side] = dict(zip(keys, m, strict=True))
        return out

    def _window_text(self, key: int, side: str) -> str:
        """The chunk joined with the chunk before it ("prev") or after it ("next")."""
        c = self.chunks[key]
        prev, nxt = self.neighbours[key]
        lo = (prev or c).start if side == "prev" else c.start
        hi = (nxt or c).end if side == "next" else c.end
        return self.r.essays[c.essay_id].body[lo:hi]

    def parts(self, q: str) -> list[np.ndarray]:
        return [self.mat[:, s] @ self.q[q][s] for s in self.r.slices]

    def scores(
        self, q: str, per_part: bool = False, a: float = 1.0, b: float = 1.0
    ) -> dict[int, float]:
        """The shipped chunk score (a·chunk + b·best sentence + keyword), or per encoder."""
        sims = self.parts(q) if per_part else [np.sum(self.parts(q), axis=0)]
        out = dict.fromkeys(self.chunks, 0.0)
        for s in sims:
            best: dict[int, float] = {}
            for key, owner in self.r.owners.items():
                best[owner] = max(best.get(owner, -9.0), float(s[self.row[key]]))
            for key in out:
                out[key] += a * float(s[self.row[key]]) + b * best.get(key, float(s[self.row[key]]))
        kw = self.kw[q]
        return {k: v + KEYWORD_WEIGHT * kw.get(k, 0.0) for k, v in out.items()}

    def top(self, scores: dict[int, float], k: int = 3) -> list[str]:
        return [
            self.chunks[key].text
            for key in sorted(scores, key=lambda k: scores[k], reverse=True)[:k]
        ]

    def figures(self, ranker: Ranker, rows: list[dict] | None = None) -> tuple[float, ...]:
        rows = self.rows if rows is None else rows
        ranks = [_rank(row["evidence"], ranker(row["question"])) for row in rows]
        cross = [r for row, r in zip(rows, ranks, strict=True) if row["kind"] == "cross-lang"]
        return (_share(ranks, 1), _share(ranks, 3), _share(cross, 3))


def _neighbours(chunks: list[Chunk]) -> dict[int, tuple[Chunk | None, Chunk | None]]:
    out: dict[int, tuple[Chunk | None, Chunk | None]] = {}
    for essay in {c.essay_id for c in chunks}:
        run = sorted((c for c in chunks if c.essay_id == essay), key=lambda c: c.start)
        for i, c in enumerate(run):
            out[c.key] = (run[i - 1] if i else None, run[i + 1] if i + 1 < len(run) else None)
    return out


def _rank(evidence: list[str], quotes: list[str]) -> int | None:
    for i, text in enumerate(quotes, 1):
        if any(e in text or text in e for e in evidence):
            return i
    return None


def _share(ranks: list[int | None], k: int) -> float:
    return round(sum(1 for r in ranks if r and r <= k) / len(ranks), 3) if ranks else 0.0


# Variants -----------------------------------------------------------------------------------


def shipped(p: Replay) -> Ranker:
    return lambda q: p.top(p.scores(q))


def weights(p: Replay, a: float, b: float, per_part: bool = False) -> Ranker:
    return lambda q: p.top(p.scores(q, per_part, a, b))


def mmr(p: Replay, lam: float, pool: int = 20) -> Ranker:
    """Maximal marginal relevance over the top `pool` chunks, redundancy = vector similarity."""

    def rank(q: str) -> list[str]:
        sc = p.scores(q)
        cand = sorted(sc, key=lambda k: sc[k], reverse=True)[:pool]
        chosen: list[int] = []
        while cand and len(chosen) < 3:

            def value(c: int) -> float:
                red = max((float(p.mat[p.row[c]] @ p.mat[p.row[d]]) for d in chosen), default=0)
                return lam * sc[c] - (1 - lam) * 2 * red

            best = max(cand, key=value)
            chosen.append(best)
            cand.remove(best)
        return [p.chunks[c].text for c in chosen]

    return rank


def essay_prior(p: Replay, weight: float, m: int = 3) -> Ranker:
    """Add weight × the mean of the essay's m best chunk scores (essay-level routing)."""

    def rank(q: str) -> list[str]:
        sc = p.scores(q)
        per: dict[str, list[float]] = {}
        for key, v in sc.items():
            per.setdefault(p.chunks[key].essay_id, []).append(v)
        prior = {e: float(np.mean(sorted(v, reverse=True)[:m])) for e, v in per.items()}
        return p.top({k: v + weight * prior[p.chunks[k].essay_id] for k, v in sc.items()})

    return rank


def prev_score(p: Replay, weight: float) -> Ranker:
    """Add weight × the previous chunk's score (the answer often follows the topic line)."""

    def rank(q: str) -> list[str]:
        sc = p.scores(q)
        low = min(sc.values())
        prev = {k: p.neighbours[k][0] for k in sc}
        return p.top(
            {k: v + weight * (sc[c.key] if (c := prev[k]) else low) for k, v in sc.items()}
        )

    return rank


def window(p: Replay, bp: float, bn: float) -> Ranker:
    """Add the similarity of the chunk joined with its previous / next chunk (embedded)."""

    def rank(q: str) -> list[str]:
        sc, v = p.scores(q), p.q[q]
        return p.top(
            {
                k: s + bp * float(p.windows["prev"][k] @ v) + bn * float(p.windows["next"][k] @ v)
                for k, s in sc.items()
            }
        )

    return rank


def essay_keywords(p: Replay, weight: float) -> Ranker:
    """Add weight × BM25 of the question's own words (max-normalised), only for the chunks of
    the essay ranked first: keyword evidence to order passages inside the routed essay."""

    def rank(q: str) -> list[str]:
        sc = p.scores(q)
        essay = p.chunks[max(sc, key=lambda k: sc[k])].essay_id
        bm = {k: v for k, v in p.r.keyword(q, 1000) if p.chunks[k].essay_id == essay}
        top = max(bm.values(), default=0.0) or 1.0
        return p.top({k: v + weight * bm.get(k, 0.0) / top for k, v in sc.items()})

    return rank


def sentence_quotes(p: Replay, size: int) -> Ranker:
    """Rank sentences (own + owning chunk's similarity + keyword) and quote each with up to
    `size` neighbours of its paragraph each side (<= 400 characters), skipping overlaps."""

    def rank(q: str) -> list[str]:
        s, kw = np.sum(p.parts(q), axis=0), p.kw[q]
        owner = p.r.owners
        score = {
            k: float(s[p.row[k]] + s[p.row[owner[k]]]) + KEYWORD_WEIGHT * kw.get(owner[k], 0.0)
            for k in p.sentences
        }
        out: list[str] = []
        used: list[tuple[str, int, int]] = []
        for key in sorted(score, key=lambda k: score[k], reverse=True):
            u = p.sentences[key]
            lo, hi = _grow(p, u, size)
            if any(e == u.essay_id and lo < h and a < hi for e, a, h in used):
                continue
            used.append((u.essay_id, lo, hi))
            out.append(p.r.essays[u.essay_id].body[lo:hi])
            if len(out) == 3:
                break
        return out

    return rank


def _grow(p: Replay, u: Chunk, size: int) -> tuple[int, int]:
    """u's span widened by up to `size` sentences of its paragraph each side, <= 400 chars."""
    same = sorted(
        (x for x in p.sentences.values() if (x.essay_id, x.paragraph) == (u.essay_id, u.paragraph)),
        key=lambda x: x.start,
    )
    lo = hi = same.index(u)
    for _ in range(size):
        if hi + 1 < len(same) and same[hi + 1].end - same[lo].start <= 400:
            hi += 1
        if lo > 0 and same[hi].end - same[lo - 1].start <= 400:
            lo -= 1
    return same[lo].start, same[hi].end


def cross_validate(p: Replay, name: str, make: Callable[[float], Ranker], grid: list[float]):
    halves = [p.rows[0::2], p.rows[1::2]]
    for train, test in [(halves[0], halves[1]), (halves[1], halves[0])]:
        best = max(grid, key=lambda w: (*p.figures(make(w), train)[1::-1], -w))
        held = p.figures(make(best), test)
        print(f"  CV {name}: fitted {best}; held-out R@1/R@3/cross {held}", end="")
        print(f" vs {grid[0]}: {p.figures(make(grid[0]), test)}")


def main() -> None:
    r, rows = devset.open_dev(devset.arguments(__doc__).parse_args())
    p = Replay(r, rows)
    variants: list[tuple[str, Ranker]] = [
        ("shipped (chunk + best sentence + 0.1 translated BM25)", shipped(p)),
        ("best sentence only (a=0, b=1)", weights(p, 0.0, 1.0)),
        ("chunk only (a=1, b=0)", weights(p, 1.0, 0.0)),
        ("best sentence per encoder", weights(p, 1.0, 1.0, per_part=True)),
        *[(f"sentence-centred quotes, ±{n}", sentence_quotes(p, n)) for n in (0, 1, 2)],
        *[(f"MMR lambda {lam}", mmr(p, lam)) for lam in (0.9, 0.7, 0.5)],
        *[(f"essay prior x{w}", essay_prior(p, w)) for w in (0.25, 0.5, 1.0)],
        *[(f"previous chunk's score x{w}", prev_score(p, w)) for w in (0.1, 0.2, 0.3)],
        *[(f"own-words BM25 in the first essay x{w}", essay_keywords(p, w)) for w in (0.1, 0.3)],
        *[(f"window prev x{a} next x{b}", window(p, a, b)) for a, b in [(0.5, 0), (1, 0), (1, 1)]],
    ]
    print("variant: R@1, R@3, cross-lang R@3 (ranking only)")
    for name, ranker in variants:
        print(f"{name}: {p.figures(ranker)}")
    cross_validate(p, "previous chunk's score", lambda w: prev_score(p, w), [0, 0.1, 0.2, 0.3, 0.5])
    cross_validate(p, "essay prior", lambda w: essay_prior(p, w), [0, 0.25, 0.5, 1.0])
    cross_validate(p, "window prev=next", lambda w: window(p, w, w), [0, 0.25, 0.5, 1.0])


if __name__ == "__main__":
    main()
