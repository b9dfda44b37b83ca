"""The one cache class behind the storage, previews and image-converter caches.

A cache is told how to make a missing entry. Concurrent misses for one key share one
"flight": one maker call, one write. Streamed bodies are written to a staging file that every
waiting request reads as it grows, so the first byte reaches clients as soon as it arrives
from the store; the file is renamed into the cache only when it is complete, so no entry
ever serves truncated bytes. Bodies over `max_object_size` stream through uncached.
"""

from __future__ import annotations

import asyncio
import contextlib
import hashlib
import logging
import os
import secrets
import time
from collections.abc import AsyncIterator, Awaitable, Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any, BinaryIO

from proxy import metrics
from proxy.cache.entry import Entry, Meta
from proxy.cache.index import INLINE_LIMIT, Index, Removed, unlink_quietly
from proxy.cache.locks import KeyLocks
from proxy.cache.memory import MemoryTier, Remembered
from proxy.settings import CacheSettings
from proxy.storage.base import ObjectStream
from proxy.storage.errors import Unavailable

log = logging.getLogger("proxy.cache")

READ_CHUNK = 256 * 1024
# Bodies up to this size are kept in the memory tier and sent from memory.
MEMORY_MAX_ENTRY = 256 * 1024


@dataclass
class Fill:
    """What a maker returns: metadata plus either the whole body or an open stream."""

    meta: Meta
    body: bytes | None = None
    stream: ObjectStream | None = None


@dataclass
class Passthrough:
    """An uncacheable body, streamed straight from its maker to one client."""

    meta: Meta
    stream: ObjectStream
    status: str = "MISS"

    def fixed_span(self) -> tuple[int, int] | None:
        """The store already chose the bytes: (start, length) of the object they cover."""
        return self.stream.start, self.stream.length

    def in_memory(self, start: int, length: int) -> bytes | None:
        return None

    def sendable_file(self) -> BinaryIO | None:
        """A local file too large to cache, sent straight from its descriptor."""
        return self.stream.file

    def chunks(self, start: int, length: int) -> AsyncIterator[bytes]:
        return aiter(self.stream)

    def sent(self, count: int) -> None:
        self.stream.sent(count)

    async def __aenter__(self) -> Passthrough:
        return self

    async def __aexit__(self, *exc: object) -> None:
        await self.stream.aclose()


@dataclass
class MetaOnly:
    """What a HEAD of an uncached object answers with: headers, no body."""

    meta: Meta
    status: str = "MISS"

    def fixed_span(self) -> tuple[int, int] | None:
        return None

    def in_memory(self, start: int, length: int) -> bytes | None:
        return None

    def sendable_file(self) -> BinaryIO | None:
        return None

    async def chunks(self, start: int, length: int) -> AsyncIterator[bytes]:
        return
        yield b""

    def sent(self, count: int) -> None:
        pass

    async def __aenter__(self) -> MetaOnly:
        return self

    async def __aexit__(self, *exc: object) -> None:
        pass


class _Flight:
    def __init__(self, key: str) -> None:
        loop = asyncio.get_running_loop()
        self.key = key
        self.meta_ready: asyncio.Future[Meta] = loop.create_future()
        self.done: asyncio.Future[Entry | None] = loop.create_future()
        for fut in (self.meta_ready, self.done):
            # Waiters may all be gone by the time a flight fails; don't warn about that.
            fut.add_done_callback(lambda f: f.cancelled() or f.exception())
        self.task: asyncio.Task[None] | None = None
        self.staged: Path | None = None
        self.read_fd: int | None = None  # Tails dup it: valid even after the rename
        self.written = 0
        self.progress = asyncio.Event()
        self.refs = 0
        self.uncacheable: Fill | None = None
        self.uncacheable_claimed = False

    def advance(self) -> None:
        event, self.progress = self.progress, asyncio.Event()
        event.set()


class Tail:
    """Reads a body that is still being written, at the reader's own pace."""

    status = "MISS"

    def __init__(self, cache: Cache, flight: _Flight, meta: Meta) -> None:
        self._cache = cache
        self._flight = flight
        self.meta = meta
        assert flight.read_fd is not None
        self._fd = os.dup(flight.read_fd)
        self._released = False

    async def chunks(self, start: int = 0, length: int | None = None) -> AsyncIterator[bytes]:
        flight = self._flight
        end = self.meta.size if length is None else start + length
        pos = start
        while pos < end:
            event = flight.progress
            last = min(READ_CHUNK, end - pos) >= self.meta.size - pos
            if pos < flight.written and not (last and not flight.done.done()):
                # The final bytes wait for the commit: whoever has read the whole body
                # can count on the next request being a hit.
                data = os.pread(self._fd, min(READ_CHUNK, flight.written - pos, end - pos), pos)
                pos += len(data)
                yield data
            elif flight.done.done():
                flight.done.result()  # raises the fill's failure
                raise Unavailable("object ended early")
            else:
                await event.wait()

    def fixed_span(self) -> tuple[int, int] | None:
        return None

    def in_memory(self, start: int, length: int) -> bytes | None:
        return None

    def sendable_file(self) -> BinaryIO | None:
        return None

    def sent(self, count: int) -> None:
        pass

    async def wait(self) -> Entry | None:
        return await asyncio.shield(self._flight.done)

    def release(self) -> None:
        if not self._released:
            self._released = True
            os.close(self._fd)
            self._cache._release(self._flight)

    async def __aenter__(self) -> Tail:
        return self

    async def __aexit__(self, *exc: object) -> None:
        self.release()


Result = Entry | Tail | Passthrough
# What the web layer can deliver: every result, or only the headers.
Body = Result | MetaOnly
Maker = Callable[[], Awaitable[Fill]]


class Cache:
    def __init__(
        self, settings: CacheSettings, *, stale_grace: float = 0.0, memory_size: int = 0
    ) -> None:
        self.name = settings.name
        self.directory = settings.path
        self.bound = settings.size
        self.expires = settings.expires
        self.max_object_size = settings.max_object_size
        self.stale_grace = stale_grace
        # Touch an entry's access time at most this often: hits stay read-only in between.
        self.touch_interval = min(settings.expires / 50, 60.0)
        self.index = Index(self.directory)
        self.locks = KeyLocks(self.directory / "locks")
        self.memory = MemoryTier(memory_size, MEMORY_MAX_ENTRY)
        self.data_dir = self.directory / "data"
        self.staging_dir = self.directory / "staging"
        self.data_dir.mkdir(parents=True, exist_ok=True)
        self.staging_dir.mkdir(parents=True, exist_ok=True)
        self._flights: dict[str, _Flight] = {}
        self._loop: asyncio.AbstractEventLoop | None = None
        self._sweeper: asyncio.Task[None] | None = None
        self._hits = metrics.CACHE_REQUESTS.labels(self.name, "hit")
        self._misses = metrics.CACHE_REQUESTS.labels(self.name, "miss")

    # -- life cycle -----------------------------------------------------------------------

    async def start(self) -> None:
        self._loop = asyncio.get_running_loop()
        await asyncio.to_thread(self._clear_dead_staging)
        self.publish_size()
        self._sweeper = asyncio.create_task(self._sweep_forever(), name=f"sweep-{self.name}")

    async def close(self) -> None:
        if self._sweeper is not None:
            self._sweeper.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._sweeper
        flights = list(self._flights.values())
        for flight in flights:
            if flight.task is not None:
                flight.task.cancel()
        for flight in flights:
            if flight.task is not None:
                with contextlib.suppress(BaseException):
                    await flight.task
        self.index.close()

    # -- lookups --------------------------------------------------------------------------

    def lookup(self, key: str, *, stale: bool = False) -> Entry | None:
        """A complete entry, or None. With `stale`, idle-expired entries count too."""
        now = time.time()
        hot = self.memory.get(key)
        if hot is not None and now - hot.checked < self.memory.recheck:
            self._touch(key, hot, now)
            return Entry(key, hot.meta, "HIT", body=hot.body)
        row = self.index.get(key)
        if row is None:
            self.memory.discard(key)
            return None
        expired = row.accessed < now - self.expires
        if expired and not stale:
            return None
        meta = Meta.from_json(row.meta)
        status = "STALE" if expired else "HIT"
        if hot is not None and hot.stored == row.stored and not expired:
            hot.checked = now
            self._touch(key, hot, max(now, row.accessed))
            return Entry(key, hot.meta, "HIT", body=hot.body)
        if row.body is not None:
            entry = Entry(key, meta, status, body=bytes(row.body))
        else:
            assert row.file is not None
            path = self.data_dir / row.file
            try:
                fobj = open(path, "rb")  # noqa: SIM115 - the entry owns it until closed
            except FileNotFoundError:
                return None
            if os.fstat(fobj.fileno()).st_size != row.size:
                # A body cut short (a crash before the disk caught up): never serve it.
                fobj.close()
                asyncio.get_running_loop().run_in_executor(None, self._drop, [key])
                return None
            entry = Entry(key, meta, status, file=fobj, path=path, pin_dir=self.staging_dir)
            if row.size <= self.memory.max_entry:
                entry.body = os.pread(fobj.fileno(), row.size, 0)
                entry.close()
        if not expired:
            if entry.body is not None:
                self.memory.put(key, Remembered(meta, entry.body, row.stored, now, row.accessed))
            if now - row.accessed > self.touch_interval:
                asyncio.get_running_loop().run_in_executor(None, self.index.touch, key, now)
        return entry

    def _touch(self, key: str, hot: Remembered, now: float) -> None:
        """Reads served from memory still count as reads for the shared LRU and idle time."""
        if now - hot.touched > self.touch_interval:
            hot.touched = now
            asyncio.get_running_loop().run_in_executor(None, self.index.touch, key, now)

    async def get(self, key: str, source: str, make: Maker) -> Result:
        """The entry for `key`, making it (once, however many ask) when missing."""
        entry = self.lookup(key)
        self.record(hit=entry is not None)
        if entry is not None:
            return entry
        return await self.fill(key, source, make)

    def record(self, *, hit: bool) -> None:
        (self._hits if hit else self._misses).inc()

    async def get_entry(self, key: str, source: str, make: Maker) -> Entry | Passthrough:
        """Like `get`, but waits for a streamed body to be complete in the cache."""
        result = await self.get(key, source, make)
        if not isinstance(result, Tail):
            return result
        async with result:
            await result.wait()
        entry = self.lookup(key)
        if entry is None:
            # Evicted or expired in the instant since it was written: rare, so just refill.
            return await self.get_entry(key, source, make)
        entry.status = "MISS"
        return entry

    async def fill(self, key: str, source: str, make: Maker) -> Result:
        flight = self._flights.get(key)
        if flight is None:
            flight = _Flight(key)
            self._flights[key] = flight
            flight.task = asyncio.create_task(self._run(flight, source, make))
        flight.refs += 1
        entry: Entry | None = None
        try:
            meta = await asyncio.shield(flight.meta_ready)
            if flight.uncacheable is None and flight.staged is not None and not flight.done.done():
                # Still being written, so its read_fd is still open: tail it.
                return Tail(self, flight, meta)  # the Tail now holds this reference
            if flight.uncacheable is None:
                entry = await asyncio.shield(flight.done)
        except BaseException:
            self._release(flight)
            raise
        self._release(flight)
        if entry is None:
            return await self._passthrough(flight, make)
        if entry.body is not None:
            return Entry(key, entry.meta, "MISS", body=entry.body)
        reopened = self.lookup(key)
        if reopened is None:
            return await self.fill(key, source, make)  # evicted in that instant: make it again
        reopened.status = "MISS"
        return reopened

    async def _passthrough(self, flight: _Flight, make: Maker) -> Passthrough | Entry:
        fill = flight.uncacheable
        assert fill is not None
        if flight.uncacheable_claimed:
            fill = await make()
        flight.uncacheable_claimed = True
        if fill.body is not None:
            return Entry(flight.key, fill.meta, "MISS", body=fill.body)
        assert fill.stream is not None
        return Passthrough(fill.meta, fill.stream)

    def _release(self, flight: _Flight) -> None:
        flight.refs -= 1
        if flight.refs <= 0 and not flight.done.done() and flight.task is not None:
            # Nobody is waiting any more: stop the work, leave nothing behind.
            flight.task.cancel()

    # -- making entries -------------------------------------------------------------------

    async def _run(self, flight: _Flight, source: str, make: Maker) -> None:
        try:
            async with self.locks.hold(flight.key):
                await self._make_unless_made(flight, source, make)
        except BaseException as exc:
            for fut in (flight.meta_ready, flight.done):
                if not fut.done():
                    if isinstance(exc, asyncio.CancelledError):
                        fut.cancel()
                    else:
                        fut.set_exception(exc)
            if not isinstance(exc, Exception):
                raise
        finally:
            flight.advance()
            if self._flights.get(flight.key) is flight:
                del self._flights[flight.key]
            if flight.read_fd is not None:
                os.close(flight.read_fd)
                flight.read_fd = None
            if flight.staged is not None:
                unlink_quietly(flight.staged)  # gone already when committed

    async def _make_unless_made(self, flight: _Flight, source: str, make: Maker) -> None:
        """Make the entry, unless another process did while this one waited for the lock."""
        row = self.index.get(flight.key)
        if row is not None and row.accessed >= time.time() - self.expires:
            meta = Meta.from_json(row.meta)
            body = None if row.body is None else bytes(row.body)
            flight.meta_ready.set_result(meta)
            flight.done.set_result(Entry(flight.key, meta, "MISS", body=body))
            return
        fill = await make()
        if fill.body is not None:
            flight.meta_ready.set_result(fill.meta)
            entry = await asyncio.to_thread(self._store_bytes, flight.key, source, fill)
            flight.done.set_result(entry)
            return
        assert fill.stream is not None
        if not 0 <= fill.meta.size <= self.max_object_size:
            flight.uncacheable = fill  # the stream now belongs to whoever claims it
            flight.meta_ready.set_result(fill.meta)
            flight.done.set_result(None)
            return
        try:
            await self._stream_to_staging(flight, source, fill)
        finally:
            await fill.stream.aclose()

    async def _stream_to_staging(self, flight: _Flight, source: str, fill: Fill) -> None:
        assert fill.stream is not None
        flight.staged = self._staging_path()
        fd = os.open(flight.staged, os.O_WRONLY | os.O_CREAT | os.O_EXCL | os.O_CLOEXEC, 0o600)
        flight.read_fd = os.open(flight.staged, os.O_RDONLY | os.O_CLOEXEC)
        try:
            flight.meta_ready.set_result(fill.meta)
            async for chunk in fill.stream:
                await asyncio.to_thread(_write_all, fd, chunk)
                flight.written += len(chunk)
                if flight.written > fill.meta.size:
                    raise Unavailable("object grew while being read")
                flight.advance()
        finally:
            os.close(fd)
        if flight.written != fill.meta.size:
            raise Unavailable(f"object ended after {flight.written} of {fill.meta.size} bytes")
        entry = await asyncio.to_thread(
            self._commit_file, flight.key, source, fill.meta, flight.staged
        )
        flight.done.set_result(entry)

    def _staging_path(self) -> Path:
        return self.staging_dir / f"{os.getpid()}.{secrets.token_hex(8)}"

    def _store_bytes(self, key: str, source: str, fill: Fill) -> Entry:
        assert fill.body is not None
        if len(fill.body) > self.max_object_size:
            return Entry(key, fill.meta, "MISS", body=fill.body)
        if len(fill.body) < INLINE_LIMIT:
            removed = self.index.put(
                key, source, None, fill.body, len(fill.body), fill.meta.to_json(), self.bound
            )
            self._after_removal(removed, "evicted")
            return Entry(key, fill.meta, "MISS", body=fill.body)
        staged = self._staging_path()
        try:
            with open(staged, "xb") as out:
                out.write(fill.body)
            entry = self._commit_file(key, source, fill.meta, staged)
        finally:
            unlink_quietly(staged)
        entry.body = fill.body
        return entry

    def _commit_file(self, key: str, source: str, meta: Meta, staged: Path) -> Entry:
        digest = hashlib.sha256(key.encode()).hexdigest()
        relative = f"{digest[:2]}/{digest[2:4]}/{digest[4:]}.{secrets.token_hex(4)}"
        target = self.data_dir / relative
        target.parent.mkdir(parents=True, exist_ok=True)
        size = os.stat(staged).st_size
        os.rename(staged, target)
        try:
            removed = self.index.put(key, source, relative, None, size, meta.to_json(), self.bound)
        except BaseException:
            unlink_quietly(target)
            raise
        self._after_removal(removed, "evicted", replaced=key)
        return Entry(key, meta, "MISS", path=target)

    # -- removal --------------------------------------------------------------------------

    def _after_removal(
        self, removed: list[Removed], reason: str, replaced: str | None = None
    ) -> None:
        if removed and self._loop is not None:
            # May run in a worker thread: the memory tier belongs to the event loop.
            self._loop.call_soon_threadsafe(self._forget, [item.key for item in removed])
        for item in removed:
            if item.file:
                unlink_quietly(self.data_dir / item.file)
            if item.key != replaced:
                metrics.CACHE_EVICTIONS.labels(self.name, reason).inc()
        self.publish_size()

    def _forget(self, keys: list[str]) -> None:
        for key in keys:
            self.memory.discard(key)

    def _drop(self, keys: list[str]) -> None:
        self._after_removal(self.index.remove_keys(keys), "corrupt")

    def purge_prefix(self, prefix: str) -> int:
        """Remove every entry whose source starts with `prefix`; returns how many."""
        removed = self.index.remove_source_prefix(prefix)
        self._after_removal(removed, "purged")
        return len(removed)

    def sweep(self) -> int:
        """Drop entries idle past `expires` (+ the stale grace); returns how many."""
        count = 0
        before = time.time() - self.expires - self.stale_grace
        while True:
            removed = self.index.remove_idle(before)
            self._after_removal(removed, "expired")
            count += len(removed)
            if len(removed) < 500:
                return count

    async def _sweep_forever(self) -> None:
        interval = max(0.2, min(self.expires / 10, 60.0))
        while True:
            await asyncio.sleep(interval)
            try:
                await asyncio.to_thread(self.sweep)
            except Exception:
                log.exception("sweeping cache %s failed", self.name)

    def publish_size(self) -> None:
        size, entries = self.index.totals()
        metrics.CACHE_SIZE.labels(self.name).set(size)
        metrics.CACHE_ENTRIES.labels(self.name).set(entries)

    def stats(self) -> dict[str, Any]:
        size, entries = self.index.totals()
        return {
            "cache": self.name,
            "entries": entries,
            "bytes": size,
            "bound": self.bound,
            "oldest_access": self.index.oldest_access(),
        }

    def _clear_dead_staging(self) -> None:
        """Staging files of processes that no longer run are leftovers of a crash."""
        for path in self.staging_dir.iterdir():
            pid_text = path.name.split(".", 1)[0]
            if not pid_text.isdigit() or not _alive(int(pid_text)) or int(pid_text) == os.getpid():
                unlink_quietly(path)


def _write_all(fd: int, data: bytes) -> None:
    view = memoryview(data)
    while view:
        written = os.write(fd, view)
        view = view[written:]


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True
