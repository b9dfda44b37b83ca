"""What the request handlers share: settings, storage, caches; built once per process."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from aiohttp import web

from proxy.cache import Cache
from proxy.originals import Originals
from proxy.settings import Settings
from proxy.storage import Storage, create_storage
from proxy.workpool import WorkPool


@dataclass
class Services:
    settings: Settings
    storage: Storage
    caches: dict[str, Cache]
    originals: Originals
    pool: WorkPool
    extras: dict[str, Any] = field(default_factory=dict)

    @classmethod
    def build(cls, settings: Settings, storage: Storage | None = None) -> Services:
        storage = storage or create_storage(settings.storage)
        caches = {
            name: Cache(
                cfg,
                stale_grace=settings.stale_grace if name == "storage" else 0.0,
                memory_size=settings.memory_cache_size,
            )
            for name, cfg in settings.caches.items()
        }
        pool = WorkPool(settings.previews.concurrency, settings.previews.queue)
        return cls(settings, storage, caches, Originals(storage, caches["storage"]), pool)

    async def start(self) -> None:
        await self.storage.start()
        for cache in self.caches.values():
            await cache.start()

    async def close(self) -> None:
        self.pool.close()
        for cache in self.caches.values():
            await cache.close()
        await self.storage.close()


SERVICES = web.AppKey("services", Services)


def services(request: web.Request) -> Services:
    return request.app[SERVICES]
