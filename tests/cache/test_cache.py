import asyncio
import os
import signal
import subprocess
import sys
import textwrap
import time
from pathlib import Path

import pytest

from proxy.cache import Cache, Entry, Fill, Meta, Passthrough, Tail
from proxy.settings import CacheSettings
from proxy.storage.base import ObjectInfo, ObjectStream
from proxy.storage.errors import Unavailable


def settings(path: Path, size: int = 1 << 20, expires: float = 3600, max_object: int | None = None):
    return CacheSettings("storage", path, size, expires, max_object or size)


def meta(size: int, etag: str = "e1") -> Meta:
    return Meta("application/octet-stream", etag, 1_700_000_000.0, size)


def stream_of(body: bytes, chunk: int = 4096, fail_at: int | None = None, size: int | None = None):
    info = ObjectInfo("b", "k", len(body) if size is None else size, None, "e1", 0.0)

    async def chunks():
        for i in range(0, len(body), chunk):
            if fail_at is not None and i >= fail_at:
                raise Unavailable("connection reset")
            await asyncio.sleep(0)
            yield body[i : i + chunk]

    async def close():
        pass

    return ObjectStream(info, chunks(), close)


def stream_maker(body: bytes, calls: list[int] | None = None, **kw):
    async def make() -> Fill:
        if calls is not None:
            calls.append(1)
        s = stream_of(body, **kw)
        return Fill(meta(s.info.size), stream=s)

    return make


def bytes_maker(body: bytes, calls: list[int] | None = None):
    async def make() -> Fill:
        if calls is not None:
            calls.append(1)
        await asyncio.sleep(0.01)
        return Fill(meta(len(body)), body=body)

    return make


async def consume(result) -> bytes:
    async with result:
        if isinstance(result, Tail):
            return b"".join([c async for c in result.chunks()])
        if isinstance(result, Passthrough):
            return b"".join([c async for c in result.stream])
        assert isinstance(result, Entry)
        return result.read_all()


@pytest.fixture
async def cache(tmp_path):
    c = Cache(settings(tmp_path / "c"))
    await c.start()
    yield c
    await c.close()


async def test_a_streamed_miss_is_cached_and_then_hit(cache):
    body = os.urandom(100_000)
    first = await cache.get("k", "b/k", stream_maker(body))
    assert isinstance(first, Tail)
    assert await consume(first) == body
    hit = cache.lookup("k")
    assert hit is not None and hit.status == "HIT"
    assert await consume(hit) == body


async def test_small_bodies_live_inline_and_large_ones_on_disk(cache):
    small, large = b"s" * 100, os.urandom(50_000)
    await consume(await cache.get("small", "b/small", bytes_maker(small)))
    await consume(await cache.get("large", "b/large", bytes_maker(large)))
    assert cache.lookup("small").body == small
    entry = cache.lookup("large")
    assert entry.path is not None and entry.path.read_bytes() == large
    entry.close()


async def test_fifty_concurrent_misses_make_one_read(cache):
    body = os.urandom(300_000)
    calls: list[int] = []
    results = await asyncio.gather(
        *(cache.get("k", "b/k", stream_maker(body, calls)) for _ in range(50))
    )
    bodies = await asyncio.gather(*(consume(r) for r in results))
    assert calls == [1]
    assert all(b == body for b in bodies)


async def test_concurrent_byte_fills_share_one_make(cache):
    calls: list[int] = []
    results = await asyncio.gather(
        *(cache.get("p", "b/k", bytes_maker(b"x" * 10, calls)) for _ in range(20))
    )
    assert calls == [1]
    assert {await consume(r) for r in results} == {b"x" * 10}


async def test_the_bound_holds_after_writing_three_times_it(tmp_path):
    bound = 1 << 20
    cache = Cache(settings(tmp_path / "c", size=bound, max_object=200_000))
    await cache.start()
    try:
        written = 0
        i = 0
        while written < 3 * bound:
            body = os.urandom(100_000 + i * 1000)
            await consume(await cache.get(f"k{i}", f"b/k{i}", stream_maker(body)))
            written += len(body)
            i += 1
            total, _ = cache.index.totals()
            assert total <= bound
        on_disk = sum(p.stat().st_size for p in (tmp_path / "c" / "data").rglob("*") if p.is_file())
        assert on_disk <= bound
        assert cache.lookup(f"k{i - 1}") is not None  # the newest survives
        assert cache.lookup("k0") is None  # the oldest went first
    finally:
        await cache.close()


async def test_recently_read_entries_outlive_older_ones(tmp_path):
    cache = Cache(settings(tmp_path / "c", size=350_000, expires=3600))
    cache.touch_interval = 0
    await cache.start()
    try:
        for name in ("a", "b", "c"):
            await consume(await cache.get(name, name, stream_maker(os.urandom(100_000))))
            await asyncio.sleep(0.01)
        await consume(cache.lookup("a"))  # a is now the most recently used
        await asyncio.sleep(0.05)
        await consume(await cache.get("d", "d", stream_maker(os.urandom(100_000))))
        assert cache.lookup("b") is None
        assert cache.lookup("a") is not None
    finally:
        await cache.close()


async def test_idle_entries_expire_and_are_swept(tmp_path):
    cache = Cache(settings(tmp_path / "c", expires=0.3), stale_grace=60)
    await cache.start()
    try:
        await consume(await cache.get("k", "b/k", bytes_maker(os.urandom(40_000))))
        assert cache.lookup("k") is not None
        await asyncio.sleep(0.5)
        assert cache.lookup("k") is None
        assert cache.lookup("k", stale=True) is not None  # still on disk for stale-on-error
        assert cache.sweep() == 0  # within the stale grace
        cache.stale_grace = 0
        cache.sweep()
        assert cache.lookup("k", stale=True) is None
        assert not [p for p in (tmp_path / "c" / "data").rglob("*") if p.is_file()]
    finally:
        await cache.close()


async def test_reads_keep_an_entry_alive(tmp_path):
    cache = Cache(settings(tmp_path / "c", expires=0.5))
    await cache.start()
    try:
        await consume(await cache.get("k", "b/k", bytes_maker(b"v" * 10)))
        for _ in range(6):
            await asyncio.sleep(0.15)
            entry = cache.lookup("k")
            assert entry is not None
            await asyncio.sleep(0.02)  # let the touch land
    finally:
        await cache.close()


async def test_entries_persist_across_restarts(tmp_path):
    body = os.urandom(80_000)
    first = Cache(settings(tmp_path / "c"))
    await first.start()
    await consume(await first.get("k", "b/k", stream_maker(body)))
    await first.close()
    second = Cache(settings(tmp_path / "c"))
    await second.start()
    try:
        entry = second.lookup("k")
        assert entry is not None and await consume(entry) == body
    finally:
        await second.close()


async def test_a_failed_read_leaves_no_entry(cache):
    body = os.urandom(200_000)
    result = await cache.get("k", "b/k", stream_maker(body, fail_at=100_000))
    with pytest.raises(Unavailable):
        await consume(result)
    await asyncio.sleep(0.01)
    assert cache.lookup("k") is None
    assert not list(cache.staging_dir.iterdir())


async def test_a_short_body_leaves_no_entry(cache):
    body = os.urandom(10_000)
    result = await cache.get("k", "b/k", stream_maker(body, size=20_000))
    with pytest.raises(Unavailable):
        await consume(result)
    assert cache.lookup("k") is None


async def test_a_failed_make_reaches_every_waiter_and_leaves_nothing(cache):
    async def broken() -> Fill:
        await asyncio.sleep(0.01)
        raise Unavailable("store down")

    results = await asyncio.gather(
        *(cache.get("k", "b/k", broken) for _ in range(5)), return_exceptions=True
    )
    assert all(isinstance(r, Unavailable) for r in results)
    assert cache.lookup("k") is None


async def test_large_objects_stream_through_uncached(tmp_path):
    cache = Cache(settings(tmp_path / "c", size=1 << 20, max_object=50_000))
    await cache.start()
    try:
        body = os.urandom(120_000)
        calls: list[int] = []
        results = await asyncio.gather(
            *(cache.get("big", "b/big", stream_maker(body, calls)) for _ in range(3))
        )
        assert all(isinstance(r, Passthrough) for r in results)
        assert [await consume(r) for r in results] == [body] * 3
        assert len(calls) == 3  # each stream is its own; nothing written to the cache
        assert cache.lookup("big") is None
        assert cache.index.totals() == (0, 0)
    finally:
        await cache.close()


async def test_a_truncated_body_file_is_never_served(cache):
    body = os.urandom(60_000)
    await consume(await cache.get("k", "b/k", stream_maker(body)))
    entry = cache.lookup("k")
    path = entry.path
    entry.close()
    with open(path, "r+b") as f:
        f.truncate(1000)  # what a power cut before the data reached the disk could leave
    assert cache.lookup("k") is None
    await asyncio.sleep(0.05)
    assert cache.index.get("k") is None


async def test_when_every_waiter_leaves_the_fill_is_cancelled(cache):
    started = asyncio.Event()
    release = asyncio.Event()

    async def slow() -> Fill:
        started.set()
        await release.wait()
        return Fill(meta(3), body=b"abc")

    task = asyncio.create_task(cache.get("k", "b/k", slow))
    await started.wait()
    task.cancel()
    with pytest.raises(asyncio.CancelledError):
        await task
    await asyncio.sleep(0.01)
    assert "k" not in cache._flights
    release.set()
    await asyncio.sleep(0.01)
    assert cache.lookup("k") is None


async def test_purge_by_source_prefix(cache):
    await consume(await cache.get("b/photos/1.jpg", "b/photos/1.jpg", bytes_maker(b"1")))
    await consume(await cache.get("preview-of-1", "b/photos/1.jpg", bytes_maker(b"p")))
    await consume(await cache.get("b/other/2.jpg", "b/other/2.jpg", bytes_maker(b"2")))
    assert cache.purge_prefix("b/photos/") == 2
    assert cache.lookup("preview-of-1") is None
    assert cache.lookup("b/other/2.jpg") is not None


def test_a_crash_mid_write_leaves_no_entry(tmp_path):
    """Kill a process while it streams into the cache; the next start finds nothing half-done."""
    script = textwrap.dedent(
        f"""
        import asyncio, sys
        sys.path.insert(0, {str(Path(__file__).parent)!r})
        from test_cache import settings, stream_of, meta
        from proxy.cache import Cache, Fill

        async def main():
            cache = Cache(settings(__import__("pathlib").Path({str(tmp_path / "c")!r})))
            await cache.start()
            async def make():
                s = stream_of(b"x" * 400_000, chunk=1000)
                fast = s._chunks
                async def slow():
                    async for c in fast:
                        await asyncio.sleep(0.002)
                        yield c
                s._chunks = slow()
                return Fill(meta(400_000), stream=s)
            result = await cache.get("k", "b/k", make)
            async for chunk in result.chunks():
                print("writing", flush=True)
        asyncio.run(main())
        """
    )
    proc = subprocess.Popen([sys.executable, "-c", script], stdout=subprocess.PIPE, text=True)
    assert proc.stdout is not None
    proc.stdout.readline()
    time.sleep(0.2)
    proc.send_signal(signal.SIGKILL)
    proc.wait()
    assert list((tmp_path / "c" / "staging").iterdir())  # the half-written body is there...

    async def reopen() -> None:
        cache = Cache(settings(tmp_path / "c"))
        await cache.start()
        try:
            assert cache.lookup("k") is None  # ...but it is no entry
            assert not list(cache.staging_dir.iterdir())  # and the next start clears it
        finally:
            await cache.close()

    asyncio.run(reopen())


async def test_the_memory_tier_serves_hot_entries_and_sees_purges(tmp_path):
    from proxy.cache.index import Index

    cache = Cache(settings(tmp_path / "c"), memory_size=1 << 20)
    cache.memory.recheck = 0.2
    await cache.start()
    try:
        body = os.urandom(40_000)
        await consume(await cache.get("k", "b/k", stream_maker(body)))
        assert cache.lookup("k").body == body  # read from disk, remembered
        assert cache.memory.get("k") is not None
        # Another process (e.g. `cache purge`) drops it from the shared index.
        other = Index(tmp_path / "c")
        other.remove_source_prefix("b/")
        other.close()
        await asyncio.sleep(0.3)
        assert cache.lookup("k") is None
        assert cache.memory.get("k") is None
    finally:
        await cache.close()
