"""The image converter: implements `proxy.sources.Converter` over the image-converter cache.

A conversion's cache key is its canonical source ref; its cache `source` is the original's
`bucket/key`, so purging an original drops every conversion made from it.
"""

from __future__ import annotations

import asyncio
import contextlib
import hashlib
import io
import time
from collections.abc import AsyncIterator, Callable, Mapping
from typing import BinaryIO

from proxy import metrics
from proxy.cache import Cache, Entry, Fill, Maker, Meta, Passthrough
from proxy.converter import refs
from proxy.converter.encode import encode
from proxy.converter.images import Output, convert_image
from proxy.converter.loaders import from_array
from proxy.converter.normalize import viewable
from proxy.converter.rangefile import RangeFile, block_size_for, storage_fetch
from proxy.errors import NotFound, PayloadTooLarge
from proxy.formats import CONTENT_TYPES
from proxy.limits import SourceLimits
from proxy.originals import Originals
from proxy.sniff import HEAD_SIZE, sniff
from proxy.sources import SourceRef
from proxy.storage import Storage
from proxy.workpool import Token, WorkPool

VideoOpener = Callable[[Token], str | BinaryIO]
Job = Callable[[Token], Output]


class ImageConverter:
    def __init__(
        self,
        originals: Originals,
        storage: Storage,
        cache: Cache,
        pool: WorkPool,
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
        async def make() -> Fill:
            async with await self._complete_original(ref) as original:
                async with original.pinned() as path:
                    blob = original.blob(path)
                    fmt = refs.format_of(ref)

                    def job(token: Token) -> Output:
                        return convert_image(blob, sniff(blob.head(HEAD_SIZE)), fmt, self.limits)

                    output = await self._timed(refs.CONVERT, job)
                return self._fill(ref, original.meta, output)

        return make

    # -- videoframe -------------------------------------------------------------------------

    def _frame_maker(self, ref: SourceRef) -> Maker:
        from proxy.converter.video import grab_frame  # PyAV loads FFmpeg: only when needed

        position = refs.position_of(ref)
        stream_index = refs.stream_index_of(ref)
        fmt = refs.format_of(ref) or "jpeg"

        async def make() -> Fill:
            async with self._video_source(ref) as (meta, open_video):

                def job(token: Token) -> Output:
                    video = open_video(token)
                    try:
                        rgb = grab_frame(video, position, stream_index, self.limits, token)
                    finally:
                        if not isinstance(video, str):
                            video.close()
                    return Output(encode(viewable(from_array(rgb)), fmt), fmt)

                output = await self._timed(refs.VIDEOFRAME, job)
            return self._fill(ref, meta, output)

        return make

    @contextlib.asynccontextmanager
    async def _video_source(self, ref: SourceRef) -> AsyncIterator[tuple[Meta, VideoOpener]]:
        """How a worker opens the video: the cached file, or ranged reads if too large to cache."""
        original = await self.originals.entry_or_meta(ref.bucket, ref.key)
        if isinstance(original, Meta):
            size = original.size
            loop = asyncio.get_running_loop()

            def open_ranged(token: Token) -> BinaryIO:
                fetch = storage_fetch(self.storage, ref.bucket, ref.key, loop, token)
                block = block_size_for(size)
                return io.BufferedReader(RangeFile(fetch, size, block), buffer_size=block)

            yield original, open_ranged
            return
        async with original, original.pinned() as path:
            blob = original.blob(path)

            def open_cached(token: Token) -> str | BinaryIO:
                return str(blob.path) if blob.path is not None else blob.open()

            yield original.meta, open_cached

    # -- shared -----------------------------------------------------------------------------

    async def _timed(self, kind: str, job: Job) -> Output:
        started = time.perf_counter()
        output = await self.pool.run(job, timeout=self.timeout)
        metrics.CONVERSIONS.labels(kind).inc()
        metrics.CONVERSION_DURATION.labels(kind).observe(time.perf_counter() - started)
        return output

    def _fill(self, ref: SourceRef, source: Meta, output: Output) -> Fill:
        # Same original + same request = same bytes: the ETag survives a cache eviction.
        etag = hashlib.sha256(f"{source.etag}\n{ref.canonical()}".encode()).hexdigest()[:32]
        meta = Meta(
            CONTENT_TYPES[output.fmt],
            etag,
            source.last_modified or time.time(),
            len(output.body),
            {"source_etag": source.etag},
        )
        return Fill(meta, body=output.body)
