"""Reading a body while it is being written, by this process or by another worker.

A `Tail` reads at its reader's own pace from the staging file the filler writes. The final
bytes wait for the commit, so whoever has read the whole body can count on the next request
being a hit. Where the bytes come from is a `Growth`: a fill of this process (woken by an
event) or one of another process (polled through the shared index, since processes share no
event loop).
"""

from __future__ import annotations

import asyncio
import os
from collections.abc import AsyncIterator, Callable
from typing import BinaryIO, Protocol

from proxy.cache.entry import Meta
from proxy.storage.errors import Unavailable

READ_CHUNK = 1 << 20


class Growth(Protocol):
    """A body on its way into the cache."""

    def written(self) -> int:
        """How many bytes are in the staging file so far."""
        ...

    def committed(self) -> bool:
        """Whether the body is a complete entry now."""
        ...

    def failed(self) -> BaseException | None:
        """Why the fill ended without an entry, once it has."""
        ...

    async def changed(self) -> None:
        """Return once more bytes arrived or the fill ended (or might have)."""
        ...


class Tail:
    status = "MISS"

    def __init__(
        self,
        meta: Meta,
        fd: int,
        growth: Growth,
        release: Callable[[], None],
        keep: Callable[[], None],
    ) -> None:
        self.meta = meta
        self._fd = fd  # our own descriptor: valid even after the file is renamed
        self._growth = growth
        self._release = release
        self._keep = keep
        self._released = False

    def fixed_span(self) -> tuple[int, int] | None:
        return None

    def in_memory(self, start: int, length: int) -> bytes | None:
        return None

    def sendable_file(self) -> BinaryIO | None:
        return None

    def sent(self, count: int) -> None:
        pass

    async def chunks(self, start: int = 0, length: int | None = None) -> AsyncIterator[bytes]:
        size = self.meta.size
        pos, end = start, size if length is None else start + length
        growth = self._growth
        while pos < end:
            count = min(READ_CHUNK, growth.written() - pos, end - pos)
            if count > 0 and (pos + count < size or growth.committed()):
                data = await asyncio.to_thread(os.pread, self._fd, count, pos)
                pos += len(data)
                yield data
                continue
            failure = growth.failed()
            if failure is not None:
                raise failure
            await growth.changed()

    async def wait(self) -> None:
        """Until the body is an entry; raises what made the fill fail."""
        while not self._growth.committed():
            failure = self._growth.failed()
            if failure is not None:
                raise failure
            await self._growth.changed()

    def finish_in_background(self) -> None:
        """This reader will not read on (a 304, a range served elsewhere), but wants the
        fill finished: the next request should be a hit."""
        self._keep()

    def release(self) -> None:
        if not self._released:
            self._released = True
            os.close(self._fd)
            self._release()

    async def __aenter__(self) -> Tail:
        return self

    async def __aexit__(self, *exc: object) -> None:
        self.release()


class EndedEarly(Unavailable):
    """The fill stopped before the body was complete."""
