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
from proxy.cache.reconcile import Report, check, reconcile_at_start
from proxy.cache.scrub import scrub_forever
from proxy.settings import CACHE_NAMES, Settings

# Dropping an original must drop what was made from it.
CASCADE = {"storage": CACHE_NAMES, "image_converter": ("image_converter", "previews")}


@dataclass(frozen=True)
class Caches:
    storage: Cache
    previews: Cache
    image_converter: Cache
    scrub_rate: int = 0  # bytes per second; 0: no scrubber

    @classmethod
    def open(cls, settings: Settings) -> Caches:
        def make(name: str) -> Cache:
            return Cache(
                settings.caches[name],
                stale_grace=settings.stale_grace if name == "storage" else 0.0,
                memory_size=settings.memory_cache_size,
                abandon_limit=settings.abandoned_fill_limit,
            )

        return cls(make("storage"), make("previews"), make("image_converter"), settings.scrub_rate)

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
        return {name: self.named(name).purge_prefix(prefix) for name in names}

    async def start(self) -> None:
        for cache in self:
            await cache.start()
            cache.background(asyncio.create_task(reconcile_at_start(cache)))
            if self.scrub_rate > 0:
                cache.background(asyncio.create_task(scrub_forever(cache, self.scrub_rate)))

    async def close(self) -> None:
        for cache in self:
            await cache.close()

    def check(self, *, fix: bool) -> list[Report]:
        """`python -m proxy cache check [--fix]`: every cache, every body read and checked."""
        return [check(cache, fix=fix, verify=True) for cache in self]

    def close_offline(self) -> None:
        """For commands that used the caches without an event loop."""
        for cache in self:
            cache.index.close()
