"""Following a fill that another worker process is making: its staging file, as it grows.

The index's `fills` table names the process filling each key and its staging file, and
carries the body's metadata once the filler has it. A follower tails that file (its own
descriptor stays valid when the file is renamed into the cache) and learns of the commit,
or of the filler's death, from the index. Processes share no event loop, so this is the one
place that polls, backing off from 1 ms to 10 ms: a follower's first byte arrives within a
few milliseconds of the filler's. The loop only keeps the timer; each look (an fstat, the
index queries) runs in a thread, so a busy index delays the follower and nothing else.
"""

from __future__ import annotations

import asyncio
import os

from proxy.cache import owner
from proxy.cache.index import FillRow, Index
from proxy.cache.tail import EndedEarly

FIRST_POLL = 0.001
LAST_POLL = 0.01


class Backoff:
    def __init__(self) -> None:
        self.delay = FIRST_POLL

    async def wait(self) -> None:
        await asyncio.sleep(self.delay)
        self.delay = min(self.delay * 2, LAST_POLL)

    def reset(self) -> None:
        self.delay = FIRST_POLL


class RemoteGrowth:
    """The growth of a body another process writes."""

    def __init__(self, index: Index, fill: FillRow, fd: int, size: int) -> None:
        self._index = index
        self._fill = fill
        self._fd = fd
        self._size = size
        self._bytes = 0
        self._committed = False
        self._failure: BaseException | None = None
        self._backoff = Backoff()

    def written(self) -> int:
        return self._bytes

    def committed(self) -> bool:
        return self._committed

    def failed(self) -> BaseException | None:
        return self._failure

    async def changed(self) -> None:
        before = self._bytes
        while not self._committed and self._failure is None:
            await self._backoff.wait()
            # The fstat and the index queries in a thread: a busy index stalls this follower,
            # never the loop.
            await asyncio.to_thread(self._look)
            if self._bytes != before:
                self._backoff.reset()
                return
        return

    def _look(self) -> None:
        self._bytes = min(os.fstat(self._fd).st_size, self._size)
        self._check_end()

    def _check_end(self) -> None:
        if self._bytes >= self._size and self._index.get(self._fill.key) is not None:
            self._committed = True
            return
        current = self._index.fill_of(self._fill.key)
        if current is not None and current.owner == self._fill.owner:
            if not owner.alive(current.owner):
                self._failure = EndedEarly(f"the worker filling {self._fill.key} died")
            return
        if self._index.get(self._fill.key) is not None:
            self._committed = True
            self._bytes = self._size
        else:
            self._failure = EndedEarly(f"the fill of {self._fill.key} ended early")


async def wait_for_meta(index: Index, fill: FillRow) -> FillRow | None:
    """The fill once its metadata is known; None when it ended or its filler died first."""
    backoff = Backoff()
    while True:
        current = await asyncio.to_thread(index.fill_of, fill.key)
        if current is None or current.owner != fill.owner or not owner.alive(current.owner):
            return None
        if current.meta is not None:
            return current
        await backoff.wait()
