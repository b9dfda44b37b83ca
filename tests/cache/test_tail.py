"""Reading a body while it is written: at the reader's pace, the last bytes after the commit."""

from __future__ import annotations

import asyncio
import os
from pathlib import Path

import pytest

from proxy.cache import Cache, Tail
from proxy.cache.tail import READ_CHUNK, EndedEarly
from proxy.storage.errors import Unavailable
from tests.cache.helpers import Gate, meta, settings, stream_maker


class FileGrowth:
    """A staging file the test writes itself, with the fill's state: the `Growth` contract."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self.bytes = 0
        self.done = False
        self.failure: BaseException | None = None
        self._changed = asyncio.Event()

    def append(self, data: bytes) -> None:
        with open(self.path, "ab") as out:
            out.write(data)
        self.bytes += len(data)
        self._wake()

    def commit(self) -> None:
        self.done = True
        self._wake()

    def fail(self, failure: BaseException) -> None:
        self.failure = failure
        self._wake()

    def _wake(self) -> None:
        event, self._changed = self._changed, asyncio.Event()
        event.set()

    def written(self) -> int:
        return self.bytes

    def committed(self) -> bool:
        return self.done

    def failed(self) -> BaseException | None:
        return self.failure

    async def changed(self) -> None:
        await self._changed.wait()


class Tally:
    def __init__(self) -> None:
        self.released = 0
        self.kept = 0

    def release(self) -> None:
        self.released += 1

    def keep(self) -> None:
        self.kept += 1


def tail_of(tmp_path: Path, size: int) -> tuple[Tail, FileGrowth, Tally]:
    growth = FileGrowth(tmp_path / "staging")
    growth.path.touch()
    tally = Tally()
    fd = os.open(growth.path, os.O_RDONLY)
    return Tail(meta(size), fd, growth, tally.release, tally.keep), growth, tally


async def test_bytes_come_as_written_and_the_last_ones_only_after_the_commit(tmp_path):
    body = os.urandom(3000)
    tail, growth, _ = tail_of(tmp_path, len(body))
    growth.append(body[:1000])
    chunks = aiter(tail.chunks())
    assert await anext(chunks) == body[:1000]  # what is there, without waiting for more
    growth.append(body[1000:])
    last = asyncio.ensure_future(anext(chunks))
    await asyncio.sleep(0)
    await asyncio.sleep(0)
    assert not last.done()  # every byte is written, but the body is not an entry yet
    growth.commit()
    assert await last == body[1000:]
    with pytest.raises(StopAsyncIteration):
        await anext(chunks)
    tail.release()


async def test_a_range_that_ends_before_the_end_needs_no_commit(tmp_path):
    body = os.urandom(3000)
    tail, growth, _ = tail_of(tmp_path, len(body))
    growth.append(body)
    assert b"".join([c async for c in tail.chunks(100, 900)]) == body[100:1000]
    tail.release()


async def test_large_bodies_come_in_read_sized_chunks(tmp_path):
    size = 2 * READ_CHUNK + 5
    body = os.urandom(size)
    tail, growth, _ = tail_of(tmp_path, size)
    growth.append(body)
    growth.commit()
    chunks = [c async for c in tail.chunks()]
    assert [len(c) for c in chunks] == [READ_CHUNK, READ_CHUNK, 5]
    assert b"".join(chunks) == body
    tail.release()


async def test_a_failed_fill_reaches_the_reader_and_the_waiter(tmp_path):
    tail, growth, _ = tail_of(tmp_path, 3000)
    growth.append(b"x" * 1000)
    chunks = aiter(tail.chunks())
    assert await anext(chunks) == b"x" * 1000
    reading = asyncio.ensure_future(anext(chunks))
    waiting = asyncio.ensure_future(tail.wait())
    await asyncio.sleep(0)
    failure = EndedEarly("the store went away")
    growth.fail(failure)
    with pytest.raises(EndedEarly) as read_error:
        await reading
    with pytest.raises(EndedEarly) as wait_error:
        await waiting
    assert read_error.value is failure and wait_error.value is failure
    assert isinstance(failure, Unavailable) and failure.status == 502
    tail.release()


async def test_release_closes_the_descriptor_once_and_keep_asks_for_the_fill(tmp_path):
    tail, _, tally = tail_of(tmp_path, 10)
    fd = tail._fd
    tail.finish_in_background()
    async with tail:
        pass
    tail.release()
    assert (tally.released, tally.kept) == (1, 1)
    with pytest.raises(OSError):
        os.fstat(fd)


async def test_a_tail_reads_its_bytes_after_the_staging_file_is_renamed(tmp_path):
    # Through a real cache: the reader holds its own descriptor, the commit renames the file.
    cache = Cache(settings(tmp_path / "c"))
    await cache.start()
    try:
        body = os.urandom(200_000)
        gate = Gate(at=100_000)
        tail = await cache.get("k", "b/k", stream_maker(body, gate=gate))
        assert isinstance(tail, Tail) and tail.status == "MISS"
        async with tail:
            chunks = aiter(tail.chunks())
            await gate.reached.wait()
            first = await anext(chunks)
            gate.opened.set()
            await tail.wait()  # committed: the staging name is gone, our descriptor is not
            assert list(cache.staging_dir.iterdir()) == []
            rest = b"".join([c async for c in chunks])
        assert first + rest == body
    finally:
        await cache.close()
