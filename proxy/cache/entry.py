"""What a cache holds and hands out: metadata, and a complete body in memory or in a file.

Every result a cache hands out (`Entry` here, the growing bodies in `tail`, `Passthrough`
and `MetaOnly` in `results`) offers its bytes the same ways, so the web layer delivers any
of them without asking which it is: `in_memory`, `sendable_file`, or `chunks`.
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import secrets
from collections.abc import AsyncIterator
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any, BinaryIO

from proxy.blob import Blob
from proxy.cache import owner

READ_CHUNK = 1 << 20


@dataclass(frozen=True)
class Meta:
    content_type: str
    etag: str  # without quotes
    last_modified: float  # unix seconds
    size: int  # bytes of the whole body; -1 while unknown
    extra: dict[str, Any] = field(default_factory=dict)

    def to_json(self) -> dict[str, Any]:
        return asdict(self)

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> Meta:
        return cls(**data)


@dataclass(frozen=True)
class Entry:
    """A complete, verified body: `body` in memory, or `file` open on disk (closed by `close`).

    `status` (HIT, MISS or STALE, for X-Cache-Status) is decided where the entry is made.
    """

    key: str
    meta: Meta
    status: str
    body: bytes | None = None
    file: BinaryIO | None = None
    path: Path | None = None
    pin_dir: Path | None = None  # the cache's staging folder, for `pinned`

    def fixed_span(self) -> tuple[int, int] | None:
        return None

    def in_memory(self, start: int, length: int) -> bytes | None:
        if self.body is None:
            return None
        if start == 0 and length == len(self.body):
            return self.body
        return self.body[start : start + length]

    def sendable_file(self) -> BinaryIO | None:
        return self.file

    async def chunks(self, start: int, length: int) -> AsyncIterator[bytes]:
        data = self.in_memory(start, length)
        if data is not None:
            yield data
            return
        assert self.file is not None
        fd, end = self.file.fileno(), start + length
        while start < end:
            data = await asyncio.to_thread(os.pread, fd, min(READ_CHUNK, end - start), start)
            if not data:
                raise OSError(f"cache body of {self.key} ended early")
            start += len(data)
            yield data

    def sent(self, count: int) -> None:
        pass

    def finish_in_background(self) -> None:
        pass

    def read_all(self) -> bytes:
        if self.body is not None:
            return self.body
        assert self.file is not None
        return os.pread(self.file.fileno(), self.meta.size, 0)

    def read_head(self, size: int) -> bytes:
        """The first `size` bytes, from memory or the open file (no path involved)."""
        if self.body is not None:
            return self.body[:size]
        assert self.file is not None
        return os.pread(self.file.fileno(), size, 0)

    def with_content_type(self, content_type: str) -> Entry:
        """The same body under another type; the copy owns the open file from now on."""
        meta = Meta(content_type, self.meta.etag, self.meta.last_modified, self.meta.size)
        return Entry(self.key, meta, self.status, self.body, self.file, self.path, self.pin_dir)

    def blob(self, pinned: Path | None = None) -> Blob:
        """The body as a decoder opens it: in memory, or by `pinned` (see `pinned`)."""
        if self.body is not None:
            return Blob.of_bytes(self.body)
        path = pinned or self.path
        assert path is not None
        return Blob.of_file(path, self.meta.size)

    @contextlib.asynccontextmanager
    async def pinned(self) -> AsyncIterator[Path | None]:
        """A private name for the body file while a worker process opens it by path.

        Eviction or a purge removes the entry's own name at any time; a hard link of our own
        keeps the bytes reachable for the render. None for a body in memory.
        """
        if self.pin_dir is None or (self.path is None and self.file is None):
            yield self.path
            return
        link = self.pin_dir / f"{owner.me()}.pin.{secrets.token_hex(8)}"
        await asyncio.to_thread(self._pin, link)
        try:
            yield link
        finally:
            with contextlib.suppress(FileNotFoundError):
                os.unlink(link)

    def _pin(self, link: Path) -> None:
        try:
            if self.path is None:
                raise FileNotFoundError("a body handed out without a name")
            os.link(self.path, link)
        except FileNotFoundError:
            if self.file is None:
                raise
            # Evicted since the lookup: copy it out through the descriptor still open.
            with open(link, "xb") as out:
                offset = 0
                while chunk := os.pread(self.file.fileno(), READ_CHUNK, offset):
                    out.write(chunk)
                    offset += len(chunk)

    def close(self) -> None:
        if self.file is not None:
            self.file.close()

    async def __aenter__(self) -> Entry:
        return self

    async def __aexit__(self, *exc: object) -> None:
        self.close()
