"""The little the bot keeps per chat, with an expiry: never message text.

Rows are keyed by a SHA-256 of the channel's chat id (so the file does not even list who
talked to the bot) and a kind, e.g. "last_answer" -> the chunk keys of the last quotes.
Expired rows are never read, and are deleted by a sweep that runs at most once a minute,
through an index on the expiry time (it used to run on every write, scanning the table).
"""

from __future__ import annotations

import hashlib
import json
import sqlite3
import threading
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import sqlite_utils

SWEEP_SECONDS = 60.0  # expired rows are deleted at most this often


def chat_key(chat: str) -> str:
    return hashlib.sha256(chat.encode("utf-8")).hexdigest()


class StateStore:
    """A small SQLite file of (chat, kind) -> JSON value, each row with an expiry time."""

    def __init__(
        self,
        path: Path,
        ttl_seconds: int,
        sweep_seconds: float = SWEEP_SECONDS,
        clock: Callable[[], float] = time.time,
    ) -> None:
        path.parent.mkdir(parents=True, exist_ok=True)
        conn = sqlite3.connect(path, check_same_thread=False, timeout=30)
        conn.execute("pragma journal_mode=wal")
        self.db = sqlite_utils.Database(conn)
        self.ttl = ttl_seconds
        self.sweep_seconds = sweep_seconds
        self.clock = clock
        self._swept = clock()
        self._lock = threading.Lock()
        table = self.db.table("state")
        table.create(
            {"chat": str, "kind": str, "value": str, "expires": float},
            pk=("chat", "kind"),
            if_not_exists=True,
        )
        table.create_index(["expires"], index_name="state_expires", if_not_exists=True)

    def put(self, chat: str, kind: str, value: Any) -> None:
        now = self.clock()
        row = {
            "chat": chat_key(chat),
            "kind": kind,
            "value": json.dumps(value),
            "expires": now + self.ttl,
        }
        with self._lock, self.db.conn:
            self.db.table("state").upsert(row, pk=("chat", "kind"))
            if now - self._swept >= self.sweep_seconds:
                self._swept = now
                self.db.execute("delete from state where expires < ?", [now])

    def get(self, chat: str, kind: str) -> Any | None:
        with self._lock:
            rows = self.db.execute(
                "select value from state where chat = ? and kind = ? and expires >= ?",
                [chat_key(chat), kind, self.clock()],
            ).fetchall()
        return json.loads(rows[0][0]) if rows else None

    def forget(self, chat: str) -> int:
        """Delete every row about this chat; returns how many there were."""
        with self._lock, self.db.conn:
            return self.db.execute("delete from state where chat = ?", [chat_key(chat)]).rowcount

    def close(self) -> None:
        self.db.conn.close()
