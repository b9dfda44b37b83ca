"""Cross-process single flight: one flock'd file per stripe of keys.

Workers share the caches, so a miss must be made once across all of them, not once per
worker. A fixed number of stripe files keeps the folder bounded; two keys that share a
stripe merely wait for each other. Locks die with their process, so a crashed worker never
leaves a key locked. Polling with backoff, rather than a blocking flock in a thread, keeps
waiters from occupying the thread pool.
"""

from __future__ import annotations

import asyncio
import contextlib
import fcntl
import hashlib
import os
from collections.abc import AsyncIterator
from pathlib import Path

STRIPES = 4096


class KeyLocks:
    def __init__(self, directory: Path) -> None:
        self.directory = directory
        directory.mkdir(parents=True, exist_ok=True)

    def _path(self, key: str) -> Path:
        stripe = int.from_bytes(hashlib.blake2b(key.encode(), digest_size=4).digest()) % STRIPES
        return self.directory / f"{stripe:03x}"

    @contextlib.asynccontextmanager
    async def hold(self, key: str) -> AsyncIterator[None]:
        fd = os.open(self._path(key), os.O_RDWR | os.O_CREAT | os.O_CLOEXEC, 0o600)
        try:
            delay = 0.001
            while True:
                try:
                    fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
                    break
                except BlockingIOError:
                    await asyncio.sleep(delay)
                    delay = min(delay * 2, 0.05)
            yield
        finally:
            os.close(fd)  # closing the descriptor releases the lock
