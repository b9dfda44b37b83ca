"""A preview request from URL to cache result: verify, parse, look up, render on a miss.

The preview cache is keyed by what changes the bytes (canonical options, the source's
canonical identity, the output format) and never by the signature. Its entries are filed
under the source's original, so purging an original drops its previews.
"""

from __future__ import annotations

import functools
import hashlib
import time
from dataclasses import dataclass, replace

from proxy import metrics
from proxy.cache import Cache, Fill, Meta, Result
from proxy.errors import Forbidden, NotFound
from proxy.previews.decode import SourceImage
from proxy.previews.formats import CONTENT_TYPES, Choice, choose
from proxy.previews.options import FORMAT_ALIASES, Options
from proxy.previews.parse import parse_options
from proxy.previews.render import Limits, Rendered, render
from proxy.previews.signature import verify
from proxy.previews.source_loader import open_source, parse_source
from proxy.previews.url import parse_url
from proxy.sources import SourceRef
from proxy.web.services import Services

RESOLVE_MEMO = 8192


@dataclass(frozen=True)
class Preview:
    """What the route needs besides the body: how to label it."""

    options: Options
    source: SourceRef
    choice: Choice
    key: str


def cache_key(options: Options, source: SourceRef, fmt: str, default_quality: int) -> str:
    # The default quality is part of the key: changing PREVIEWS_QUALITY makes new previews.
    return f"{options.canonical()}|{source.canonical()}|{fmt}|dq{default_quality}"


def _timed_render(
    source: SourceImage, options: Options, requested: str, limits: Limits
) -> Rendered:
    """Runs in a pool thread, so the duration excludes the wait for a slot."""
    started = time.perf_counter()
    rendered = render(source, options, requested, limits)
    metrics.RENDER_DURATION.observe(time.perf_counter() - started)
    metrics.RENDERS.labels(rendered.format or "source").inc()
    return rendered


class PreviewService:
    def __init__(self, svc: Services) -> None:
        self.svc = svc
        self.settings = svc.settings.previews
        self.limits = Limits(
            max_pixels=self.settings.max_src_resolution * 1_000_000,
            max_result_dimension=self.settings.max_result_dimension,
            quality=self.settings.quality,
            format_quality=self.settings.format_quality,
        )
        self._resolve_memo = functools.lru_cache(maxsize=RESOLVE_MEMO)(self._resolve)

    @property
    def cache(self) -> Cache:
        return self.svc.caches["previews"]

    def resolve(self, raw_path: str, raw_query: str, accept: str) -> Preview:
        """Everything decided before any I/O: bad URLs fail here, fast.

        A URL always resolves the same way (given the settings), so hot URLs are resolved
        from a memo: on a cache hit, parsing was most of the work. Only `expires` depends
        on the clock, so it is checked every time.
        """
        if not (self.settings.auto_webp or self.settings.auto_avif):
            accept = ""  # Accept changes nothing then: don't split the memo by it
        preview = self._resolve_memo(raw_path, raw_query, accept)
        expires = preview.options.expires
        if expires is not None and expires < time.time():
            raise NotFound("expired")
        return preview

    def _resolve(self, raw_path: str, raw_query: str, accept: str) -> Preview:
        url = parse_url(raw_path, raw_query)
        pairs = self.settings.signature_pairs
        if url.signature is not None:
            verify(url.signature, url.signed_path, pairs, self.settings.signature_size)
        elif pairs:
            # The legacy form has no signature: where URLs must be signed, it cannot be used.
            raise Forbidden("legacy preview URLs are not accepted when URLs must be signed")
        options = parse_options(url.options, self.settings.presets)
        if url.extension:
            options = replace(options, format=FORMAT_ALIASES[url.extension])
        source = parse_source(self.svc, url.source, url.query)
        choice = choose(options.format, accept, self.settings.auto_webp, self.settings.auto_avif)
        default_quality = self.settings.format_quality.get(choice.format, self.settings.quality)
        key = cache_key(options, source, choice.format, default_quality)
        return Preview(options, source, choice, key)

    async def get(self, preview: Preview) -> Result:
        async def make() -> Fill:
            return await self._render(preview)

        return await self.cache.get(preview.key, preview.source.origin, make)

    async def _render(self, preview: Preview) -> Fill:
        async with open_source(self.svc, preview.source) as loaded:
            image, options, fmt = loaded.image, preview.options, preview.choice.format
            rendered = await self.svc.pool.run(
                lambda token: _timed_render(image, options, fmt, self.limits)
            )
        content_type = CONTENT_TYPES.get(rendered.format or "", loaded.meta.content_type)
        etag = hashlib.sha256(f"{preview.key}\n{loaded.meta.etag}".encode()).hexdigest()[:32]
        meta = Meta(content_type, etag, loaded.meta.last_modified, len(rendered.body))
        return Fill(meta, body=rendered.body)
