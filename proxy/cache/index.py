"""The on-disk index of one cache: SQLite (WAL) rows pointing at body files.

Why not diskcache: it expires by absolute TTL, not idle time; its LRU policy writes SQLite
on every hit; and it copies a value into place, where we rename a fully streamed file.
This index keeps `accessed` per entry (touched at most once per `touch_interval`, so hot hits
are read-only), running byte totals for eviction, the source object of every entry so a
purge of an original can find its previews, each body's checksum, and the fills in flight
in any process (`fills`), which is how workers share one download and lock per key.

A body file enters `data/` only after a row naming it exists (still "pending", `ready = 0`)
and leaves it before its row is deleted, so no crash can leave a file the index does not
know: a crash leaves at most a row whose file is gone, which reads as a miss and heals.

The index is never trusted blindly either: one that SQLite finds damaged is moved aside
(`index.sqlite.damaged-<time>`), a fresh one takes its place, and the bodies come back from
the store. Processes that open it at the same time take turns (a file lock), so several
workers starting on a fresh or damaged cache never race each other into a crash. A process
that did not see the damage itself follows the fresh file before its next use of the index
once `FOLLOW_EVERY` has passed (it looks at the file's inode), so no worker keeps filling,
counting and evicting in the file moved aside.
"""

from __future__ import annotations

import contextlib
import fcntl
import json
import logging
import os
import sqlite3
import threading
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

log = logging.getLogger("proxy.cache")

SCHEMA_VERSION = 3
SCHEMA = """
CREATE TABLE IF NOT EXISTS entries (
    key TEXT PRIMARY KEY,
    source TEXT NOT NULL,
    file TEXT,
    body BLOB,
    size INTEGER NOT NULL,
    meta TEXT NOT NULL,
    stored REAL NOT NULL,
    accessed REAL NOT NULL,
    checksum TEXT,
    ready INTEGER NOT NULL DEFAULT 1,
    verified REAL
);
CREATE INDEX IF NOT EXISTS entries_accessed ON entries(accessed);
CREATE INDEX IF NOT EXISTS entries_source ON entries(source);
CREATE INDEX IF NOT EXISTS entries_file ON entries(file);
CREATE TABLE IF NOT EXISTS fills (
    key TEXT PRIMARY KEY,
    staging TEXT NOT NULL,
    owner TEXT NOT NULL,
    meta TEXT,
    readers INTEGER NOT NULL DEFAULT 0,
    started REAL NOT NULL
);
CREATE TABLE IF NOT EXISTS totals (
    id INTEGER PRIMARY KEY CHECK (id = 0),
    bytes INTEGER NOT NULL,
    entries INTEGER NOT NULL,
    inline_bytes INTEGER NOT NULL DEFAULT 0
);
INSERT OR IGNORE INTO totals VALUES (0, 0, 0, 0);
CREATE TABLE IF NOT EXISTS info (name TEXT PRIMARY KEY, value TEXT NOT NULL);
"""
# Version 1 had no checksums, no shared fills and one byte total.
MIGRATE_1 = (
    "ALTER TABLE entries ADD COLUMN checksum TEXT",
    "ALTER TABLE entries ADD COLUMN ready INTEGER NOT NULL DEFAULT 1",
    "ALTER TABLE totals ADD COLUMN inline_bytes INTEGER NOT NULL DEFAULT 0",
)
# Version 2 had no record of which body files were read back and found intact.
MIGRATE_2 = ("ALTER TABLE entries ADD COLUMN verified REAL",)

# Bodies below this size live in the index itself: one read instead of open + read.
INLINE_LIMIT = 16 * 1024
BUSY_TIMEOUT = 10.0
BATCH = 500
# How often a process looks whether another one replaced a damaged index: one stat, so that
# every worker follows a recovery within a second instead of writing on in the moved file.
FOLLOW_EVERY = 0.5
UPKEEP_EVERY = 32  # entries written between two checkpoints of the write-ahead log
CORRUPT = frozenset({"SQLITE_CORRUPT", "SQLITE_NOTADB"})


def is_damage(exc: sqlite3.Error) -> bool:
    """A damaged file, as opposed to a busy, locked or full one."""
    name = getattr(exc, "sqlite_errorname", "")
    return name in CORRUPT or type(exc) is sqlite3.DatabaseError


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
    checksum: str | None
    # When the body (file) was last read back whole and found to match `checksum`, by any
    # process; None: never since it was stored.
    verified: float | None = None


@dataclass(frozen=True)
class FillRow:
    key: str
    staging: str
    owner: str
    meta: dict[str, Any] | None
    readers: int


@dataclass(frozen=True)
class Removed:
    key: str
    file: str | None
    size: int


@dataclass(frozen=True)
class Totals:
    file_bytes: int
    inline_bytes: int
    entries: int

    @property
    def body_bytes(self) -> int:
        return self.file_bytes + self.inline_bytes


Unlink = Callable[[Removed], None]
_ROW = "key, source, file, body, size, meta, stored, accessed, checksum, verified"


def _row(found: tuple[Any, ...]) -> Row:
    key, source, file, body, size, meta, stored, accessed, checksum, verified = found
    body = None if body is None else bytes(body)
    return Row(
        key, source, file, body, size, json.loads(meta), stored, accessed, checksum, verified
    )


class Index:
    def __init__(self, directory: Path, *, bound: int, busy_timeout: float = BUSY_TIMEOUT) -> None:
        self.directory = directory
        self.busy_timeout = busy_timeout
        directory.mkdir(parents=True, exist_ok=True)
        self.path = directory / "index.sqlite"
        self.bound = bound
        # The WAL is part of the disk the cache may use: keep it a small share of the bound.
        self.wal_limit = max(64 * 1024, min(64 << 20, bound // 32))
        self.overhead = 0  # index bytes beyond the inline bodies, measured by `measure`
        self._writes = 0
        self._local = threading.local()
        self._generation = 0
        self._inode = 0
        self._next_look = 0.0
        self.recovered_from: Path | None = None
        self._open()

    # -- opening, damage and recovery ------------------------------------------------------

    @contextlib.contextmanager
    def _exclusive(self) -> Iterator[None]:
        """Processes opening or repairing this index take turns."""
        fd = os.open(self.directory / "lock", os.O_RDWR | os.O_CREAT | os.O_CLOEXEC, 0o600)
        try:
            fcntl.flock(fd, fcntl.LOCK_EX)
            yield
        finally:
            os.close(fd)

    def _open(self) -> None:
        with self._exclusive():
            try:
                self._prepare()
            except sqlite3.Error as exc:
                if not is_damage(exc):
                    raise
                self._move_aside(exc)
                self._prepare()
        self.measure()

    def _prepare(self) -> None:
        """Create, migrate or check the index file; runs under the exclusive lock."""
        self._drop_connection()
        db = sqlite3.connect(self.path, timeout=self.busy_timeout, isolation_level=None)
        try:
            if db.execute("PRAGMA quick_check(1)").fetchone()[0] != "ok":
                raise sqlite3.DatabaseError("quick_check failed")
            version = db.execute("PRAGMA user_version").fetchone()[0]
            tables = {r[0] for r in db.execute("SELECT name FROM sqlite_master")}
            if "entries" not in tables:
                # Before the first table: lets the sweeper hand freed pages back to the disk.
                db.execute("PRAGMA auto_vacuum = INCREMENTAL")
            db.execute("PRAGMA journal_mode=WAL")
            if "entries" in tables and version < SCHEMA_VERSION:
                for statement in (*(MIGRATE_1 if version < 2 else ()), *MIGRATE_2):
                    with contextlib.suppress(sqlite3.OperationalError):  # already there
                        db.execute(statement)
            db.executescript(SCHEMA)
            if version < SCHEMA_VERSION:
                db.execute(f"PRAGMA user_version = {SCHEMA_VERSION}")
                _recount(db)
        finally:
            db.close()
        self._inode = os.stat(self.path).st_ino
        self._generation += 1

    def _move_aside(self, exc: sqlite3.Error) -> None:
        stamp = time.strftime("%Y%m%dT%H%M%SZ", time.gmtime())
        target = self.path.with_name(f"index.sqlite.damaged-{stamp}")
        for old in self.directory.glob("index.sqlite.damaged-*"):
            old.unlink(missing_ok=True)  # keep one, so repeated damage cannot fill the disk
        os.replace(self.path, target)
        for suffix in ("-wal", "-shm"):
            Path(f"{self.path}{suffix}").unlink(missing_ok=True)
        self.recovered_from = target
        log.warning(
            "cache index %s was damaged (%s): moved it to %s and started a fresh one; "
            "entries come back from the store as they are asked for",
            self.path,
            exc,
            target.name,
        )

    def recover(self, exc: sqlite3.Error) -> None:
        """Damage seen while serving: replace the file once, whichever process sees it first."""
        with self._exclusive():
            try:
                same = os.stat(self.path).st_ino == self._inode
            except FileNotFoundError:
                same = False
            if same:
                self._move_aside(exc)
            self._prepare()

    def _follow_replacement(self) -> None:
        """Reconnect, in every thread, when another process replaced the file."""
        now = time.monotonic()
        if now < self._next_look:
            return
        self._next_look = now + FOLLOW_EVERY
        try:
            inode = os.stat(self.path).st_ino
        except FileNotFoundError:
            return  # being replaced this instant: the next look finds the new one
        if inode == self._inode:
            return
        with self._exclusive():  # the replacing process holds it until the file is ready
            try:
                inode = os.stat(self.path).st_ino
            except FileNotFoundError:
                return
            if inode != self._inode:
                self._inode = inode
                self._generation += 1
                log.warning(
                    "cache index %s was replaced by another process: reconnected", self.path
                )

    def _db(self) -> sqlite3.Connection:
        # One connection per thread: sqlite3 connections must not be shared across threads.
        self._follow_replacement()
        local = self._local
        db: sqlite3.Connection | None = getattr(local, "db", None)
        if db is None or local.generation != self._generation:
            if db is not None:
                db.close()
            db = sqlite3.connect(self.path, timeout=self.busy_timeout, isolation_level=None)
            db.execute("PRAGMA synchronous=NORMAL")
            db.execute(f"PRAGMA journal_size_limit={self.wal_limit}")
            db.execute(f"PRAGMA wal_autocheckpoint={max(16, self.wal_limit // 4096)}")
            local.db = db
            local.generation = self._generation
        return db

    def _drop_connection(self) -> None:
        db = getattr(self._local, "db", None)
        if db is not None:
            db.close()
            self._local.db = None

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
        self._drop_connection()

    # -- reads --------------------------------------------------------------------------

    def get(self, key: str) -> Row | None:
        found = (
            self._db()
            .execute(f"SELECT {_ROW} FROM entries WHERE key = ? AND ready = 1", (key,))
            .fetchone()
        )
        return None if found is None else _row(found)

    def fill_of(self, key: str) -> FillRow | None:
        found = (
            self._db()
            .execute("SELECT key, staging, owner, meta, readers FROM fills WHERE key = ?", (key,))
            .fetchone()
        )
        if found is None:
            return None
        key, staging, owner, meta, readers = found
        return FillRow(key, staging, owner, None if meta is None else json.loads(meta), readers)

    def totals(self) -> Totals:
        row = (
            self._db()
            .execute("SELECT bytes, inline_bytes, entries FROM totals WHERE id = 0")
            .fetchone()
        )
        return Totals(int(row[0]), int(row[1]), int(row[2]))

    def oldest_access(self) -> float | None:
        row = self._db().execute("SELECT MIN(accessed) FROM entries").fetchone()
        return None if row[0] is None else float(row[0])

    def disk_bytes(self) -> int:
        """The index's own files: the database and its write-ahead log."""
        total = 0
        for suffix in ("", "-wal", "-shm"):
            with contextlib.suppress(FileNotFoundError):
                total += os.stat(f"{self.path}{suffix}").st_size
        return total

    def files_under(self, folder: str) -> set[str]:
        """The body files the index names in one `data/` sub-folder ("ab/cd")."""
        prefix = folder.rstrip("/") + "/"
        upper = prefix[:-1] + chr(ord("/") + 1)
        rows = self._db().execute(
            "SELECT file FROM entries WHERE file >= ? AND file < ?", (prefix, upper)
        )
        return {r[0] for r in rows}

    def file_rows(self, after: int, limit: int = BATCH) -> list[tuple[int, str, str, int, str]]:
        """(rowid, key, file, size, checksum) of ready file bodies, in rowid order."""
        return (
            self._db()
            .execute(
                "SELECT rowid, key, file, size, COALESCE(checksum, '') FROM entries"
                " WHERE rowid > ? AND file IS NOT NULL AND ready = 1 ORDER BY rowid LIMIT ?",
                (after, limit),
            )
            .fetchall()
        )

    def info(self, name: str) -> str | None:
        row = self._db().execute("SELECT value FROM info WHERE name = ?", (name,)).fetchone()
        return None if row is None else str(row[0])

    # -- fills in flight ------------------------------------------------------------------

    def claim_fill(
        self,
        key: str,
        staging: str,
        owner: str,
        alive: Callable[[str], bool],
        fresh_after: float | None = None,
    ) -> FillRow | bool:
        """Register `owner` as the filler of `key`.

        True: it now is. False: the entry is there already (made since the caller looked).
        A FillRow: the fill of the live process that fills it now. A fill whose owner died
        is taken over. An entry last read before `fresh_after` (idle-expired, kept only to
        be served stale) does not count: it is refilled, and replaced when the fill commits.
        """
        with self._write() as db:
            if db.execute(
                "SELECT 1 FROM entries WHERE key = ? AND ready = 1 AND accessed >= ?",
                (key, float("-inf") if fresh_after is None else fresh_after),
            ).fetchone():
                return False
            found = db.execute(
                "SELECT key, staging, owner, meta, readers FROM fills WHERE key = ?", (key,)
            ).fetchone()
            if found is not None and found[2] != owner and alive(found[2]):
                meta = None if found[3] is None else json.loads(found[3])
                return FillRow(found[0], found[1], found[2], meta, found[4])
            db.execute(
                "INSERT OR REPLACE INTO fills VALUES (?, ?, ?, NULL, 0, ?)",
                (key, staging, owner, time.time()),
            )
            if found is not None:
                # A dead fill's pending row (if it got that far) goes with it.
                self._delete_pending(db, key)
        return True

    def set_fill_meta(self, key: str, owner: str, meta: dict[str, Any]) -> None:
        with self._write() as db:
            db.execute(
                "UPDATE fills SET meta = ? WHERE key = ? AND owner = ?",
                (json.dumps(meta), key, owner),
            )

    def add_reader(self, key: str, delta: int) -> None:
        with self._write() as db:
            db.execute("UPDATE fills SET readers = readers + ? WHERE key = ?", (delta, key))

    def abandon_fill(self, key: str, owner: str, *, unless_read: bool) -> bool:
        """Drop this process's fill of `key`; with `unless_read`, not while others tail it."""
        with self._write() as db:
            if unless_read:
                row = db.execute(
                    "SELECT readers FROM fills WHERE key = ? AND owner = ?", (key, owner)
                ).fetchone()
                if row is not None and row[0] > 0:
                    return False
            db.execute("DELETE FROM fills WHERE key = ? AND owner = ?", (key, owner))
            self._delete_pending(db, key)
        return True

    def dead_fills(self, alive: Callable[[str], bool]) -> list[FillRow]:
        """Forget fills of processes that are gone; returns them for their files' cleanup."""
        with self._write() as db:
            rows = db.execute("SELECT key, staging, owner, meta, readers FROM fills").fetchall()
            dead = [FillRow(r[0], r[1], r[2], None, r[4]) for r in rows if not alive(r[2])]
            for fill in dead:
                db.execute("DELETE FROM fills WHERE key = ? AND owner = ?", (fill.key, fill.owner))
                self._delete_pending(db, fill.key)
        return dead

    def pending_files(self) -> list[str]:
        """Body files of pending rows no fill owns any more (a crash between the steps)."""
        rows = self._db().execute(
            "SELECT file FROM entries WHERE ready = 0 AND file IS NOT NULL"
            " AND key NOT IN (SELECT key FROM fills)"
        )
        return [r[0] for r in rows]

    # -- writes -------------------------------------------------------------------------

    def put(
        self,
        key: str,
        source: str,
        file: str | None,
        body: bytes | None,
        size: int,
        checksum: str,
        meta: dict[str, Any],
        unlink: Unlink,
        *,
        ready: bool,
        verified: bool = False,
    ) -> list[Removed]:
        """Insert or replace an entry (pending, or ready at once), then evict past the bound.

        A file body is put pending, then renamed into place, then made ready (`ready`):
        the file is never in `data/` without a row. `verified`: `checksum` was computed
        from the bytes as they were written, which counts as the body's check.
        """
        now = time.time()
        removed: list[Removed] = []
        with self._write() as db:
            old = db.execute("SELECT key, file, size FROM entries WHERE key = ?", (key,)).fetchone()
            if old is not None:
                removed += self._delete(db, [old], unlink)
            db.execute(
                "INSERT INTO entries"
                " (key, source, file, body, size, meta, stored, accessed, checksum, ready, verified)"
                " VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
                (
                    key,
                    source,
                    file,
                    body,
                    size,
                    json.dumps(meta),
                    now,
                    now,
                    checksum,
                    int(ready),
                    now if verified else None,
                ),
            )
            self._count(db, file, size, +1)
            if ready:
                db.execute("DELETE FROM fills WHERE key = ?", (key,))
            removed += self._evict(db, keep=key, unlink=unlink)
        self._writes += 1
        if self._writes % UPKEEP_EVERY == 0:
            self.upkeep()  # so the index's own share of the bound is measured, not guessed
        return removed

    def make_ready(self, key: str) -> bool:
        """False when the pending row is gone (taken over after all): the file must go."""
        with self._write() as db:
            updated = db.execute(
                "UPDATE entries SET ready = 1 WHERE key = ? AND ready = 0", (key,)
            ).rowcount
            db.execute("DELETE FROM fills WHERE key = ?", (key,))
        return updated == 1

    def touch(self, key: str, now: float) -> None:
        """Best effort: a busy index must not stall a hit, the next hit will touch again."""
        with contextlib.suppress(sqlite3.OperationalError):
            self._db().execute("UPDATE entries SET accessed = ? WHERE key = ?", (now, key))

    def set_checksum(self, key: str, stored: float, checksum: str) -> None:
        """For entries made before checksums existed: the first verified read records one."""
        with contextlib.suppress(sqlite3.OperationalError):
            self._db().execute(
                "UPDATE entries SET checksum = ? WHERE key = ? AND stored = ? AND checksum IS NULL",
                (checksum, key, stored),
            )

    def set_verified(self, key: str, stored: float, when: float) -> None:
        """A body read back whole and found intact: no process needs to read it again."""
        with contextlib.suppress(sqlite3.OperationalError):
            self._db().execute(
                "UPDATE entries SET verified = ? WHERE key = ? AND stored = ?", (when, key, stored)
            )

    def _evict(self, db: sqlite3.Connection, keep: str | None, unlink: Unlink) -> list[Removed]:
        removed: list[Removed] = []
        while True:
            file_bytes, inline_bytes = db.execute(
                "SELECT bytes, inline_bytes FROM totals WHERE id = 0"
            ).fetchone()
            excess = file_bytes + inline_bytes + self.overhead - self.bound
            if excess <= 0:
                return removed
            batch = db.execute(
                "SELECT key, file, size FROM entries WHERE key IS NOT ? AND ready = 1"
                " ORDER BY accessed LIMIT 64",
                (keep,),
            ).fetchall()
            if not batch:
                return removed
            chosen = []
            for row in batch:
                chosen.append(row)
                excess -= row[2]
                if excess <= 0:
                    break
            removed += self._delete(db, chosen, unlink)

    def remove_idle(self, before: float, unlink: Unlink, limit: int = BATCH) -> list[Removed]:
        with self._write() as db:
            rows = db.execute(
                "SELECT key, file, size FROM entries WHERE accessed < ? AND ready = 1"
                " ORDER BY accessed LIMIT ?",
                (before, limit),
            ).fetchall()
            return self._delete(db, rows, unlink)

    def remove_keys(self, keys: list[str], unlink: Unlink) -> list[Removed]:
        with self._write() as db:
            rows = []
            for key in keys:
                rows += db.execute(
                    "SELECT key, file, size FROM entries WHERE key = ?", (key,)
                ).fetchall()
            return self._delete(db, rows, unlink)

    def remove_entry(self, key: str, stored: float, unlink: Unlink) -> list[Removed]:
        """Drop one entry, only if it is still the one that was read (a damaged body)."""
        with self._write() as db:
            rows = db.execute(
                "SELECT key, file, size FROM entries WHERE key = ? AND stored = ?", (key, stored)
            ).fetchall()
            return self._delete(db, rows, unlink)

    def remove_file_entry(self, key: str, file: str, unlink: Unlink) -> list[Removed]:
        """Drop an entry only while it still names `file` (not a newer body of the key)."""
        with self._write() as db:
            rows = db.execute(
                "SELECT key, file, size FROM entries WHERE key = ? AND file = ?", (key, file)
            ).fetchall()
            return self._delete(db, rows, unlink)

    def remove_source_batch(
        self, prefix: str, unlink: Unlink, limit: int = BATCH, *, exact: bool = False
    ) -> list[Removed]:
        """One batch of the entries whose source starts with `prefix` (is `prefix`, when
        `exact`), in its own short transaction, so hits and fills keep flowing."""
        with self._write() as db:
            if exact:
                rows = db.execute(
                    "SELECT key, file, size FROM entries WHERE source = ? AND ready = 1 LIMIT ?",
                    (prefix, limit),
                ).fetchall()
            elif prefix:
                # A range on the source index: every string that starts with `prefix`.
                upper = prefix[:-1] + chr(min(ord(prefix[-1]) + 1, 0x10FFFF))
                rows = db.execute(
                    "SELECT key, file, size FROM entries WHERE source >= ? AND source < ?"
                    " AND substr(source, 1, ?) = ? AND ready = 1 LIMIT ?",
                    (prefix, upper, len(prefix), prefix, limit),
                ).fetchall()
            else:
                rows = db.execute(
                    "SELECT key, file, size FROM entries WHERE ready = 1 LIMIT ?", (limit,)
                ).fetchall()
            return self._delete(db, rows, unlink)

    def _delete(
        self, db: sqlite3.Connection, rows: list[tuple[str, str | None, int]], unlink: Unlink
    ) -> list[Removed]:
        removed = []
        for key, file, size in rows:
            item = Removed(key, file, size)
            unlink(item)  # the file goes before its row: a crash can leave no orphan
            db.execute("DELETE FROM entries WHERE key = ?", (key,))
            self._count(db, file, size, -1)
            removed.append(item)
        return removed

    def _delete_pending(self, db: sqlite3.Connection, key: str) -> None:
        row = db.execute(
            "SELECT file, size FROM entries WHERE key = ? AND ready = 0", (key,)
        ).fetchone()
        if row is not None:
            db.execute("DELETE FROM entries WHERE key = ? AND ready = 0", (key,))
            self._count(db, row[0], row[1], -1)

    def _count(self, db: sqlite3.Connection, file: str | None, size: int, sign: int) -> None:
        column = "bytes" if file is not None else "inline_bytes"
        db.execute(
            f"UPDATE totals SET {column} = {column} + ?, entries = entries + ?",
            (sign * size, sign),
        )

    # -- upkeep -------------------------------------------------------------------------

    def measure(self) -> None:
        """How much of the disk the index itself takes beyond the bodies it holds, with room
        for the write-ahead log to grow to its limit before the next checkpoint."""
        main = self.disk_bytes() - _size(f"{self.path}-wal")
        self.overhead = max(0, main - self.totals().inline_bytes) + self.wal_limit

    def upkeep(self) -> None:
        """Keep the index small: checkpoint the WAL, hand freed pages back to the disk."""
        db = self._db()
        with contextlib.suppress(sqlite3.OperationalError):
            db.execute("PRAGMA wal_checkpoint(TRUNCATE)")
        with contextlib.suppress(sqlite3.OperationalError):
            db.execute("PRAGMA incremental_vacuum(256)")
        self.measure()

    def recount(self) -> None:
        with self._write() as db:
            _recount(db)

    def set_info(self, name: str, value: str) -> None:
        with self._write() as db:
            db.execute("INSERT OR REPLACE INTO info VALUES (?, ?)", (name, value))


def _recount(db: sqlite3.Connection) -> None:
    db.execute(
        "UPDATE totals SET"
        " bytes = (SELECT COALESCE(SUM(size), 0) FROM entries WHERE file IS NOT NULL),"
        " inline_bytes = (SELECT COALESCE(SUM(size), 0) FROM entries WHERE file IS NULL),"
        " entries = (SELECT COUNT(*) FROM entries) WHERE id = 0"
    )


def _size(path: str) -> int:
    try:
        return os.stat(path).st_size
    except FileNotFoundError:
        return 0


def unlink_quietly(path: str | os.PathLike[str]) -> None:
    with contextlib.suppress(FileNotFoundError):
        os.unlink(path)
