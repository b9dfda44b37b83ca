"""An encoded source as decoders see it: a file on disk, or bytes in memory.

Decoders open the path themselves rather than share a cache entry's file object, which the
request may close (a timeout, a hang-up) while a decode still runs; the path is a pinned
name that an eviction cannot take away (`Entry.pinned`).
"""

from __future__ import annotations

import io
from dataclasses import dataclass
from pathlib import Path
from typing import BinaryIO


@dataclass(frozen=True)
class Blob:
    size: int
    path: Path | None = None
    body: bytes | None = None

    @classmethod
    def of_bytes(cls, body: bytes) -> Blob:
        return cls(len(body), body=body)

    @classmethod
    def of_file(cls, path: Path, size: int) -> Blob:
        return cls(size, path=path)

    def open(self) -> BinaryIO:
        if self.body is not None:
            return io.BytesIO(self.body)
        assert self.path is not None
        return open(self.path, "rb")

    def head(self, size: int) -> bytes:
        if self.body is not None:
            return self.body[:size]
        with self.open() as fh:
            return fh.read(size)

    def read(self) -> bytes:
        if self.body is not None:
            return self.body
        assert self.path is not None
        return self.path.read_bytes()
