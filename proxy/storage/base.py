"""The storage interface every backend implements, and what all of them share.

A backend implements `_open`, `_head` and `_probe_bucket` (plus `_put`/`_list_keys` for
migration). This base class owns everything that must behave the same on every provider:
the bucket allowlist, key validation, timeouts, retries with backoff, and metrics.
"""

from __future__ import annotations

import asyncio
import logging
import random
from abc import ABC, abstractmethod
from collections.abc import AsyncIterator, Awaitable, Callable
from dataclasses import dataclass
from pathlib import Path
from typing import BinaryIO, TypeVar

from proxy import metrics
from proxy.errors import RangeNotSatisfiable
from proxy.settings import StorageSettings
from proxy.storage.errors import (
    CLIENT_KINDS,
    ObjectMissing,
    StorageError,
    StorageTimeout,
)
from proxy.storage.keys import validate_key

log = logging.getLogger("proxy.storage")
T = TypeVar("T")

CHUNK_SIZE = 1024 * 1024


@dataclass(frozen=True)
class ObjectInfo:
    bucket: str
    key: str
    size: int
    content_type: str | None
    etag: str  # without quotes
    last_modified: float  # unix seconds
    md5: str | None = None  # hex digest of the content when the store knows it; for migration


@dataclass(frozen=True)
class ByteRange:
    """Inclusive byte positions, already resolved against the object size."""

    start: int
    end: int

    @property
    def length(self) -> int:
        return self.end - self.start + 1


class ObjectStream:
    """An open read: the object's info, the byte range it yields, and its chunks.

    A stream of a local file also offers the `file` itself, so it can be sent with
    sendfile(2) instead of chunk by chunk; whoever does that reports the bytes with `sent`.
    """

    def __init__(
        self,
        info: ObjectInfo,
        chunks: AsyncIterator[bytes],
        close: Callable[[], Awaitable[None]],
        start: int = 0,
        length: int | None = None,
        file: BinaryIO | None = None,
        on_sent: Callable[[int], None] | None = None,
    ) -> None:
        self.info = info
        self.start = start
        self.length = info.size - start if length is None else length
        self.file = file
        self._on_sent = on_sent
        self._chunks = chunks
        self._close = close
        self._closed = False

    def sent(self, count: int) -> None:
        """`count` bytes of `file` went out without passing through the chunks."""
        if self._on_sent is not None:
            self._on_sent(count)

    def __aiter__(self) -> AsyncIterator[bytes]:
        return self._chunks

    async def aclose(self) -> None:
        if not self._closed:
            self._closed = True
            await self._close()

    async def __aenter__(self) -> ObjectStream:
        return self

    async def __aexit__(self, *exc: object) -> None:
        await self.aclose()


class Storage(ABC):
    provider: str = "?"

    def __init__(self, settings: StorageSettings) -> None:
        self.settings = settings
        self.buckets = frozenset(settings.buckets)

    # -- what callers use ---------------------------------------------------------------

    def has_bucket(self, bucket: str) -> bool:
        return bucket in self.buckets

    async def open(
        self, bucket: str, key: str, byte_range: tuple[int, int | None] | None = None
    ) -> ObjectStream:
        """Start reading an object; `byte_range` is (start, end-inclusive or None)."""
        self._validate(bucket, key)
        stream = await self._retrying("read", lambda: self._open(bucket, key, byte_range))
        metrics.STORAGE_READS.labels(self.provider).inc()
        return ObjectStream(
            stream.info,
            self._metered(stream),
            stream.aclose,
            start=stream.start,
            length=stream.length,
            file=stream.file,
            on_sent=metrics.STORAGE_READ_BYTES.labels(self.provider).inc,
        )

    async def head(self, bucket: str, key: str) -> ObjectInfo:
        self._validate(bucket, key)
        info = await self._retrying("head", lambda: self._head(bucket, key))
        metrics.STORAGE_HEADS.labels(self.provider).inc()
        return info

    async def probe(self) -> list[str]:
        """One line per problem reaching the store and the configured buckets; [] if fine."""
        problems = []
        for bucket in sorted(self.buckets):
            try:
                async with asyncio.timeout(self.settings.timeout):
                    await self._probe_bucket(bucket)
            except TimeoutError:
                problems.append(
                    f"{self.provider}: endpoint unreachable (bucket {bucket}: timed out)"
                )
            except StorageError as exc:
                problems.append(
                    f"{self.provider}: {describe_failure(exc)} (bucket {bucket}: {exc})"
                )
        return problems

    async def start(self) -> None:
        """Open pooled connections; called once before serving."""

    async def close(self) -> None:
        """Release pooled connections; called on shutdown."""

    # -- migration ----------------------------------------------------------------------

    async def put(self, bucket: str, key: str, path: Path, content_type: str | None) -> None:
        self._validate(bucket, key)
        await self._retrying("write", lambda: self._put(bucket, key, path, content_type))

    def list_keys(self, bucket: str) -> AsyncIterator[tuple[str, int]]:
        """(key, size) of every object; used by migration only, never by a request."""
        if not self.has_bucket(bucket):
            raise ObjectMissing(f"unknown bucket {bucket}")
        return self._list_keys(bucket)

    async def stat_for_copy(self, bucket: str, key: str) -> ObjectInfo | None:
        """The object's info, or None when it does not exist; for resumable copies."""
        try:
            return await self.head(bucket, key)
        except ObjectMissing:
            return None

    # -- what backends implement ----------------------------------------------------------

    @abstractmethod
    async def _open(
        self, bucket: str, key: str, byte_range: tuple[int, int | None] | None
    ) -> ObjectStream: ...

    @abstractmethod
    async def _head(self, bucket: str, key: str) -> ObjectInfo: ...

    @abstractmethod
    async def _probe_bucket(self, bucket: str) -> None: ...

    async def _put(self, bucket: str, key: str, path: Path, content_type: str | None) -> None:
        raise NotImplementedError(f"{self.provider} cannot be written to")

    def _list_keys(self, bucket: str) -> AsyncIterator[tuple[str, int]]:
        raise NotImplementedError(f"{self.provider} cannot be listed")

    # -- shared machinery -----------------------------------------------------------------

    def _validate(self, bucket: str, key: str) -> None:
        if not self.has_bucket(bucket):
            raise ObjectMissing(f"unknown bucket {bucket!r}")
        validate_key(key)

    async def _retrying(self, op: str, call: Callable[[], Awaitable[T]]) -> T:
        attempts = self.settings.retries + 1
        for attempt in range(1, attempts + 1):
            try:
                async with asyncio.timeout(self.settings.timeout):
                    return await call()
            except TimeoutError:
                error: StorageError = StorageTimeout(
                    f"{self.provider} {op} timed out after {self.settings.timeout:g}s"
                )
            except RangeNotSatisfiable:
                metrics.STORAGE_ERRORS.labels(self.provider, "range").inc()
                raise
            except StorageError as exc:
                error = exc
            metrics.STORAGE_ERRORS.labels(self.provider, error.kind).inc()
            if not error.transient or attempt == attempts:
                if error.kind not in CLIENT_KINDS:
                    log.warning(
                        "storage %s failed: provider=%s kind=%s attempt=%d: %s",
                        op,
                        self.provider,
                        error.kind,
                        attempt,
                        error,
                    )
                raise error
            # Full jitter keeps a fleet of workers from retrying in lockstep.
            await asyncio.sleep(random.uniform(0, min(2.0, 0.1 * 2**attempt)))
        raise AssertionError("unreachable")

    async def _metered(self, stream: ObjectStream) -> AsyncIterator[bytes]:
        counter = metrics.STORAGE_READ_BYTES.labels(self.provider)
        iterator = aiter(stream)
        while True:
            try:
                async with asyncio.timeout(self.settings.timeout):
                    chunk = await anext(iterator)
            except StopAsyncIteration:
                return
            except TimeoutError as exc:
                metrics.STORAGE_ERRORS.labels(self.provider, "timeout").inc()
                raise StorageTimeout(f"{self.provider} read stalled") from exc
            counter.inc(len(chunk))
            yield chunk


def describe_failure(exc: StorageError) -> str:
    return {
        "not_found": "bucket missing",
        "access_denied": "credentials refused",
        "unavailable": "endpoint unreachable",
        "timeout": "endpoint unreachable",
    }.get(exc.kind, "storage error")
