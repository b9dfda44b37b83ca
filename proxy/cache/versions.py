"""Which version of each original the store last showed, and when: the cache follows the store.

Every cached entry was made from one version (ETag) of one original: an original's own entry
carries it as its ETag, a preview or conversion as `source_etag`. Each hit is judged against
what the store last said of that original:

- CURRENT: same version, confirmed within CACHE_STORAGE_REVALIDATE;
- DUE: confirmed longer ago. The entry is served at once while one check asks the store
  (stale-while-revalidate), or, in strict mode, after it;
- OUTDATED: the store has shown another version since (or none: the object is gone). The
  entry is dropped and the request is a miss, so it gets the new object or a 404.

What is known lives in `sources.sqlite`, beside the storage cache's index and shared by the
workers, so a worker, or a process after a restart, never serves what another has found
outdated. One check per original per interval for the node: a worker claims it in the table
(a transaction only one can win); the others learn its outcome from the rows that changed,
read once a second. The table is itself only a memo of the store: losing it (damage) costs
one check per original.
"""

from __future__ import annotations

import asyncio
import contextlib
import enum
import logging
import os
import sqlite3
import threading
import time
from collections import OrderedDict
from collections.abc import Awaitable, Callable, Iterator
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any

from proxy import metrics
from proxy.cache.entry import Meta

log = logging.getLogger("proxy.cache.versions")

SCHEMA = """
CREATE TABLE IF NOT EXISTS sources (
    origin TEXT PRIMARY KEY,
    etag TEXT,
    checked REAL NOT NULL DEFAULT 0,
    changed REAL NOT NULL DEFAULT 0,
    claimed REAL NOT NULL DEFAULT 0,
    failed INTEGER NOT NULL DEFAULT 0,
    seq INTEGER NOT NULL DEFAULT 0
);
CREATE INDEX IF NOT EXISTS sources_seq ON sources(seq);
"""
# A claimed check not finished by then was lost with its worker: another may claim it.
CLAIM_TTL = 30.0
# After a failed check (the store is down), the next one waits this long: no storm of probes.
FAILED_RETRY = 5.0
# How often each process reads what other workers learned.
POLL_INTERVAL = 1.0
# How many originals one process remembers.
MEMO_SIZE = 65536
# Strict mode, while another worker checks: how often to look for its answer.
WAIT_POLL = 0.05
BUSY_TIMEOUT = 10.0

NEXT_SEQ = "(SELECT coalesce(max(seq), 0) + 1 FROM sources)"


class Verdict(enum.Enum):
    CURRENT = "current"
    DUE = "due"
    OUTDATED = "outdated"


@dataclass(frozen=True)
class Known:
    """One original, as the store last showed it."""

    etag: str | None  # None: never seen; "": deleted
    checked: float = 0.0  # when the store last confirmed `etag` (unix seconds)
    changed: float = 0.0  # when a change was last seen: entries stored before are outdated
    failed: bool = False  # the last check failed (the store is failing): serve, say STALE
    retry: float = 0.0  # this process starts no check before then


NEVER_SEEN = Known(None)

# Where an entry's version is in its meta (the index's JSON form).
VersionOf = Callable[[dict[str, Any]], "str | None"]


def own_version(meta: dict[str, Any]) -> str | None:
    """An original's entry: its own ETag is the store's version."""
    return str(meta["etag"])


def source_version(meta: dict[str, Any]) -> str | None:
    """A preview or conversion: the version of the original it was made from."""
    found = meta.get("extra", {}).get("source_etag")
    return None if found is None else str(found)


def made_from(source: Meta) -> dict[str, Any]:
    """The `extra` of an entry made from `source` (an original, or a conversion of one):
    the version of the original underneath, which `source_version` reads back."""
    return {"source_etag": source.extra.get("source_etag", source.etag)}


# The store's version of an origin now (None: it is gone); raises when the store fails.
Checker = Callable[[str], Awaitable[str | None]]
# Drops everything made from an origin, in every cache.
Dropper = Callable[[str], Awaitable[None]]


class SourcesTable:
    """`sources.sqlite`: one row per original. Called from worker threads, one at a time."""

    def __init__(self, directory: Path) -> None:
        directory.mkdir(parents=True, exist_ok=True)
        self.path = directory / "sources.sqlite"
        self._lock = threading.Lock()
        self._db: sqlite3.Connection | None = None
        self._inode = 0
        self.renewed = False

    def _connect(self) -> sqlite3.Connection:
        # Another process may have replaced a damaged file: follow it to the new one.
        try:
            inode = os.stat(self.path).st_ino
        except FileNotFoundError:
            inode = -1
        if self._db is not None and inode == self._inode:
            return self._db
        self._close()
        db = sqlite3.connect(
            self.path, timeout=BUSY_TIMEOUT, isolation_level=None, check_same_thread=False
        )
        db.execute("PRAGMA journal_mode=WAL")
        db.execute("PRAGMA synchronous=NORMAL")
        db.executescript(SCHEMA)
        if self._inode and self._db is None:
            self.renewed = True  # sequence numbers start again: readers must start over
        self._db, self._inode = db, os.stat(self.path).st_ino
        return db

    def _close(self) -> None:
        if self._db is not None:
            self._db.close()
            self._db = None

    def close(self) -> None:
        with self._lock:
            self._close()

    @contextlib.contextmanager
    def _transaction(self, write: bool = True) -> Iterator[sqlite3.Connection]:
        """One transaction; a damaged file is replaced by a new one and tried again.

        A read (`write=False`) takes no write lock: WAL readers never wait for a writer,
        so a hit judged here is not held up by another worker's claim or change.
        """
        with self._lock:
            for attempt in (1, 2):
                try:
                    db = self._connect()
                    db.execute("BEGIN IMMEDIATE" if write else "BEGIN DEFERRED")
                    break
                except sqlite3.DatabaseError as exc:
                    if attempt == 2 or not _damaged(exc):
                        raise
                    self._start_again(exc)
            try:
                yield db
            except sqlite3.DatabaseError as exc:
                with contextlib.suppress(sqlite3.Error):
                    db.execute("ROLLBACK")
                if _damaged(exc):
                    self._start_again(exc)
                raise
            except BaseException:
                db.execute("ROLLBACK")
                raise
            db.execute("COMMIT")

    def _start_again(self, exc: sqlite3.Error) -> None:
        # Only a memo of the store: a new one costs each original one more check.
        log.error("versions table %s is damaged (%s): starting a new one", self.path, exc)
        self._close()
        for suffix in ("", "-wal", "-shm"):
            Path(f"{self.path}{suffix}").unlink(missing_ok=True)

    def get(self, origin: str) -> Known | None:
        with self._transaction(write=False) as db:
            return _known(db, origin)

    def top(self) -> int:
        with self._transaction(write=False) as db:
            return int(db.execute("SELECT coalesce(max(seq), 0) FROM sources").fetchone()[0])

    def since(self, seq: int, limit: int = 1000) -> list[tuple[str, Known, int]]:
        with self._transaction(write=False) as db:
            rows = db.execute(
                "SELECT origin, etag, checked, changed, failed, seq FROM sources"
                " WHERE seq > ? ORDER BY seq LIMIT ?",
                (seq, limit),
            ).fetchall()
        return [(o, Known(e, c, ch, bool(f)), s) for o, e, c, ch, f, s in rows]

    def claim(self, origin: str, now: float, due_before: float) -> tuple[bool, Known]:
        """Whether this caller checks `origin` now: only one caller per interval wins."""
        with self._transaction() as db:
            row = db.execute(
                "SELECT checked, claimed FROM sources WHERE origin = ?", (origin,)
            ).fetchone()
            if row is None:
                db.execute("INSERT INTO sources (origin, claimed) VALUES (?, ?)", (origin, now))
                return True, NEVER_SEEN
            checked, claimed = row
            won = checked <= due_before and claimed <= now - CLAIM_TTL
            if won:
                db.execute("UPDATE sources SET claimed = ? WHERE origin = ?", (now, origin))
            known = _known(db, origin)
            assert known is not None
            return won, known

    def confirm(self, origin: str, etag: str, now: float) -> Known:
        """The store still holds `etag`: only the check time moves."""
        return self._set(
            origin,
            "etag = ?, checked = ?, claimed = 0, failed = 0",
            (etag, now),
        )

    def change(self, origin: str, etag: str | None, now: float) -> Known:
        """The store holds another version than the cached one: `""` none (deleted), None
        one not known yet (the next fill learns it)."""
        return self._set(
            origin, "etag = ?, checked = ?, changed = ?, claimed = 0, failed = 0", (etag, now, now)
        )

    def fail(self, origin: str, now: float) -> Known:
        # The claim is kept, aged so that it lapses FAILED_RETRY from now.
        return self._set(origin, "failed = 1, claimed = ?", (now + FAILED_RETRY - CLAIM_TTL,))

    def learn(self, origin: str, etag: str, now: float) -> Known:
        """A fill read `etag` from the store: confirmed now, and a change if it is new."""
        with self._transaction() as db:
            before = _known(db, origin)
            changed = before.changed if before is not None else 0.0
            if before is not None and before.etag is not None and before.etag != etag:
                changed = now
            db.execute(
                "INSERT INTO sources (origin, etag, checked, changed, seq) VALUES"
                f" (?, ?, ?, ?, {NEXT_SEQ}) ON CONFLICT(origin) DO UPDATE SET etag ="
                " excluded.etag, checked = excluded.checked, changed = excluded.changed,"
                " claimed = 0, failed = 0, seq = excluded.seq",
                (origin, etag, now, changed),
            )
            known = _known(db, origin)
        assert known is not None
        return known

    def _set(self, origin: str, assignments: str, values: tuple[object, ...]) -> Known:
        with self._transaction() as db:
            db.execute("INSERT OR IGNORE INTO sources (origin) VALUES (?)", (origin,))
            db.execute(
                f"UPDATE sources SET {assignments}, seq = {NEXT_SEQ} WHERE origin = ?",
                (*values, origin),
            )
            known = _known(db, origin)
        assert known is not None
        return known


def _damaged(exc: sqlite3.Error) -> bool:
    name = getattr(exc, "sqlite_errorname", "")
    return name in ("SQLITE_CORRUPT", "SQLITE_NOTADB") or type(exc) is sqlite3.DatabaseError


def _known(db: sqlite3.Connection, origin: str) -> Known | None:
    row = db.execute(
        "SELECT etag, checked, changed, failed FROM sources WHERE origin = ?", (origin,)
    ).fetchone()
    if row is None:
        return None
    etag, checked, changed, failed = row
    return Known(etag, checked, changed, bool(failed))


class Versions:
    """One per process, shared by its three caches."""

    def __init__(
        self,
        directory: Path,
        *,
        interval: float,
        wait: bool = False,
        clock: Callable[[], float] = time.time,
    ) -> None:
        self.interval = interval  # 0: never ask the store (fills, purges and events still do)
        self.wait = wait
        self.clock = clock
        self.table = SourcesTable(directory)
        self._memo: OrderedDict[str, Known] = OrderedDict()
        self._checks: dict[str, asyncio.Task[bool]] = {}
        self._checker: Checker | None = None
        self._dropper: Dropper | None = None
        self._seq = 0
        self._poller: asyncio.Task[None] | None = None

    def attach(self, checker: Checker, dropper: Dropper) -> None:
        """How to ask the store, and how to drop an original's entries (the composition root)."""
        self._checker, self._dropper = checker, dropper

    async def start(self) -> None:
        self._seq = await asyncio.to_thread(self.table.top)
        self._poller = asyncio.create_task(self._poll_forever(), name="versions-poll")

    async def close(self) -> None:
        tasks = [t for t in (self._poller, *self._checks.values()) if t is not None]
        for task in tasks:
            task.cancel()
        for task in tasks:
            with contextlib.suppress(BaseException):
                await task
        self.table.close()

    # -- judging hits -----------------------------------------------------------------------

    def quick(self, origin: str, version: str | None, stored: float) -> Verdict | None:
        """The verdict from what this process remembers; None when it must read the table."""
        known = self._memo.get(origin)
        if known is None:
            return None
        return self._verdict(known, version, stored)

    async def judge(self, origin: str, version: str | None, stored: float) -> Verdict:
        known = self._memo.get(origin)
        if known is None:
            known = await asyncio.to_thread(self.table.get, origin) or NEVER_SEEN
            self._remember(origin, known)
        return self._verdict(known, version, stored)

    def _verdict(self, known: Known, version: str | None, stored: float) -> Verdict:
        if known.etag is not None:
            if version != known.etag:
                return Verdict.OUTDATED
        elif known.changed > stored:  # changed to a version not known yet: older is outdated
            return Verdict.OUTDATED
        if self.interval and self.clock() - known.checked >= self.interval:
            return Verdict.DUE
        return Verdict.CURRENT

    def failing(self, origin: str) -> bool:
        """Whether the last check of `origin` failed: what is served of it is STALE."""
        known = self._memo.get(origin)
        return known is not None and known.failed

    def schedule(self, origin: str, version: str | None) -> asyncio.Task[bool] | None:
        """Start the check of a DUE original, unless one runs or a failed one is recent."""
        task = self._checks.get(origin)
        if task is not None:
            return task
        known = self._memo.get(origin)
        if self._checker is None or (known is not None and known.retry > self.clock()):
            return None
        task = asyncio.create_task(self._check(origin, version), name="revalidate")
        self._checks[origin] = task
        task.add_done_callback(lambda _: self._checks.pop(origin, None))
        return task

    async def settle(self, origin: str, version: str | None, stored: float) -> Verdict:
        """Strict mode: wait for the check of a DUE original, then judge again."""
        started = self.clock()
        task = self.schedule(origin, version)
        if task is not None and await asyncio.shield(task):
            return await self.judge(origin, version, stored)
        # Another worker checks it: wait for its answer in the table, or for its claim to lapse.
        while self.clock() - started < CLAIM_TTL + FAILED_RETRY:
            known = await asyncio.to_thread(self.table.get, origin) or NEVER_SEEN
            self._remember(origin, known)
            if known.checked >= started or known.failed or known.changed >= started:
                break
            await asyncio.sleep(WAIT_POLL)
        return self._verdict(self._memo.get(origin, NEVER_SEEN), version, stored)

    async def settled(self) -> None:
        """Until every check this process started has ended (the tests, a clean stop)."""
        while self._checks:
            await asyncio.gather(*self._checks.values(), return_exceptions=True)

    # -- asking the store -------------------------------------------------------------------

    async def _check(self, origin: str, version: str | None) -> bool:
        """One conditional check; False when another worker holds it."""
        try:
            return await self._check_once(origin, version)
        except sqlite3.Error as exc:  # the table failing costs freshness, never an answer
            log.warning("revalidating %s: versions table unavailable: %s", origin, exc)
            self._remember(
                origin,
                replace(self._memo.get(origin, NEVER_SEEN), retry=self.clock() + FAILED_RETRY),
            )
            return True

    async def _check_once(self, origin: str, version: str | None) -> bool:
        assert self._checker is not None and self._dropper is not None
        now = self.clock()
        won, known = await asyncio.to_thread(self.table.claim, origin, now, now - self.interval)
        if not won:
            self._remember(origin, replace(known, retry=now + POLL_INTERVAL))
            return False
        expected = known.etag if known.etag is not None else version
        try:
            current = await self._checker(origin)
        except Exception as exc:  # the store failing, whatever its way: keep serving
            log.warning("revalidating %s failed: %s", origin, exc)
            metrics.REVALIDATIONS.labels("failed").inc()
            known = await asyncio.to_thread(self.table.fail, origin, self.clock())
            self._remember(origin, replace(known, retry=self.clock() + FAILED_RETRY))
            return True
        stamp = self.clock()
        if current is not None and current == expected:
            metrics.REVALIDATIONS.labels("unchanged").inc()
            self._remember(
                origin, await asyncio.to_thread(self.table.confirm, origin, current, stamp)
            )
            return True
        outcome = "deleted" if current is None else "changed"
        log.info(
            "revalidating %s: %s in the store, dropping what was made from it", origin, outcome
        )
        metrics.REVALIDATIONS.labels(outcome).inc()
        await self.changed(origin, "" if current is None else current, stamp)
        return True

    async def changed(self, origin: str, etag: str | None, stamp: float | None = None) -> None:
        """The store holds another version of `origin` (`""`: none; None: not known yet).

        Recorded first, so that nothing made before is served meanwhile by any worker, then
        what was made from it is dropped.
        """
        assert self._dropper is not None
        await self.record_change(origin, etag, stamp)
        await self._dropper(origin)

    async def record_change(
        self, origin: str, etag: str | None, stamp: float | None = None
    ) -> None:
        stamp = self.clock() if stamp is None else stamp
        self._remember(origin, await asyncio.to_thread(self.table.change, origin, etag, stamp))

    async def learned(self, origin: str, etag: str) -> None:
        """A fill read `etag` of `origin` from the store: that is a check too."""
        self._remember(
            origin, await asyncio.to_thread(self.table.learn, origin, etag, self.clock())
        )

    # -- what this process remembers --------------------------------------------------------

    def _remember(self, origin: str, known: Known) -> None:
        self._memo[origin] = known
        self._memo.move_to_end(origin)
        if len(self._memo) > MEMO_SIZE:
            self._memo.popitem(last=False)

    def forget(self, prefix: str) -> None:
        """After a purge: what was known of these originals is read again when needed."""
        for origin in [o for o in self._memo if o.startswith(prefix)]:
            del self._memo[origin]

    async def _poll_forever(self) -> None:
        while True:
            await asyncio.sleep(POLL_INTERVAL)
            try:
                await self.poll()
            except Exception:
                log.exception("reading the versions table failed")

    async def poll(self) -> None:
        """Take in what other workers learned since the last poll."""
        while True:
            rows = await asyncio.to_thread(self.table.since, self._seq)
            if self.table.renewed:  # a new file: what was remembered may be gone from it
                self.table.renewed = False
                self._memo.clear()
                self._seq = 0
                continue
            for origin, known, seq in rows:
                self._seq = max(self._seq, seq)
                if origin in self._memo:
                    retry = self._memo[origin].retry
                    self._memo[origin] = replace(known, retry=retry)
            if len(rows) < 1000:
                return
