"""The scrubber: reads cached bodies at a bounded rate and checks them against their checksums.

Bodies sent with sendfile are checked the first time a process serves them; the scrubber
finds damage in the rest before anyone asks. One process scrubs a cache at a time (a file
lock; if it dies another takes over) and it resumes where it stopped.
"""

from __future__ import annotations

import asyncio
import logging
import os

from proxy import metrics
from proxy.cache import checksum
from proxy.cache.cache import Cache
from proxy.cache.reconcile import one_at_a_time

log = logging.getLogger("proxy.cache")

POSITION = "scrub_rowid"
IDLE = 60.0  # between rounds, and between tries for the lock


async def scrub_forever(cache: Cache, rate: int) -> None:
    while True:
        with one_at_a_time(cache, "scrub") as leader:
            if leader:
                await _rounds(cache, rate)
        await asyncio.sleep(IDLE)


async def _rounds(cache: Cache, rate: int) -> None:
    while True:
        after = int(cache.guarded(cache.index.info, POSITION) or 0)
        rows = await cache.guarded_in_thread(cache.index.file_rows, after, 64)
        if not rows:
            await cache.guarded_in_thread(cache.index.set_info, POSITION, "0")
            await asyncio.sleep(IDLE)  # a full pass done: start over after a while
            continue
        for _rowid, key, relative, size, digest in rows:
            if not await asyncio.to_thread(_intact, cache, relative, size, digest):
                log.warning("cache %s: scrub found %s damaged; dropping it", cache.name, key)
                metrics.CACHE_CORRUPT.labels(cache.name).inc()
                removed = await cache.guarded_in_thread(
                    cache.index.remove_file_entry, key, relative, cache.unlink_body
                )
                cache.after_removal(removed, "corrupt")
            await asyncio.sleep(size / rate)
        await cache.guarded_in_thread(cache.index.set_info, POSITION, str(rows[-1][0]))


def _intact(cache: Cache, relative: str, size: int, digest: str) -> bool:
    try:
        fd = os.open(cache.bodies.path(relative), os.O_RDONLY | os.O_CLOEXEC)
    except FileNotFoundError:
        return True  # removed since the row was read: nothing to check
    try:
        return not digest or checksum.of_file(fd, size) == digest
    finally:
        os.close(fd)
