"""Reads asked for in one turn of the loop go to a reader thread together."""

import asyncio
import threading

import pytest

from proxy.cache.readers import Readers


async def test_the_reads_of_one_turn_are_one_batch_on_one_thread():
    readers = Readers(2, "test-readers")
    try:
        seen: list[tuple[int, str]] = []

        def read(n: int) -> int:
            seen.append((n, threading.current_thread().name))
            return n * 2

        first = [readers.run(lambda n=n: read(n)) for n in range(5)]  # one turn
        assert await asyncio.gather(*first) == [0, 2, 4, 6, 8]
        assert [n for n, _ in seen] == [0, 1, 2, 3, 4]
        assert len({name for _, name in seen}) == 1  # one job, so one thread
        assert threading.current_thread().name not in {name for _, name in seen}
        assert await readers.run(lambda: read(9)) == 18  # a later turn: a batch of its own
    finally:
        readers.shutdown()


async def test_a_failure_goes_to_the_read_that_failed_only():
    readers = Readers(1, "test-readers")
    try:

        def fail() -> int:
            raise OSError("disk")

        good, bad = readers.run(lambda: 1), readers.run(fail)
        assert await good == 1
        with pytest.raises(OSError, match="disk"):
            await bad
    finally:
        readers.shutdown()


async def test_what_a_cancelled_read_opened_is_closed():
    readers = Readers(1, "test-readers")
    release = threading.Event()

    class Opened:
        closed = False

        def close(self) -> None:
            self.closed = True

    opened = Opened()
    try:

        def slow() -> Opened:
            release.wait(timeout=30)
            return opened

        waiting = readers.run(slow)
        follower = readers.run(lambda: None)  # same batch: delivered after `slow`
        waiting.cancel()
        release.set()
        await follower
        assert opened.closed
    finally:
        readers.shutdown()
