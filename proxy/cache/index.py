"""The on-disk index of one cache: SQLite (WAL) rows pointing at body files.

Why not diskcache: it expires by absolute TTL, not idle time; its LRU policy writes SQLite
on every hit; and it copies a value into place, where we rename a fully streamed file.
This index keeps `accessed` per entry (touched at most once per `touch_interval`, so hot hits
are read-only), a running byte total for eviction, and the source object of every entry so
a purge of an original can find its previews. Several processes share one index safely.
"""

from __future__ import annotations

import contextlib
import json
import os
import sqlite3
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

SCHEMA = """
CREATE TABLE IF NOT EXISTS entries (
    key TEXT PRIMARY KEY,
    source TEXT NOT NULL,
    file TEXT,
    body BLOB,
    size INTEGER NOT NULL,
    meta TEXT NOT NULL,
    stored REAL NOT NULL,
    accessed REAL NOT NULL
);
CREATE INDEX IF NOT EXISTS entries_accessed ON entries(accessed);
CREATE INDEX IF NOT EXISTS entries_source ON entries(source);
CREATE TABLE IF NOT EXISTS totals (
    id INTEGER PRIMARY KEY CHECK (id = 0),
    bytes INTEGER NOT NULL,
    entries INTEGER NOT NULL
);
INSERT OR IGNORE INTO totals VALUES (0, 0, 0);
"""

# Bodies below this size live in the index itself: one read instead of open + read.
INLINE_LIMIT = 16 * 1024


@dataclass(frozen=True)
class Row:
    key: str
    source: str
    file: str | None
    body: bytes | None
    size: int
    meta: dict[str, Any]
    stored: float
    accessed: float


@dataclass(frozen=True)
class Removed:
    key: str
    file: str | None
    size: int


class Index:
    def __init__(self, directory: Path) -> None:
        self.directory = directory
        directory.mkdir(parents=True, exist_ok=True)
        self.path = directory / "index.sqlite"
        self._local = threading.local()
        self._db().executescript(SCHEMA)

    def _db(self) -> sqlite3.Connection:
        # One connection per thread: sqlite3 connections must not be shared across threads.
        db = getattr(self._local, "db", None)
        if db is None:
            db = sqlite3.connect(self.path, timeout=10, isolation_level=None)
            db.execute("PRAGMA journal_mode=WAL")
            db.execute("PRAGMA synchronous=NORMAL")
            self._local.db = db
        return db

    @contextlib.contextmanager
    def _write(self) -> Iterator[sqlite3.Connection]:
        db = self._db()
        db.execute("BEGIN IMMEDIATE")
        try:
            yield db
        except BaseException:
            db.execute("ROLLBACK")
            raise
        db.execute("COMMIT")

    def close(self) -> None:
        db = getattr(self._local, "db", None)
        if db is not None:
            db.close()
            self._local.db = None

    # -- reads --------------------------------------------------------------------------

    def get(self, key: str) -> Row | None:
        cur = self._db().execute(
            "SELECT key, source, file, body, size, meta, stored, accessed FROM entries"
            " WHERE key = ?",
            (key,),
        )
        found = cur.fetchone()
        if found is None:
            return None
        key, source, file, body, size, meta, stored, accessed = found
        return Row(key, source, file, body, size, json.loads(meta), stored, accessed)

    def touch(self, key: str, now: float) -> None:
        """Best effort: a busy index must not stall a hit, the next hit will touch again."""
        db = self._db()
        with contextlib.suppress(sqlite3.OperationalError):
            db.execute("UPDATE entries SET accessed = ? WHERE key = ?", (now, key))

    def totals(self) -> tuple[int, int]:
        row = self._db().execute("SELECT bytes, entries FROM totals WHERE id = 0").fetchone()
        return int(row[0]), int(row[1])

    def oldest_access(self) -> float | None:
        row = self._db().execute("SELECT MIN(accessed) FROM entries").fetchone()
        return None if row[0] is None else float(row[0])

    def files(self) -> set[str]:
        return {r[0] for r in self._db().execute("SELECT file FROM entries WHERE file IS NOT NULL")}

    # -- writes -------------------------------------------------------------------------

    def put(
        self,
        key: str,
        source: str,
        file: str | None,
        body: bytes | None,
        size: int,
        meta: dict[str, Any],
        bound: int,
    ) -> list[Removed]:
        """Insert or replace an entry, then evict least recently used ones past `bound`."""
        now = time.time()
        removed: list[Removed] = []
        with self._write() as db:
            old = db.execute("SELECT file, size FROM entries WHERE key = ?", (key,)).fetchone()
            if old is not None:
                db.execute("DELETE FROM entries WHERE key = ?", (key,))
                db.execute("UPDATE totals SET bytes = bytes - ?, entries = entries - 1", (old[1],))
                removed.append(Removed(key, old[0], old[1]))
            db.execute(
                "INSERT INTO entries VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
                (key, source, file, body, size, json.dumps(meta), now, now),
            )
            db.execute("UPDATE totals SET bytes = bytes + ?, entries = entries + 1", (size,))
            removed.extend(self._evict(db, bound, keep=key))
        return removed

    def _evict(self, db: sqlite3.Connection, bound: int, keep: str | None) -> list[Removed]:
        removed: list[Removed] = []
        total = db.execute("SELECT bytes FROM totals WHERE id = 0").fetchone()[0]
        while total > bound:
            batch = db.execute(
                "SELECT key, file, size FROM entries WHERE key IS NOT ? ORDER BY accessed LIMIT 64",
                (keep,),
            ).fetchall()
            if not batch:
                break
            for key, file, size in batch:
                if total <= bound:
                    break
                db.execute("DELETE FROM entries WHERE key = ?", (key,))
                db.execute("UPDATE totals SET bytes = bytes - ?, entries = entries - 1", (size,))
                total -= size
                removed.append(Removed(key, file, size))
        return removed

    def remove_idle(self, before: float, limit: int = 500) -> list[Removed]:
        with self._write() as db:
            rows = db.execute(
                "SELECT key, file, size FROM entries WHERE accessed < ? ORDER BY accessed LIMIT ?",
                (before, limit),
            ).fetchall()
            return self._delete(db, rows)

    def remove_keys(self, keys: list[str]) -> list[Removed]:
        with self._write() as db:
            rows = []
            for key in keys:
                row = db.execute("SELECT key, file, size FROM entries WHERE key = ?", (key,))
                rows.extend(row.fetchall())
            return self._delete(db, rows)

    def remove_source_prefix(self, prefix: str) -> list[Removed]:
        with self._write() as db:
            if prefix:
                rows = db.execute(
                    "SELECT key, file, size FROM entries WHERE substr(source, 1, ?) = ?",
                    (len(prefix), prefix),
                ).fetchall()
            else:
                rows = db.execute("SELECT key, file, size FROM entries").fetchall()
            return self._delete(db, rows)

    def _delete(
        self, db: sqlite3.Connection, rows: list[tuple[str, str | None, int]]
    ) -> list[Removed]:
        removed = []
        for key, file, size in rows:
            db.execute("DELETE FROM entries WHERE key = ?", (key,))
            db.execute("UPDATE totals SET bytes = bytes - ?, entries = entries - 1", (size,))
            removed.append(Removed(key, file, size))
        return removed


def unlink_quietly(path: str | os.PathLike[str]) -> None:
    with contextlib.suppress(FileNotFoundError):
        os.unlink(path)
