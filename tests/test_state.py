"""The per-chat state file: expiry, the sweep of expired rows, and forgetting."""

from __future__ import annotations

from pathlib import Path

from bot.state import StateStore


class Clock:
    def __init__(self) -> None:
        self.now = 1_000_000.0

    def __call__(self) -> float:
        return self.now


def rows(store: StateStore) -> int:
    return store.db.execute("select count(*) from state").fetchone()[0]


def test_the_expiry_sweep_uses_an_index(tmp_path: Path):
    """Before #17 the sweep scanned the whole table on every write (100 k rows: 25 s answers)."""
    store = StateStore(tmp_path / "s.db", ttl_seconds=60)
    plan = store.db.execute("explain query plan delete from state where expires < 1").fetchall()
    assert any("state_expires" in str(step) for step in plan), plan


def test_expired_rows_are_never_read_and_swept_at_most_once_a_minute(tmp_path: Path):
    clock = Clock()
    store = StateStore(tmp_path / "s.db", ttl_seconds=10, sweep_seconds=60, clock=clock)
    for n in range(50):
        store.put(f"chat{n}", "last_answer", {"keys": [n]})
    clock.now += 30
    assert store.get("chat1", "last_answer") is None  # expired: never read
    store.put("new", "last_answer", {"keys": []})
    assert rows(store) == 51  # not swept yet: the last sweep was under a minute ago
    clock.now += 31
    store.put("newer", "last_answer", {"keys": [1]})
    assert rows(store) == 1  # swept: every expired row went at once
    assert store.get("newer", "last_answer") == {"keys": [1]}


def test_forget_deletes_every_row_of_a_chat(tmp_path: Path):
    store = StateStore(tmp_path / "s.db", ttl_seconds=60)
    store.put("c", "a", 1)
    store.put("c", "b", 2)
    store.put("d", "a", 3)
    assert store.forget("c") == 2 and store.get("d", "a") == 3
