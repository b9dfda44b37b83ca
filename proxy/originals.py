"""Originals: the storage cache in front of the storage backend.

Everything that needs an original (the originals route, previews, the image converter)
comes through here, so the rule "a cached source never goes back to the store" holds in
one place, and so does its companion: "one store read per object, whatever mix of plain,
ranged and conditional requests arrives". A Range request on a miss joins the fill of the
whole object (or starts it) and is answered from it as the bytes arrive; only a range far
into an object too large to fill quickly is a ranged read of its own.
"""

from __future__ import annotations

import asyncio
import logging
import mimetypes
import time
from collections import OrderedDict

from proxy import metrics
from proxy.cache import Cache, Entry, Fill, Maker, Meta, MetaOnly, Passthrough, Result, Tail
from proxy.storage import ObjectInfo, Storage, StorageError
from proxy.storage.errors import CLIENT_KINDS

log = logging.getLogger("proxy.originals")

DEFAULT_TYPE = "application/octet-stream"
# How long what was learned of an object (its size) steers range requests, and for how many.
KNOWN_TTL = 300.0
KNOWN_OBJECTS = 4096


def meta_from_info(info: ObjectInfo) -> Meta:
    content_type = info.content_type
    if not content_type or content_type == DEFAULT_TYPE:
        content_type = mimetypes.guess_type(info.key, strict=False)[0] or DEFAULT_TYPE
    return Meta(content_type, info.etag, info.last_modified, info.size)


def cache_key(bucket: str, key: str) -> str:
    return f"{bucket}/{key}"


class Originals:
    def __init__(self, storage: Storage, cache: Cache, *, range_fill_size: int) -> None:
        self.storage = storage
        self.cache = cache
        self.range_fill_size = range_fill_size
        self._known: OrderedDict[str, tuple[Meta, float]] = OrderedDict()
        self._prefetches: set[asyncio.Task[None]] = set()

    def has_bucket(self, bucket: str) -> bool:
        return self.storage.has_bucket(bucket)

    def _maker(self, bucket: str, key: str) -> Maker:
        async def make() -> Fill:
            stream = await self.storage.open(bucket, key)
            versions = self.cache.versions
            if versions is not None:
                try:  # what a fill reads is the store's version now
                    await versions.learned(cache_key(bucket, key), stream.info.etag)
                except BaseException:
                    await stream.aclose()
                    raise
            return Fill(meta_from_info(stream.info), stream=stream)

        return make

    async def store_version(self, origin: str) -> str | None:
        """The version (ETag) the store holds of `bucket/key` now; None when it is gone.
        One HEAD: no body is read."""
        bucket, _, key = origin.partition("/")
        try:
            info = await self.storage.head(bucket, key)
        except StorageError as exc:
            if exc.kind == "not_found":
                return None
            raise
        return info.etag

    async def lookup(self, bucket: str, key: str) -> Entry | None:
        return await self.cache.lookup(cache_key(bucket, key))

    async def get(self, bucket: str, key: str) -> Result:
        """The original, from the cache or streamed from the store while it is cached."""
        ck = cache_key(bucket, key)
        try:
            return await self.cache.get(ck, ck, self._maker(bucket, key))
        except StorageError as exc:
            return await self._stale_or_raise(ck, exc)

    async def entry(self, bucket: str, key: str) -> Entry | Passthrough:
        """The whole original, complete on disk (or streaming, when too large to cache)."""
        ck = cache_key(bucket, key)
        try:
            return await self.cache.get_entry(ck, ck, self._maker(bucket, key))
        except StorageError as exc:
            return await self._stale_or_raise(ck, exc)

    async def entry_or_meta(self, bucket: str, key: str) -> Entry | Meta:
        """The whole original when it can be cached; only its Meta when it is too large, so a
        caller that reads parts of it (video frames) reads ranges and never all of it."""
        ck = cache_key(bucket, key)
        known = self._known_meta(ck)
        if known is not None and known.size > self.cache.max_object_size:
            cached = await self.cache.lookup(ck)
            self.cache.record(hit=cached is not None)
            return known if cached is None else cached
        result = await self.entry(bucket, key)
        if isinstance(result, Passthrough):  # too large: its stream stops here
            self._learn(ck, result.meta)
            await result.stream.aclose()
            return result.meta
        return result

    async def _stale_or_raise(self, ck: str, exc: StorageError) -> Entry:
        if exc.kind in CLIENT_KINDS:
            raise exc
        stale = await self.cache.lookup(ck, stale=True)
        if stale is None:
            raise exc
        log.warning("serving stale %s: storage failed (%s)", ck, exc.kind)
        metrics.CACHE_STALE.labels(self.cache.name).inc()
        return stale

    async def head_result(self, bucket: str, key: str) -> Entry | MetaOnly:
        """What a HEAD answers with: the cached entry, or the store's metadata."""
        cached = await self.lookup(bucket, key)
        if cached is not None:
            return cached
        return MetaOnly(await self.head(bucket, key))

    async def head(self, bucket: str, key: str) -> Meta:
        meta = meta_from_info(await self.storage.head(bucket, key))
        self._learn(cache_key(bucket, key), meta)
        return meta

    # -- ranges -------------------------------------------------------------------------

    async def get_range(self, bucket: str, key: str, start: int, end: int | None) -> Result:
        """Bytes [start, end] (start < 0: the last -start bytes) of an original.

        From the cache; else from the fill of the whole object, which this request joins or
        starts; only for a range far into an object larger than `range_fill_size` a ranged
        read of its own (while a cacheable object is still fetched whole, once, behind it).
        """
        ck = cache_key(bucket, key)
        entry = await self.cache.lookup(ck, ranged=True)
        self.cache.record(hit=entry is not None)
        if entry is not None:
            return entry
        known = self._known_meta(ck)
        try:
            if (
                known is None
                or self._fill_serves(start, known.size)
                or await self.cache.filling(ck)
            ):
                result = await self.cache.fill(ck, ck, self._maker(bucket, key))
                served = await self._from_fill(bucket, key, result, start)
                if served is not None:
                    return served
            return await self._ranged(bucket, key, start, end)
        except StorageError as exc:
            return await self._stale_or_raise(ck, exc)

    def _fill_serves(self, start: int, size: int) -> bool:
        """Whether the fill of the whole object reaches this range soon enough."""
        first = size + start if start < 0 else start
        return size <= self.range_fill_size or first < self.range_fill_size

    async def _from_fill(self, bucket: str, key: str, result: Result, start: int) -> Result | None:
        """The fill's answer to the range, or None when a ranged read must serve it."""
        if isinstance(result, Entry):
            return result
        self._learn(cache_key(bucket, key), result.meta)
        if isinstance(result, Passthrough):  # too large to cache: only the range is wanted
            await result.stream.aclose()
            return None
        self.prefetch(bucket, key)  # whoever asks for a range asks for the object
        if self._fill_serves(start, result.meta.size):
            return result
        result.release()
        return None

    async def _ranged(self, bucket: str, key: str, start: int, end: int | None) -> Passthrough:
        stream = await self.storage.open(bucket, key, (start, end))
        meta = meta_from_info(stream.info)
        self._learn(cache_key(bucket, key), meta)
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

    # -- what was learned of objects ------------------------------------------------------

    def _learn(self, ck: str, meta: Meta) -> None:
        self._known[ck] = (meta, time.monotonic())
        self._known.move_to_end(ck)
        if len(self._known) > KNOWN_OBJECTS:
            self._known.popitem(last=False)

    def _known_meta(self, ck: str) -> Meta | None:
        known = self._known.get(ck)
        if known is None or time.monotonic() - known[1] > KNOWN_TTL:
            return None
        return known[0]
