"""An original as the decoders see it: a path on disk, or bytes in memory.

Decoders run in worker threads; they open the path themselves rather than share the cache
entry's file object, which the request may close on a timeout while a decode still runs.
"""

from __future__ import annotations

import io
from dataclasses import dataclass
from pathlib import Path
from typing import BinaryIO

from proxy.cache import Entry


@dataclass(frozen=True)
class Blob:
    size: int
    path: Path | None = None
    body: bytes | None = None

    @classmethod
    def of(cls, entry: Entry, path: Path | None = None) -> Blob:
        """`path`: a pinned name for the entry's file (Entry.pinned), else its own."""
        if entry.body is not None:
            return cls(len(entry.body), body=entry.body)
        path = path or entry.path
        assert path is not None
        return cls(entry.meta.size, path=path)

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
