"""`/info/<signature>/<info options>/plain/<source>`: verify, parse, look up, compute on a miss.

Answers are JSON entries of the previews cache, in a namespace of their own (keys start with
`info|`), filed under the source's original, so purging an original drops them as it drops
its previews. The key is the canonical options and the source, never the signature.

Remote reads: a source in the storage cache is read from there. An uncached original whose
answer needs only its header (size, format, dimensions, metadata) is not fetched whole:
one ranged read of its first block, and more ranges only where the decoder asks (a video's
index). Anything that needs pixels or every byte goes through the storage cache, as a
preview does. The work itself is a job in the render processes.
"""

from __future__ import annotations

import functools
import hashlib
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass

from proxy.access.signature import verify
from proxy.blob import Blob
from proxy.cache import Cache, Fill, Meta, Result
from proxy.cache.versions import made_from
from proxy.converter.rangefile import MIN_BLOCK
from proxy.errors import BadRequest, RangeNotSatisfiable
from proxy.info.args import InfoArgs
from proxy.info.options import InfoOptions, check_expiry, parse_info_options
from proxy.jobs.pool import JobPool
from proxy.jobs.process import RangeFetch
from proxy.jobs.protocol import Job, RangedSource
from proxy.limits import SourceLimits
from proxy.originals import Originals, meta_from_info
from proxy.previews.source_loader import SourceLoader
from proxy.previews.url import parse_url
from proxy.settings import PreviewSettings
from proxy.sniff import VIDEO_CONTAINERS, sniff
from proxy.sources import SourceRef
from proxy.storage import Storage

CONTENT_TYPE = "application/json"
RESOLVE_MEMO = 4096
# Formats whose header libvips reads from the first bytes (a JPEG's or PNG's headers come
# first); others (GIF frames are counted to the end, WebP is read whole) are read whole.
HEADER_FIRST = frozenset({"jpeg", "png"}) | VIDEO_CONTAINERS


@dataclass(frozen=True)
class InfoRequest:
    options: InfoOptions
    source: SourceRef
    key: str


def cache_key(options: InfoOptions, source: SourceRef) -> str:
    return f"info|{options.canonical()}|{source.canonical()}"


Source = tuple[Meta, Blob | RangedSource, RangeFetch | None]


class Info:
    def __init__(
        self,
        settings: PreviewSettings,
        cache: Cache,
        sources: SourceLoader,
        originals: Originals,
        storage: Storage,
        pool: JobPool,
        limits: SourceLimits,
        timeout: float,
    ) -> None:
        self.settings = settings
        self.cache = cache
        self.sources = sources
        self.originals = originals
        self.storage = storage
        self.pool = pool
        self.limits = limits
        self.timeout = timeout
        self._parse_memo = functools.lru_cache(maxsize=RESOLVE_MEMO)(parse_url)
        self._resolve_memo = functools.lru_cache(maxsize=RESOLVE_MEMO)(self._resolve)
        # Caches the URLs whose signature held (a refusal is an exception: never memoised).
        self._signature_memo = functools.lru_cache(maxsize=RESOLVE_MEMO)(self._check_signature)

    def check_signature(self, raw_path: str, raw_query: str) -> None:
        """Refuse a URL whose signature does not hold, with previews' keys: the access
        rule's check for `/info`, run before anything else (`resolve` assumes it passed)."""
        self._signature_memo(raw_path, raw_query)

    def _check_signature(self, raw_path: str, raw_query: str) -> None:
        url = self._parse_memo(raw_path, raw_query)
        if url.signature is None:
            # /info has no legacy form: a URL without a signature segment has no place.
            raise BadRequest("an info URL is /info/<signature>/<options>/plain/<source>")
        size, trusted = self.settings.signature_size, self.settings.trusted_signatures
        verify(url.signature, url.signed_path, self.settings.signature_pairs, size, trusted)

    def resolve(self, raw_path: str, raw_query: str) -> InfoRequest:
        """`raw_path`: the still percent-encoded path after `/info/`. Bad URLs fail here."""
        request = self._resolve_memo(raw_path, raw_query)
        check_expiry(request.options)
        return request

    def _resolve(self, raw_path: str, raw_query: str) -> InfoRequest:
        url = self._parse_memo(raw_path, raw_query)
        if url.signature is None or url.extension is not None:
            raise BadRequest("an info URL is /info/<signature>/<options>/plain/<source>")
        options = parse_info_options(url.options, self.settings.allow_security_options)
        source = self.sources.parse(url.source, url.query)
        return InfoRequest(options, source, cache_key(options, source))

    async def get(self, request: InfoRequest) -> Result:
        async def make() -> Fill:
            return await self._compute(request)

        return await self.cache.get(request.key, request.source.origin, make)

    async def _compute(self, request: InfoRequest) -> Fill:
        async with self._source(request) as (meta, source, fetch):
            args = InfoArgs(
                request.options, self.limits, meta.size, self.settings.max_svg_file_size
            )
            output = self.cache.bodies.staging_path("info")
            job = Job("info", source, args, output, request.source.canonical())
            try:
                result = await self.pool.run(job, timeout=self.timeout, fetch=fetch)
            finally:
                output.unlink(missing_ok=True)  # an answer is small: it comes in the message
        assert result.body is not None
        etag = hashlib.sha256(f"{request.key}\n{meta.etag}".encode()).hexdigest()[:32]
        extra = made_from(meta)  # so a new version of the original drops it
        return Fill(
            Meta(CONTENT_TYPE, etag, meta.last_modified, len(result.body), extra),
            body=result.body,
        )

    @asynccontextmanager
    async def _source(self, request: InfoRequest) -> AsyncIterator[Source]:
        ref = request.source
        if ref.converter is None and not request.options.needs_whole:
            cached = await self.originals.lookup(ref.bucket, ref.key)
            if cached is None:
                ranged = await self._ranged(ref)
                if ranged is not None:
                    yield ranged
                    return
            else:
                async with cached, cached.pinned() as path:
                    yield cached.meta, cached.blob(path), None
                return
        async with self.sources.open(ref) as loaded:
            yield loaded.meta, loaded.blob, None

    async def _ranged(self, ref: SourceRef) -> Source | None:
        """The first block of an uncached original, read with one ranged GET, and ranged
        reads for the rest; None when its format is read whole (then it is cached)."""
        first = MIN_BLOCK  # the job's block: its first read is this one, already here
        try:
            async with await self.storage.open(ref.bucket, ref.key, (0, first - 1)) as stream:
                head = b"".join([chunk async for chunk in stream])
                info = stream.info
        except RangeNotSatisfiable:
            return None  # an empty object: nothing to range over
        meta = meta_from_info(info)
        versions = self.cache.versions
        if versions is not None:  # what this read saw is the store's version now
            await versions.learned(ref.origin, meta.etag)
        self.limits.check_file_size(meta.size)
        detected = sniff(head)
        if (detected.format or detected.kind) not in HEADER_FIRST:
            return None
        if meta.size <= len(head):
            return meta, Blob.of_bytes(head), None
        bucket, key = ref.bucket, ref.key
        storage = self.storage

        async def fetch(start: int, end: int) -> bytes:
            if end < len(head):
                return head[start : end + 1]
            async with await storage.open(bucket, key, (start, end)) as more:
                return b"".join([chunk async for chunk in more])

        return meta, RangedSource(meta.size, key), fetch
