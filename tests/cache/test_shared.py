"""Fills shared across worker processes: followed as they grow, taken over when their filler
dies, and nothing left behind by a process killed mid-fill."""

import asyncio
import os
import random
import signal
import subprocess
import sys
from pathlib import Path

from proxy.cache import Cache, Fill, Tail
from proxy.cache.reconcile import check
from tests.cache.child import body_for
from tests.cache.helpers import consume, settings, stream_maker

ROOT = Path(__file__).resolve().parents[2]


def child(role: str, directory: Path, *args: str) -> subprocess.Popen[str]:
    return subprocess.Popen(
        [sys.executable, "-m", "tests.cache.child", role, str(directory), *args],
        cwd=ROOT, stdout=subprocess.PIPE, text=True, start_new_session=True,
    )  # fmt: skip


async def until(condition, what: str) -> None:  # type: ignore[no-untyped-def]
    for _ in range(2000):
        if condition():
            return
        await asyncio.sleep(0.005)
    raise AssertionError(f"never happened: {what}")


async def never_called() -> Fill:
    raise AssertionError("a second process made what another one was making")


async def test_a_second_process_reads_a_fill_in_flight_before_it_ends(tmp_path):
    directory = tmp_path / "c"
    size = 600_000
    filler = child("fill", directory, "k", str(size))
    cache = Cache(settings(directory, size=64 << 20))
    await cache.start()
    try:
        await until(
            lambda: (f := cache.index.fill_of("k")) is not None and f.meta is not None,
            "the filler to publish the body's metadata",
        )
        tail = await cache.get("k", "b/k", never_called)
        assert isinstance(tail, Tail)
        chunks = tail.chunks()
        # The filler is held halfway: if following waited for the end, this would not return.
        first = await asyncio.wait_for(anext(chunks), 30)
        assert first and not (directory / "go").exists()
        (directory / "go").touch()
        rest = b"".join([c async for c in chunks])
        tail.release()
        assert first + rest == body_for("k", size)
        assert filler.stdout.readline().strip() == "committed"
        assert await consume(await cache.lookup("k")) == body_for("k", size)
    finally:
        (directory / "go").touch()
        filler.wait(30)
        await cache.close()


async def test_an_object_too_large_to_cache_leaves_no_fill_for_other_processes(tmp_path):
    # Streamed through by one worker, it must not look like a fill another worker can follow:
    # nothing would ever come, and the other worker's request would hang until its deadline.
    directory = tmp_path / "c"
    size = 300_000
    streamer = child("passthrough", directory, "k", str(size))
    cache = Cache(settings(directory, size=64 << 20, max_object=size // 2))
    await cache.start()
    try:
        assert streamer.stdout.readline().strip() == "streamed"
        calls: list[int] = []
        body = body_for("k", size)
        result = await asyncio.wait_for(cache.get("k", "b/k", stream_maker(body, calls)), 30)
        assert await consume(result) == body and calls == [1]
        assert cache.index.fill_of("k") is None
    finally:
        (directory / "go").touch()
        streamer.wait(30)
        await cache.close()


async def test_a_fill_whose_filler_died_is_taken_over(tmp_path):
    directory = tmp_path / "c"
    size = 400_000
    filler = child("fill", directory, "k", str(size))
    cache = Cache(settings(directory, size=64 << 20))
    await cache.start()
    try:
        await until(
            lambda: (f := cache.index.fill_of("k")) is not None and f.meta is not None,
            "the filler to start",
        )
        os.killpg(filler.pid, signal.SIGKILL)
        filler.wait()
        calls: list[int] = []
        body = body_for("k", size)
        result = await cache.get("k", "b/k", stream_maker(body, calls))
        assert await consume(result) == body and calls == [1]
        assert await consume(await cache.lookup("k")) == body
    finally:
        await cache.close()


async def test_killing_a_process_mid_fill_again_and_again_leaves_nothing_broken(tmp_path):
    directory = tmp_path / "c"
    rng = random.Random(7)
    for _ in range(5):
        churner = child("churn", directory)
        for _ in range(rng.randint(1, 6)):
            churner.stdout.readline()  # a few commits, then the kill lands mid-fill
        os.killpg(churner.pid, signal.SIGKILL)
        churner.wait()
    cache = Cache(settings(directory, size=64 << 20))
    await cache.start()  # a start clears what the dead left
    try:
        assert not list(cache.staging_dir.iterdir())
        keys = [row[0] for row in cache.index._db().execute("SELECT key FROM entries")]
        assert len(keys) >= 5
        assert cache.index._db().execute("SELECT COUNT(*) FROM fills").fetchone() == (0,)
        report = check(cache, fix=False, verify=True)
        assert report.clean, report.lines()  # no orphan, no missing or damaged body
        for key in keys:
            entry = await cache.lookup(key)
            assert entry is not None
            assert await consume(entry) == body_for(key, entry.meta.size)
    finally:
        await cache.close()
