"""What a cache holds and hands out: metadata, and a body in memory or in a file."""

from __future__ import annotations

import os
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any, BinaryIO


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


@dataclass
class Entry:
    """A complete body: `body` in memory, or `file` open on disk (closed by `close`)."""

    key: str
    meta: Meta
    status: str  # HIT, MISS or STALE, for X-Cache-Status
    body: bytes | None = None
    file: BinaryIO | None = None
    path: Path | None = None

    def read_all(self) -> bytes:
        if self.body is not None:
            return self.body
        assert self.file is not None
        return os.pread(self.file.fileno(), self.meta.size, 0)

    def close(self) -> None:
        if self.file is not None:
            self.file.close()
            self.file = None

    async def __aenter__(self) -> Entry:
        return self

    async def __aexit__(self, *exc: object) -> None:
        self.close()
