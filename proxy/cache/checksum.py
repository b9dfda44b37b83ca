"""Body checksums: XXH3-64, computed while a body is written, checked before it is served.

XXH3 runs at memory speed (tens of GB/s), so hashing as bytes stream in costs nothing
measurable, and checking a body read into memory costs microseconds.
"""

from __future__ import annotations

import os

import xxhash

READ = 1 << 20


def of_bytes(data: bytes | memoryview) -> str:
    return xxhash.xxh3_64_hexdigest(data)


def of_file(fd: int, size: int, close: bool = False) -> str:
    """The checksum of the first `size` bytes of an open file (read with pread)."""
    digest = xxhash.xxh3_64()
    offset = 0
    try:
        while offset < size:
            chunk = os.pread(fd, min(READ, size - offset), offset)
            if not chunk:
                break
            digest.update(chunk)
            offset += len(chunk)
    finally:
        if close:
            os.close(fd)
    return digest.hexdigest()


class Hasher:
    """Incremental: fed with each chunk as it is written."""

    def __init__(self) -> None:
        self._digest = xxhash.xxh3_64()

    def update(self, data: bytes | memoryview) -> None:
        self._digest.update(data)

    def hexdigest(self) -> str:
        return self._digest.hexdigest()
