"""The little the bot keeps per chat, with an expiry: never message text.

Rows are keyed by a SHA-256 of the channel's chat id (so the file does not even list who
talked to the bot) and a kind, e.g. "last_answer" -> the chunk keys of the last quotes.
"""

from __future__ import annotations

import hashlib
import json
import sqlite3
import threading
import time
from pathlib import Path
from typing import Any

import sqlite_utils


def chat_key(chat: str) -> str:
    return hashlib.sha256(chat.encode("utf-8")).hexdigest()


class StateStore:
    """A small SQLite file of (chat, kind) -> JSON value, each row with an expiry time."""

    def __init__(self, path: Path, ttl_seconds: int) -> None:
        path.parent.mkdir(parents=True, exist_ok=True)
        conn = sqlite3.connect(path, check_same_thread=False, timeout=30)
        conn.execute("pragma journal_mode=wal")
        self.db = sqlite_utils.Database(conn)
        self.ttl = ttl_seconds
        self._lock = threading.Lock()
        self.db.table("state").create(
            {"chat": str, "kind": str, "value": str, "expires": float},
            pk=("chat", "kind"),
            if_not_exists=True,
        )

    def put(self, chat: str, kind: str, value: Any) -> None:
        row = {
            "chat": chat_key(chat),
            "kind": kind,
            "value": json.dumps(value),
            "expires": time.time() + self.ttl,
        }
        with self._lock, self.db.conn:
            self.db.table("state").upsert(row, pk=("chat", "kind"))
            self.db.execute("delete from state where expires < ?", [time.time()])

    def get(self, chat: str, kind: str) -> Any | None:
        with self._lock:
            rows = self.db.execute(
                "select value from state where chat = ? and kind = ? and expires >= ?",
                [chat_key(chat), kind, time.time()],
            ).fetchall()
        return json.loads(rows[0][0]) if rows else None

    def forget(self, chat: str) -> int:
        """Delete every row about this chat; returns how many there were."""
        with self._lock, self.db.conn:
            return self.db.execute("delete from state where chat = ?", [chat_key(chat)]).rowcount

    def close(self) -> None:
        self.db.conn.close()
