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
from proxy.access.refusals import NoSignature
from proxy.access.signature import verify
from proxy.cache import Cache, Fill, Meta, Result
from proxy.cache.versions import made_from
from proxy.errors import NotFound
from proxy.formats import CONTENT_TYPES
from proxy.jobs.pool import JobPool
from proxy.jobs.protocol import Job
from proxy.limits import SourceLimits
from proxy.previews.args import PreviewArgs
from proxy.previews.config import best_tuning, default_quality, render_settings, rules
from proxy.previews.formats import Choice, choose
from proxy.previews.options import Options
from proxy.previews.parse import parse_options
from proxy.previews.source_loader import SourceLoader
from proxy.previews.url import parse_url
from proxy.settings import PreviewSettings
from proxy.sources import SourceRef

RESOLVE_MEMO = 8192


@dataclass(frozen=True)
class Preview:
    """A resolved preview request: what to render, and how to label the answer."""

    options: Options
    source: SourceRef
    choice: Choice
    key: str


def cache_key(
    options: Options, source: SourceRef, fmt: str, default_quality: str, tuning: str = ""
) -> str:
    # The default quality is part of the key: changing PREVIEWS_QUALITY makes new previews;
    # so is `tuning`, the settings a `best` render chooses by.
    key = f"{options.canonical()}|{source.canonical()}|{fmt}|dq{default_quality}"
    return f"{key}|{tuning}" if tuning else key


class Previews:
    def __init__(
        self,
        settings: PreviewSettings,
        cache: Cache,
        sources: SourceLoader,
        pool: JobPool,
        limits: SourceLimits,
        timeout: float,
    ) -> None:
        self.settings = settings
        self.cache = cache
        self.sources = sources
        self.pool = pool
        self.timeout = timeout
        self.render_settings = render_settings(settings, limits)
        self.rules = rules(settings)
        self._resolve_memo = functools.lru_cache(maxsize=RESOLVE_MEMO)(self._resolve)
        self._parse_memo = functools.lru_cache(maxsize=RESOLVE_MEMO)(parse_url)
        # Caches the URLs whose signature held (a refusal is an exception: never memoised).
        self._signature_memo = functools.lru_cache(maxsize=RESOLVE_MEMO)(self._check_signature)

    def check_signature(self, raw_path: str, raw_query: str) -> None:
        """Refuse a URL whose signature does not hold: the access rule's check for previews,
        run before anything else (`resolve` assumes it passed). `raw_path` is the still
        percent-encoded path after `/previews/`."""
        self._signature_memo(raw_path, raw_query)

    def _check_signature(self, raw_path: str, raw_query: str) -> None:
        url = self._parse_memo(raw_path, raw_query)
        pairs = self.settings.signature_pairs
        if url.signature is not None:
            size, trusted = self.settings.signature_size, self.settings.trusted_signatures
            verify(url.signature, url.signed_path, pairs, size, trusted)
        elif pairs:
            # The legacy form has no signature: where URLs must be signed, it cannot be used.
            raise NoSignature("legacy preview URLs cannot carry a signature")

    def resolve(self, raw_path: str, raw_query: str, accept: str) -> Preview:
        """Everything decided before any I/O: bad URLs fail here, fast.

        A URL always resolves the same way (given the settings), so hot URLs are resolved
        from a memo: on a cache hit, parsing was most of the work. Only `expires` depends
        on the clock, so it is checked every time.
        """
        if not (
            self.settings.auto_webp
            or self.settings.auto_avif
            or self.settings.best_format_by_default
            or "best" in raw_path
        ):
            accept = ""  # Accept changes nothing then: don't split the memo by it
        preview = self._resolve_memo(raw_path, raw_query, accept)
        expires = preview.options.expires
        if expires is not None and expires < time.time():
            raise NotFound("expired")
        return preview

    def _resolve(self, raw_path: str, raw_query: str, accept: str) -> Preview:
        url = self._parse_memo(raw_path, raw_query)
        options = parse_options(url.options, self.rules)
        if url.extension:
            options = replace(options, format=url.extension)
        source = self.sources.parse(url.source, url.query)
        choice = choose(
            options.format,
            accept,
            self.settings.auto_webp,
            self.settings.auto_avif,
            self.settings.best_format_by_default,
        )
        key = cache_key(
            options,
            source,
            choice.format,
            default_quality(choice.format, self.settings),
            best_tuning(choice.format, self.settings),
        )
        return Preview(options, source, choice, key)

    async def get(self, preview: Preview) -> Result:
        async def make() -> Fill:
            return await self._render(preview)

        return await self.cache.get(preview.key, preview.source.origin, make)

    async def _render(self, preview: Preview) -> Fill:
        async with self.sources.open(preview.source) as loaded:
            args = PreviewArgs(preview.options, preview.choice.format, self.render_settings)
            output = self.cache.bodies.staging_path("render")
            job = Job("preview", loaded.blob, args, output, preview.source.canonical())
            try:
                result = await self.pool.run(job, timeout=self.timeout)
            except BaseException:
                output.unlink(missing_ok=True)  # a killed render may have left part of it
                raise
        metrics.RENDER_DURATION.observe(result.seconds)
        metrics.RENDERS.labels(result.format or "source").inc()
        content_type = CONTENT_TYPES.get(result.format or "", loaded.meta.content_type)
        etag = hashlib.sha256(f"{preview.key}\n{loaded.meta.etag}".encode()).hexdigest()[:32]
        extra = made_from(loaded.meta)
        meta = Meta(content_type, etag, loaded.meta.last_modified, result.size, extra)
        return Fill(meta, body=result.body, file=result.file)
