"""The one cache class behind the storage, previews and image-converter caches.

A cache is told how to make a missing entry. Concurrent misses for one key share one fill,
in this process (a `Flight`) and across worker processes (the index's `fills` table): one
maker call, one write. A streamed body is written to a staging file that every waiting
request reads as it grows, so the first byte reaches clients as soon as it arrives from the
store; it becomes an entry only when complete, so no entry ever serves truncated bytes.
Bodies over `max_object_size` stream through uncached.

Nothing on disk is trusted: every body has a checksum, written with it and checked before
it is served (bodies read into memory on every read; larger ones once per entry, as they
are written or by the first process to read back one nobody has, and by the scrubber); a
missing or damaged body is a miss, never an error or a wait.
"""

from __future__ import annotations

import asyncio
import contextlib
import functools
import logging
import os
import sqlite3
import time
from collections import OrderedDict
from collections.abc import Callable, Coroutine
from dataclasses import dataclass
from pathlib import Path
from typing import Any, BinaryIO, ParamSpec, TypeVar

from proxy import metrics
from proxy.cache import checksum, owner
from proxy.cache.bodies import Bodies, write_all
from proxy.cache.entry import Entry, Meta
from proxy.cache.flight import (
    Abandon,
    Committed,
    Failed,
    Flight,
    Handoff,
    HandoffTaken,
    LocalGrowth,
    Streaming,
)
from proxy.cache.index import (
    BUSY_TIMEOUT,
    INLINE_LIMIT,
    FillRow,
    Index,
    Removed,
    Row,
    is_damage,
)
from proxy.cache.memory import MEMORY_MAX_ENTRY, MemoryTier, Remembered
from proxy.cache.readers import Readers
from proxy.cache.results import Fill, Maker, Passthrough
from proxy.cache.shared import RemoteGrowth, wait_for_meta
from proxy.cache.tail import EndedEarly, Tail
from proxy.cache.versions import Verdict, VersionOf, Versions
from proxy.errors import CacheUnavailable
from proxy.settings import CacheSettings
from proxy.storage.errors import Unavailable

log = logging.getLogger("proxy.cache")
T = TypeVar("T")
P = ParamSpec("P")

# How many large bodies one process remembers having checked.
VERIFIED_MEMORY = 65536
# A fill that changes hands this often (its fillers keep dying) is given up.
MAX_TAKEOVERS = 3
# The least time the write lock stays free between two batches of a bulk removal.
BATCH_PAUSE = 0.002

# Threads per cache that read hits: the disk's queue depth, not the request count.
READERS = 2

Result = Entry | Tail | Passthrough


@dataclass(frozen=True)
class Loaded:
    """What a reader thread found of an entry: its row, and its body or why it has none."""

    row: Row
    kept: bool = False  # the memory tier's body is still this row's: nothing was read
    body: bytes | None = None  # a small body, read whole
    actual: str | None = None  # its checksum, as read
    file: BinaryIO | None = None  # a large body, open
    path: Path | None = None
    problem: str | None = None  # why the body cannot be served

    def close(self) -> None:
        if self.file is not None:
            self.file.close()


class Cache:
    def __init__(
        self,
        settings: CacheSettings,
        *,
        stale_grace: float = 0.0,
        memory_size: int = 0,
        memory: MemoryTier | None = None,
        abandon_limit: int = 64 << 20,
        clock: Callable[[], float] = time.time,
        busy_timeout: float = BUSY_TIMEOUT,
        versions: Versions | None = None,
        version_of: VersionOf | None = None,
    ) -> None:
        self.name = settings.name
        # What the store last showed of each original, and where an entry's version is.
        self.versions = versions if version_of is not None else None
        self.version_of: VersionOf = version_of or (lambda meta: None)
        self.directory = settings.path
        self.bound = settings.size
        self.expires = settings.expires
        self.max_object_size = settings.max_object_size
        self.stale_grace = stale_grace
        self.clock = clock  # what "idle for `expires`" is measured against
        # Touch an entry's access time at most this often: hits stay read-only in between.
        self.touch_interval = min(settings.expires / 50, 60.0)
        self.index = Index(self.directory, bound=settings.size, busy_timeout=busy_timeout)
        self.bodies = Bodies(self.directory)
        self.staging_dir = self.bodies.staging_dir
        self.data_dir = self.bodies.data_dir
        # `memory`: the tier this process's caches share; without it, one of its own.
        tier = memory if memory is not None else MemoryTier(memory_size)
        self.memory = tier.space(self.name)
        self._abandon = Abandon(abandon_limit)
        self._flights: dict[str, Flight] = {}
        self._verified: OrderedDict[tuple[str, float], None] = OrderedDict()
        self._verifying: dict[tuple[str, float], asyncio.Future[str]] = {}
        self.hashes = 0  # large bodies read back whole to check them (for the tests)
        self._later: set[asyncio.Future[Any]] = set()  # left behind by requests
        self._loop: asyncio.AbstractEventLoop | None = None
        # Hits read here (see `reading`); each thread keeps its own index connection.
        self._readers = Readers(READERS, f"cache-{self.name}")
        self._tasks: list[asyncio.Task[None]] = []
        self._hits = metrics.LaterCount(metrics.CACHE_REQUESTS.labels(self.name, "hit"))
        self._misses = metrics.LaterCount(metrics.CACHE_REQUESTS.labels(self.name, "miss"))
        self._corrupt = metrics.CACHE_CORRUPT.labels(self.name)

    # -- life cycle -----------------------------------------------------------------------

    async def start(self) -> None:
        self._loop = asyncio.get_running_loop()
        await asyncio.to_thread(self._clear_leftovers)
        self.publish_size()
        self._tasks.append(asyncio.create_task(self._sweep_forever(), name=f"sweep-{self.name}"))

    def background(self, task: asyncio.Task[None]) -> None:
        """Tie a task (the scrubber, a reconcile) to this cache's life."""
        self._tasks.append(task)

    async def close(self) -> None:
        for later in self._later:
            later.cancel()
        for task in self._tasks:
            task.cancel()
        for task in self._tasks:
            with contextlib.suppress(asyncio.CancelledError):
                await task
        flights = list(self._flights.values())
        for flight in flights:
            if flight.task is not None:
                flight.task.cancel()
        for flight in flights:
            if flight.task is not None:
                with contextlib.suppress(BaseException):
                    await flight.task
        self.index.close()
        self._readers.shutdown()

    def _clear_leftovers(self) -> None:
        """Whatever dead processes left: their fills, their staging files, pending rows."""
        for fill in self.guarded(self.index.dead_fills, owner.alive):
            (self.staging_dir / fill.staging).unlink(missing_ok=True)
        for relative in self.guarded(self.index.pending_files):
            self.bodies.unlink(relative)
        self.bodies.clear_dead_staging()

    # -- the index, guarded ---------------------------------------------------------------

    def guarded(self, call: Callable[P, T], *args: P.args, **kwargs: P.kwargs) -> T:
        """An index call whose SQLite failure becomes a 503 (and a damaged index, a new one)."""
        try:
            return call(*args, **kwargs)
        except sqlite3.Error as exc:
            raise self._index_failure(exc) from exc

    async def guarded_in_thread(self, call: Callable[P, T], *args: P.args, **kwargs: P.kwargs) -> T:
        try:
            return await asyncio.to_thread(call, *args, **kwargs)
        except sqlite3.Error as exc:
            raise await self._index_failure_off_loop(exc) from exc

    async def _index_failure_off_loop(self, exc: sqlite3.Error) -> CacheUnavailable:
        """As `_index_failure`, with the recovery (a file lock, a new index) in a thread."""
        if is_damage(exc):
            await asyncio.to_thread(self.index.recover, exc)
        return self._index_failure(exc, recovered=True)

    def _index_failure(self, exc: sqlite3.Error, recovered: bool = False) -> CacheUnavailable:
        kind = "damaged" if is_damage(exc) else "unavailable"
        metrics.CACHE_ERRORS.labels(self.name, kind).inc()
        if kind == "damaged":
            if not recovered:
                self.index.recover(exc)
            self.memory.clear()
            return CacheUnavailable(detail=f"cache {self.name}: index was damaged, rebuilt: {exc}")
        log.error("cache %s: index unavailable: %s", self.name, exc)
        return CacheUnavailable(detail=f"cache {self.name}: index unavailable: {exc}")

    # -- lookups --------------------------------------------------------------------------

    async def lookup(
        self, key: str, *, stale: bool = False, found_status: str = "HIT", ranged: bool = False
    ) -> Entry | None:
        """A complete, verified entry, or None. With `stale`, idle-expired entries count too.

        `found_status` labels a fresh entry (MISS for one that a fill just made). `ranged`:
        the caller sends a part of the body, and does not wait for a large body's first check
        (see `_open`).
        """
        now = self.clock()
        hot = self._memory_hit(key, now, found_status)
        if hot is not None:
            return hot
        kept = self.memory.get(key)  # due for its recheck, or its version must be judged
        # The query, the open, the fstat and the read, in one trip off the event loop.
        loaded = await self.reading(
            self._load, key, None if kept is None else kept.stored, now - self.expires, stale
        )
        if loaded is None:
            self.memory.discard(key)
            return None
        row = loaded.row
        expired = row.accessed < now - self.expires
        if expired and not stale:
            loaded.close()
            return None
        status = "STALE" if expired else found_status
        version = self.version_of(row.meta)
        if self.versions is not None and found_status != "MISS":  # a fill's own is current
            follows = await self._follow_store(row, version, expired)
            if follows is None:
                loaded.close()
                return None
            status = follows or status
        if kept is not None and loaded.kept:
            # The body in memory is still the index's: confirmed without reading it again.
            kept.checked = now
            kept.touched = max(kept.touched, row.accessed)
            if now - kept.touched > self.touch_interval:
                kept.touched = now
                self._touch_later(key, 0.0, now)
            return Entry(key, kept.meta, status, body=kept.body)
        if kept is not None:
            self.memory.discard(key)
        entry = await self._open(loaded, status, ranged)
        if entry is None:
            return None
        if not expired and status == found_status:
            if entry.body is not None:
                remembered = Remembered(
                    entry.meta, entry.body, row.stored, now, row.accessed, row.source, version
                )
                self.memory.put(key, remembered)
            self._touch_later(key, row.accessed, now)
        return entry

    async def reading(self, call: Callable[P, T], *args: P.args, **kwargs: P.kwargs) -> T:
        """Run a read of a hit (index queries, body files) on this cache's reader threads.

        They never take the index's write lock, so they never wait for another process's
        write transaction (WAL readers do not), and they never queue behind the writes
        (touches, drops) on the default executor, which may.
        """
        try:
            return await self._readers.run(functools.partial(call, *args, **kwargs))
        except sqlite3.Error as exc:
            raise await self._index_failure_off_loop(exc) from exc

    def _load(self, key: str, kept: float | None, before: float, stale: bool) -> Loaded | None:
        """Runs on a reader thread: the row of `key` and what its body needs from the disk.

        `kept` is the stored time of the body the memory tier holds: when the row still has
        it (and is not idle-expired), nothing is read.
        """
        row = self.index.get(key)
        if row is None:
            return None
        expired = row.accessed < before
        if kept == row.stored and not expired:
            return Loaded(row, kept=True)
        if expired and not stale:
            return Loaded(row)
        if row.body is not None:
            return Loaded(row, body=row.body, actual=checksum.of_bytes(row.body))
        assert row.file is not None
        path = self.bodies.path(row.file)
        try:
            fobj = open(path, "rb", buffering=0)  # noqa: SIM115 - the entry owns it until closed
        except FileNotFoundError:
            return Loaded(row, problem="its body file is missing")
        if os.fstat(fobj.fileno()).st_size != row.size:
            fobj.close()
            return Loaded(row, problem="its body file has the wrong size")
        if row.size <= MEMORY_MAX_ENTRY:
            with fobj:
                body = os.pread(fobj.fileno(), row.size, 0)
            return Loaded(row, body=body, actual=checksum.of_bytes(body))
        return Loaded(row, file=fobj, path=path)

    async def _follow_store(self, row: Row, version: str | None, expired: bool) -> str | None:
        """Judge an entry against its original's version in the store: None when it is
        outdated (and now dropped); else the status to serve it under ("": as found)."""
        assert self.versions is not None
        try:
            verdict = await self.versions.judge(row.source, version, row.stored)
            if verdict is Verdict.DUE and not expired:
                if self.versions.wait:
                    verdict = await self.versions.settle(row.source, version, row.stored)
                else:
                    self.versions.schedule(row.source, version)
        except sqlite3.Error as exc:  # what is known of versions is lost: serve what is here
            log.warning("cache %s: versions unavailable, serving %s: %s", self.name, row.key, exc)
            return ""
        if verdict is Verdict.OUTDATED:
            self.memory.discard(row.key)
            with contextlib.suppress(CacheUnavailable):
                removed = await self.guarded_in_thread(
                    self.index.remove_entry, row.key, row.stored, self.unlink_body
                )
                self.after_removal(removed, "outdated")
            return None
        if verdict is Verdict.DUE:
            # Served while the store is asked (nginx's UPDATING), or after it failed.
            return "STALE" if self.versions.failing(row.source) else "UPDATING"
        return ""

    def _memory_hit(self, key: str, now: float, status: str) -> Entry | None:
        hot = self.memory.get(key)
        if hot is None:
            return None
        if self.versions is not None:
            verdict = self.versions.quick(hot.origin, hot.version, hot.stored)
            if verdict is not Verdict.CURRENT:  # the index path judges, drops or schedules
                return None
        if now - hot.checked >= self.memory.recheck:
            # Still what the index holds? (Another process may have purged or replaced it.)
            # `lookup` asks the index, off the loop.
            return None
        if now - hot.touched > self.touch_interval:
            hot.touched = now
            self._touch_later(key, 0.0, now)
        # One Entry serves every hit: it is frozen, and a body in memory has nothing to close.
        entry = hot.handed
        if entry is None or entry.status != status:
            entry = hot.handed = Entry(key, hot.meta, status, body=hot.body)
        return entry

    def _touch_later(self, key: str, accessed: float, now: float) -> None:
        """Reads count for the shared LRU and idle time, written off the event loop."""
        if now - accessed > self.touch_interval and self._loop is not None:
            self._loop.run_in_executor(None, self.index.touch, key, now)

    async def _open(self, loaded: Loaded, status: str, ranged: bool = False) -> Entry | None:
        """The loaded body, checked; None (and the row dropped) when it is missing or damaged.

        A large body is read back whole once per entry, not per process: its writer hashed
        the bytes as it wrote them, and the first process to read back one that nobody has
        (an entry from before the index recorded checks) records the outcome in the index.
        A ranged request does not wait for that: it is served while the check runs, which
        drops the entry if it fails.
        """
        row = loaded.row
        if loaded.problem is not None:
            await self._drop(row, loaded.problem)
            return None
        meta = Meta.from_json(row.meta)
        if loaded.body is not None:
            assert loaded.actual is not None
            if not await self._matches(row, loaded.actual):
                return None
            return Entry(row.key, meta, status, body=loaded.body)
        fobj, path = loaded.file, loaded.path
        assert fobj is not None and path is not None
        if row.verified is None and (row.key, row.stored) not in self._verified:
            if ranged:
                self._background(self._verify(row, self._hash(row, fobj)))
            elif not await self._verify(row, self._hash(row, fobj)):
                fobj.close()
                return None
        return Entry(row.key, meta, status, file=fobj, path=path, pin_dir=self.staging_dir)

    def _hash(self, row: Row, fobj: BinaryIO) -> asyncio.Future[str]:
        """The XXH3 of a large body, in a thread; one, however many requests ask at once."""
        key = (row.key, row.stored)
        pending = self._verifying.get(key)
        if pending is None:
            self.hashes += 1
            pending = asyncio.ensure_future(
                asyncio.to_thread(checksum.of_file, os.dup(fobj.fileno()), row.size, True)
            )
            self._verifying[key] = pending
            pending.add_done_callback(lambda _: self._verifying.pop(key, None))
        return pending

    async def _verify(self, row: Row, pending: asyncio.Future[str]) -> bool:
        if not await self._matches(row, await asyncio.shield(pending)):
            return False
        if (row.key, row.stored) not in self._verified:
            self._remember_verified(row)
            self._write_later(self.index.set_verified, row.key, row.stored, time.time())
        return True

    def _background(self, work: Coroutine[Any, Any, object]) -> None:
        task: asyncio.Task[object] = asyncio.ensure_future(work)
        self._later.add(task)
        task.add_done_callback(self._later.discard)

    async def _matches(self, row: Row, actual: str) -> bool:
        if row.checksum is None:  # made before checksums existed: trust it once, then know
            self._write_later(self.index.set_checksum, row.key, row.stored, actual)
            return True
        if actual == row.checksum:
            return True
        self._corrupt.inc()
        await self._drop(row, "its body does not match its checksum")
        return False

    def _write_later(self, call: Callable[P, None], *args: P.args, **kwargs: P.kwargs) -> None:
        """A best-effort index write, off the loop; no request waits for it."""
        if self._loop is None:
            call(*args, **kwargs)
            return
        future = self._loop.run_in_executor(None, functools.partial(call, *args, **kwargs))
        self._later.add(future)
        future.add_done_callback(self._later.discard)

    async def settled(self) -> None:
        """Until the checks and index writes that requests left behind have ended."""
        while self._later:
            await asyncio.gather(*self._later, return_exceptions=True)

    def _remember_verified(self, row: Row) -> None:
        self._verified[(row.key, row.stored)] = None
        if len(self._verified) > VERIFIED_MEMORY:
            self._verified.popitem(last=False)

    async def _drop(self, row: Row, why: str) -> None:
        """A broken entry is a miss: forget it (only if it is still the one we read).

        Its write transaction runs off the loop: while it waits for the write lock, other
        requests are served.
        """
        log.warning("cache %s: dropping %s: %s", self.name, row.key, why)
        self.memory.discard(row.key)
        with contextlib.suppress(CacheUnavailable):
            removed = await self.guarded_in_thread(
                self.index.remove_entry, row.key, row.stored, self.unlink_body
            )
            self.after_removal(removed, "corrupt")

    def record(self, *, hit: bool) -> None:
        (self._hits if hit else self._misses).inc()

    async def filling(self, key: str) -> bool:
        """Whether a fill of `key` is in flight, in this process or another."""
        return key in self._flights or await self.reading(self.index.fill_of, key) is not None

    async def get(self, key: str, source: str, make: Maker) -> Result:
        """The entry for `key`, making it (once, however many ask) when missing."""
        # A hot hit awaits nothing (a coroutine less per hit); a miss looks again, cheaply.
        entry = self._memory_hit(key, self.clock(), "HIT") or await self.lookup(key)
        self.record(hit=entry is not None)
        if entry is not None:
            return entry
        return await self.fill(key, source, make)

    async def get_entry(self, key: str, source: str, make: Maker) -> Entry | Passthrough:
        """Like `get`, but waits for a streamed body to be complete in the cache."""
        result = await self.get(key, source, make)
        if not isinstance(result, Tail):
            return result
        async with result:
            await result.wait()
            # The committed file, by the tail's own descriptor: no eviction can take it now.
            return await self._reopen_committed(key, result)

    async def _reopen_committed(self, key: str, tail: Tail) -> Entry | Passthrough:
        entry = await self.lookup(key, found_status="MISS")
        if entry is None:  # evicted or purged in the instant since: say so, never loop
            raise CacheUnavailable(detail=f"cache {self.name}: {key} vanished after its fill")
        return entry

    async def fill(self, key: str, source: str, make: Maker) -> Result:
        """Join the fill of `key` in this process, or start it."""
        flight = self._flights.get(key)
        if flight is None:
            flight = Flight(key, self._abandon, self.staging_dir)
            self._flights[key] = flight
            task = asyncio.create_task(self._run(flight, source, make), name=f"fill-{self.name}")
            flight.task = task
            flight.on_idle = lambda: self._idle(flight)
        try:
            return await flight.join()
        except HandoffTaken:
            # The uncacheable stream went to another request: this one reads on its own.
            return await self._passthrough(key, make)

    def _idle(self, flight: Flight) -> None:
        """Nobody here wants the fill any more: stop it, unless another worker follows it."""
        fill = self.guarded(self.index.fill_of, flight.key)
        if fill is not None and fill.owner == owner.me() and fill.readers > 0:
            return
        if flight.task is not None:
            flight.task.cancel()

    async def _passthrough(self, key: str, make: Maker) -> Result:
        fill = await make()
        if fill.body is not None:
            return Entry(key, fill.meta, "MISS", body=fill.body)
        assert fill.stream is not None
        return Passthrough(fill.meta, fill.stream)

    # -- making entries -------------------------------------------------------------------

    async def _run(self, flight: Flight, source: str, make: Maker) -> None:
        try:
            await self._claim_and_make(flight, source, make)
        except asyncio.CancelledError:
            flight.move(Failed(EndedEarly("the fill was stopped")))
            raise
        except Exception as exc:
            flight.move(Failed(exc))
        finally:
            if self._flights.get(flight.key) is flight:
                del self._flights[flight.key]
            flight.finish()

    async def _claim_and_make(self, flight: Flight, source: str, make: Maker) -> None:
        key = flight.key
        for _ in range(MAX_TAKEOVERS):
            staged = self.bodies.staging_path()
            claim = await self.guarded_in_thread(
                self.index.claim_fill, key, staged.name, owner.me(), owner.alive,
                self.clock() - self.expires,
            )  # fmt: skip
            if claim is False:
                await self._commit_found(flight)
                return
            if isinstance(claim, FillRow):
                if await self._follow(flight, claim):
                    return
                continue  # the other fill ended without an entry: claim it ourselves
            try:
                await self._make(flight, source, make, staged)
            except BaseException:
                staged.unlink(missing_ok=True)
                await _finally_in_thread(self._forget_fill, key)
                raise
            return
        raise Unavailable(f"cache {self.name}: every fill of {key} ended early")

    def _forget_fill(self, key: str) -> None:
        with contextlib.suppress(sqlite3.Error):
            self.index.abandon_fill(key, owner.me(), unless_read=False)

    async def _commit_found(self, flight: Flight) -> None:
        """The entry was made elsewhere since the lookup: hand it to the waiters."""
        entry = await self.lookup(flight.key, found_status="MISS")
        if entry is None:
            raise Unavailable(f"cache {self.name}: {flight.key} vanished after its fill")
        flight.move(self._committed_of(entry))
        entry.close()

    def _committed_of(self, entry: Entry) -> Committed:
        if entry.body is not None:
            return Committed(entry.meta, body=entry.body)
        assert entry.file is not None
        return Committed(entry.meta, fd=os.dup(entry.file.fileno()), path=entry.path)

    async def _follow(self, flight: Flight, fill: FillRow) -> bool:
        """Tail another worker's fill; False when it ended without an entry."""
        known = await wait_for_meta(self.index, fill)
        if known is None or known.meta is None:
            return await self._found_after(flight)
        meta = Meta.from_json(known.meta)
        try:
            fd = os.open(self.staging_dir / known.staging, os.O_RDONLY | os.O_CLOEXEC)
        except FileNotFoundError:  # committed (renamed) or abandoned in the meantime
            return await self._found_after(flight)
        await self.guarded_in_thread(self.index.add_reader, flight.key, 1)
        try:
            remote = RemoteGrowth(self.index, known, fd, meta.size)
            # This process's readers wait on the flight; only this loop polls the index.
            mirror = LocalGrowth(flight)
            flight.move(Streaming(meta, fd, mirror))
            while not remote.committed() and remote.failed() is None:
                await remote.changed()
                mirror.bytes = remote.written()
                flight.progressed()
            failure = remote.failed()
            if failure is not None:
                flight.move(Failed(failure))
                return True
            row = await self.reading(self.index.get, flight.key)
            path = self.bodies.path(row.file) if row is not None and row.file else None
            flight.move(Committed(meta, fd=os.dup(fd), path=path))
            return True
        finally:
            await _finally_in_thread(self._drop_reader, flight.key)

    def _drop_reader(self, key: str) -> None:
        with contextlib.suppress(sqlite3.Error):
            self.index.add_reader(key, -1)

    async def _found_after(self, flight: Flight) -> bool:
        entry = await self.lookup(flight.key, found_status="MISS")
        if entry is None:
            return False
        flight.move(self._committed_of(entry))
        entry.close()
        return True

    async def _make(self, flight: Flight, source: str, make: Maker, staged: Path) -> None:
        fill = await make()
        if fill.body is not None:
            flight.move(await asyncio.to_thread(self._store_bytes, flight.key, source, fill))
            return
        if fill.file is not None:
            flight.move(
                await asyncio.to_thread(self._store_file, flight.key, source, fill.meta, fill.file)
            )
            return
        assert fill.stream is not None
        if not 0 <= fill.meta.size <= self.max_object_size:
            # Nothing will be stored: other workers must not wait to follow this fill.
            await _finally_in_thread(self._forget_fill, flight.key)
            flight.move(Handoff(fill))  # the stream now belongs to whoever takes it
            return
        try:
            await self._stream_to_staging(flight, source, fill, staged)
        finally:
            await fill.stream.aclose()

    async def _stream_to_staging(
        self, flight: Flight, source: str, fill: Fill, staged: Path
    ) -> None:
        assert fill.stream is not None
        size = fill.meta.size
        fd = os.open(staged, os.O_WRONLY | os.O_CREAT | os.O_EXCL | os.O_CLOEXEC, 0o600)
        growth = LocalGrowth(flight)
        hasher = checksum.Hasher()
        try:
            read_fd = os.open(staged, os.O_RDONLY | os.O_CLOEXEC)
            flight.move(Streaming(fill.meta, read_fd, growth))
            # Other workers asking for this key can follow from now on.
            await self.guarded_in_thread(
                self.index.set_fill_meta, flight.key, owner.me(), fill.meta.to_json()
            )
            async for chunk in fill.stream:
                if growth.bytes + len(chunk) > size:
                    raise Unavailable("object grew while being read")
                await asyncio.to_thread(write_all, fd, chunk)
                hasher.update(chunk)
                growth.bytes += len(chunk)
                flight.progressed()
        finally:
            os.close(fd)
        if growth.bytes != size:
            raise Unavailable(f"object ended after {growth.bytes} of {size} bytes")
        committed = await asyncio.to_thread(
            self._store_file, flight.key, source, fill.meta, staged, hasher.hexdigest()
        )
        flight.move(committed)

    def _store_bytes(self, key: str, source: str, fill: Fill) -> Committed:
        """Runs in a thread. Small bodies live in the index, others in a file."""
        assert fill.body is not None
        body = fill.body
        if len(body) > self.max_object_size:
            self._forget_fill(key)
            return Committed(fill.meta, body=body)  # handed out, never stored
        digest = checksum.of_bytes(body)
        if len(body) < INLINE_LIMIT:
            removed = self.guarded(
                self.index.put, key, source, None, body, len(body), digest,
                fill.meta.to_json(), self.unlink_body, ready=True,
            )  # fmt: skip
            self.after_removal(removed, "evicted", replaced=key)
            return Committed(fill.meta, body=body)
        staged = self.bodies.staging_path("body")
        try:
            with open(staged, "xb") as out:
                out.write(body)
            committed = self._store_file(key, source, fill.meta, staged, digest)
        finally:
            staged.unlink(missing_ok=True)
        if committed.fd is not None:
            os.close(committed.fd)
        return Committed(fill.meta, body=body)

    def _store_file(
        self, key: str, source: str, meta: Meta, staged: Path, digest: str | None = None
    ) -> Committed:
        """Runs in a thread: a pending row, the rename into `data/`, then the row made ready.

        The returned descriptor is the committed file's, whatever happens to its name later.
        """
        fd = os.open(staged, os.O_RDONLY | os.O_CLOEXEC)
        try:
            size = os.fstat(fd).st_size
            if digest is None:
                digest = checksum.of_file(fd, size)
            if size > self.max_object_size:
                # Handed out through the descriptor, never stored.
                self._forget_fill(key)
                staged.unlink(missing_ok=True)
                return Committed(meta, fd=fd, path=None)
            relative = self.bodies.relative_name(key)
            removed = self.guarded(
                self.index.put, key, source, relative, None, size, digest, meta.to_json(),
                self.unlink_body, ready=False, verified=True,
            )  # fmt: skip
            target = self.bodies.move_in(staged, relative)
            if not self.guarded(self.index.make_ready, key):
                self.bodies.unlink(relative)  # taken over while we committed: not ours now
            self.after_removal(removed, "evicted", replaced=key)
        except BaseException:
            os.close(fd)
            raise
        return Committed(meta, fd=fd, path=target)

    # -- removal --------------------------------------------------------------------------

    def unlink_body(self, item: Removed) -> None:
        self.bodies.unlink(item.file)

    def after_removal(
        self, removed: list[Removed], reason: str, replaced: str | None = None
    ) -> None:
        if removed and self._loop is not None:
            # May run in a worker thread: the memory tier belongs to the event loop.
            self._loop.call_soon_threadsafe(self._forget, [item.key for item in removed])
        for item in removed:
            if item.key != replaced:
                metrics.CACHE_EVICTIONS.labels(self.name, reason).inc()
        if removed:
            self.publish_size()

    def _forget(self, keys: list[str]) -> None:
        for key in keys:
            self.memory.discard(key)

    def purge_prefix(self, prefix: str, *, exact: bool = False) -> int:
        """Remove every entry whose source starts with `prefix` (is `prefix`, when `exact`);
        returns how many."""
        return self._remove_in_batches(
            lambda: self.index.remove_source_batch(prefix, self.unlink_body, exact=exact),
            "purged",
        )

    def sweep(self) -> int:
        """Drop entries idle past `expires` (+ the stale grace); returns how many."""
        before = self.clock() - self.expires - self.stale_grace
        count = self._remove_in_batches(
            lambda: self.index.remove_idle(before, self.unlink_body), "expired"
        )
        self.guarded(self.index.upkeep)
        return count

    def _remove_in_batches(self, batch: Callable[[], list[Removed]], reason: str) -> int:
        """Run `batch` (one short write transaction) until it removes nothing.

        Between two batches the write lock stays free for as long as the last batch held
        it. A writer that found it taken waits in SQLite's busy handler, which sleeps and
        retries; back-to-back batches would take the lock again each time before it woke,
        so one bulk removal kept every fill waiting until its end (seen: 0.9 s stalls in a
        100,000-entry purge).
        """
        count = 0
        while True:
            started = time.monotonic()
            removed = self.guarded(batch)
            self.after_removal(removed, reason)
            count += len(removed)
            if not removed:
                return count
            time.sleep(max(BATCH_PAUSE, time.monotonic() - started))

    async def _sweep_forever(self) -> None:
        interval = max(0.2, min(self.expires / 10, 60.0))
        while True:
            await asyncio.sleep(interval)
            try:
                await asyncio.to_thread(self.sweep)
            except Exception:
                log.exception("sweeping cache %s failed", self.name)

    def publish_size(self) -> None:
        with contextlib.suppress(CacheUnavailable):
            totals = self.guarded(self.index.totals)
            metrics.CACHE_SIZE.labels(self.name).set(totals.body_bytes)
            metrics.CACHE_ENTRIES.labels(self.name).set(totals.entries)

    def stats(self) -> dict[str, Any]:
        totals = self.guarded(self.index.totals)
        return {
            "cache": self.name,
            "entries": totals.entries,
            "bytes": totals.body_bytes,
            "index_bytes": self.index.disk_bytes(),
            "bound": self.bound,
            "oldest_access": self.guarded(self.index.oldest_access),
        }


async def _finally_in_thread(call: Callable[[str], None], key: str) -> None:
    """Clean-up that must happen even while a cancellation unwinds (and not on the loop)."""
    with contextlib.suppress(BaseException):
        await asyncio.shield(asyncio.to_thread(call, key))
