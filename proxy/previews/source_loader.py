"""Where a preview's source comes from: the storage cache, or the image converter.

The single place where previews and the converter meet: `parse` turns the URL's source into
a SourceRef, `open` yields its complete body on disk (or in memory) for the time of a
render, through the right cache.
"""

from __future__ import annotations

import asyncio
import os
import secrets
from collections.abc import AsyncIterator, Sequence
from contextlib import asynccontextmanager
from dataclasses import dataclass
from pathlib import Path

from proxy.blob import Blob
from proxy.cache import Entry, Meta, Passthrough
from proxy.errors import NotFound
from proxy.limits import SourceLimits
from proxy.originals import Originals
from proxy.sources import CONVERTER_PREFIX, Converter, SourceRef


@dataclass(frozen=True)
class LoadedSource:
    blob: Blob
    meta: Meta


class SourceLoader:
    def __init__(
        self,
        originals: Originals,
        converter: Converter,
        limits: SourceLimits,
        spool_dir: Path,
    ) -> None:
        self.originals = originals
        self.converter = converter
        self.limits = limits
        self.spool_dir = spool_dir

    def parse(self, source: str, query: Sequence[tuple[str, str]]) -> SourceRef:
        """`source` is decoded: `<bucket>/<key>` or `image-converter/...`."""
        if source.startswith(CONVERTER_PREFIX):
            return self.converter.parse(source[len(CONVERTER_PREFIX) :], dict(query))
        bucket, _, key = source.partition("/")
        if not key or not self.originals.has_bucket(bucket):
            raise NotFound("not found")
        return SourceRef(bucket, key)

    @asynccontextmanager
    async def open(self, ref: SourceRef) -> AsyncIterator[LoadedSource]:
        result: Entry | Passthrough
        if ref.converter is not None:
            result = await self.converter.entry(ref)
        else:
            result = await self.originals.entry(ref.bucket, ref.key)
        async with result:
            self.limits.check_file_size(result.meta.size)
            if isinstance(result, Passthrough):
                # Too large for the storage cache, yet allowed as a source: a private copy.
                spool = self.spool_dir / f"{os.getpid()}.src.{secrets.token_hex(8)}"
                try:
                    await self._spool(result, spool)
                    yield LoadedSource(Blob.of_file(spool, result.meta.size), result.meta)
                finally:
                    spool.unlink(missing_ok=True)
            else:
                async with result.pinned() as path:
                    yield LoadedSource(result.blob(path), result.meta)

    async def _spool(self, result: Passthrough, path: Path) -> None:
        written = 0
        with open(path, "xb") as out:
            async for chunk in result.stream:
                written += len(chunk)
                self.limits.check_file_size(written)
                await asyncio.to_thread(out.write, chunk)
