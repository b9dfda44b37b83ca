"""A worker process for the cross-process cache tests: `python -m tests.cache.child ROLE DIR`.

fill KEY SIZE   fill KEY with a stream that stops halfway until DIR/go exists
churn           fill key-0, key-1, ... with slow streams until killed (prints each commit)
passthrough KEY SIZE   stream KEY, too large to cache, through; then stay alive until DIR/go
"""

from __future__ import annotations

import asyncio
import os
import random
import sys
from collections.abc import AsyncIterator
from pathlib import Path

from proxy.cache import Cache, Fill
from tests.cache.helpers import meta, settings, stream_of


def body_for(key: str, size: int) -> bytes:
    return random.Random(key).randbytes(size)


class FileGate:
    """Opened by the test creating a file: the two are different processes."""

    def __init__(self, path: Path, at: int) -> None:
        self.path, self.at = path, at


async def fill(directory: Path, key: str, size: int) -> None:
    cache = Cache(settings(directory, size=64 << 20))
    await cache.start()
    body = body_for(key, size)

    async def make() -> Fill:
        stream = stream_of(body, 8192)
        inner = aiter(stream)

        async def gated() -> AsyncIterator[bytes]:
            sent = 0
            async for chunk in inner:
                while sent >= size // 2 and not (directory / "go").exists():
                    await asyncio.sleep(0.005)
                sent += len(chunk)
                yield chunk

        stream._chunks = gated()
        return Fill(meta(size), stream=stream)

    result = await cache.get(key, f"b/{key}", make)
    async with result:
        async for _ in result.chunks():
            pass
    print("committed", flush=True)
    await cache.close()


async def passthrough(directory: Path, key: str, size: int) -> None:
    cache = Cache(settings(directory, size=64 << 20, max_object=size // 2))
    await cache.start()
    body = body_for(key, size)

    async def make() -> Fill:
        return Fill(meta(size), stream=stream_of(body, 8192))

    result = await cache.get(key, f"b/{key}", make)
    async with result:
        async for _ in result.chunks(0, size):
            pass
    print("streamed", flush=True)
    while not (directory / "go").exists():  # alive, as a worker is: its claims stay valid
        await asyncio.sleep(0.005)
    await cache.close()


async def churn(directory: Path) -> None:
    cache = Cache(settings(directory, size=64 << 20))
    await cache.start()
    i = 0
    while True:
        key = f"key-{os.getpid()}-{i}"
        size = 20_000 + (i * 7919) % 300_000
        body = body_for(key, size)

        async def make(body: bytes = body) -> Fill:
            stream = stream_of(body, 4096)
            inner = aiter(stream)

            async def slow() -> AsyncIterator[bytes]:
                async for chunk in inner:
                    await asyncio.sleep(0.001)
                    yield chunk

            stream._chunks = slow()
            return Fill(meta(len(body)), stream=stream)

        result = await cache.get(key, f"b/{key}", make)
        async with result:
            if hasattr(result, "chunks"):
                async for _ in result.chunks(0, len(body)):
                    pass
        print(key, flush=True)
        i += 1


if __name__ == "__main__":
    role, directory = sys.argv[1], Path(sys.argv[2])
    if role == "fill":
        asyncio.run(fill(directory, sys.argv[3], int(sys.argv[4])))
    elif role == "passthrough":
        asyncio.run(passthrough(directory, sys.argv[3], int(sys.argv[4])))
    else:
        asyncio.run(churn(directory))
