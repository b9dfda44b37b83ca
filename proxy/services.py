"""The composition root: every service of one server process, built once, wired explicitly.

Nothing else constructs services or looks them up by name. The web layer receives the
`Services` built here; the features receive exactly the collaborators they use. Imports flow
one way: web -> features (originals, previews, converter) -> cache -> storage.
"""

from __future__ import annotations

from dataclasses import dataclass

from proxy import metrics
from proxy.access import AccessRule
from proxy.cache.caches import Caches
from proxy.converter.feature import ImageConverter
from proxy.health import Health
from proxy.info.feature import Info
from proxy.invalidation import Invalidation
from proxy.jobs.pool import JobPool
from proxy.limits import SourceLimits
from proxy.originals import Originals
from proxy.previews import config as previews_config
from proxy.previews.feature import Previews
from proxy.previews.source_loader import SourceLoader
from proxy.settings import Settings, SettingsError
from proxy.storage import Storage, create_storage


@dataclass(frozen=True)
class Services:
    settings: Settings
    storage: Storage
    caches: Caches
    pool: JobPool
    originals: Originals
    converter: ImageConverter
    previews: Previews
    info: Info
    health: Health
    access: AccessRule
    invalidation: Invalidation

    async def start(self) -> None:
        await self.storage.start()
        await self.caches.start()
        await self.pool.start()
        await self.access.start()

    async def close(self) -> None:
        await self.access.close()
        await self.pool.close()
        await self.caches.close()
        await self.storage.close()


def validate(settings: Settings) -> None:
    """What the settings layer cannot check alone (presets, the watermark image): a
    SettingsError with one line per problem, so a bad configuration stops the start."""
    problems = previews_config.check(settings.previews)
    if problems:
        raise SettingsError(problems)


def build_services(settings: Settings, storage: Storage | None = None) -> Services:
    """`storage`: a backend to use instead of the one the settings name (tests)."""
    validate(settings)
    storage = storage or create_storage(settings.storage)
    metrics.initialise(storage.provider)
    caches = Caches.open(settings)
    previews_cfg = settings.previews
    pool = JobPool(previews_cfg.concurrency, previews_cfg.queue, previews_cfg.memory_limit)
    limits = SourceLimits.from_settings(
        previews_cfg.max_src_resolution, previews_cfg.max_src_file_size
    )
    originals = Originals(storage, caches.storage, range_fill_size=settings.range_fill_size)
    caches.versions.attach(originals.store_version, caches.drop_origin)
    converter = ImageConverter(
        originals, storage, caches.image_converter, pool, limits, previews_cfg.converter_timeout
    )
    sources = SourceLoader(originals, converter, limits, caches.previews.staging_dir)
    previews = Previews(
        previews_cfg, caches.previews, sources, pool, limits, timeout=settings.request_timeout
    )
    info = Info(
        previews_cfg,
        caches.previews,
        sources,
        originals,
        storage,
        pool,
        limits,
        timeout=settings.request_timeout,
    )
    health = Health(storage, caches, {"render": pool.problem}, node=settings.node_name)
    access = AccessRule(
        settings.access,
        previews_cfg.signature_pairs,
        previews_cfg.signature_size,
        previews_cfg.trusted_signatures,
    )
    invalidation = Invalidation(caches, originals)
    return Services(
        settings, storage, caches, pool, originals, converter, previews, info, health, access,
        invalidation,
    )  # fmt: skip
