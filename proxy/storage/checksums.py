"""Content checksums, computed off the event loop; for verified copies between stores."""

from __future__ import annotations

import asyncio
import hashlib
from pathlib import Path

from proxy.storage.base import CHUNK_SIZE


def _md5_of(path: Path) -> str:
    digest = hashlib.md5(usedforsecurity=False)
    with open(path, "rb") as source:
        while chunk := source.read(CHUNK_SIZE):
            digest.update(chunk)
    return digest.hexdigest()


async def file_md5(path: Path) -> str:
    return await asyncio.to_thread(_md5_of, path)
