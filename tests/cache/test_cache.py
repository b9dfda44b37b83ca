"""The cache facade: fills, single flight, bounds, expiry, and never serving a broken body."""

import asyncio
import errno
import os
import sqlite3

import pytest

import proxy.cache.cache as cache_module
from proxy.cache import Cache, Fill, Passthrough, Tail
from proxy.cache.bodies import write_all
from proxy.errors import CacheUnavailable
from proxy.metrics_export import render_metrics
from proxy.storage.errors import Unavailable
from tests.cache.helpers import (
    Gate,
    body_files,
    bytes_maker,
    consume,
    fill_and_read,
    meta,
    settings,
    stream_maker,
)
from tests.conftest import metric_value


@pytest.fixture
async def cache(tmp_path):
    c = Cache(settings(tmp_path / "c"))
    await c.start()
    yield c
    await c.close()


class Clock:
    def __init__(self) -> None:
        self.offset = 0.0

    def __call__(self) -> float:
        import time

        return time.time() + self.offset


async def test_a_streamed_miss_is_cached_and_then_hit(cache):
    body = os.urandom(100_000)
    first = await cache.get("k", "b/k", stream_maker(body))
    assert isinstance(first, Tail) and first.status == "MISS"
    assert await consume(first) == body
    hit = await cache.lookup("k")
    assert hit is not None and hit.status == "HIT"
    assert await consume(hit) == body


async def test_small_bodies_live_inline_and_large_ones_on_disk(cache):
    small, large = b"s" * 100, os.urandom(50_000)
    await consume(await cache.get("small", "b/small", bytes_maker(small)))
    await consume(await cache.get("large", "b/large", bytes_maker(large)))
    assert (await cache.lookup("small")).body == small
    assert [p.read_bytes() for p in body_files(cache)] == [large]


async def test_memory_hits_share_one_entry_of_their_status(tmp_path):
    cache = Cache(settings(tmp_path / "c"), memory_size=1 << 20)
    await cache.start()
    try:
        await consume(await cache.get("k", "b/k", bytes_maker(b"one")))
        await cache.get("k", "b/k", bytes_maker(b"unused"))  # read from the index, remembered
        first = await cache.get("k", "b/k", bytes_maker(b"unused"))
        second = await cache.get("k", "b/k", bytes_maker(b"unused"))
        assert first is second and first.status == "HIT" and first.body == b"one"
        made = await cache.lookup("k", found_status="MISS")
        assert made is not first and made.status == "MISS" and made.body == b"one"
        assert first.status == "HIT"  # frozen: handing out another status changed nothing
    finally:
        await cache.close()


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


async def test_a_waiter_that_arrives_mid_stream_reads_the_whole_body(cache):
    body = os.urandom(200_000)
    gate = Gate(at=100_000)
    first = await cache.get("k", "b/k", stream_maker(body, gate=gate))
    reading = asyncio.create_task(consume(first))
    await gate.reached.wait()  # half of it is written
    calls: list[int] = []
    second = await cache.get("k", "b/k", stream_maker(body, calls))
    gate.opened.set()
    assert await consume(second) == body and await reading == body
    assert calls == []


async def test_the_bound_covers_bodies_and_index(tmp_path):
    bound = 1 << 20
    cache = Cache(settings(tmp_path / "c", size=bound, max_object=200_000))
    await cache.start()
    try:
        written = 0
        i = 0
        while written < 3 * bound:
            body = os.urandom(20_000 + i * 997) if i % 3 else os.urandom(4000)
            await fill_and_read(cache, f"k{i}", body)
            written += len(body)
            i += 1
            cache.sweep()  # upkeep measures the index and checkpoints its log
        on_disk = sum(p.stat().st_size for p in (tmp_path / "c").rglob("*") if p.is_file())
        assert on_disk <= bound * 1.05  # bodies, index and write-ahead log together
        assert await cache.lookup(f"k{i - 1}") is not None  # the newest survives
        assert await cache.lookup("k0") is None  # the oldest went first
        stats = cache.stats()
        assert stats["bytes"] + stats["index_bytes"] <= bound * 1.05
    finally:
        await cache.close()


async def test_recently_read_entries_outlive_older_ones(tmp_path):
    cache = Cache(settings(tmp_path / "c", size=450_000, expires=3600))
    cache.touch_interval = 0
    await cache.start()
    try:
        for name in ("a", "b", "c"):
            await fill_and_read(cache, name, os.urandom(100_000))
        await consume(await cache.lookup("a"))  # a is now the most recently used
        await asyncio.sleep(0)  # the touch goes to a thread; wait for it below
        for _ in range(200):
            row = cache.index.get("a")
            if row.accessed > cache.index.get("c").accessed:
                break
            await asyncio.sleep(0.005)
        await fill_and_read(cache, "d", os.urandom(100_000))
        assert await cache.lookup("b") is None
        assert await cache.lookup("a") is not None
    finally:
        await cache.close()


async def test_idle_entries_expire_and_are_swept(tmp_path):
    clock = Clock()
    cache = Cache(settings(tmp_path / "c", expires=60), stale_grace=3600, clock=clock)
    await cache.start()
    try:
        await consume(await cache.get("k", "b/k", bytes_maker(os.urandom(40_000))))
        assert await cache.lookup("k") is not None
        clock.offset = 120  # two minutes of nobody asking
        assert await cache.lookup("k") is None
        stale = await cache.lookup("k", stale=True)  # still on disk for stale-on-error
        assert stale is not None and stale.status == "STALE"
        assert cache.sweep() == 0  # within the stale grace
        clock.offset = 120 + 3600
        assert cache.sweep() == 1
        assert await cache.lookup("k", stale=True) is None
        assert body_files(cache) == []
    finally:
        await cache.close()


async def test_entries_persist_across_restarts(tmp_path):
    body = os.urandom(80_000)
    first = Cache(settings(tmp_path / "c"))
    await first.start()
    await fill_and_read(first, "k", body)
    await first.close()
    second = Cache(settings(tmp_path / "c"))
    await second.start()
    try:
        entry = await second.lookup("k")
        assert entry is not None and await consume(entry) == body
    finally:
        await second.close()


async def test_a_failed_read_leaves_no_entry(cache):
    body = os.urandom(200_000)
    result = await cache.get("k", "b/k", stream_maker(body, fail_at=100_000))
    with pytest.raises(Unavailable):
        await consume(result)
    assert await cache.lookup("k") is None
    assert cache.index.fill_of("k") is None
    assert not list(cache.staging_dir.iterdir())


async def test_a_short_body_leaves_no_entry(cache):
    result = await cache.get("k", "b/k", stream_maker(os.urandom(10_000), size=20_000))
    with pytest.raises(Unavailable):
        await consume(result)
    assert await cache.lookup("k") is None


async def test_a_failed_make_reaches_every_waiter_and_leaves_nothing(cache):
    async def broken() -> Fill:
        await asyncio.sleep(0)
        raise Unavailable("store down")

    results = await asyncio.gather(
        *(cache.get("k", "b/k", broken) for _ in range(5)), return_exceptions=True
    )
    assert all(isinstance(r, Unavailable) for r in results)
    assert await cache.lookup("k") is None


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
        assert await cache.lookup("big") is None
        assert cache.index.totals().entries == 0
    finally:
        await cache.close()


async def test_when_every_waiter_leaves_early_the_fill_is_cancelled(cache):
    started = asyncio.Event()
    release = asyncio.Event()

    async def slow() -> Fill:
        started.set()
        await release.wait()
        return Fill(meta(3), body=b"abc")

    task = asyncio.create_task(cache.get("k", "b/k", slow))
    await started.wait()
    flight = cache._flights["k"]
    task.cancel()
    with pytest.raises(asyncio.CancelledError):
        await task
    with pytest.raises(asyncio.CancelledError):
        await flight.task
    release.set()
    assert await cache.lookup("k") is None
    assert cache.index.fill_of("k") is None


async def test_a_fill_more_than_half_done_is_finished_for_nobody(tmp_path):
    cache = Cache(settings(tmp_path / "c"), abandon_limit=1 << 20)
    await cache.start()
    try:
        body = os.urandom(200_000)
        gate = Gate(at=150_000)
        tail = await cache.get("k", "b/k", stream_maker(body, gate=gate))
        await gate.reached.wait()
        flight = cache._flights["k"]
        tail.release()  # the client hangs up with three quarters of it written
        gate.opened.set()
        await flight.task
        entry = await cache.lookup("k")
        assert entry is not None and await consume(entry) == body
    finally:
        await cache.close()


async def test_a_fill_asked_to_finish_outlives_its_last_reader(cache):
    body = os.urandom(200_000)
    gate = Gate(at=4096)
    tail = await cache.get("k", "b/k", stream_maker(body, gate=gate))
    await gate.reached.wait()
    flight = cache._flights["k"]
    tail.finish_in_background()  # what a 304 does: the client has it, the cache should too
    tail.release()
    gate.opened.set()
    await flight.task
    assert await consume(await cache.lookup("k")) == body


async def test_purge_by_source_prefix(cache):
    await consume(await cache.get("b/photos/1.jpg", "b/photos/1.jpg", bytes_maker(b"1")))
    await consume(await cache.get("preview-of-1", "b/photos/1.jpg", bytes_maker(b"p")))
    await consume(await cache.get("b/other/2.jpg", "b/other/2.jpg", bytes_maker(b"2")))
    assert cache.purge_prefix("b/photos/") == 2
    assert await cache.lookup("preview-of-1") is None
    assert await cache.lookup("b/other/2.jpg") is not None


# -- nothing broken is ever served -----------------------------------------------------------


@pytest.mark.parametrize("size", [500, 60_000, 400_000], ids=["inline", "small file", "large"])
async def test_a_body_with_a_flipped_byte_is_a_miss_and_comes_again(tmp_path, size):
    cache = Cache(settings(tmp_path / "c"))
    await cache.start()
    try:
        body = os.urandom(size)
        await consume(await cache.get("k", "b/k", bytes_maker(body)))
        if size < 16 * 1024:
            row = cache.index.get("k")
            with sqlite3.connect(cache.index.path) as db:
                damaged = bytes([row.body[0] ^ 1]) + row.body[1:]
                db.execute("UPDATE entries SET body = ? WHERE key = 'k'", (damaged,))
        else:
            (path,) = body_files(cache)
            with open(path, "r+b") as f:
                f.seek(size // 2)
                byte = f.read(1)
                f.seek(size // 2)
                f.write(bytes([byte[0] ^ 1]))
            # A large body is read back once per entry: here, one nobody has read back yet
            # (damage after that check is the scrubber's, see test_scrub).
            forget_checks(cache)
        fresh = Cache(settings(tmp_path / "c"))  # a process that has not served it yet
        await fresh.start()
        try:
            assert await fresh.lookup("k") is None
            calls: list[int] = []
            again = await fresh.get("k", "b/k", stream_maker(body, calls))
            assert await consume(again) == body and calls == [1]
            assert await consume(await fresh.lookup("k")) == body
        finally:
            await fresh.close()
    finally:
        await cache.close()


async def test_a_missing_body_file_is_a_miss_not_an_error(cache):
    body = os.urandom(60_000)
    await fill_and_read(cache, "k", body)
    for path in body_files(cache):
        path.unlink()
    calls: list[int] = []
    result = await cache.get("k", "b/k", stream_maker(body, calls))
    assert await consume(result) == body and calls == [1]
    entry = await cache.get_entry("k", "b/k", stream_maker(body, calls))
    assert await consume(entry) == body and calls == [1]


async def test_a_truncated_body_file_is_never_served(cache):
    body = os.urandom(60_000)
    await fill_and_read(cache, "k", body)
    (path,) = body_files(cache)
    with open(path, "r+b") as f:
        f.truncate(1000)  # what a power cut before the data reached the disk could leave
    assert await cache.lookup("k") is None
    assert cache.index.get("k") is None


def forget_checks(cache):
    """As an entry from before the index recorded checks: nobody has read its body back."""
    with cache.index._write() as db:
        db.execute("UPDATE entries SET verified = NULL")


async def test_a_body_is_verified_once_across_two_workers(cache):
    body = os.urandom(400_000)
    await fill_and_read(cache, "k", body)
    assert cache.index.get("k").verified is not None  # hashed as it was written
    assert await consume(await cache.lookup("k")) == body
    assert cache.hashes == 0
    forget_checks(cache)
    workers = [Cache(settings(cache.directory)) for _ in range(2)]
    for worker in workers:
        await worker.start()
    try:
        first, second = workers
        assert await consume(await first.lookup("k")) == body
        await first.settled()
        assert first.hashes == 1 and first.index.get("k").verified is not None
        assert await consume(await second.lookup("k")) == body  # the index says: checked
        assert await consume(await first.lookup("k")) == body
        assert (first.hashes, second.hashes) == (1, 0)
        (path,) = body_files(cache)
        with open(path, "r+b") as f:
            f.write(b"\0")  # damage after the check: the scrubber's job, not every hit's
        assert (await second.lookup("k")) is not None
    finally:
        for worker in workers:
            await worker.close()


async def test_a_range_does_not_wait_for_a_large_bodys_check(cache, monkeypatch):
    import threading

    from proxy.cache import checksum

    body = os.urandom(400_000)
    await fill_and_read(cache, "k", body)
    forget_checks(cache)
    (path,) = body_files(cache)
    with open(path, "r+b") as f:
        f.write(b"\0")
    hashing, done, finished = threading.Event(), threading.Event(), threading.Event()
    of_file = checksum.of_file

    def held(*args, **kwargs):
        hashing.set()
        done.wait(timeout=30)  # bounded, so a lookup that waits for it fails, not hangs
        finished.set()
        return of_file(*args, **kwargs)

    monkeypatch.setattr(checksum, "of_file", held)
    try:
        entry = await cache.lookup("k", ranged=True)  # while the check has not even ended
        assert entry is not None and entry.status == "HIT" and not finished.is_set()
        entry.close()
        await asyncio.to_thread(hashing.wait)  # the check runs behind it
    finally:
        done.set()
    await cache.settled()
    assert cache.hashes == 1 and cache.index.get("k") is None  # the check failed: dropped
    assert await cache.lookup("k", ranged=True) is None


async def test_a_whole_body_waits_for_its_check(cache):
    body = os.urandom(400_000)
    await fill_and_read(cache, "k", body)
    forget_checks(cache)
    (path,) = body_files(cache)
    with open(path, "r+b") as f:
        f.write(b"\0")
    assert await cache.lookup("k") is None
    assert cache.hashes == 1 and cache.index.get("k") is None


async def test_sqlite_failures_are_503s_not_500s(tmp_path):
    cache = Cache(settings(tmp_path / "c"), busy_timeout=0.05)
    await cache.start()
    locker = sqlite3.connect(cache.index.path, timeout=0)
    locker.execute("BEGIN EXCLUSIVE")  # another process holds the index, for too long
    try:
        with pytest.raises(CacheUnavailable) as err:
            await cache.get("other", "b/other", bytes_maker(b"x"))
        assert err.value.status == 503
    finally:
        locker.rollback()
        locker.close()
        await cache.close()


# -- replacing, failed commits and a full disk -------------------------------------------


class FullDisk:
    """The cache's body writes: the real ones, until the disk "fills" after `room` bytes;
    from then on each write fails as a full disk does (ENOSPC), until `room` is None again."""

    def __init__(self, room: int | None) -> None:
        self.room = room
        self.written = 0
        self.refused = 0

    def __call__(self, fd: int, data: bytes | memoryview) -> None:
        if self.room is not None and self.written + len(data) > self.room:
            self.refused += 1
            raise OSError(errno.ENOSPC, os.strerror(errno.ENOSPC))
        write_all(fd, data)
        self.written += len(data)


@pytest.fixture
def full_disk(monkeypatch):
    disk = FullDisk(room=None)
    monkeypatch.setattr(cache_module, "write_all", disk)
    return disk


def evictions(cache: Cache) -> float:
    return metric_value(render_metrics().decode(), "proxy_cache_evictions_total", cache=cache.name)


async def test_an_expired_entry_is_replaced_by_its_refill_not_evicted(tmp_path):
    clock = Clock()
    cache = Cache(settings(tmp_path / "c", expires=60), stale_grace=3600, clock=clock)
    await cache.start()
    try:
        old, new = os.urandom(60_000), os.urandom(90_000)
        await fill_and_read(cache, "k", old)
        (old_file,) = body_files(cache)
        clock.offset = 120  # idle past `expires`: a miss, though its body is still on disk
        before = evictions(cache)
        calls: list[int] = []
        assert await consume(await cache.get("k", "b/k", stream_maker(new, calls))) == new
        assert calls == [1]
        assert not old_file.exists() and [p.read_bytes() for p in body_files(cache)] == [new]
        assert cache.index.totals().entries == 1 and cache.index.totals().body_bytes == 90_000
        assert evictions(cache) == before  # a replaced entry is not an eviction
        clock.offset = 0  # (the index stamps the new row with the real time)
        hit = await cache.lookup("k")
        assert hit is not None and hit.status == "HIT" and await consume(hit) == new
    finally:
        await cache.close()


async def test_a_body_write_failing_midway_leaves_nothing_and_the_next_request_refills(
    cache, full_disk
):
    body = os.urandom(200_000)
    full_disk.room = 100_000  # the disk fills half way through the body
    calls: list[int] = []
    first = await cache.get("k", "b/k", stream_maker(body, calls))
    with pytest.raises(OSError) as failed:
        await consume(first)
    assert failed.value.errno == errno.ENOSPC and full_disk.refused == 1
    # Nothing half-written: no entry, no pending row, no fill, no staging or body file.
    assert await cache.lookup("k") is None
    assert cache.index.totals().entries == 0 and cache.index.fill_of("k") is None
    assert list(cache.staging_dir.iterdir()) == [] and body_files(cache) == []
    full_disk.room = None  # room again
    again = await cache.get("k", "b/k", stream_maker(body, calls))
    assert await consume(again) == body and calls == [1, 1]
    hit = await cache.lookup("k")
    assert hit is not None and hit.status == "HIT" and await consume(hit) == body


@pytest.mark.parametrize("kind", ["streamed", "in memory"])
async def test_a_commit_failing_at_the_rename_leaves_no_pending_row(cache, monkeypatch, kind):
    body = os.urandom(60_000)
    real_move_in = cache.bodies.move_in

    def no_room(staged, relative):  # type: ignore[no-untyped-def]
        raise OSError(errno.ENOSPC, "no room for the body's folder")

    monkeypatch.setattr(cache.bodies, "move_in", no_room)
    maker = stream_maker(body) if kind == "streamed" else bytes_maker(body)
    with pytest.raises(OSError):
        await consume(await cache.get("k", "b/k", maker))
    assert cache.index.get("k") is None
    # The pending row written before the rename went with the failed fill.
    assert cache.index.totals().entries == 0 and cache.index.pending_files() == []
    assert list(cache.staging_dir.iterdir()) == [] and body_files(cache) == []
    monkeypatch.setattr(cache.bodies, "move_in", real_move_in)
    assert await fill_and_read(cache, "k", body) == body
    assert await consume(await cache.lookup("k")) == body


async def test_a_full_cache_disk_is_a_503_with_its_reason_then_heals(
    make_client, make_settings, put_file, full_disk, caplog
):
    body = os.urandom(300_000)
    put_file("photos/a.jpg", body)
    client = await make_client(make_settings())
    full_disk.room = 0
    for _ in range(2):  # every request while the disk is full, not only the first
        response = await client.get("/abc-public/photos/a.jpg")
        assert response.status == 503
        assert (await response.text()).strip() == "cache storage unavailable"
    assert "No space left on device" in caplog.text  # the operator's log says why
    full_disk.room = None
    response = await client.get("/abc-public/photos/a.jpg")
    assert response.status == 200 and await response.read() == body
    hit = await client.get("/abc-public/photos/a.jpg")
    assert hit.headers["X-Cache-Status"] == "HIT" and await hit.read() == body


async def test_an_idle_expired_original_is_fetched_again_not_served_stale(
    make_client, make_settings, put_file
):
    from proxy.web.app import SERVICES

    put_file("photos/b.jpg", b"old version " * 2000)
    client = await make_client(make_settings(CACHE_STORAGE_EXPIRES="1h", CACHE_STALE_GRACE="1d"))
    assert await (await client.get("/abc-public/photos/b.jpg")).read() == b"old version " * 2000
    cache = client.server.app[SERVICES].caches.storage
    with sqlite3.connect(cache.index.path) as db:  # nobody asked for it for two hours
        db.execute("UPDATE entries SET accessed = accessed - 7200")
    cache.memory.clear()
    put_file("photos/b.jpg", b"new version " * 2000)
    # The store is fine: the idle copy is a miss, refetched; STALE is only for a failing store.
    response = await client.get("/abc-public/photos/b.jpg")
    assert response.status == 200 and response.headers["X-Cache-Status"] == "MISS"
    assert await response.read() == b"new version " * 2000
    again = await client.get("/abc-public/photos/b.jpg")
    assert again.headers["X-Cache-Status"] == "HIT"
    assert await again.read() == b"new version " * 2000


# -- hits off the event loop -------------------------------------------------------------

# Another process's write transaction: held until the test says "release", or for at most
# HOLD_AT_MOST seconds. It answers "held" when it let go on request, "gave up" when the
# test asked too late, so the test knows the lock was still held when its bytes arrived.
LOCKER = """
import select, sqlite3, sys
db = sqlite3.connect(sys.argv[1], timeout=0, isolation_level=None)
db.execute("BEGIN IMMEDIATE")
db.execute("UPDATE totals SET bytes = bytes WHERE id = 0")
print("locked", flush=True)
asked = select.select([sys.stdin], [], [], float(sys.argv[2]))[0]
db.execute("ROLLBACK")
print("held" if asked else "gave up", flush=True)
"""
HOLD_AT_MOST = 20.0


async def test_a_hit_is_served_while_another_process_holds_the_index_write_lock(tmp_path):
    import sys

    clock = Clock()
    # A busy timeout longer than the locker holds on: a write on the loop would stall it
    # until the locker gives up.
    cache = Cache(settings(tmp_path / "c", size=16 << 20), busy_timeout=60, clock=clock)
    await cache.start()
    bodies = {f"k{i}": os.urandom(size) for i, size in enumerate([100, 50_000, 400_000] * 4)}
    broken = os.urandom(50_000)
    try:
        for key, body in {**bodies, "broken": broken}.items():
            await fill_and_read(cache, key, body)
        (damaged,) = [p for p in body_files(cache) if p.read_bytes() == broken]
        with open(damaged, "r+b") as f:
            f.write(b"\0")
        # Every hit from now on is due to touch its entry: each touch waits for the lock.
        clock.offset = cache.touch_interval + 1
        drop_waits = asyncio.Event()
        remove_entry, loop = cache.index.remove_entry, asyncio.get_running_loop()

        def watched_remove(*args, **kwargs):
            loop.call_soon_threadsafe(drop_waits.set)
            return remove_entry(*args, **kwargs)

        cache.index.remove_entry = watched_remove
        locker = await asyncio.create_subprocess_exec(
            sys.executable, "-c", LOCKER, str(cache.index.path), str(HOLD_AT_MOST),
            stdin=asyncio.subprocess.PIPE, stdout=asyncio.subprocess.PIPE,
        )  # fmt: skip
        assert await locker.stdout.readline() == b"locked\n"
        try:
            # The damaged entry's drop is a write: it waits for the lock, off the loop.
            dropping = asyncio.create_task(cache.lookup("broken"))
            await drop_waits.wait()
            for key, body in bodies.items():
                hit = await cache.lookup(key)
                assert hit is not None and hit.status == "HIT"
                assert await consume(hit) == body
        finally:
            locker.stdin.write(b"release\n")
            await locker.stdin.drain()
            answer = await locker.stdout.readline()
            await locker.wait()
        assert answer == b"held\n"  # every hit above came while the write lock was held
        assert await dropping is None
        assert cache.index.get("broken") is None  # dropped once the lock was free
    finally:
        await cache.close()
