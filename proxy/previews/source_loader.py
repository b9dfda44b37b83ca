"""Where a preview's source comes from: the storage cache, or the image converter.

The single place where previews and the converter meet: `parse_source` turns the URL's
source into a SourceRef, `open_source` yields its complete body on disk (or in memory)
for the time of a render, through the right cache.
"""

from __future__ import annotations

import asyncio
import os
import secrets
from collections.abc import AsyncIterator, Mapping, Sequence
from contextlib import asynccontextmanager
from dataclasses import dataclass
from pathlib import Path

from proxy.cache import Entry, Meta, Passthrough
from proxy.errors import NotFound, PayloadTooLarge
from proxy.previews.decode import SourceImage
from proxy.sources import CONVERTER_PREFIX, Converter, SourceRef, converter_of
from proxy.web.services import Services


@dataclass(frozen=True)
class LoadedSource:
    image: SourceImage
    meta: Meta


def _converter(svc: Services) -> Converter:
    converter = converter_of(svc)
    if converter is None:
        raise NotFound("image converter not available")
    return converter


def parse_source(svc: Services, source: str, query: Sequence[tuple[str, str]]) -> SourceRef:
    """`source` is decoded: `<bucket>/<key>` or `image-converter/...`."""
    if source.startswith(CONVERTER_PREFIX):
        params: Mapping[str, str] = dict(query)
        return _converter(svc).parse(source[len(CONVERTER_PREFIX) :], params)
    bucket, _, key = source.partition("/")
    if not key or not svc.storage.has_bucket(bucket):
        raise NotFound("not found")
    return SourceRef(bucket, key)


def _too_large(size: int, limit: int) -> None:
    if size > limit:
        raise PayloadTooLarge(f"source is {size} bytes, over the {limit} byte limit")


@asynccontextmanager
async def open_source(svc: Services, ref: SourceRef) -> AsyncIterator[LoadedSource]:
    limit = svc.settings.previews.max_src_file_size
    if ref.converter is not None:
        result: Entry | Passthrough = await _converter(svc).entry(ref)
    else:
        result = await svc.originals.entry(ref.bucket, ref.key)
    async with result:
        _too_large(result.meta.size, limit)
        if isinstance(result, Passthrough):
            # Too large for the storage cache, yet allowed as a source: a private copy.
            spool = svc.caches["previews"].staging_dir / f"{os.getpid()}.src.{secrets.token_hex(8)}"
            try:
                await _spool(result, spool, limit)
                yield LoadedSource(SourceImage(path=spool), result.meta)
            finally:
                spool.unlink(missing_ok=True)
        elif result.body is not None:
            yield LoadedSource(SourceImage(data=result.body), result.meta)
        else:
            async with result.pinned() as path:
                assert path is not None
                yield LoadedSource(SourceImage(path=path), result.meta)


async def _spool(result: Passthrough, path: Path, limit: int) -> None:
    written = 0
    with open(path, "xb") as out:
        async for chunk in result.stream:
            written += len(chunk)
            _too_large(written, limit)
            await asyncio.to_thread(out.write, chunk)
