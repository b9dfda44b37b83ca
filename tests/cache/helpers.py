"""What the cache tests share: settings, makers of real streams and bodies, readers."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from pathlib import Path

from proxy.cache import Body, Cache, Entry, Fill, Maker, Meta, Passthrough, Tail
from proxy.settings import CacheSettings
from proxy.storage.base import ObjectInfo, ObjectStream
from proxy.storage.errors import Unavailable


def settings(
    path: Path, size: int = 1 << 20, expires: float = 3600, max_object: int | None = None
) -> CacheSettings:
    return CacheSettings("storage", path, size, expires, max_object or size)


def meta(size: int, etag: str = "e1") -> Meta:
    return Meta("application/octet-stream", etag, 1_700_000_000.0, size)


class Gate:
    """Holds a stream at a byte offset until the test opens it."""

    def __init__(self, at: int) -> None:
        self.at = at
        self.reached = asyncio.Event()
        self.opened = asyncio.Event()


def stream_of(
    body: bytes,
    chunk: int = 4096,
    *,
    fail_at: int | None = None,
    size: int | None = None,
    gate: Gate | None = None,
) -> ObjectStream:
    info = ObjectInfo("b", "k", len(body) if size is None else size, None, "e1", 0.0)

    async def chunks() -> AsyncIterator[bytes]:
        for i in range(0, len(body), chunk):
            if fail_at is not None and i >= fail_at:
                raise Unavailable("connection reset")
            if gate is not None and i >= gate.at and not gate.opened.is_set():
                gate.reached.set()
                await gate.opened.wait()
            await asyncio.sleep(0)
            yield body[i : i + chunk]

    async def close() -> None:
        pass

    return ObjectStream(info, chunks(), close)


def stream_maker(
    body: bytes,
    calls: list[int] | None = None,
    *,
    chunk: int = 4096,
    fail_at: int | None = None,
    size: int | None = None,
    gate: Gate | None = None,
) -> Maker:
    async def make() -> Fill:
        if calls is not None:
            calls.append(1)
        s = stream_of(body, chunk, fail_at=fail_at, size=size, gate=gate)
        return Fill(meta(s.info.size), stream=s)

    return make


def bytes_maker(body: bytes, calls: list[int] | None = None) -> Maker:
    async def make() -> Fill:
        if calls is not None:
            calls.append(1)
        await asyncio.sleep(0)
        return Fill(meta(len(body)), body=body)

    return make


async def consume(result: Body) -> bytes:
    async with result:
        if isinstance(result, Tail):
            return b"".join([c async for c in result.chunks()])
        if isinstance(result, Passthrough):
            return b"".join([c async for c in result.stream])
        assert isinstance(result, Entry)
        return result.read_all()


async def fill_and_read(cache: Cache, key: str, body: bytes) -> bytes:
    return await consume(await cache.get(key, f"b/{key}", stream_maker(body)))


def body_files(cache: Cache) -> list[Path]:
    return [p for p in cache.data_dir.rglob("*") if p.is_file()]
