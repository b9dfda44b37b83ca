"""Purges of originals and everything made from them, as the admin API and events ask.

An object's purge is recorded as a change of its version first (`Versions.changed`), so a
preview still being rendered from the old bytes when the purge runs is not served after it
either, by any worker. A prefix purge drops what is cached under it.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Iterable

from proxy import metrics
from proxy.cache.caches import Caches
from proxy.errors import BadRequest, NotFound
from proxy.invalidation.events import DELETED, PREFIX_DELETED, Change
from proxy.originals import Originals, cache_key

log = logging.getLogger("proxy.invalidation")


class Invalidation:
    def __init__(self, caches: Caches, originals: Originals) -> None:
        self.caches = caches
        self.originals = originals

    async def purge_object(
        self, bucket: str, key: str, origin: str, *, deleted: bool = False
    ) -> int:
        """Drop `bucket/key` and what was made from it; returns how many entries went.
        `deleted`: the store no longer has it (an event said so)."""
        if not self.originals.has_bucket(bucket):
            raise NotFound("not found")
        ck = cache_key(bucket, key)
        await self.caches.versions.record_change(ck, "" if deleted else None)
        counts = await asyncio.to_thread(self.caches.purge_origin, ck)
        metrics.PURGES.labels(origin).inc()
        log.info("purged %s (%s): %d entries", ck, origin, sum(counts.values()))
        return sum(counts.values())

    async def purge_prefix(
        self, prefix: str, origin: str, *, everything: bool = False, only: str | None = None
    ) -> int:
        """Drop every original under `prefix` (`bucket/` or `bucket/folder/...`) and what
        was made from them (`only`: in that cache and those made from it). All of the
        caches only with `everything`."""
        prefix = prefix.lstrip("/")
        if not prefix:
            if not everything:
                raise BadRequest("an empty prefix purges everything: add all=true")
        elif not self.originals.has_bucket(prefix.partition("/")[0]):
            raise NotFound("not found")
        elif "/" not in prefix:
            prefix += "/"  # the bucket `pics`, not also `pics-old`
        counts = await asyncio.to_thread(self.caches.purge, prefix, only)
        metrics.PURGES.labels(origin).inc()
        log.info("purged prefix %r (%s): %d entries", prefix, origin, sum(counts.values()))
        return sum(counts.values())

    async def apply(self, changes: Iterable[Change]) -> tuple[int, int]:
        """What an event said changed: (entries purged, changes ignored for unserved buckets)."""
        purged = ignored = 0
        for change in changes:
            if not self.originals.has_bucket(change.bucket):
                log.info("event for %s/%s ignored: bucket not served", change.bucket, change.key)
                ignored += 1
            elif change.kind == PREFIX_DELETED:
                purged += await self.purge_prefix(f"{change.bucket}/{change.key}", "event")
            else:
                deleted = change.kind == DELETED
                purged += await self.purge_object(
                    change.bucket, change.key, "event", deleted=deleted
                )
        return purged, ignored
