"""The image converter: implements `proxy.sources.Converter` over the image-converter cache.

A conversion's cache key is its canonical source ref; its cache `source` is the original's
`bucket/key`, so purging an original drops every conversion made from it. Conversions and
frame decodes run in the render processes (`proxy.jobs`), never in the server.
"""

from __future__ import annotations

import contextlib
import hashlib
import time
from collections.abc import AsyncIterator, Mapping
from typing import Any

from proxy import metrics
from proxy.blob import Blob
from proxy.cache import Cache, Entry, Fill, Maker, Meta, Passthrough
from proxy.cache.versions import made_from
from proxy.converter import refs
from proxy.converter.args import ConvertArgs, FrameArgs
from proxy.errors import NotFound, PayloadTooLarge
from proxy.formats import CONTENT_TYPES
from proxy.jobs.pool import JobPool
from proxy.jobs.process import JobResult, RangeFetch
from proxy.jobs.protocol import Job, RangedSource
from proxy.limits import SourceLimits
from proxy.originals import Originals
from proxy.sniff import HEAD_SIZE, sniff
from proxy.sources import SourceRef
from proxy.storage import Storage


class ImageConverter:
    def __init__(
        self,
        originals: Originals,
        storage: Storage,
        cache: Cache,
        pool: JobPool,
        limits: SourceLimits,
        timeout: float,
    ) -> None:
        self.originals = originals
        self.storage = storage
        self.cache = cache
        self.pool = pool
        self.limits = limits
        self.timeout = timeout

    def parse(self, path: str, query: Mapping[str, str]) -> SourceRef:
        ref = refs.parse(path, query)
        if not self.originals.has_bucket(ref.bucket):
            raise NotFound("not found")
        return ref

    async def entry(self, ref: SourceRef) -> Entry:
        key = ref.canonical()
        if ref.converter == refs.CONVERT:
            cached = await self.cache.lookup(key)
            if cached is not None:
                self.cache.record(hit=True)
                return cached
            original = await self._viewable_original(ref)
            if original is not None:
                return original
            make = self._convert_maker(ref)
        else:
            make = self._frame_maker(ref)
        result = await self.cache.get_entry(key, ref.origin, make)
        assert isinstance(result, Entry)  # conversions are bytes, never streamed through
        return result

    # -- convert ----------------------------------------------------------------------------

    async def _viewable_original(self, ref: SourceRef) -> Entry | None:
        """The cached original itself when browsers show it as is and no format is asked."""
        original = await self._complete_original(ref)
        try:
            detected = sniff(original.read_head(HEAD_SIZE))
        except BaseException:
            original.close()
            raise
        if detected.browser_viewable and refs.format_of(ref) in (None, detected.kind):
            return original.with_content_type(detected.mime)
        original.close()
        return None

    async def _complete_original(self, ref: SourceRef) -> Entry:
        original = await self.originals.entry(ref.bucket, ref.key)
        if isinstance(original, Passthrough):
            await original.stream.aclose()
            self.limits.check_file_size(original.meta.size)
            raise PayloadTooLarge("source file too large to convert")
        try:
            self.limits.check_file_size(original.meta.size)
        except BaseException:
            original.close()
            raise
        return original

    def _convert_maker(self, ref: SourceRef) -> Maker:
        args = ConvertArgs(refs.format_of(ref), self.limits)

        async def make() -> Fill:
            async with await self._complete_original(ref) as original:
                async with original.pinned() as path:
                    result = await self._run(refs.CONVERT, ref, original.blob(path), args)
                return self._fill(ref, original.meta, result)

        return make

    # -- videoframe -------------------------------------------------------------------------

    def _frame_maker(self, ref: SourceRef) -> Maker:
        position = refs.position_of(ref)
        args = FrameArgs(
            position, refs.stream_index_of(ref), refs.format_of(ref) or "jpeg", self.limits
        )

        async def make() -> Fill:
            async with self._video_source(ref) as (meta, source, fetch):
                result = await self._run(refs.VIDEOFRAME, ref, source, args, fetch)
            return self._fill(ref, meta, result)

        return make

    @contextlib.asynccontextmanager
    async def _video_source(
        self, ref: SourceRef
    ) -> AsyncIterator[tuple[Meta, Blob | RangedSource, RangeFetch | None]]:
        """The cached video, pinned; or, when too large to cache, ranged reads of it."""
        original = await self.originals.entry_or_meta(ref.bucket, ref.key)
        if isinstance(original, Meta):

            async def fetch(start: int, end: int) -> bytes:
                async with await self.storage.open(ref.bucket, ref.key, (start, end)) as stream:
                    return b"".join([chunk async for chunk in stream])

            yield original, RangedSource(original.size, ref.key), fetch
            return
        async with original, original.pinned() as path:
            yield original.meta, original.blob(path), None

    # -- shared -----------------------------------------------------------------------------

    async def _run(
        self,
        kind: str,
        ref: SourceRef,
        source: Blob | RangedSource,
        args: Any,
        fetch: RangeFetch | None = None,
    ) -> JobResult:
        output = self.cache.bodies.staging_path("convert")
        job = Job(kind, source, args, output, ref.canonical())
        try:
            result = await self.pool.run(job, timeout=self.timeout, fetch=fetch)
        except BaseException:
            output.unlink(missing_ok=True)  # a killed job may have left part of it
            raise
        metrics.CONVERSIONS.labels(kind).inc()
        metrics.CONVERSION_DURATION.labels(kind).observe(result.seconds)
        return result

    def _fill(self, ref: SourceRef, source: Meta, result: JobResult) -> Fill:
        # Same original + same request = same bytes: the ETag survives a cache eviction.
        etag = hashlib.sha256(f"{source.etag}\n{ref.canonical()}".encode()).hexdigest()[:32]
        assert result.format is not None
        meta = Meta(
            CONTENT_TYPES[result.format],
            etag,
            source.last_modified or time.time(),
            result.size,
            made_from(source),
        )
        return Fill(meta, body=result.body, file=result.file)
