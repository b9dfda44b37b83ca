"""The three caches of a deployment, and what ties them together: the purge cascade.

Previews and conversions are filed under the original they were made from (their `source`),
so purging an original (or a prefix of originals) drops everything derived from it. The
server and `python -m proxy cache purge` both purge through here.
"""

from __future__ import annotations

import asyncio
from collections.abc import Iterator
from dataclasses import dataclass

from proxy.cache.cache import Cache
from proxy.cache.memory import MemoryTier
from proxy.cache.reconcile import Report, check, reconcile_at_start
from proxy.cache.scrub import scrub_forever
from proxy.cache.versions import Versions, own_version, source_version
from proxy.settings import CACHE_NAMES, Settings

# Dropping an original must drop what was made from it.
CASCADE = {"storage": CACHE_NAMES, "image_converter": ("image_converter", "previews")}


@dataclass(frozen=True)
class Caches:
    storage: Cache
    previews: Cache
    image_converter: Cache
    versions: Versions
    scrub_rate: int = 0  # bytes per second; 0: no scrubber

    @classmethod
    def open(cls, settings: Settings) -> Caches:
        # Beside the storage cache's index: the originals' versions outlive their bodies.
        versions = Versions(
            settings.caches["storage"].path,
            interval=settings.revalidate,
            wait=settings.revalidate_wait,
        )

        memory = MemoryTier(settings.memory_cache_size)

        def make(name: str) -> Cache:
            return Cache(
                settings.caches[name],
                stale_grace=settings.stale_grace if name == "storage" else 0.0,
                memory=memory,
                abandon_limit=settings.abandoned_fill_limit,
                versions=versions,
                version_of=own_version if name == "storage" else source_version,
            )

        return cls(
            make("storage"), make("previews"), make("image_converter"), versions,
            settings.scrub_rate,
        )  # fmt: skip

    def __iter__(self) -> Iterator[Cache]:
        return iter((self.storage, self.previews, self.image_converter))

    def named(self, name: str) -> Cache:
        for cache in self:
            if cache.name == name:
                return cache
        raise KeyError(name)

    def purge(self, prefix: str, only: str | None = None) -> dict[str, int]:
        """Drop entries whose original starts with `prefix` ("" = all), with the cascade.

        `only` names one cache; the caches derived from it are purged with it.
        """
        names = CACHE_NAMES if only is None else CASCADE.get(only, (only,))
        counts = {name: self.named(name).purge_prefix(prefix) for name in names}
        self.versions.forget(prefix)
        return counts

    async def drop_origin(self, origin: str) -> None:
        """What `Versions` calls when an original changed in the store."""
        await asyncio.to_thread(self.purge_origin, origin)

    def purge_origin(self, origin: str) -> dict[str, int]:
        """Drop one original (`bucket/key`, exactly) and everything made from it."""
        return {cache.name: cache.purge_prefix(origin, exact=True) for cache in self}

    async def start(self) -> None:
        await self.versions.start()
        for cache in self:
            await cache.start()
            cache.background(asyncio.create_task(reconcile_at_start(cache)))
            if self.scrub_rate > 0:
                cache.background(asyncio.create_task(scrub_forever(cache, self.scrub_rate)))

    async def close(self) -> None:
        await self.versions.close()
        for cache in self:
            await cache.close()

    def check(self, *, fix: bool) -> list[Report]:
        """`python -m proxy cache check [--fix]`: every cache, every body read and checked."""
        return [check(cache, fix=fix, verify=True) for cache in self]

    def close_offline(self) -> None:
        """For commands that used the caches without an event loop."""
        for cache in self:
            cache.index.close()
        self.versions.table.close()
