"""The index's SQLite file, through sqlite-utils: essays, paragraphs, chunks, keywords, vectors,
sentences (which chunks hold each sentence), centres (the mean vector of each language),
translations, and views (a translated passage: its text, keywords and the chunks it stands for).

The chunk key is the primary key here and the id of the chunk's vector in FAISS; a sentence's
vector is in FAISS under the sentence key.
"""

from __future__ import annotations

import sqlite3
import threading
from collections.abc import Iterable, Mapping, Sequence
from pathlib import Path

import numpy as np
import sqlite_utils

from index.errors import IndexCorruptError
from index.models import Chunk, Cue, Essay, Paragraph, Translation
from index.tokenize import fts_query, keyword_tokens

_CHUNK_COLUMNS = "key, essay_id, paragraph, last_paragraph, start, end, text, lang"
TABLES = {"essays", "paragraphs", "chunks", "vectors", "sentences", "centres", "lexicon"} | {
    "translations",
    "views",
    "view_chunks",
}


class Store:
    """One index SQLite file. Safe to share between threads: every call holds a lock."""

    def __init__(self, path: Path, *, create: bool = False) -> None:
        self.path = path
        if not create and not path.is_file():
            raise IndexCorruptError(
                f"{path} is missing. Rebuild it: essaybot index build --rebuild"
            )
        conn = sqlite3.connect(path, check_same_thread=False)
        self.db = sqlite_utils.Database(conn)
        self._lock = threading.Lock()
        if not create:
            self._check()

    def _check(self) -> None:
        try:
            missing = TABLES - set(self.db.table_names())
        except sqlite3.DatabaseError as exc:
            raise IndexCorruptError(
                f"{self.path} is not a readable SQLite file ({exc}). "
                "Rebuild it: essaybot index build --rebuild"
            ) from exc
        if missing:
            raise IndexCorruptError(
                f"{self.path} lacks tables {sorted(missing)}. "
                "Rebuild it: essaybot index build --rebuild"
            )

    def close(self) -> None:
        self.db.conn.close()

    def check_integrity(self) -> None:
        """IndexCorruptError unless SQLite's quick check passes and the essays read."""
        result = self._rows("pragma quick_check")
        if [tuple(row) for row in result] != [("ok",)]:
            raise IndexCorruptError(
                f"{self.path} is damaged ({result[0][0] if result else 'no answer'}). "
                "Rebuild it: essaybot index build --rebuild"
            )
        self.essays()

    # -- writing (only the builder writes, into a fresh file) ---------------------------------

    def write_essays(self, essays: Iterable[Essay]) -> None:
        rows = (
            {"id": e.id, "title": e.title, "lang": e.lang, "source": e.source, "body": e.body}
            for e in essays
        )
        self.db.table("essays").insert_all(rows, pk="id")

    def write_paragraphs(self, paragraphs: Iterable[Paragraph]) -> None:
        rows = (
            {"essay_id": p.essay_id, "number": p.number, "start": p.start, "end": p.end}
            for p in paragraphs
        )
        self.db.table("paragraphs").insert_all(rows, pk=("essay_id", "number"))

    def write_chunks(self, chunks: Sequence[Chunk]) -> None:
        rows = (
            {
                "key": c.key,
                "essay_id": c.essay_id,
                "paragraph": c.paragraph,
                "last_paragraph": c.last_paragraph,
                "start": c.start,
                "end": c.end,
                "text": c.text,
                "lang": c.lang,
                "tokens": " ".join(keyword_tokens(c.text)),
            }
            for c in chunks
        )
        self.db.table("chunks").insert_all(rows, pk="key")
        self.db.table("chunks").enable_fts(["tokens"], tokenize="unicode61")

    def write_vectors(self, keys: Sequence[int], vectors: np.ndarray) -> None:
        rows = (
            {"key": int(k), "vector": v.astype(np.float32).tobytes()}
            for k, v in zip(keys, vectors, strict=True)
        )
        self.db.table("vectors").insert_all(rows, pk="key", batch_size=1000)

    def write_sentences(self, owners: Mapping[int, Sequence[int]]) -> None:
        table = self.db.table("sentences")
        table.create({"key": int, "chunk_key": int}, pk=("key", "chunk_key"), if_not_exists=True)
        table.insert_all(
            {"key": key, "chunk_key": chunk} for key, chunks in owners.items() for chunk in chunks
        )

    def write_cues(self, cues: Iterable[Cue]) -> None:
        """Which units are reader questions, and which of them no paragraph answers."""
        table = self.db.table("cues")
        table.create({"key": int, "essay_id": str, "paragraph": int}, pk="key", if_not_exists=True)
        table.insert_all(
            {"key": c.key, "essay_id": c.essay_id, "paragraph": c.paragraph} for c in cues
        )

    def write_centres(self, means: Mapping[str, np.ndarray]) -> None:
        table = self.db.table("centres")
        table.create({"lang": str, "vector": bytes}, pk="lang", if_not_exists=True)
        table.insert_all(
            {"lang": lang, "vector": mean.astype(np.float32).tobytes()}
            for lang, mean in means.items()
        )

    def write_translations(self, translations: Iterable[Translation]) -> None:
        table = self.db.table("translations")
        table.create(
            {
                "essay_id": str,
                "lang": str,
                "title": str,
                "translator": str,
                "body": str,
                "source": str,
            },
            pk=("essay_id", "lang"),
            if_not_exists=True,
        )
        table.insert_all(
            {
                "essay_id": t.essay_id,
                "lang": t.lang,
                "title": t.title,
                "translator": t.translator,
                "body": t.body,
                "source": t.source,
            }
            for t in translations
        )

    def write_views(self, views: Sequence[Chunk], chunks: Mapping[int, Sequence[int]]) -> None:
        """Translated passages (keyword rows) and the chunks each stands for."""
        table = self.db.table("views")
        table.create(
            {"key": int, "essay_id": str, "lang": str, "tokens": str}, pk="key", if_not_exists=True
        )
        table.insert_all(
            {
                "key": v.key,
                "essay_id": v.essay_id,
                "lang": v.lang,
                "tokens": " ".join(keyword_tokens(v.text)),
            }
            for v in views
        )
        table.enable_fts(["tokens"], tokenize="unicode61")
        links = self.db.table("view_chunks")
        links.create({"key": int, "chunk_key": int}, pk=("key", "chunk_key"), if_not_exists=True)
        links.insert_all(
            {"key": key, "chunk_key": chunk} for key, owned in chunks.items() for chunk in owned
        )

    # -- reading ----------------------------------------------------------------------------

    def write_lexicon(self, pairs: Iterable[tuple[str, str]]) -> None:
        table = self.db.table("lexicon")
        table.create({"source": str, "target": str}, pk=("source", "target"), if_not_exists=True)
        table.insert_all(({"source": s, "target": t} for s, t in pairs), batch_size=5000)

    def _rows(self, sql: str, params: Sequence[object] = ()) -> list[tuple]:
        try:
            with self._lock:
                return self.db.execute(sql, params).fetchall()
        except sqlite3.DatabaseError as exc:
            raise IndexCorruptError(
                f"{self.path} is damaged ({exc}). Rebuild it: essaybot index build --rebuild"
            ) from exc

    def essays(self) -> list[Essay]:
        rows = self._rows("select id, title, lang, body, source from essays order by source")
        return [Essay(*row) for row in rows]

    def chunks(self, keys: Sequence[int]) -> list[Chunk]:
        """The chunks with these keys, in the order asked; unknown keys are left out."""
        marks = ",".join("?" * len(keys))
        rows = self._rows(f"select {_CHUNK_COLUMNS} from chunks where key in ({marks})", keys)
        by_key = {row[0]: _chunk(row) for row in rows}
        return [by_key[k] for k in keys if k in by_key]

    def all_chunks(self) -> list[Chunk]:
        return [_chunk(row) for row in self._rows(f"select {_CHUNK_COLUMNS} from chunks")]

    def paragraphs_span(self, essay_id: str, first: int, last: int) -> tuple[int, int] | None:
        """(start, end) of paragraphs first..last of an essay, or None when one is unknown."""
        rows = self._rows(
            "select min(start), max(end), count(*) from paragraphs "
            "where essay_id = ? and number between ? and ?",
            (essay_id, first, last),
        )
        start, end, count = rows[0]
        return (start, end) if count == last - first + 1 else None

    def vectors(self, keys: Sequence[int]) -> dict[int, np.ndarray]:
        """Stored vectors by key, for re-use by the next build."""
        found: dict[int, np.ndarray] = {}
        for start in range(0, len(keys), 500):
            batch = list(keys[start : start + 500])
            marks = ",".join("?" * len(batch))
            for key, blob in self._rows(
                f"select key, vector from vectors where key in ({marks})", batch
            ):
                found[key] = np.frombuffer(blob, dtype=np.float32)
        return found

    def unit_keys(self) -> list[int]:
        """The key of every embedded unit (chunks, sentences, translated units, cues)."""
        return [key for (key,) in self._rows("select key from vectors")]

    def cue_paragraphs(self) -> dict[int, tuple[str, int | None]]:
        """Reader question key -> (essay id, the paragraph answering it, or None when the
        essays leave it unanswered)."""
        rows = self._rows("select key, essay_id, paragraph from cues")
        return {key: (essay, paragraph) for key, essay, paragraph in rows}

    def sentence_owners(self) -> dict[int, list[int]]:
        """Sentence key -> keys of the chunks that hold it."""
        owners: dict[int, list[int]] = {}
        for key, chunk in self._rows("select key, chunk_key from sentences"):
            owners.setdefault(key, []).append(chunk)
        return owners

    def centres(self) -> dict[str, np.ndarray]:
        """Language -> mean passage vector, as the builder stored them."""
        rows = self._rows("select lang, vector from centres")
        return {lang: np.frombuffer(blob, dtype=np.float32) for lang, blob in rows}

    def keyword_search(self, text: str, k: int) -> list[tuple[int, float]]:
        """(key, bm25 score) best first; higher is better. No usable tokens: no hits."""
        tokens = keyword_tokens(text)
        if not tokens:
            return []
        sql = (
            "select chunks.key, -bm25(chunks_fts) as score from chunks_fts "
            "join chunks on chunks.rowid = chunks_fts.rowid "
            "where chunks_fts match ? order by score desc limit ?"
        )
        return [(key, float(score)) for key, score in self._rows(sql, (fts_query(tokens), k))]

    def lexicon(self, tokens: Sequence[str]) -> dict[str, set[str]]:
        """Question word -> the corpus words it may stand for (index.lexicon)."""
        marks = ",".join("?" * len(tokens))
        found: dict[str, set[str]] = {}
        for source, target in self._rows(
            f"select source, target from lexicon where source in ({marks})", list(tokens)
        ):
            found.setdefault(source, set()).add(target)
        return found

    def translations(self) -> list[Translation]:
        rows = self._rows(
            "select essay_id, lang, title, translator, body, source from translations"
        )
        return [Translation(*row) for row in rows]

    def views(self) -> dict[int, list[int]]:
        """Translated passage key -> keys of the chunks it stands for."""
        found: dict[int, list[int]] = {}
        for key, chunk in self._rows("select key, chunk_key from view_chunks"):
            found.setdefault(key, []).append(chunk)
        return found

    def passage_tokens(self, keys: Sequence[int]) -> dict[int, set[str]]:
        """Chunk key -> the keyword tokens of its text and of its translations."""
        marks = ",".join("?" * len(keys))
        rows = self._rows(
            f"select key, tokens from chunks where key in ({marks}) union all "
            "select view_chunks.chunk_key, views.tokens from views join view_chunks "
            f"on views.key = view_chunks.key where view_chunks.chunk_key in ({marks})",
            [*keys, *keys],
        )
        found: dict[int, set[str]] = {}
        for key, tokens in rows:
            found.setdefault(key, set()).update(tokens.split())
        return found

    def essay_tokens(self) -> dict[str, set[str]]:
        """Essay id -> every keyword token of its chunks and of their translations."""
        found: dict[str, set[str]] = {}
        for essay, tokens in self._rows(
            "select essay_id, tokens from chunks union all select essay_id, tokens from views"
        ):
            found.setdefault(essay, set()).update(tokens.split())
        return found

    def view_keyword_search(
        self, tokens: Sequence[str], lang: str, k: int
    ) -> list[tuple[int, float]]:
        """(translated passage key, bm25 score) over the views in one language."""
        return self._bm25("views", tokens, lang, k)

    def keyword_search_in(
        self, tokens: Sequence[str], lang: str, k: int
    ) -> list[tuple[int, float]]:
        """(key, bm25 score) over the chunks of one language, for ready-made tokens."""
        return self._bm25("chunks", tokens, lang, k)

    def _bm25(
        self, table: str, tokens: Sequence[str], lang: str, k: int
    ) -> list[tuple[int, float]]:
        """(key, bm25 score) best first over `table`'s rows in one language (chunks or views:
        names from this module, never from input)."""
        if not tokens:
            return []
        sql = (
            f"select {table}.key, -bm25({table}_fts) as score from {table}_fts "
            f"join {table} on {table}.rowid = {table}_fts.rowid "
            f"where {table}_fts match ? and {table}.lang = ? order by score desc limit ?"
        )
        return [(key, float(s)) for key, s in self._rows(sql, (fts_query(list(tokens)), lang, k))]


def _chunk(row: tuple) -> Chunk:
    key, essay_id, paragraph, last_paragraph, start, end, text, lang = row
    return Chunk(essay_id, paragraph, last_paragraph, start, end, text, lang, key)
