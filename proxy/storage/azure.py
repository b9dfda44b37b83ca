"""The `azure` provider: Azure Blob Storage (and Azurite) through azure-storage-blob's aio client.

Buckets are containers; STORAGE_ACCESS_KEY is the account name, STORAGE_SECRET_KEY its key.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

from azure.core.exceptions import (
    AzureError,
    ClientAuthenticationError,
    HttpResponseError,
    ResourceNotFoundError,
    ServiceRequestError,
    ServiceRequestTimeoutError,
    ServiceResponseError,
    ServiceResponseTimeoutError,
)
from azure.storage.blob import ContentSettings
from azure.storage.blob.aio import BlobServiceClient

from proxy.errors import ProxyError, RangeNotSatisfiable
from proxy.settings import StorageSettings
from proxy.storage.base import ObjectInfo, ObjectStream, Storage
from proxy.storage.checksums import file_md5
from proxy.storage.errors import (
    AccessDenied,
    ObjectMissing,
    StorageTimeout,
    Unavailable,
)
from proxy.storage.ranges import resolve_range
from proxy.storage.translate import translated

# What one request holds in memory at most: the SDK moves blobs in pieces of this size.
PIECE_SIZE = 4 * 1024 * 1024


def map_error(exc: BaseException, what: str) -> ProxyError | None:
    if isinstance(exc, ResourceNotFoundError):
        return ObjectMissing(f"{what}: {_code(exc)}")
    if isinstance(exc, ClientAuthenticationError):
        return AccessDenied(f"{what}: {_code(exc)}")
    if isinstance(exc, HttpResponseError):
        status = exc.status_code or 0
        if status == 404:
            return ObjectMissing(f"{what}: {_code(exc)}")
        if status in (401, 403):
            return AccessDenied(f"{what}: {_code(exc)}")
        if status == 416:
            return RangeNotSatisfiable()
        return Unavailable(f"{what}: {_code(exc)}", transient=status >= 500 or status == 429)
    if isinstance(exc, ServiceRequestTimeoutError | ServiceResponseTimeoutError | TimeoutError):
        return StorageTimeout(f"{what}: timed out")
    if isinstance(exc, ServiceRequestError | ServiceResponseError | AzureError | OSError):
        return Unavailable(f"{what}: {type(exc).__name__}")
    return None


def _code(exc: AzureError) -> str:
    # The error code only: the SDK's full message can quote request headers.
    code = getattr(exc, "error_code", None)
    status = getattr(exc, "status_code", None)
    return str(code or status or type(exc).__name__)


def info_from(bucket: str, key: str, properties: Any, size: int) -> ObjectInfo:
    settings = properties.content_settings
    md5 = bytes(settings.content_md5).hex() if settings.content_md5 else None
    modified = properties.last_modified
    return ObjectInfo(
        bucket=bucket,
        key=key,
        size=size,
        content_type=settings.content_type,
        etag=str(properties.etag or "").strip('"'),
        last_modified=modified.timestamp() if modified is not None else 0.0,
        md5=md5,
    )


def total_size(properties: Any) -> int:
    content_range = properties.content_range
    if content_range and "/" in content_range:
        return int(content_range.rsplit("/", 1)[1])
    return int(properties.size)


class AzureStorage(Storage):
    provider = "azure"

    def __init__(self, settings: StorageSettings) -> None:
        super().__init__(settings)
        self._service: BlobServiceClient | None = None

    async def start(self) -> None:
        if self._service is not None:
            return
        self._service = BlobServiceClient(
            account_url=self.settings.endpoint.rstrip("/"),
            credential={
                "account_name": self.settings.access_key,
                "account_key": self.settings.secret_key,
            },
            # The base class retries with backoff; the SDK retrying too would multiply them.
            retry_total=0,
            connection_timeout=self.settings.timeout,
            read_timeout=self.settings.timeout,
            max_single_get_size=PIECE_SIZE,
            max_chunk_get_size=PIECE_SIZE,
            max_single_put_size=PIECE_SIZE,
            max_block_size=PIECE_SIZE,
        )
        await self._service.__aenter__()

    async def close(self) -> None:
        service, self._service = self._service, None
        if service is not None:
            await service.close()

    def _blob(self, bucket: str, key: str) -> Any:
        if self._service is None:
            raise Unavailable("azure storage used before start()", transient=False)
        return self._service.get_blob_client(bucket, key)

    async def _open(
        self, bucket: str, key: str, byte_range: tuple[int, int | None] | None
    ) -> ObjectStream:
        what = f"{bucket}/{key}"
        blob = self._blob(bucket, key)
        offset: int | None = None
        length: int | None = None
        if byte_range is not None:
            start, end = byte_range
            if start < 0:
                # Blob ranges have no suffix form: resolve "the last n bytes" against the size.
                start, end = resolve_range(byte_range, (await self._head(bucket, key)).size)
            offset = start
            length = None if end is None else end - start + 1
        try:
            with translated(map_error, what):
                downloader = await blob.download_blob(
                    offset=offset, length=length, max_concurrency=1
                )
        except RangeNotSatisfiable as exc:
            raise RangeNotSatisfiable(size=(await self._head(bucket, key)).size) from exc
        properties = downloader.properties
        size = total_size(properties)
        info = info_from(bucket, key, properties, size)

        async def close() -> None:
            pass  # each chunk's response is read whole; nothing stays open in between

        async def chunks() -> AsyncIterator[bytes]:
            with translated(map_error, what):
                async for chunk in downloader.chunks():
                    yield chunk

        return ObjectStream(info, chunks(), close, start=offset or 0, length=downloader.size)

    async def _head(self, bucket: str, key: str) -> ObjectInfo:
        with translated(map_error, f"{bucket}/{key}"):
            properties = await self._blob(bucket, key).get_blob_properties()
        return info_from(bucket, key, properties, int(properties.size))

    async def _probe_bucket(self, bucket: str) -> None:
        if self._service is None:
            raise Unavailable("azure storage used before start()", transient=False)
        with translated(map_error, self.settings.endpoint):
            await self._service.get_container_client(bucket).get_container_properties()

    async def _put(self, bucket: str, key: str, path: Path, content_type: str | None) -> None:
        # The store computes Content-MD5 only for single-shot uploads; set it for every size
        # so a copy can always be verified.
        md5 = bytes.fromhex(await file_md5(path))
        settings = ContentSettings(content_type=content_type, content_md5=bytearray(md5))
        with translated(map_error, f"{bucket}/{key}"), open(path, "rb") as body:
            await self._blob(bucket, key).upload_blob(
                body, overwrite=True, content_settings=settings, max_concurrency=1
            )

    async def _list_keys(self, bucket: str) -> AsyncIterator[tuple[str, int]]:
        if self._service is None:
            raise Unavailable("azure storage used before start()", transient=False)
        container = self._service.get_container_client(bucket)
        with translated(map_error, f"list {bucket}"):
            async for blob in container.list_blobs():
                yield blob.name, int(blob.size)
