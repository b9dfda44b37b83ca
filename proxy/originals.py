"""Originals: the storage cache in front of the storage backend.

Everything that needs an original (the originals route, previews, the image converter)
comes through here, so the rule "a cached source never goes back to the store" holds in
one place.
"""

from __future__ import annotations

import asyncio
import logging
import mimetypes

from proxy import metrics
from proxy.cache import Cache, Entry, Fill, Maker, Meta, MetaOnly, Passthrough, Result, Tail
from proxy.storage import ObjectInfo, ObjectMissing, Storage, StorageError
from proxy.storage.errors import InvalidKey

log = logging.getLogger("proxy.originals")

DEFAULT_TYPE = "application/octet-stream"


def meta_from_info(info: ObjectInfo) -> Meta:
    content_type = info.content_type
    if not content_type or content_type == DEFAULT_TYPE:
        content_type = mimetypes.guess_type(info.key, strict=False)[0] or DEFAULT_TYPE
    return Meta(content_type, info.etag, info.last_modified, info.size)


def cache_key(bucket: str, key: str) -> str:
    return f"{bucket}/{key}"


class Originals:
    def __init__(self, storage: Storage, cache: Cache) -> None:
        self.storage = storage
        self.cache = cache
        self._prefetches: set[asyncio.Task[None]] = set()

    def _maker(self, bucket: str, key: str) -> Maker:
        async def make() -> Fill:
            stream = await self.storage.open(bucket, key)
            return Fill(meta_from_info(stream.info), stream=stream)

        return make

    def has_bucket(self, bucket: str) -> bool:
        return self.storage.has_bucket(bucket)

    def lookup(self, bucket: str, key: str) -> Entry | None:
        return self.cache.lookup(cache_key(bucket, key))

    async def get(self, bucket: str, key: str) -> Result:
        """The original, from the cache or streamed from the store while it is cached."""
        ck = cache_key(bucket, key)
        try:
            return await self.cache.get(ck, ck, self._maker(bucket, key))
        except StorageError as exc:
            return self._stale_or_raise(ck, exc)

    async def entry(self, bucket: str, key: str) -> Entry | Passthrough:
        """The whole original, complete on disk (or streaming, when too large to cache)."""
        ck = cache_key(bucket, key)
        try:
            return await self.cache.get_entry(ck, ck, self._maker(bucket, key))
        except StorageError as exc:
            return self._stale_or_raise(ck, exc)

    async def entry_or_meta(self, bucket: str, key: str) -> Entry | Meta:
        """The whole original when it is (or may be) cached; only its Meta when it is too
        large to cache, so a caller that reads parts of it (video frames) never starts a
        full download: one HEAD, then ranged reads.
        """
        cached = self.lookup(bucket, key)
        if cached is not None:
            self.cache.record(hit=True)
            return cached
        meta = await self.head(bucket, key)
        if meta.size > self.cache.max_object_size:
            self.cache.record(hit=False)
            return meta
        result = await self.entry(bucket, key)
        if isinstance(result, Passthrough):  # it grew past the limit since the HEAD
            await result.stream.aclose()
            return result.meta
        return result

    def _stale_or_raise(self, ck: str, exc: StorageError) -> Entry:
        if isinstance(exc, ObjectMissing | InvalidKey):
            raise exc
        stale = self.cache.lookup(ck, stale=True)
        if stale is None:
            raise exc
        log.warning("serving stale %s: storage failed (%s)", ck, exc.kind)
        metrics.CACHE_STALE.labels(self.cache.name).inc()
        stale.status = "STALE"
        return stale

    async def head_result(self, bucket: str, key: str) -> Entry | MetaOnly:
        """What a HEAD answers with: the cached entry, or the store's metadata."""
        cached = self.lookup(bucket, key)
        if cached is not None:
            return cached
        return MetaOnly(await self.head(bucket, key))

    async def head(self, bucket: str, key: str) -> Meta:
        return meta_from_info(await self.storage.head(bucket, key))

    async def get_range(self, bucket: str, key: str, start: int, end: int | None) -> Result:
        """A cached original, or else a ranged read at the store: never a full download."""
        ck = cache_key(bucket, key)
        entry = self.cache.lookup(ck)
        self.cache.record(hit=entry is not None)
        if entry is not None:
            return entry
        try:
            return await self.open_range(bucket, key, start, end)
        except StorageError as exc:
            return self._stale_or_raise(ck, exc)

    async def open_range(self, bucket: str, key: str, start: int, end: int | None) -> Passthrough:
        """A ranged read straight from the store, for a range of an uncached object."""
        stream = await self.storage.open(bucket, key, (start, end))
        meta = meta_from_info(stream.info)
        if 0 <= meta.size <= self.cache.max_object_size:
            self.prefetch(bucket, key)
        return Passthrough(meta, stream)

    def prefetch(self, bucket: str, key: str) -> None:
        """Cache the whole object in the background (one flight, however many ask)."""
        ck = cache_key(bucket, key)

        async def run() -> None:
            try:
                result = await self.cache.fill(ck, ck, self._maker(bucket, key))
                async with result:
                    if isinstance(result, Tail):
                        await result.wait()
            except StorageError as exc:
                log.info("prefetch of %s failed: %s", ck, exc.kind)

        task = asyncio.create_task(run())
        self._prefetches.add(task)
        task.add_done_callback(self._prefetches.discard)
