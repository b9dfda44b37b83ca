"""What a maker hands a cache (`Fill`), and the results that are not entries."""

from __future__ import annotations

from collections.abc import AsyncIterator, Awaitable, Callable
from dataclasses import dataclass
from pathlib import Path
from typing import BinaryIO

from proxy.cache.entry import Meta
from proxy.storage.base import ObjectStream


@dataclass
class Fill:
    """What a maker returns: metadata plus the whole body in memory, a finished file of
    ours (moved into the cache, not copied), or an open stream (written as it arrives)."""

    meta: Meta
    body: bytes | None = None
    stream: ObjectStream | None = None
    file: Path | None = None


Maker = Callable[[], Awaitable[Fill]]


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

    def finish_in_background(self) -> None:
        pass

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

    def finish_in_background(self) -> None:
        pass

    async def __aenter__(self) -> MetaOnly:
        return self

    async def __aexit__(self, *exc: object) -> None:
        pass
